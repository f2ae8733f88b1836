/**
 * The command table: every command the extension contributes, with its
 * palette title. `package.json`'s `contributes.commands` is generated from
 * it (`npm run gen`), and `main.ts` must supply a handler for each id (its
 * handler map is typed by `CommandId`), so manifest and code cannot drift.
 * This file does not import `vscode`, so scripts and tests can read it.
 */

export const CATEGORY = 'Attention Forge';

/** The form webview's view type (its serializer and `onWebviewPanel` activation use it). */
export const FORM_VIEW_TYPE = 'attentionForge.form';

/** The block preview's view type (issue 5; its serializer and `onWebviewPanel` activation use it). */
export const PREVIEW_VIEW_TYPE = 'attentionForge.preview';

export const COMMAND_TABLE = [
  { id: 'attentionForge.newBlock', title: 'New Attention Block…' },
  { id: 'attentionForge.insertBlock', title: 'Insert Attention Block' },
  { id: 'attentionForge.previewBlock', title: 'Preview Attention Block' },
  { id: 'attentionForge.previewModule', title: 'Preview Module (your own nn.Module)' },
  { id: 'attentionForge.checkWorkspace', title: 'Check Workspace' },
  { id: 'attentionForge.toggleShapeHints', title: 'Toggle Shape Hints' },
] as const;

export type CommandId = (typeof COMMAND_TABLE)[number]['id'];

/** The `contributes.commands` entries for package.json. */
export function contributedCommands(): { command: string; title: string; category: string }[] {
  return COMMAND_TABLE.map((c) => ({ command: c.id, title: c.title, category: CATEGORY }));
}
