/**
 * *Preview Attention Block*: opens the preview panel (issue 5), which runs a catalog block in the
 * webview and draws its layers and attention maps. Arguments, all optional: a block id (from the
 * scaffold form, a code lens or a test) and that block's parameter values (field values as in
 * `Params`; defaults for the rest). Without a block id the user picks one from the catalog.
 */

import * as vscode from 'vscode';
import type { Params } from '../../blocks/types';
import type { Services } from '../services';

function isParams(x: unknown): x is Params {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && Object.values(x).every((v) => v === null || ['number', 'boolean', 'string'].includes(typeof v));
}

export async function previewBlock(s: Services, blockId?: unknown, params?: unknown): Promise<void> {
  let id = typeof blockId === 'string' ? blockId : undefined;
  if (!id) {
    const { previewBlockList } = await import('../preview-model');
    const pick = await vscode.window.showQuickPick(
      previewBlockList().map((b) => ({ label: b.title, description: b.id, id: b.id })),
      { title: 'Preview Attention Block', placeHolder: 'Block to run in the preview', matchOnDescription: true },
    );
    if (!pick) return;
    id = pick.id;
  }
  s.previews.show(id, isParams(params) ? params : {});
}
