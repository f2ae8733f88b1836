/**
 * The code lenses of the preview: *Preview block* above each block Attention Forge generated
 * (Python or TypeScript) opens the preview panel on that block with the values its header names;
 * *Preview module* above every `nn.Module` subclass of a Python file runs the user's own class on
 * the bundled runtime (issue 14). Finding the blocks is `generated-blocks.ts` and finding the
 * classes `module-preview.ts` (pure, unit-tested; the latter loaded on first use, with the parser);
 * this only turns them into lenses.
 */

import * as vscode from 'vscode';
import type { CommandId } from './command-ids';
import { findGeneratedBlocks } from './generated-blocks';

export class PreviewLensProvider implements vscode.CodeLensProvider {
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
    if (document.languageId !== 'python' || !/\bclass\b/.test(text)) return lenses;
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
    return lenses;
  }
}
