/**
 * The loop behind *Check Workspace*, with the editor abstracted away (no `vscode` import;
 * unit-tested): analyse files one by one, report progress, stop between files when cancelled,
 * and yield to the event loop so the editor stays responsive and a cancel is noticed. Reading a
 * file that fails (deleted meanwhile, not UTF-8) is counted, not fatal; so is an analysis that
 * fails (the analyzer's thread died on it): the loop goes on with the next file.
 */

import type { Analysis } from '../analysis';

export interface CheckOptions {
  read(file: string): Promise<string>;
  analyze(source: string): Analysis | Promise<Analysis>;
  isCancelled(): boolean;
  /** Called after each file with the count done so far. */
  progress(done: number, total: number, file: string): void;
  /** Called with each file's analysis as soon as it is analysed. */
  publish(file: string, analysis: Analysis): void;
}

export interface CheckSummary {
  files: number;
  analysed: number;
  unreadable: number;
  /** Files the analyzer failed on. */
  failed: number;
  diagnostics: number;
  filesWithProblems: number;
  cancelled: boolean;
}

export async function checkFiles(files: readonly string[], o: CheckOptions): Promise<CheckSummary> {
  const s: CheckSummary = { files: files.length, analysed: 0, unreadable: 0, failed: 0, diagnostics: 0, filesWithProblems: 0, cancelled: false };
  for (let i = 0; i < files.length; i++) {
    if (o.isCancelled()) {
      s.cancelled = true;
      break;
    }
    const f = files[i];
    let text: string;
    try {
      text = await o.read(f);
    } catch {
      s.unreadable++;
      o.progress(i + 1, files.length, f);
      continue;
    }
    let a: Analysis;
    try {
      a = await o.analyze(text);
    } catch {
      s.failed++;
      o.progress(i + 1, files.length, f);
      continue;
    }
    const n = a.diagnostics.length;
    s.analysed++;
    s.diagnostics += n;
    if (n) s.filesWithProblems++;
    o.publish(f, a);
    o.progress(i + 1, files.length, f);
    // Let the extension host process the cancel request and other events between files.
    await new Promise<void>((r) => setImmediate(r));
  }
  return s;
}

export function summaryMessage(s: CheckSummary): string {
  const head = s.cancelled ? `Check cancelled after ${s.analysed} of ${s.files} Python files` : `Checked ${s.analysed} Python file${s.analysed === 1 ? '' : 's'}`;
  const problems = s.diagnostics === 0 ? 'no shape problems' : `${s.diagnostics} problem${s.diagnostics === 1 ? '' : 's'} in ${s.filesWithProblems} file${s.filesWithProblems === 1 ? '' : 's'}`;
  const skipped = [s.unreadable ? `${s.unreadable} unreadable` : '', s.failed ? `${s.failed} the analyzer failed on` : ''].filter(Boolean).join(', ');
  return `${head}: ${problems}${skipped ? ` (${skipped})` : ''}.`;
}
