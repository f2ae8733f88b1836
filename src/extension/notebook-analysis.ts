/**
 * Notebooks in the editor: a Jupyter notebook's Python cells are analysed as one program
 * (`analysis/notebook.ts`: code cells in execution order where it is recorded, magics blanked),
 * with one incremental `AnalysisSession` per open notebook, and the result is shown on the
 * cells — diagnostics on each cell document, and each cell's share (`cellView`) served to the
 * code action, hover and inlay hint providers through `AnalysisController.analysisOf`, so those
 * work on a cell as on a file. Any change to a cell (text, cells added, moved or removed, a run
 * that changes the execution order) re-analyses the notebook and republishes every cell, so a
 * fix in the cell that defines a module clears the finding in a later cell that calls it.
 *
 * The analyzer module loads on first use, as for files (`AnalysisController.whenReady`).
 */

import * as vscode from 'vscode';
import type { Analysis, AnalysisSession } from '../analysis';
import { cellView, mapNotebookAnalysis, notebookProgram } from '../analysis/notebook';
import type { NotebookAnalysis, NotebookCell, NotebookProgram } from '../analysis/notebook';
import type { AnalysisController } from './analysis-providers';
import { RULE_SETTING_PREFIX, SETTINGS_SECTION } from './analysis-view';

export const CELL_SCHEME = 'vscode-notebook-cell';

interface NotebookState {
  session?: AnalysisSession;
  timer?: ReturnType<typeof setTimeout>;
  /** The latest result, and the program text it is of. */
  result?: { text: string; program: NotebookProgram; analysis: NotebookAnalysis };
}

function isJupyter(nb: vscode.NotebookDocument): boolean {
  return nb.notebookType === 'jupyter-notebook' || nb.uri.path.endsWith('.ipynb');
}

/** The cells as the pure module sees them. */
export function cellsOf(nb: vscode.NotebookDocument): NotebookCell[] {
  return nb.getCells().map((c) => ({
    kind: c.kind === vscode.NotebookCellKind.Code ? 'code' : 'markdown',
    source: c.document.getText(),
    language: c.document.languageId,
    executionCount: c.executionSummary?.executionOrder ?? null,
  }));
}

export class NotebookAnalyses implements vscode.Disposable {
  private readonly states = new Map<string, NotebookState>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly controller: AnalysisController) {
    controller.cellAnalysis = (doc) => this.cellAnalysis(doc);
    this.disposables.push(
      vscode.workspace.onDidOpenNotebookDocument((nb) => this.request(nb, 0)),
      vscode.workspace.onDidChangeNotebookDocument((e) => {
        const relevant = e.contentChanges.length > 0 || e.cellChanges.some((c) => c.document !== undefined || c.executionSummary !== undefined);
        if (relevant) this.request(e.notebook, debounceMs(e.notebook.uri));
      }),
      vscode.workspace.onDidCloseNotebookDocument((nb) => this.forget(nb)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration(`${SETTINGS_SECTION}.${RULE_SETTING_PREFIX.replace(/\.$/, '')}`)) return;
        for (const nb of vscode.workspace.notebookDocuments) {
          const r = this.states.get(nb.uri.toString())?.result;
          if (r) this.publish(nb, r.analysis);
        }
      }),
    );
    for (const nb of vscode.workspace.notebookDocuments) this.request(nb, 0);
  }

  /** Re-analyses a notebook after `delayMs` (a later request replaces an earlier one). */
  request(nb: vscode.NotebookDocument, delayMs: number): void {
    if (!isJupyter(nb)) return;
    const state = this.state(nb);
    if (state.timer) clearTimeout(state.timer);
    state.timer = setTimeout(() => {
      state.timer = undefined;
      if (nb.isClosed) return;
      this.analyse(nb).then(
        (r) => {
          if (!nb.isClosed) this.publish(nb, r.analysis);
        },
        (e: unknown) => this.controller.logError(`notebook analysis of ${nb.uri.toString()} failed: ${e instanceof Error ? e.message : String(e)}`),
      );
    }, delayMs);
  }

  /** The notebook's analysis for its current cells (analysing now if they changed). */
  async analyse(nb: vscode.NotebookDocument): Promise<{ program: NotebookProgram; analysis: NotebookAnalysis }> {
    const m = await this.controller.whenReady();
    const state = this.state(nb);
    const program = notebookProgram(cellsOf(nb));
    const key = `${program.text}\u0000${program.spans.map((s) => `${s.cell}:${s.lines}`).join(',')}`;
    if (state.result?.text === key) return state.result;
    state.session ??= new m.AnalysisSession();
    const analysis = mapNotebookAnalysis(program, state.session.analyze(program.text));
    state.result = { text: key, program, analysis };
    return state.result;
  }

  /** Publishes a notebook analysis (from an open notebook or Check Workspace) on its cells. */
  publish(nb: vscode.NotebookDocument, analysis: NotebookAnalysis): void {
    nb.getCells().forEach((cell, i) => {
      this.controller.collection.set(cell.document.uri, this.controller.toDiagnostics(cell.document.uri, cellView(analysis, i).diagnostics));
    });
    this.controller.refreshHints();
  }

  /** Check Workspace's path: an analysis of `program.text` made elsewhere, shown on the cells. */
  publishProgram(nb: vscode.NotebookDocument, program: NotebookProgram, analysis: Analysis): void {
    this.publish(nb, mapNotebookAnalysis(program, analysis));
  }

  /** One cell's share of its notebook's analysis, shaped as an analysis of the cell. */
  private async cellAnalysis(doc: vscode.TextDocument): Promise<Analysis | undefined> {
    const nb = vscode.workspace.notebookDocuments.find((n) => n.getCells().some((c) => c.document === doc));
    if (!nb || !isJupyter(nb)) return undefined;
    const index = nb.getCells().findIndex((c) => c.document === doc);
    const { analysis } = await this.analyse(nb);
    return cellView(analysis, index) as Analysis;
  }

  private state(nb: vscode.NotebookDocument): NotebookState {
    const key = nb.uri.toString();
    let s = this.states.get(key);
    if (!s) this.states.set(key, (s = {}));
    return s;
  }

  private forget(nb: vscode.NotebookDocument): void {
    const key = nb.uri.toString();
    const s = this.states.get(key);
    if (s?.timer) clearTimeout(s.timer);
    s?.session?.dispose();
    this.states.delete(key);
    for (const c of nb.getCells()) this.controller.collection.delete(c.document.uri);
  }

  dispose(): void {
    for (const s of this.states.values()) {
      if (s.timer) clearTimeout(s.timer);
      s.session?.dispose();
    }
    this.states.clear();
    for (const d of this.disposables) d.dispose();
  }
}

function debounceMs(uri: vscode.Uri): number {
  const v = vscode.workspace.getConfiguration(SETTINGS_SECTION, uri).get<number>('diagnostics.debounceMs', 300);
  return typeof v === 'number' && v >= 0 ? Math.min(v, 5000) : 300;
}
