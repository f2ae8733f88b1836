/**
 * Carrying out a scaffold: inserting generated code into an editor as one undoable
 * `WorkspaceEdit` (the body at the cursor, missing imports at the import block, as planned by
 * `planInsertion`), creating a new file that never overwrites an existing one, and copying.
 * Returns a message for the user instead of throwing.
 */

import * as vscode from 'vscode';
import type { Language } from '../protocol/form';
import { baseFileName, freeFileName, LANGUAGE_IDS, planInsertion } from './insertion';

export interface Outcome {
  ok: boolean;
  message: string;
  /** The file the code went into, when it is one. */
  uri?: vscode.Uri;
}

/** The editor code is inserted into: the active one, or the last visible text editor (the form has focus). */
export function targetEditor(): vscode.TextEditor | undefined {
  return vscode.window.activeTextEditor ?? vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme !== 'output');
}

export async function insertIntoEditor(editor: vscode.TextEditor, code: string, language: Language): Promise<Outcome> {
  const doc = editor.document;
  const pos = editor.selection.active;
  const plan = planInsertion(doc.getText(), code, { line: pos.line, character: pos.character }, language);
  const edit = new vscode.WorkspaceEdit();
  for (const i of plan) edit.insert(doc.uri, new vscode.Position(i.line, i.character), i.text);
  const ok = await vscode.workspace.applyEdit(edit);
  if (!ok) return { ok: false, message: `Could not edit ${vscode.workspace.asRelativePath(doc.uri)}.` };
  const imports = plan.length > 1 ? plan[0].text.trim().split('\n').length : 0;
  return { ok: true, uri: doc.uri, message: `Inserted into ${vscode.workspace.asRelativePath(doc.uri)}${imports ? ` (added ${imports} import${imports === 1 ? '' : 's'})` : ''}.` };
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates `<block>.py` (or `_2`, `_3`… when taken) in the folder of the active file, else the
 * first workspace folder, and opens it; an untitled document when there is no folder. The file
 * is created with `overwrite: false`, so a file that appeared meanwhile is never replaced.
 */
export async function createNewFile(blockId: string, code: string, language: Language): Promise<Outcome> {
  const active = vscode.window.activeTextEditor?.document.uri;
  const folder = active && active.scheme === 'file' ? vscode.Uri.joinPath(active, '..') : vscode.workspace.workspaceFolders?.[0]?.uri;
  const languageId = LANGUAGE_IDS[language];
  if (!folder) {
    const doc = await vscode.workspace.openTextDocument({ language: languageId, content: code });
    await vscode.window.showTextDocument(doc);
    return { ok: true, message: 'Opened the code in a new untitled editor (no workspace folder).' };
  }
  const taken = new Set<string>();
  const base = baseFileName(blockId, language);
  // Collect the names that exist among the candidates freeFileName will try, in order.
  let name = freeFileName(base, (n) => taken.has(n));
  while (await exists(vscode.Uri.joinPath(folder, name))) {
    taken.add(name);
    name = freeFileName(base, (n) => taken.has(n));
  }
  const uri = vscode.Uri.joinPath(folder, name);
  const edit = new vscode.WorkspaceEdit();
  edit.createFile(uri, { overwrite: false, ignoreIfExists: false, contents: new TextEncoder().encode(code) });
  if (!(await vscode.workspace.applyEdit(edit))) return { ok: false, message: `Could not create ${vscode.workspace.asRelativePath(uri)}.` };
  // Next to the code the user was editing, not beside the form.
  await vscode.window.showTextDocument(uri, { preview: false, viewColumn: targetEditor()?.viewColumn ?? vscode.ViewColumn.One });
  return { ok: true, uri, message: `Created ${vscode.workspace.asRelativePath(uri)}.` };
}

export async function copyCode(code: string): Promise<Outcome> {
  await vscode.env.clipboard.writeText(code);
  return { ok: true, message: 'Copied the code to the clipboard.' };
}
