/**
 * What command handlers receive: the long-lived parts `activate()` creates, passed explicitly
 * instead of living in module globals, so each handler says what it uses and tests can build
 * one from stubs.
 */

import type * as vscode from 'vscode';
import type { AnalysisController } from './analysis-providers';
import type { FormPanels } from './form-panel';
import type { NotebookAnalyses } from './notebook-analysis';
import type { PreviewPanels } from './preview-panel';
import type { RuntimeSetup } from './runtime-setup';

export interface Services {
  readonly context: vscode.ExtensionContext;
  readonly log: vscode.LogOutputChannel;
  readonly analysis: AnalysisController;
  /** Jupyter notebooks analysed as one program, shown per cell. */
  readonly notebooks: NotebookAnalyses;
  readonly forms: FormPanels;
  /** The block preview panel (issue 5). */
  readonly previews: PreviewPanels;
  /** Offers `attention-forge/runtime` to a project that receives generated TypeScript without it. */
  readonly runtime: RuntimeSetup;
}
