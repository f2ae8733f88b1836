/**
 * The code lens above each block Attention Forge generated (Python or TypeScript): *Preview
 * block* opens the preview panel on that block with the values its header names. Finding the
 * blocks is `generated-blocks.ts` (pure, unit-tested); this only turns them into lenses.
 */

import * as vscode from 'vscode';
import type { CommandId } from './command-ids';
import { findGeneratedBlocks } from './generated-blocks';

export class PreviewLensProvider implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    return findGeneratedBlocks(document.getText()).map(
      (b) =>
        new vscode.CodeLens(new vscode.Range(b.line, 0, b.line, 0), {
          title: '$(play) Preview block',
          tooltip: `Run '${b.blockId}' with these parameters in the Attention Forge preview: layer shapes and attention maps`,
          command: 'attentionForge.previewBlock' satisfies CommandId,
          arguments: [b.blockId, b.params],
        }),
    );
  }
}
