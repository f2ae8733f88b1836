/**
 * Jupyter notebooks in the real editor: a notebook with magics and imports in its first cell, a
 * module in a later cell and a call with the wrong width after a markdown cell is analysed as
 * one program — the finding lands on the module's cell and line, code actions, hovers and inlay
 * hints work on cells, an edit of the last cell clears it, an edit of the module's cell is
 * checked against the cells after it — and Check Workspace puts a closed notebook's problems on
 * its cells. The notebook is test/fixtures/notebooks/mha.ipynb, copied into the workspace.
 */

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { codeOf, ours, waitFor as waitForDefault } from './helpers';
import type { CheckSummary } from '../../../src/extension/check-workspace';

/** Notebooks take longer to open and analyse than text files. */
const waitFor = <T>(what: string, f: () => T | undefined | Promise<T | undefined>, timeoutMs = 30000) => waitForDefault(what, f, timeoutMs);

const FIXTURE = path.resolve(__dirname, '../../test/fixtures/notebooks/mha.ipynb');

function withRule(uri: vscode.Uri, rule: string): vscode.Diagnostic[] {
  return ours(uri).filter((d) => codeOf(d) === rule);
}

/** The notebook fixture with the last cell's call replaced. */
function notebookText(lastCell: string[]): string {
  const nb = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as { cells: { source: string[] }[] };
  nb.cells[4].source = lastCell;
  return JSON.stringify(nb, null, 1);
}

async function replaceInCell(doc: vscode.TextDocument, line: number, from: string, to: string): Promise<void> {
  const col = doc.lineAt(line).text.indexOf(from);
  assert.ok(col >= 0, `${from} on line ${line} of the cell: ${doc.lineAt(line).text}`);
  const edit = new vscode.WorkspaceEdit();
  edit.replace(doc.uri, new vscode.Range(line, col, line, col + from.length), to);
  assert.ok(await vscode.workspace.applyEdit(edit));
}

export function registerNotebookTests(): void {
  describe('Attention Forge in notebooks', function () {
    let folder: vscode.Uri;
    before(async function () {
      const f = vscode.workspace.workspaceFolders?.[0];
      assert.ok(f, 'the test workspace is open');
      folder = f.uri;
      await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(folder, 'notebooks'));
      const last = ['x = torch.randn(2, 10, 48)\n', '%time\n', 'y = MHA(dim=64)(x)\n', 'z = y @ torch.randn(64, 5)'];
      await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(folder, 'notebooks/mha.ipynb'), new TextEncoder().encode(notebookText(last)));
      await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(folder, 'notebooks/closed.ipynb'), new TextEncoder().encode(notebookText(last)));
    });

    afterEach(async function () {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });

    it('analyses the cells as one program: diagnostics, code actions, hovers and inlay hints land on the right cell and line', async function () {
      const nb = await vscode.workspace.openNotebookDocument(vscode.Uri.joinPath(folder, 'notebooks/mha.ipynb'));
      await vscode.window.showNotebookDocument(nb);
      const cells = nb.getCells();
      assert.equal(cells.length, 5);
      assert.equal(cells[2].document.languageId, 'python');
      const module = cells[2].document;
      const call = cells[4].document;

      // The mistaken call (last cell) reaches the module (third cell) defined after the imports (second cell).
      const d = await waitFor('the finding on the module cell', () => withRule(module.uri, 'linear-in-features-mismatch')[0]);
      const line = module.getText().split('\n').findIndex((l) => l.includes('self.qkv(x)'));
      assert.equal(d.range.start.line, line);
      assert.equal(module.getText(d.range), 'self.qkv(x)');
      assert.match(d.message, /in_features = 64 .* 48/);
      for (const i of [1, 4]) assert.deepEqual(ours(cells[i].document.uri).map(codeOf), [], `cell ${i} has no findings`);

      // Code actions on the cell edit the cell.
      const actions = await waitFor('the suppression action', async () => {
        const a = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', module.uri, d.range, vscode.CodeActionKind.QuickFix.value);
        return a.some((x) => x.title === 'Ignore linear-in-features-mismatch on this line') ? a : undefined;
      });
      const ignore = actions.find((x) => x.title === 'Ignore linear-in-features-mismatch on this line')!;
      assert.deepEqual(ignore.edit!.entries().map(([u]) => u.toString()), [module.uri.toString()]);

      // Hover in the last cell.
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', call.uri, new vscode.Position(0, 0));
      assert.match(hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n'), /x: \(2, 10, 48\)/);

      // Fixing the call in the last cell clears the module cell's finding, and its forward gets shapes.
      await replaceInCell(call, 0, '48', '64');
      await waitFor('the finding to go', () => withRule(module.uri, 'linear-in-features-mismatch').length === 0 || undefined);
      const attnLine = module.getText().split('\n').findIndex((l) => /^\s+attn = /.test(l));
      const hints = await waitFor('shape hints in the module cell', async () => {
        const h = await vscode.commands.executeCommand<vscode.InlayHint[]>('vscode.executeInlayHintProvider', module.uri, new vscode.Range(0, 0, module.lineCount, 0));
        return h.some((x) => x.position.line === attnLine) ? h : undefined;
      });
      const label = hints.find((x) => x.position.line === attnLine)!.label;
      assert.equal(typeof label === 'string' ? label : label.map((p) => p.value).join(''), ': (2, 4, 10, 10)');
      const attnHover = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', module.uri, new vscode.Position(attnLine, module.lineAt(attnLine).text.indexOf('attn') + 1));
      assert.match(attnHover.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n'), /attn: \(2, 4, 10, 10\)/);

      // Editing the module's cell re-checks the cells after it: a narrower output breaks the last cell's matmul.
      const outLine = module.getText().split('\n').findIndex((l) => l.includes('self.out = nn.Linear(dim, dim)'));
      await replaceInCell(module, outLine, 'nn.Linear(dim, dim)', 'nn.Linear(dim, 32)');
      const mm = await waitFor('the matmul finding in the last cell', () => withRule(call.uri, 'matmul-inner-dim-mismatch')[0]);
      assert.equal(mm.range.start.line, 3);
      assert.match(mm.message, /32 vs 64/);
      await replaceInCell(module, outLine, 'nn.Linear(dim, 32)', 'nn.Linear(dim, dim)');
      await waitFor('the matmul finding to go', () => withRule(call.uri, 'matmul-inner-dim-mismatch').length === 0 || undefined);
      assert.ok(await nb.save());
    });

    it('Check Workspace includes notebooks and puts their problems on the cells', async function () {
      const summary = await vscode.commands.executeCommand<CheckSummary>('attentionForge.checkWorkspace');
      assert.ok(summary && !summary.cancelled, JSON.stringify(summary));
      const target = vscode.Uri.joinPath(folder, 'notebooks/closed.ipynb');
      const found = await waitFor('problems on the closed notebook cells', () => {
        const hits = vscode.languages.getDiagnostics().filter(([u, ds]) => u.scheme === 'vscode-notebook-cell' && u.path === target.path && ds.some((x) => x.source === 'attention-forge'));
        return hits.length ? hits : undefined;
      });
      const nb = vscode.workspace.notebookDocuments.find((n) => n.uri.path === target.path);
      assert.ok(nb, 'Check Workspace opened the notebook document');
      const byCell = found.map(([u, ds]) => [nb.getCells().findIndex((c) => c.document.uri.toString() === u.toString()), ds.filter((x) => x.source === 'attention-forge').map(codeOf)]);
      assert.deepEqual(byCell, [[2, ['linear-in-features-mismatch']]]);
    });
  });
}
