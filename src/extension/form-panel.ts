/**
 * The "New Attention Block" form: one webview panel (revealed again rather than duplicated,
 * restored after a reload by a serializer). The webview's script and styles come from the
 * built webview folder only (`dist/webview`, the panel's single local resource root), under a
 * strict CSP (`default-src 'none'`, scripts only with this page's nonce, no eval). Messages are
 * the typed unions of `src/protocol/form.ts`, validated on receipt; the extension does all the
 * catalog work (`evaluateChoice`) and the webview only renders. Its *Preview* button opens the
 * preview panel (*Preview Attention Block*) on the block and values chosen here.
 */

import * as vscode from 'vscode';
import { parseFromWebview } from '../protocol/form';
import type { ActionKind, FormChoice, InitMessage, ToWebview } from '../protocol/form';
import { FORM_VIEW_TYPE, type CommandId } from './command-ids';
import { copyCode, createNewFile, insertIntoEditor, targetEditor } from './edits';
import type { Outcome } from './edits';
import type { RuntimeSetup } from './runtime-setup';

/** The catalog-backed decisions, loaded on first use (see scaffold.ts). */
function scaffold(): Promise<typeof import('./scaffold')> {
  return import('./scaffold');
}

export class FormPanels implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private initialBlockId: string | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly extensionUri: vscode.Uri, private readonly log: vscode.LogOutputChannel, private readonly runtime: RuntimeSetup) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(FORM_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel: vscode.WebviewPanel) => {
          // The webview restores its own choice (getState); the extension only re-wires it.
          this.adopt(panel);
        },
      }),
    );
  }

  private get root(): vscode.Uri {
    return vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
  }

  /** Opens (or reveals and re-initialises) the form. */
  show(blockId?: string): vscode.WebviewPanel {
    this.initialBlockId = blockId;
    if (this.panel) {
      this.panel.reveal(vscode.ViewColumn.Beside);
      void this.initMessage().then((m) => this.post(m));
      return this.panel;
    }
    const panel = vscode.window.createWebviewPanel(FORM_VIEW_TYPE, TITLE, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false }, {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: [this.root],
    });
    this.adopt(panel);
    return panel;
  }

  private adopt(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    panel.title = TITLE;
    panel.webview.options = { enableScripts: true, localResourceRoots: [this.root] };
    panel.iconPath = undefined;
    panel.webview.html = this.html(panel.webview);
    const subs: vscode.Disposable[] = [
      panel.webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw)),
      panel.onDidDispose(() => {
        if (this.panel === panel) this.panel = undefined;
        for (const s of subs) s.dispose();
      }),
    ];
  }

  private async initMessage(): Promise<InitMessage> {
    const { blockEntries, languageAvailability } = await scaffold();
    return { type: 'init', blocks: blockEntries(), languages: languageAvailability(), ...(this.initialBlockId ? { initialBlockId: this.initialBlockId } : {}) };
  }

  private post(m: ToWebview): Thenable<boolean> {
    return this.panel?.webview.postMessage(m) ?? Promise.resolve(false);
  }

  private async receive(raw: unknown): Promise<void> {
    const m = parseFromWebview(raw);
    if (!m) {
      this.log.warn(`dropped a malformed message from the form webview: ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    switch (m.type) {
      case 'ready':
        await this.post(await this.initMessage());
        return;
      case 'update': {
        const e = (await scaffold()).evaluateChoice(m.choice);
        await this.post({ type: 'preview', seq: m.seq, code: e.code, issues: e.issues, shapes: e.shapes });
        return;
      }
      case 'action': {
        const outcome = await this.act(m.action, m.choice);
        await this.post({ type: 'actionResult', action: m.action, ok: outcome.ok, message: outcome.message });
        if (outcome.ok) void vscode.window.setStatusBarMessage(outcome.message, 4000);
        else void vscode.window.showWarningMessage(outcome.message);
        // TypeScript needs attention-forge/runtime installable in the project (runtime-setup.ts).
        if (outcome.ok && outcome.uri && outcome.code && m.choice.language === 'typescript') void this.runtime.afterInsert(outcome.uri, outcome.code);
        return;
      }
    }
  }

  private async act(action: ActionKind, choice: FormChoice): Promise<Outcome & { code?: string }> {
    const e = (await scaffold()).evaluateChoice(choice);
    if (action === 'preview') {
      // The preview runs the catalog block itself, so it needs valid values, not code (it works
      // for either language).
      if (!e.params) return { ok: false, message: e.issues.map((i) => i.message).join('; ') || 'Nothing to preview.' };
      await vscode.commands.executeCommand('attentionForge.previewBlock' satisfies CommandId, choice.blockId, e.params);
      return { ok: true, message: `Previewing ${choice.blockId}.` };
    }
    if (!e.code) return { ok: false, message: e.issues.map((i) => i.message).join('; ') || 'Nothing to generate.' };
    switch (action) {
      case 'copy':
        return copyCode(e.code);
      case 'newFile':
        return { ...(await createNewFile(choice.blockId, e.code, choice.language)), code: e.code };
      case 'insert': {
        const editor = targetEditor();
        if (!editor) return { ...(await createNewFile(choice.blockId, e.code, choice.language)), code: e.code };
        return { ...(await insertIntoEditor(editor, e.code, choice.language)), code: e.code };
      }
    }
  }

  private html(webview: vscode.Webview): string {
    const nonce = Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(16))).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.root, 'form.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.root, 'form.css'));
    const csp = [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      // vscode-elements styles its shadow roots with constructable stylesheets, which CSP does
      // not govern; the page's own CSS is a file from the webview folder.
      `style-src ${webview.cspSource}`,
      `font-src ${webview.cspSource}`,
      `img-src ${webview.cspSource} data:`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}">
<title>${TITLE}</title>
</head>
<body>
<div id="app"><p class="loading">Loading the catalog…</p></div>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

const TITLE = 'New Attention Block';
