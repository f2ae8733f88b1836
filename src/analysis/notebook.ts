/**
 * Jupyter notebooks as one program. A notebook's code cells run in one interpreter, so a class
 * defined in one cell is called in another and imports sit in the first: analysing each cell on
 * its own finds nothing. This module turns the cells into one Python text — in execution order
 * where the notebook records it (`execution_count`), else in document order — with IPython's
 * non-Python lines (`%magic`, `!shell`, `x = !cmd`, `obj?`, and whole `%%cell` magics other than
 * the timing ones whose body is Python) blanked, line for line, so every program line maps back
 * to (cell, line) and every cell line forward. `mapNotebookAnalysis` moves an analysis of that
 * text (diagnostics, fix edits, shapes) back onto the cells.
 *
 * It also reads `.ipynb` files (nbformat 4) with a small JSON reader that remembers where each
 * cell's `source` strings sit in the raw file, so a report can point into the file itself
 * (`rawPosition`, what SARIF locations need).
 *
 * Pure: no `vscode`, no file system, no parser; it never throws on a notebook's content (a file
 * that is not a notebook is an `{ error }`). It does not analyse anything itself.
 */

import type { Analysis, Diagnostic, Range, ShapeRecord } from './index';

export interface NotebookCell {
  kind: 'code' | 'markdown' | 'raw';
  source: string;
  /** The cell's language when it says so (VS Code cells); code cells of a notebook file use the notebook's. */
  language?: string;
  /** The last execution's counter; null or absent when the cell has not run. */
  executionCount?: number | null;
}

export type CellOrder = 'document' | 'execution';

export interface CellSpan {
  /** Index of the cell in the notebook (all cells, markdown included). */
  cell: number;
  /** First line of the cell in the program. */
  start: number;
  /** Number of program lines the cell occupies (its line count). */
  lines: number;
}

export interface NotebookProgram {
  /** The code cells' Python, one after the other, line for line. */
  text: string;
  /** The analysed cells in program order. */
  spans: CellSpan[];
  /** Whether the cells were put in execution order. */
  order: CellOrder;
}

export interface CellPosition {
  cell: number;
  line: number;
}

export interface CellTextEdit {
  cell: number;
  range: Range;
  newText: string;
}

export interface CellDiagnostic extends Omit<Diagnostic, 'fixes'> {
  /** Index of the cell the range lies in; `range` is relative to that cell. */
  cell: number;
  fixes: { title: string; safe?: boolean; edits: CellTextEdit[] }[];
}

export interface CellShape extends ShapeRecord {
  cell: number;
}

/** Something the analyzer says about the analysis itself (a limit it hit), at a cell line. */
export interface CellNotice {
  cell: number;
  line: number;
  kind: string;
  message: string;
}

export interface NotebookAnalysis {
  diagnostics: CellDiagnostic[];
  shapes: CellShape[];
  syntaxErrors: number;
  notices: CellNotice[];
}

/** What `mapNotebookAnalysis` reads of an analysis (notices where the analyzer reports them). */
export type ProgramAnalysis = Pick<Analysis, 'diagnostics' | 'shapes' | 'syntaxErrors'> & { notices?: readonly { line: number; kind: string; message: string }[] };

/** `%%` magics whose body is Python run under a timer or capture; any other cell magic makes the cell non-Python. */
const PYTHON_BODY_CELL_MAGICS = new Set(['time', 'timeit', 'capture', 'prun', 'debug']);

/**
 * The Python of one cell, line for line: IPython-only lines become empty (or `pass` at their
 * indentation, so a block whose body was a magic stays a block).
 */
export function cellPython(source: string): string[] {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const first = /^\s*%%(\w+)/.exec(lines[0] ?? '');
  if (first) {
    if (!PYTHON_BODY_CELL_MAGICS.has(first[1])) return lines.map(() => '');
    lines[0] = '';
  }
  // A magic continued with a backslash: its next line belongs to it (and to its indentation).
  let continued: string | undefined;
  return lines.map((line) => {
    const start = continued === undefined && (/^\s*[%!]/.test(line) || /^\s*[\w.]+\s*=\s*[%!]/.test(line) || /^\s*\?/.test(line) || /^\s*[\w.]+\?{1,2}\s*$/.test(line));
    if (continued === undefined && !start) return line;
    const indent = continued ?? /^\s*/.exec(line)![0];
    const first = continued === undefined;
    continued = /\\$/.test(line) ? indent : undefined;
    return indent && first ? `${indent}pass` : '';
  });
}

/**
 * The order code cells ran in: by `executionCount` when any cell has one, a cell that has not
 * run staying right after the cell above it; else document order. Returns cell indices.
 */
export function cellOrder(cells: readonly NotebookCell[]): { order: CellOrder; cells: number[] } {
  const code = cells.map((c, i) => ({ c, i })).filter(({ c }) => c.kind === 'code');
  const counted = code.some(({ c }) => typeof c.executionCount === 'number');
  if (!counted) return { order: 'document', cells: code.map(({ i }) => i) };
  let key = -Infinity;
  const keyed = code.map(({ c, i }, pos) => {
    if (typeof c.executionCount === 'number') key = c.executionCount;
    return { i, key, pos };
  });
  keyed.sort((a, b) => a.key - b.key || a.pos - b.pos);
  const order = keyed.map((k) => k.i);
  return { order: order.every((v, j) => j === 0 || v > order[j - 1]) ? 'document' : 'execution', cells: order };
}

/** One program of the notebook's Python code cells; `language` is the notebook's (default Python). */
export function notebookProgram(cells: readonly NotebookCell[], options: { order?: CellOrder; language?: string } = {}): NotebookProgram {
  const python = (c: NotebookCell) => (c.language ?? options.language ?? 'python').toLowerCase() === 'python';
  const ordered = options.order === 'document' ? { order: 'document' as const, cells: cells.flatMap((c, i) => (c.kind === 'code' ? [i] : [])) } : cellOrder(cells);
  const spans: CellSpan[] = [];
  const out: string[] = [];
  for (const i of ordered.cells) {
    if (!python(cells[i])) continue;
    const lines = cellPython(cells[i].source);
    spans.push({ cell: i, start: out.length, lines: lines.length });
    out.push(...lines);
  }
  return { text: out.join('\n') + '\n', spans, order: ordered.order };
}

/** The cell and cell line of a program line; undefined past the last cell. */
export function cellPosition(program: NotebookProgram, line: number): CellPosition | undefined {
  const span = spanAt(program, line);
  return span ? { cell: span.cell, line: line - span.start } : undefined;
}

/** The program line of a cell line; undefined when the cell is not part of the program. */
export function programLine(program: NotebookProgram, cell: number, line: number): number | undefined {
  const span = program.spans.find((s) => s.cell === cell);
  return span && line >= 0 && line < span.lines ? span.start + line : undefined;
}

function spanAt(program: NotebookProgram, line: number): CellSpan | undefined {
  let lo = 0;
  let hi = program.spans.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = program.spans[mid];
    if (line < s.start) hi = mid - 1;
    else if (line >= s.start + s.lines) lo = mid + 1;
    else return s;
  }
  return undefined;
}

/** A program range as a cell range; a range running past its cell's end is cut at that end. */
function cellRange(program: NotebookProgram, r: Range): { cell: number; range: Range } | undefined {
  const span = spanAt(program, r.line);
  if (!span) return undefined;
  const last = span.start + span.lines - 1;
  const end = r.endLine > last ? { endLine: last - span.start, endColumn: Number.MAX_SAFE_INTEGER } : { endLine: r.endLine - span.start, endColumn: r.endColumn };
  return { cell: span.cell, range: { line: r.line - span.start, column: r.column, ...end } };
}

/** Moves an analysis of `program.text` onto the cells (sorted by cell, then position). */
export function mapNotebookAnalysis(program: NotebookProgram, analysis: ProgramAnalysis): NotebookAnalysis {
  const diagnostics: CellDiagnostic[] = [];
  for (const d of analysis.diagnostics) {
    const at = cellRange(program, d.range);
    if (!at) continue;
    const fixes = d.fixes.flatMap((f) => {
      const edits = f.edits.map((e) => {
        const to = cellRange(program, e.range);
        return to && { cell: to.cell, range: to.range, newText: e.newText };
      });
      // A fix with an edit outside every cell cannot be applied to the notebook.
      return edits.every((e) => e !== undefined) ? [{ title: f.title, ...(f.safe ? { safe: true } : {}), edits: edits as CellTextEdit[] }] : [];
    });
    diagnostics.push({ rule: d.rule, severity: d.severity, message: d.message, cell: at.cell, range: at.range, fixes });
  }
  const shapes: CellShape[] = [];
  for (const s of analysis.shapes) {
    const at = cellPosition(program, s.line);
    if (at) shapes.push({ ...s, cell: at.cell, line: at.line });
  }
  const byPlace = (a: { cell: number; line: number; column: number }, b: { cell: number; line: number; column: number }) => a.cell - b.cell || a.line - b.line || a.column - b.column;
  diagnostics.sort((a, b) => byPlace({ cell: a.cell, ...a.range }, { cell: b.cell, ...b.range }) || a.rule.localeCompare(b.rule));
  shapes.sort(byPlace);
  const notices: CellNotice[] = [];
  for (const n of analysis.notices ?? []) {
    const at = cellPosition(program, n.line);
    if (at) notices.push({ cell: at.cell, line: at.line, kind: n.kind, message: n.message });
  }
  return { diagnostics, shapes, syntaxErrors: analysis.syntaxErrors, notices };
}

// ---------------------------------------------------------------------------------------------
// .ipynb files

/** A `source` string of a cell in the raw file: its decoded text and where its opening quote is. */
interface SourcePiece {
  text: string;
  quote: number;
}

export interface IpynbNotebook {
  cells: NotebookCell[];
  /** The kernel's language (`metadata.kernelspec.language`, else `language_info.name`, else python). */
  language: string;
  /** The raw file, for `rawPosition`. */
  raw: string;
  /** Per cell, the `source` strings as they appear in the file. */
  pieces: SourcePiece[][];
}

/** Reads an nbformat 4 notebook; `{ error }` when the text is not one. */
export function readIpynb(raw: string): IpynbNotebook | { error: string } {
  let root: JValue;
  try {
    root = new JsonReader(raw).document();
  } catch (e) {
    return { error: `not a notebook: ${(e as Error).message}` };
  }
  const cellsV = root.kind === 'object' ? root.props.get('cells') : undefined;
  if (!cellsV || cellsV.kind !== 'array') return { error: 'not a notebook: no "cells" array (only nbformat 4 is supported)' };
  const meta = root.kind === 'object' ? root.props.get('metadata') : undefined;
  const language = str(get(get(meta, 'kernelspec'), 'language')) ?? str(get(get(meta, 'language_info'), 'name')) ?? 'python';
  const cells: NotebookCell[] = [];
  const pieces: SourcePiece[][] = [];
  for (const c of cellsV.items) {
    const type = str(get(c, 'cell_type'));
    const kind = type === 'code' || type === 'markdown' ? type : 'raw';
    const src = get(c, 'source');
    const ps: SourcePiece[] = src?.kind === 'string' ? [{ text: src.value, quote: src.start }] : src?.kind === 'array' ? src.items.flatMap((s) => (s.kind === 'string' ? [{ text: s.value, quote: s.start }] : [])) : [];
    const count = get(c, 'execution_count');
    cells.push({ kind, source: ps.map((p) => p.text).join(''), executionCount: count?.kind === 'number' ? count.value : null });
    pieces.push(ps);
  }
  return { cells, language, raw, pieces };
}

/**
 * Where a cell position lies in the raw `.ipynb` text (0-based line and UTF-16 column), so
 * reports can point into the file; undefined when the cell has no such position.
 */
export function rawPosition(nb: IpynbNotebook, cell: number, line: number, column: number): { line: number; column: number } | undefined {
  const ps = nb.pieces[cell];
  if (!ps) return undefined;
  const source = ps.map((p) => p.text).join('').replace(/\r\n?/g, '\n');
  // The offset of (line, column) in the cell's source (line breaks normalised as the program's).
  let offset = 0;
  for (let l = 0; l < line; l++) {
    const nl = source.indexOf('\n', offset);
    if (nl < 0) return undefined;
    offset = nl + 1;
  }
  const lineEnd = source.indexOf('\n', offset);
  offset += Math.min(column, (lineEnd < 0 ? source.length : lineEnd) - offset);
  // Undo the normalisation: count the raw characters up to that offset.
  const original = ps.map((p) => p.text).join('');
  let o = 0;
  let k = 0;
  while (k < offset && o < original.length) {
    o += original[o] === '\r' && original[o + 1] === '\n' ? 2 : 1;
    k++;
  }
  for (const p of ps) {
    if (o > p.text.length || (o === p.text.length && p !== ps[ps.length - 1])) {
      o -= p.text.length;
      continue;
    }
    return offsetToPoint(nb.raw, rawOffsetInString(nb.raw, p.quote, o));
  }
  return undefined;
}

/** The raw offset of the `index`-th decoded UTF-16 unit of the string literal whose quote is at `quote`. */
function rawOffsetInString(raw: string, quote: number, index: number): number {
  let i = quote + 1;
  for (let k = 0; k < index && raw[i] !== '"' && i < raw.length; k++) i += raw[i] === '\\' ? (raw[i + 1] === 'u' ? 6 : 2) : 1;
  return i;
}

function offsetToPoint(raw: string, offset: number): { line: number; column: number } {
  let line = 0;
  let start = 0;
  for (let i = raw.indexOf('\n'); i >= 0 && i < offset; i = raw.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start };
}

type JValue =
  | { kind: 'object'; props: Map<string, JValue> }
  | { kind: 'array'; items: JValue[] }
  | { kind: 'string'; value: string; start: number }
  | { kind: 'number'; value: number }
  | { kind: 'other' };

function get(v: JValue | undefined, key: string): JValue | undefined {
  return v?.kind === 'object' ? v.props.get(key) : undefined;
}

function str(v: JValue | undefined): string | undefined {
  return v?.kind === 'string' ? v.value : undefined;
}

/** A strict JSON reader that keeps each string's offset (JSON.parse forgets positions). */
class JsonReader {
  private i = 0;
  constructor(private readonly s: string) {}

  document(): JValue {
    const v = this.value(0);
    this.ws();
    if (this.i < this.s.length) this.fail('unexpected text after the document');
    return v;
  }

  private fail(what: string): never {
    const p = offsetToPoint(this.s, this.i);
    throw new Error(`${what} at line ${p.line + 1}, column ${p.column + 1}`);
  }

  private ws(): void {
    while (this.i < this.s.length && (this.s[this.i] === ' ' || this.s[this.i] === '\n' || this.s[this.i] === '\r' || this.s[this.i] === '\t')) this.i++;
  }

  private value(depth: number): JValue {
    if (depth > 512) this.fail('nesting too deep');
    this.ws();
    const c = this.s[this.i];
    if (c === '{') {
      this.i++;
      const props = new Map<string, JValue>();
      this.ws();
      if (this.s[this.i] === '}') {
        this.i++;
        return { kind: 'object', props };
      }
      for (;;) {
        this.ws();
        if (this.s[this.i] !== '"') this.fail('expected a property name');
        const key = this.string().value;
        this.ws();
        if (this.s[this.i++] !== ':') this.fail("expected ':'");
        props.set(key, this.value(depth + 1));
        this.ws();
        const d = this.s[this.i++];
        if (d === '}') return { kind: 'object', props };
        if (d !== ',') this.fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      this.i++;
      const items: JValue[] = [];
      this.ws();
      if (this.s[this.i] === ']') {
        this.i++;
        return { kind: 'array', items };
      }
      for (;;) {
        items.push(this.value(depth + 1));
        this.ws();
        const d = this.s[this.i++];
        if (d === ']') return { kind: 'array', items };
        if (d !== ',') this.fail("expected ',' or ']'");
      }
    }
    if (c === '"') return this.string();
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(this.s.slice(this.i, this.i + 64));
    if (!m) this.fail('unexpected character');
    this.i += m[0].length;
    return /^[-\d]/.test(m[0]) ? { kind: 'number', value: Number(m[0]) } : { kind: 'other' };
  }

  private string(): { kind: 'string'; value: string; start: number } {
    const start = this.i++;
    let out = '';
    let from = this.i;
    for (;;) {
      const c = this.s.charCodeAt(this.i);
      if (Number.isNaN(c)) this.fail('unterminated string');
      if (c === 0x22) break;
      if (c < 0x20) this.fail('control character in string');
      if (c !== 0x5c) {
        this.i++;
        continue;
      }
      out += this.s.slice(from, this.i);
      const e = this.s[this.i + 1];
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e === 'u') {
        const hex = this.s.slice(this.i + 2, this.i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('invalid \\u escape');
        out += String.fromCharCode(parseInt(hex, 16));
        this.i += 6;
      } else if (e !== undefined && e in simple) {
        out += simple[e];
        this.i += 2;
      } else this.fail('invalid escape');
      from = this.i;
    }
    out += this.s.slice(from, this.i);
    this.i++;
    return { kind: 'string', value: out, start };
  }
}

/** One cell's share of a notebook analysis, shaped like an analysis of that cell's text alone. */
export interface CellView {
  diagnostics: Diagnostic[];
  shapes: ShapeRecord[];
  syntaxErrors: number;
  notices: { line: number; kind: string; message: string }[];
}

/**
 * What an editor shows on one cell: the diagnostics and shapes in it (lines within the cell)
 * and the fixes whose every edit is in it — a fix that also edits another cell is left out,
 * since a cell's code action edits that cell's document.
 */
export function cellView(analysis: NotebookAnalysis, cell: number): CellView {
  return {
    diagnostics: analysis.diagnostics
      .filter((d) => d.cell === cell)
      .map((d) => ({
        rule: d.rule,
        severity: d.severity,
        message: d.message,
        range: d.range,
        fixes: d.fixes.filter((f) => f.edits.every((e) => e.cell === cell)).map((f) => ({ title: f.title, ...(f.safe ? { safe: true } : {}), edits: f.edits.map((e) => ({ range: e.range, newText: e.newText })) })),
      })),
    shapes: analysis.shapes.filter((s) => s.cell === cell).map((s) => ({ line: s.line, column: s.column, name: s.name, shape: s.shape })),
    syntaxErrors: analysis.syntaxErrors,
    notices: analysis.notices.filter((n) => n.cell === cell).map((n) => ({ line: n.line, kind: n.kind, message: n.message })),
  };
}
