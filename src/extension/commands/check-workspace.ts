/**
 * *Check Workspace*: analyses every Python file and Jupyter notebook of the workspace into the
 * Problems panel, with a cancellable progress notification. Open documents are analysed from
 * their editor text (unsaved edits included); other files from disk. A notebook is opened as a
 * notebook document (the built-in Jupyter serializer; no kernel, nothing runs) and analysed as
 * one program of its cells, its problems shown on the cells. The loop is `checkFiles` (pure).
 */

import * as vscode from 'vscode';
import { checkFiles, summaryMessage } from '../check-workspace';
import type { CheckSummary } from '../check-workspace';
import { notebookProgram } from '../../analysis/notebook';
import type { NotebookProgram } from '../../analysis/notebook';
import { cellsOf } from '../notebook-analysis';
import type { Services } from '../services';

const EXCLUDE = '{**/node_modules/**,**/.git/**,**/.venv/**,**/venv/**,**/__pycache__/**,**/site-packages/**}';

export async function checkWorkspace(s: Services): Promise<CheckSummary | undefined> {
  if (!vscode.workspace.workspaceFolders?.length) {
    void vscode.window.showInformationMessage('Attention Forge: open a folder to check its Python files.');
    return undefined;
  }
  const summary = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Attention Forge: checking Python files', cancellable: true },
    async (progress, token) => {
      const uris = await vscode.workspace.findFiles('**/*.{py,ipynb}', EXCLUDE, undefined, token);
      uris.sort((a, b) => a.toString().localeCompare(b.toString()));
      const byKey = new Map(uris.map((u) => [u.toString(), u]));
      let last = 0;
      // A notebook's program, from `read` to `publish`.
      const notebooks = new Map<string, { nb: vscode.NotebookDocument; program: NotebookProgram }>();
      return checkFiles([...byKey.keys()], {
        read: async (key) => {
          const uri = byKey.get(key)!;
          if (uri.path.endsWith('.ipynb')) {
            const nb = vscode.workspace.notebookDocuments.find((n) => n.uri.toString() === key) ?? (await vscode.workspace.openNotebookDocument(uri));
            const program = notebookProgram(cellsOf(nb));
            notebooks.set(key, { nb, program });
            return program.text;
          }
          const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === key);
          if (open) return open.getText();
          return new TextDecoder('utf-8', { fatal: true }).decode(await vscode.workspace.fs.readFile(byKey.get(key)!));
        },
        analyze: (text) => s.analysis.analyzeText(text),
        isCancelled: () => token.isCancellationRequested,
        publish: (key, analysis) => {
          const nb = notebooks.get(key);
          if (nb) s.notebooks.publishProgram(nb.nb, nb.program, analysis);
          else s.analysis.publishChecked(byKey.get(key)!, analysis);
        },
        progress: (done, total, key) => {
          const pct = Math.floor((done / total) * 100);
          progress.report({ increment: pct - last, message: `${done}/${total} ${vscode.workspace.asRelativePath(byKey.get(key)!)}` });
          last = pct;
        },
      });
    },
  );
  s.log.info(summaryMessage(summary));
  void vscode.window.showInformationMessage(`Attention Forge: ${summaryMessage(summary)}`);
  return summary;
}
