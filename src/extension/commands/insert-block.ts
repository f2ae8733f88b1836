/**
 * *Insert Attention Block*: the scaffold form's job through quick picks, for keyboard users.
 * Pick a block; a menu then lists its parameters with their values (and validation messages
 * from the catalog); picking one asks for a new value (an input box validated as you type, or a
 * pick for enums and booleans); "Insert" is offered once every value is valid. The code goes in
 * at the cursor as one undoable edit with the missing imports, or into a new untitled editor
 * when none is open. The language follows the editor: its TypeScript twin in a TypeScript file,
 * PyTorch otherwise; a TypeScript project without the runtime is offered it (`runtime-setup.ts`).
 * Decisions come from `scaffold.ts`.
 */

import * as vscode from 'vscode';
import type { ParamDef } from '../../blocks/catalog';
import type { Language } from '../../protocol/form';
import { insertIntoEditor, targetEditor } from '../edits';
import { LANGUAGE_IDS } from '../insertion';
import type { Services } from '../services';

type Scaffold = typeof import('../scaffold');

export async function insertBlock(s: Services, blockId?: unknown): Promise<void> {
  // The catalog loads on first use (see scaffold.ts).
  const sc: Scaffold = await import('../scaffold');
  const { blockEntry, evaluateChoice, getBlock, paramMenu } = sc;
  const id = typeof blockId === 'string' && getBlock(blockId) ? blockId : await pickBlock(sc);
  if (!id) return;
  const values: Record<string, string> = {};
  for (const f of blockEntry(getBlock(id)!).params) values[f.name] = f.defaultText;
  for (;;) {
    const { items, valid } = paramMenu(id, values);
    const pick = await vscode.window.showQuickPick(
      items.map((i) => ({ ...i, alwaysShow: true })),
      { title: `Insert ${id}: parameters`, placeHolder: valid ? 'Insert, or pick a parameter to change it' : 'Pick a parameter to change it', matchOnDescription: true },
    );
    if (!pick) return;
    if (!pick.param) {
      if (!valid) continue;
      break;
    }
    const def = getBlock(id)!.params.find((d) => d.name === pick.param)!;
    const text = await askValue(sc, def, values[def.name]);
    if (text !== undefined) values[def.name] = text;
  }
  const editor = targetEditor();
  const language: Language = editor?.document.languageId === LANGUAGE_IDS.typescript ? 'typescript' : 'pytorch';
  const e = evaluateChoice({ blockId: id, values, language });
  if (!e.code) return;
  if (!editor) {
    const doc = await vscode.workspace.openTextDocument({ language: LANGUAGE_IDS[language], content: e.code });
    await vscode.window.showTextDocument(doc);
    return;
  }
  const outcome = await insertIntoEditor(editor, e.code, language);
  if (!outcome.ok) void vscode.window.showWarningMessage(outcome.message);
  else s.log.info(outcome.message);
  if (outcome.ok && language === 'typescript') await s.runtime.afterInsert(editor.document.uri, e.code);
}

async function pickBlock(sc: Scaffold): Promise<string | undefined> {
  const pick = await vscode.window.showQuickPick(
    sc.allBlocks().map((b) => ({ label: b.title, description: b.id, detail: b.summary, id: b.id })),
    { title: 'Insert Attention Block', placeHolder: 'Search the catalog', matchOnDescription: true, matchOnDetail: true },
  );
  return pick?.id;
}

async function askValue(sc: Scaffold, def: ParamDef, current: string): Promise<string | undefined> {
  if (def.type === 'enum' || def.type === 'bool') {
    const options = def.type === 'bool' ? ['true', 'false'] : [...(def.choices ?? [])];
    if (def.nullable) options.push('None');
    const pick = await vscode.window.showQuickPick(
      options.map((o) => ({ label: o, description: o === current ? 'current' : undefined })),
      { title: def.name, placeHolder: def.doc },
    );
    return pick?.label;
  }
  const range = [def.min !== undefined ? `≥ ${def.min}` : '', def.max !== undefined ? `≤ ${def.max}` : '', def.nullable ? 'or None' : ''].filter(Boolean).join(', ');
  return vscode.window.showInputBox({
    title: def.name,
    prompt: `${def.doc}${range ? ` (${def.type} ${range})` : ` (${def.type})`}`,
    value: current,
    validateInput: (t) => sc.validateParamText(def, t),
  });
}
