/**
 * Extension entry point. `activate()` only wires: it creates the long-lived services (the
 * analysis controller, the form and preview panels), registers the providers for Python
 * (diagnostics, code actions, hovers, inlay hints), the preview code lenses (above generated
 * blocks, Python and TypeScript, and above every nn.Module subclass of a Python file) and the
 * rule docs pages, and registers the commands of the
 * command table. Every decision lives in pure functions outside the `vscode` API
 * (`scaffold.ts`, `analysis-view.ts`, `scheduler.ts`, `check-workspace.ts`). This folder is the
 * only one that imports `vscode`. Activation does no analysis work itself: the parser's
 * WebAssembly loads on first use, so activation stays cheap.
 */

import * as vscode from 'vscode';
import { AnalysisController, FixProvider, RuleDocsProvider, ShapeHoverProvider, ShapeInlayHintsProvider } from './analysis-providers';
import { NotebookAnalyses } from './notebook-analysis';
import type { CommandId } from './command-ids';
import { checkWorkspace } from './commands/check-workspace';
import { insertBlock } from './commands/insert-block';
import { newBlock } from './commands/new-block';
import { previewBlock } from './commands/preview-block';
import { previewModule } from './commands/preview-module';
import { toggleShapeHints } from './commands/toggle-shape-hints';
import { FormPanels } from './form-panel';
import { PreviewLensProvider } from './preview-lens';
import { PreviewPanels } from './preview-panel';
import { RuntimeSetup } from './runtime-setup';
import type { Services } from './services';

/** A handler for every id of the command table (command-ids.ts), and nothing else. */
export const COMMANDS: Record<CommandId, (s: Services, ...args: unknown[]) => Promise<unknown>> = {
  'attentionForge.newBlock': newBlock,
  'attentionForge.insertBlock': insertBlock,
  'attentionForge.previewBlock': previewBlock,
  'attentionForge.previewModule': previewModule,
  'attentionForge.checkWorkspace': checkWorkspace,
  'attentionForge.toggleShapeHints': toggleShapeHints,
};

const PYTHON: vscode.DocumentSelector = [{ language: 'python' }];
/** Where generated blocks live: a code lens above each opens the preview. */
const GENERATED: vscode.DocumentSelector = [{ language: 'python' }, { language: 'typescript' }];

/** What activate() returns: used by the integration tests (through `extension.exports`). */
export interface Api {
  services: Services;
  /** Milliseconds activate() took, measured inside it. */
  activationMs: number;
}

export function activate(context: vscode.ExtensionContext): Api {
  const t0 = performance.now();
  const log = vscode.window.createOutputChannel('Attention Forge', { log: true });
  const analysis = new AnalysisController(log);
  const notebooks = new NotebookAnalyses(analysis);
  const runtime = new RuntimeSetup(context, log);
  const forms = new FormPanels(context.extensionUri, log, runtime);
  const previews = new PreviewPanels(context.extensionUri, log);
  const services: Services = { context, log, analysis, notebooks, forms, previews, runtime };
  const lensProvider = new PreviewLensProvider();
  context.subscriptions.push(
    log,
    analysis,
    notebooks,
    forms,
    previews,
    vscode.languages.registerCodeActionsProvider(PYTHON, new FixProvider(analysis), FixProvider.metadata),
    vscode.languages.registerHoverProvider(PYTHON, new ShapeHoverProvider(analysis)),
    vscode.languages.registerInlayHintsProvider(PYTHON, new ShapeInlayHintsProvider(analysis)),
    new RuleDocsProvider(),
    lensProvider,
    vscode.languages.registerCodeLensProvider(GENERATED, lensProvider),
  );
  for (const [id, handler] of Object.entries(COMMANDS)) {
    context.subscriptions.push(vscode.commands.registerCommand(id, (...args: unknown[]) => handler(services, ...args)));
  }
  const activationMs = performance.now() - t0;
  log.info(`activated in ${activationMs.toFixed(1)} ms`);
  return { services, activationMs };
}

export function deactivate(): void {}
