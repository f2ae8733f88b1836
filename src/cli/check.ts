/**
 * `attention-forge check` and `attention-forge shapes`: the analyzer from a terminal, for CI.
 * Usage errors exit 2 before the wasm parser is loaded; the commands resolve to their exit
 * code once the analysis is done. The pure parts — collecting files, formatting
 * text/JSON/SARIF — are exported for tests. Notebooks (`.ipynb`) are analysed as one program
 * of their code cells (`check-notebook.ts`) and reported per cell.
 *
 * Every file is analysed in isolation: a file that cannot be read or that the analyzer fails on
 * becomes one `internal` diagnostic on that file and the others go on, so the JSON and SARIF
 * written are always complete. Which files are read is `files.ts`'s business (links, special
 * files, excludes).
 *
 * Exit codes: 0 no error-severity diagnostic, 1 at least one, 2 usage errors, 3 an internal
 * diagnostic (a file could not be read or analysed; the output is still complete). 3 wins
 * over 1: a run that did not check everything must not pass for a finished one.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { analyze, initAnalyzer, RULES } from '../analysis';
import { INTERNAL_RULE } from '../analysis';
import type { Diagnostic } from '../analysis';
import { collectSourceFiles, NoSuchPathError, readSource } from './files';
import type { FileRegion } from './check-notebook';
import { checkNotebook, isNotebook, notebookShapes } from './check-notebook';

export interface CheckIo {
  out(text: string): void;
  err(text: string): void;
}

export interface JsonDiagnostic {
  file: string;
  /** In a notebook: the 1-based index of the cell (among all cells); `line` and `endLine` are then within that cell. */
  cell?: number;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  rule: string;
  severity: 'error' | 'warning';
  message: string;
  /** `safe`: the fix may be applied without review (see `Fix.safe`). */
  fixes: { title: string; safe: boolean; edits: { cell?: number; line: number; column: number; endLine: number; endColumn: number; newText: string }[] }[];
}

export const CHECK_USAGE = `  check <files|dirs...> [--format text|json|sarif] [--rule NAME ...] [--exclude PATTERN ...]
                                       Check PyTorch attention code (.py, .ipynb) for shape mistakes.
  shapes <file> [--json]               Print the inferred shape of each tensor-valued name.
`;

class CheckUsageError extends Error {}

/**
 * Python files and notebooks under the given paths (directories recursively, skipping hidden
 * and venv folders, directory links and special files, honouring .gitignore and `exclude`
 * patterns), and one warning line per thing skipped.
 */
export function collectFiles(paths: string[], exclude: readonly string[] = []): { files: string[]; warnings: string[] } {
  try {
    return collectSourceFiles(paths, { exclude, extensions: ['.py', '.ipynb'] });
  } catch (e) {
    if (e instanceof NoSuchPathError) throw new CheckUsageError(e.message);
    throw e;
  }
}

/** A file the run could not check (unreadable, or the analyzer failed on it), as a diagnostic on its first line. */
export function internalDiagnostic(file: string, message: string): JsonDiagnostic {
  return { file, line: 1, column: 1, endLine: 1, endColumn: 1, rule: INTERNAL_RULE, severity: 'warning', message, fixes: [] };
}

export function toJson(file: string, d: Diagnostic): JsonDiagnostic {
  return {
    file,
    line: d.range.line + 1,
    column: d.range.column + 1,
    endLine: d.range.endLine + 1,
    endColumn: d.range.endColumn + 1,
    rule: d.rule,
    severity: d.severity,
    message: d.message,
    fixes: d.fixes.map((f) => ({
      title: f.title,
      safe: f.safe === true,
      edits: f.edits.map((e) => ({ line: e.range.line + 1, column: e.range.column + 1, endLine: e.range.endLine + 1, endColumn: e.range.endColumn + 1, newText: e.newText })),
    })),
  };
}

/** `regions`: where a notebook's findings lie in the `.ipynb` text (SARIF regions address the file itself). */
export function toSarif(diags: JsonDiagnostic[], version: string, regions?: Map<JsonDiagnostic, FileRegion>, warnings: readonly string[] = []): object {
  const used = RULES;
  const failed = diags.filter((d) => d.rule === INTERNAL_RULE);
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'attention-forge',
            version,
            informationUri: 'https://github.com/attention-forge/attention-forge',
            rules: used.map((r) => ({
              id: r.name,
              name: r.name,
              shortDescription: { text: r.summary },
              fullDescription: { text: r.docs.what },
              help: { text: `${r.docs.why}\n\nExample:\n${r.docs.example}\n\nUse instead:\n${r.docs.useInstead}`, markdown: `${r.docs.why}\n\n**Example**\n\n\`\`\`python\n${r.docs.example}\n\`\`\`\n\n**Use instead**\n\n\`\`\`python\n${r.docs.useInstead}\n\`\`\`` },
              defaultConfiguration: { level: r.defaultSeverity },
            })),
          },
        },
        invocations: [
          {
            executionSuccessful: failed.length === 0,
            toolExecutionNotifications: [
              ...failed.map((d) => ({ level: 'error', message: { text: `${d.file}: ${d.message}` }, locations: [{ physicalLocation: { artifactLocation: { uri: d.file.split(path.sep).join('/') } } }] })),
              ...warnings.map((w) => ({ level: 'warning', message: { text: w } })),
            ],
          },
        ],
        results: diags.filter((d) => d.rule !== INTERNAL_RULE).map((d) => (d.cell !== undefined ? notebookResult(d, regions?.get(d)) : {
          ruleId: d.rule,
          ruleIndex: used.findIndex((r) => r.name === d.rule),
          level: d.severity,
          message: { text: d.message },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: d.file.split(path.sep).join('/') },
                region: { startLine: d.line, startColumn: d.column, endLine: d.endLine, endColumn: d.endColumn },
              },
            },
          ],
          ...(d.fixes.length
            ? {
                fixes: d.fixes.map((f) => ({
                  description: { text: f.title },
                  properties: { safe: f.safe === true },
                  artifactChanges: [
                    {
                      artifactLocation: { uri: d.file.split(path.sep).join('/') },
                      replacements: f.edits.map((e) => ({
                        deletedRegion: { startLine: e.line, startColumn: e.column, endLine: e.endLine, endColumn: e.endColumn },
                        insertedContent: { text: e.newText },
                      })),
                    },
                  ],
                })),
              }
            : {}),
        })),
      },
    ],
  };
}

/**
 * A notebook finding in SARIF: the region is in the `.ipynb` text (the JSON string holding the
 * line), the cell position is a logical location and in the location's properties; only fixes
 * that can be applied to the raw file are kept.
 */
function notebookResult(d: JsonDiagnostic, region: FileRegion | undefined): object {
  const uri = d.file.split(path.sep).join('/');
  const fixes = region ? d.fixes.flatMap((f, i) => (region.fixes[i] ? [{ f, raw: region.fixes[i]! }] : [])) : [];
  return {
    ruleId: d.rule,
    ruleIndex: RULES.findIndex((r) => r.name === d.rule),
    level: d.severity,
    message: { text: `${d.message} (cell ${d.cell}, line ${d.line})` },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri },
          ...(region ? { region: { startLine: region.startLine, startColumn: region.startColumn, endLine: region.endLine, endColumn: region.endColumn } } : {}),
        },
        logicalLocations: [{ name: `cell ${d.cell}` }],
        properties: { cell: d.cell, line: d.line, column: d.column, endLine: d.endLine, endColumn: d.endColumn },
      },
    ],
    ...(fixes.length
      ? {
          fixes: fixes.map(({ f, raw }) => ({
            description: { text: f.title },
            properties: { safe: f.safe === true },
            artifactChanges: [{ artifactLocation: { uri }, replacements: raw.map((e) => ({ deletedRegion: { startLine: e.startLine, startColumn: e.startColumn, endLine: e.endLine, endColumn: e.endColumn }, insertedContent: { text: e.text } })) }],
          })),
        }
      : {}),
  };
}

/** Where a diagnostic is, for text output: `file:line:column` or `file: cell N, line M, column C`. */
function place(d: JsonDiagnostic): string {
  return d.cell !== undefined ? `${d.file}: cell ${d.cell}, line ${d.line}, column ${d.column}` : `${d.file}:${d.line}:${d.column}`;
}

/** The one line an unexpected failure prints (the stack with `--debug`); exit 3. */
async function finish(p: Promise<number>, io: CheckIo, debug: boolean): Promise<number> {
  try {
    return await p;
  } catch (e) {
    io.err(`attention-forge: internal error: ${describe(e)}\n`);
    if (debug && e instanceof Error && e.stack) io.err(`${e.stack}\n`);
    return 3;
  }
}

function describe(e: unknown): string {
  return (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).split('\n', 1)[0];
}

/** Parses `check` arguments; returns the work to do or throws a usage error. */
export function parseCheckArgs(args: string[]): { files: string[]; warnings: string[]; format: 'text' | 'json' | 'sarif'; rules?: string[]; debug: boolean } {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { format: { type: 'string', default: 'text' }, rule: { type: 'string', multiple: true }, exclude: { type: 'string', multiple: true }, debug: { type: 'boolean', default: false } },
  });
  const format = values.format;
  if (format !== 'text' && format !== 'json' && format !== 'sarif') throw new CheckUsageError(`--format must be text, json or sarif (got ${format})`);
  if (positionals.length === 0) throw new CheckUsageError('check expects at least one file or directory');
  for (const r of values.rule ?? []) if (!RULES.some((x) => x.name === r)) throw new CheckUsageError(`unknown rule '${r}' (rules: ${RULES.map((x) => x.name).join(', ')})`);
  return { ...collectFiles(positionals, values.exclude ?? []), format, rules: values.rule, debug: values.debug ?? false };
}

export interface CheckExtras {
  /** Lines already collected (skipped files): printed to stderr, and notifications in SARIF. */
  warnings?: string[];
  /** Print the stack trace of each internal failure. */
  debug?: boolean;
}

export async function checkFiles(files: string[], format: 'text' | 'json' | 'sarif', rules: string[] | undefined, io: CheckIo, version = '0.0.0', extras: CheckExtras = {}): Promise<number> {
  const warnings = [...(extras.warnings ?? [])];
  const all: JsonDiagnostic[] = [];
  const regions = new Map<JsonDiagnostic, FileRegion>();
  let unreadable = false;
  let startFailure: unknown;
  try {
    await initAnalyzer();
  } catch (e) {
    startFailure = e;
  }
  const fail = (f: string, message: string, e?: unknown) => {
    all.push(internalDiagnostic(f, message));
    if (extras.debug && e instanceof Error && e.stack) io.err(`${f}: ${e.stack}\n`);
  };
  const checkOne = (f: string, src: string): void => {
    if (isNotebook(f)) {
      const nb = checkNotebook(f, src, rules);
      if ('error' in nb) {
        io.err(`${f}: ${nb.error}\n`);
        unreadable = true;
        return;
      }
      all.push(...nb.diagnostics);
      for (const [d, r] of nb.regions) regions.set(d, r);
      return;
    }
    const a = analyze(src, rules ? { rules } : {});
    for (const d of a.diagnostics) all.push(toJson(f, d));
    for (const n of a.notices) warnings.push(`${f}:${n.line + 1}: note: ${n.message}`);
  };
  for (const f of files) {
    if (startFailure !== undefined) {
      fail(f, `not checked: the analyzer could not start (${describe(startFailure)})`, startFailure);
      continue;
    }
    const read = readSource(f);
    if ('skip' in read) {
      warnings.push(`${f}: skipped, ${read.skip}`);
      continue;
    }
    if ('error' in read) {
      fail(f, `not checked: ${read.error}`);
      continue;
    }
    try {
      checkOne(f, read.text);
    } catch (e) {
      fail(f, `not checked: the analyzer failed on this file (${describe(e)}); please report it`, e);
    }
  }
  for (const w of warnings) io.err(`attention-forge: ${w}\n`);
  if (format === 'json') io.out(JSON.stringify(all, null, 2) + '\n');
  else if (format === 'sarif') io.out(JSON.stringify(toSarif(all, version, regions, warnings), null, 2) + '\n');
  else {
    for (const d of all) io.out(`${place(d)}: ${d.severity}[${d.rule}] ${d.message}\n`);
    const errors = all.filter((d) => d.severity === 'error').length;
    io.err(`${files.length} file(s) checked: ${errors} error(s), ${all.length - errors} warning(s)\n`);
  }
  if (all.some((d) => d.rule === INTERNAL_RULE)) return 3;
  return unreadable || all.some((d) => d.severity === 'error') ? 1 : 0;
}

/** `check`: 2 on usage errors, 3 when a file could not be checked, 1 when errors were found, else 0. */
export async function checkCommand(args: string[], io: CheckIo): Promise<number> {
  let parsed: ReturnType<typeof parseCheckArgs>;
  try {
    parsed = parseCheckArgs(args);
  } catch (e) {
    if (e instanceof CheckUsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`attention-forge: ${(e as Error).message}\n${CHECK_USAGE}`);
      return 2;
    }
    throw e;
  }
  return finish(checkFiles(parsed.files, parsed.format, parsed.rules, io, undefined, { warnings: parsed.warnings, debug: parsed.debug }), io, parsed.debug);
}

export async function shapesOf(file: string, json: boolean, io: CheckIo): Promise<number> {
  const read = readSource(file);
  if (!('text' in read)) {
    io.err(`attention-forge: ${file}: ${'skip' in read ? read.skip : read.error}\n`);
    return 'skip' in read ? 2 : 3;
  }
  await initAnalyzer();
  if (isNotebook(file)) {
    const shapes = notebookShapes(read.text);
    if ('error' in shapes) {
      io.err(`${file}: ${shapes.error}\n`);
      return 1;
    }
    if (json) io.out(JSON.stringify(shapes, null, 2) + '\n');
    else for (const s of shapes) io.out(`${file}: cell ${s.cell}, line ${s.line}: ${s.name}: ${s.shape}\n`);
    return 0;
  }
  const r = analyze(read.text);
  if (json) io.out(JSON.stringify(r.shapes.map((s) => ({ line: s.line + 1, column: s.column + 1, name: s.name, shape: s.shape })), null, 2) + '\n');
  else for (const s of r.shapes) io.out(`${file}:${s.line + 1}: ${s.name}: ${s.shape}\n`);
  return 0;
}

/** `shapes <file> [--json]`. */
export async function shapesCommand(args: string[], io: CheckIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false }, debug: { type: 'boolean', default: false } } });
    if (positionals.length !== 1) throw new CheckUsageError('shapes expects exactly one file');
    let isDir: boolean;
    try {
      isDir = fs.statSync(positionals[0]).isDirectory();
    } catch (e) {
      throw new CheckUsageError(`no such file: ${positionals[0]} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    if (isDir) throw new CheckUsageError(`${positionals[0]} is a directory; shapes expects one file`);
    return await finish(shapesOf(positionals[0], values.json ?? false, io), io, values.debug ?? false);
  } catch (e) {
    if (e instanceof CheckUsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`attention-forge: ${(e as Error).message}\n${CHECK_USAGE}`);
      return 2;
    }
    throw e;
  }
}
