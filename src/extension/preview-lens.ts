/**
 * The code lenses of the preview: *Preview block* above each block Attention Forge generated
 * (Python or TypeScript) opens the preview panel on that block with the values its header names;
 * *Preview module* above every `nn.Module` subclass of a Python file runs the user's own class on
 * the bundled runtime (issue 14), and above every class of a TypeScript file that extends the
 * runtime's `nn.Module` (directly or through a runtime layer or another class of the file) runs
 * that class's code on a worker thread. Running TypeScript executes the user's code, so in
 * Restricted Mode its lens says that the workspace must be trusted instead, and the lenses are
 * asked for again when trust is granted. Finding the blocks is `generated-blocks.ts`, the Python
 * classes `module-preview.ts` and the TypeScript ones `ts-module-source.ts` (pure, unit-tested;
 * the latter two loaded on first use); this only turns them into lenses.
 */

import * as vscode from 'vscode';
import type { CommandId } from './command-ids';
import { findGeneratedBlocks } from './generated-blocks';

export class PreviewLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly trust = vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire());

  dispose(): void {
    this.trust.dispose();
    this.changed.dispose();
  }

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    const text = document.getText();
    const lenses = findGeneratedBlocks(text).map(
      (b) =>
        new vscode.CodeLens(new vscode.Range(b.line, 0, b.line, 0), {
          title: '$(play) Preview block',
          tooltip: `Run '${b.blockId}' with these parameters in the Attention Forge preview: layer shapes and attention maps`,
          command: 'attentionForge.previewBlock' satisfies CommandId,
          arguments: [b.blockId, b.params],
        }),
    );
    if (!/\bclass\b/.test(text)) return lenses;
    if (document.languageId === 'python') {
      const { moduleLenses } = await import('./module-preview');
      for (const m of await moduleLenses(text)) {
        lenses.push(
          new vscode.CodeLens(new vscode.Range(m.line, 0, m.line, 0), {
            title: '$(play) Preview module',
            tooltip: `Run ${m.className} on the bundled runtime (no Python): the shapes at every layer`,
            command: 'attentionForge.previewModule' satisfies CommandId,
            arguments: [document.uri, m.className],
          }),
        );
      }
    } else if (document.languageId === 'typescript') {
      const { tsModuleClasses } = await import('./ts-module-source');
      const trusted = vscode.workspace.isTrusted;
      for (const c of tsModuleClasses(text)) {
        lenses.push(
          new vscode.CodeLens(new vscode.Range(c.line - 1, 0, c.line - 1, 0), {
            title: trusted ? '$(play) Preview module' : '$(workspace-untrusted) Preview module needs a trusted workspace',
            tooltip: trusted
              ? `Run ${c.className}'s code on the bundled runtime in a worker thread: the shapes at every layer and its attention maps`
              : `Previewing ${c.className} runs this file's TypeScript, which Restricted Mode does not allow: trust the workspace to preview it`,
            command: 'attentionForge.previewModule' satisfies CommandId,
            arguments: [document.uri, c.className],
          }),
        );
      }
    }
    return lenses;
  }
}
