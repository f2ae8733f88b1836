/**
 * Extension entry point. `activate()` only wires: it registers the commands
 * of the command table; each command's decisions live in pure functions
 * outside this folder. This folder is the only one that imports `vscode`.
 */

import * as vscode from 'vscode';
import { allBlocks, getBlock } from '../blocks/catalog';
import { generatePyTorch } from '../codegen/pytorch';
import type { CommandId } from './command-ids';

/** A handler for every id of the command table (command-ids.ts), and nothing else. */
export const COMMANDS: Record<CommandId, () => Promise<void>> = {
  'attentionForge.insertBlock': insertBlock,
};

async function insertBlock(): Promise<void> {
  const pick = await vscode.window.showQuickPick(
    allBlocks().map((b) => ({ label: b.id, description: b.title, detail: b.summary })),
    { title: 'Insert Attention Block', matchOnDescription: true, matchOnDetail: true },
  );
  const block = pick && getBlock(pick.label);
  if (!block) return;
  const code = generatePyTorch(block, {});
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    const doc = await vscode.workspace.openTextDocument({ language: 'python', content: code });
    await vscode.window.showTextDocument(doc);
    return;
  }
  // A WorkspaceEdit keeps the insertion undoable as one step.
  const edit = new vscode.WorkspaceEdit();
  edit.insert(editor.document.uri, editor.selection.active, code);
  await vscode.workspace.applyEdit(edit);
}

export function activate(context: vscode.ExtensionContext): void {
  for (const [id, handler] of Object.entries(COMMANDS)) {
    context.subscriptions.push(vscode.commands.registerCommand(id, handler));
  }
}

export function deactivate(): void {}
