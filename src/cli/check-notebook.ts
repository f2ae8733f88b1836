/**
 * `check` and `shapes` on Jupyter notebooks: the notebook's code cells are analysed as one
 * program (`analysis/notebook.ts`) and every finding is reported at its cell — `cell` is the
 * 1-based index among all the notebook's cells, `line`/`column` are 1-based within the cell.
 * For SARIF, whose regions address the artifact's own text, each finding also gets the region
 * of the `.ipynb` file (the JSON string holding that source line), and only fixes whose edits
 * stay within one source line are offered (their text JSON-escaped), since any other edit of the
 * raw file would have to rewrite the notebook's structure.
 */

import { analyze } from '../analysis';
import { mapNotebookAnalysis, notebookProgram, rawPosition, readIpynb } from '../analysis/notebook';
import type { CellTextEdit, IpynbNotebook } from '../analysis/notebook';
import type { JsonDiagnostic } from './check';

export function isNotebook(file: string): boolean {
  return file.toLowerCase().endsWith('.ipynb');
}

/** A region of the raw notebook file, 1-based; with the fix replacements that apply to the raw file. */
export interface FileRegion {
  startLine: number;
  startColumn: number;
  endLine: number;
  endColumn: number;
  /** Per fix of the diagnostic (same order), its raw replacements; undefined where the fix cannot be expressed there. */
  fixes: ({ startLine: number; startColumn: number; endLine: number; endColumn: number; text: string }[] | undefined)[];
}

export interface NotebookCheck {
  diagnostics: JsonDiagnostic[];
  /** Where each diagnostic lies in the `.ipynb` text. */
  regions: Map<JsonDiagnostic, FileRegion>;
}

/** Checks one notebook's text; `{ error }` when it is not an nbformat 4 notebook. */
export function checkNotebook(file: string, raw: string, rules: string[] | undefined): NotebookCheck | { error: string } {
  const nb = readIpynb(raw);
  if ('error' in nb) return nb;
  const program = notebookProgram(nb.cells, { language: nb.language });
  const cells = mapNotebookAnalysis(program, analyze(program.text, rules ? { rules } : {}));
  const diagnostics: JsonDiagnostic[] = [];
  const regions = new Map<JsonDiagnostic, FileRegion>();
  for (const d of cells.diagnostics) {
    const end = clampEnd(nb, d.cell, d.range.endLine, d.range.endColumn);
    const j: JsonDiagnostic = {
      file,
      cell: d.cell + 1,
      line: d.range.line + 1,
      column: d.range.column + 1,
      endLine: end.line + 1,
      endColumn: end.column + 1,
      rule: d.rule,
      severity: d.severity,
      message: d.message,
      fixes: d.fixes.map((f) => ({
        title: f.title,
        safe: f.safe === true,
        edits: f.edits.map((e) => ({ cell: e.cell + 1, line: e.range.line + 1, column: e.range.column + 1, endLine: e.range.endLine + 1, endColumn: e.range.endColumn + 1, newText: e.newText })),
      })),
    };
    diagnostics.push(j);
    const start = rawPosition(nb, d.cell, d.range.line, d.range.column);
    const stop = rawPosition(nb, d.cell, end.line, end.column);
    if (start && stop) regions.set(j, { startLine: start.line + 1, startColumn: start.column + 1, endLine: stop.line + 1, endColumn: stop.column + 1, fixes: d.fixes.map((f) => rawFix(nb, f.edits)) });
  }
  return { diagnostics, regions };
}

/** A range end past the cell's last line (a range cut at the cell's end) moves to the end of that line. */
function clampEnd(nb: IpynbNotebook, cell: number, line: number, column: number): { line: number; column: number } {
  const lines = nb.cells[cell].source.replace(/\r\n?/g, '\n').split('\n');
  const l = Math.min(line, lines.length - 1);
  return { line: l, column: Math.min(column, lines[l].length) };
}

function rawFix(nb: IpynbNotebook, edits: CellTextEdit[]): FileRegion['fixes'][number] {
  const out: NonNullable<FileRegion['fixes'][number]> = [];
  for (const e of edits) {
    if (e.range.line !== e.range.endLine || e.newText.includes('\n')) return undefined;
    const a = rawPosition(nb, e.cell, e.range.line, e.range.column);
    const b = rawPosition(nb, e.cell, e.range.endLine, e.range.endColumn);
    if (!a || !b || a.line !== b.line) return undefined;
    out.push({ startLine: a.line + 1, startColumn: a.column + 1, endLine: b.line + 1, endColumn: b.column + 1, text: JSON.stringify(e.newText).slice(1, -1) });
  }
  return out;
}

/** The inferred shapes of a notebook, 1-based cell, line and column. */
export function notebookShapes(raw: string): { cell: number; line: number; column: number; name: string; shape: string }[] | { error: string } {
  const nb = readIpynb(raw);
  if ('error' in nb) return nb;
  const program = notebookProgram(nb.cells, { language: nb.language });
  return mapNotebookAnalysis(program, analyze(program.text)).shapes.map((s) => ({ cell: s.cell + 1, line: s.line + 1, column: s.column + 1, name: s.name, shape: s.shape }));
}
