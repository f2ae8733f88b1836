/**
 * *Preview Module* (issue 14): runs the user's own `nn.Module` on the bundled runtime and shows
 * its per-layer shapes in the preview panel. Arguments, all optional: the document's URI and the
 * class name (from the code lens above the class); without them, the active Python editor and a
 * pick among its module classes. The input shape is asked for, offered from the class's first
 * layer. The panel may run it again with a checkpoint or an image as the first input (the
 * rerun this command hands it). The decisions and the run are `module-preview.ts` (no `vscode`), loaded on first use.
 */

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { GivenInput, ImportContext, ModuleWeights } from '../module-preview';
import type { PreviewModuleMessage } from '../../protocol/preview';
import type { Services } from '../services';

export async function previewModule(s: Services, uri?: unknown, className?: unknown, shapesText?: unknown): Promise<void> {
  const m = await import('../module-preview');
  const doc = uri instanceof vscode.Uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
  if (!doc || doc.languageId !== 'python') {
    void vscode.window.showInformationMessage('Preview Module runs an nn.Module subclass of a Python file: open one first.');
    return;
  }
  const source = doc.getText();
  let name = typeof className === 'string' ? className : undefined;
  if (!name) {
    const lenses = await m.moduleLenses(source);
    if (!lenses.length) {
      void vscode.window.showInformationMessage(`${path.basename(doc.fileName)} defines no nn.Module subclass.`);
      return;
    }
    name = lenses.length === 1 ? lenses[0].className : (await vscode.window.showQuickPick(lenses.map((l) => l.className), { title: 'Preview Module', placeHolder: 'Class to run' }));
    if (!name) return;
  }
  const file = vscode.workspace.asRelativePath(doc.uri, false);
  // Imports of the workspace's other files (and installed pure-Python packages) are followed from files on disk.
  const imports = doc.uri.scheme === 'file' ? { path: doc.uri.fsPath, importRoots: [path.dirname(doc.uri.fsPath), ...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath)] } : {};
  const ctor = await constructorArguments(doc, name, typeof shapesText === 'string');
  if (!ctor) return;
  const where = { ...imports, ...ctor };
  if (typeof shapesText === 'string') {
    const given = m.parseShapes(shapesText);
    if (typeof given === 'string') {
      void vscode.window.showErrorMessage(given);
      return;
    }
    const first = await inThread(s, name, source, file, given, where);
    if (first) s.previews.showModule(first, (o) => inThread(s, name, source, file, given, where, o.weights, o.input));
    return;
  }
  const guess = await m.guessInputShape(source, file, name, where);
  const answer = await vscode.window.showInputBox({
    title: `Preview ${name}`,
    prompt: 'Input shape of forward (several inputs separated by ;). Weights are random (seed 0).',
    value: guess ? guess.join(',') : '2,16,64',
    validateInput: (v) => {
      const r = m.parseShapes(v);
      return typeof r === 'string' ? r : undefined;
    },
  });
  if (answer === undefined) return;
  const shapes = m.parseShapes(answer);
  if (typeof shapes === 'string') return;
  const msg = await inThread(s, name, source, file, shapes, where);
  if (!msg) return;
  if (msg.error) s.log.warn(`preview of ${name} stopped: ${msg.error}`);
  else s.log.info(`preview of ${name}: ${msg.layers.length} layers, ${msg.forwardMs.toFixed(1)} ms per forward`);
  s.previews.showModule(msg, (o) => inThread(s, name, source, file, shapes, where, o.weights, o.input));
}

/**
 * One run on its own thread, under a progress notification with Cancel: the editor stays
 * responsive, and Cancel ends the run at once (undefined: nothing changes in the panel).
 */
async function inThread(s: Services, name: string, source: string, file: string, shapes: readonly number[][], where: ImportContext, weights?: ModuleWeights, given?: GivenInput): Promise<PreviewModuleMessage | undefined> {
  const r = await import('../module-runner');
  const req = r.request(source, file, name, shapes, 0, where, weights, given);
  try {
    return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Running ${name}${weights ? ` with ${weights.file}` : ''}${given ? ` on ${given.from}` : ''} on the bundled runtime…`, cancellable: true }, (_progress, token) =>
      r.runModuleInWorker({ script: path.join(__dirname, 'module-worker.js') }, req, token),
    );
  } catch (e) {
    if (e instanceof r.Cancelled) {
      s.log.info(`preview of ${name} cancelled`);
      return undefined;
    }
    throw e;
  }
}

/** Python files of the workspace searched for instantiations of the class (besides the open one). */
const MAX_FILES_SEARCHED = 200;

/**
 * The constructor's arguments: picked among the class's instantiations with literal arguments in
 * this file and the workspace's other Python files, or typed as `name=value` when there are none
 * and `__init__` has parameters without defaults. Programmatic runs (`quiet`) take the first
 * instantiation, if any. Undefined when the user cancels.
 */
async function constructorArguments(doc: vscode.TextDocument, className: string, quiet: boolean): Promise<Pick<ImportContext, 'args' | 'kwargs'> | undefined> {
  const { findInstantiations, requiredParameters } = await import('../../interpret/index');
  const { parseConstructorArguments } = await import('../module-preview');
  const found = await findInstantiations(doc.getText(), vscode.workspace.asRelativePath(doc.uri, false), className);
  for (const uri of await vscode.workspace.findFiles('**/*.py', '**/{node_modules,.git,.venv,venv,site-packages,__pycache__}/**', MAX_FILES_SEARCHED)) {
    if (uri.toString() === doc.uri.toString()) continue;
    try {
      const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
      found.push(...(await findInstantiations(text, vscode.workspace.asRelativePath(uri, false), className)));
    } catch {
      // An unreadable file offers nothing.
    }
  }
  const required = (await requiredParameters(doc.getText(), className)) ?? [];
  if (quiet) return found.length ? { args: found[0].args, kwargs: found[0].kwargs } : {};
  if (found.length) {
    const items = [
      ...found.map((i) => ({ label: i.text, description: `${i.file}:${i.line}`, value: { args: i.args, kwargs: i.kwargs } })),
      { label: `${className}()`, description: required.length ? `defaults; needs ${required.join(', ')}` : "the class's default arguments", value: {} },
    ];
    const pick = await vscode.window.showQuickPick(items, { title: `Build ${className} with…`, placeHolder: 'An instantiation in the workspace, or the defaults' });
    return pick?.value;
  }
  if (!required.length) return {};
  const answer = await vscode.window.showInputBox({
    title: `Arguments of ${className}`,
    prompt: `Constructor arguments as name=value separated by spaces (no default: ${required.join(', ')})`,
    value: required.map((r) => `${r}=`).join(' '),
    validateInput: (v) => (parseConstructorArguments(v) ? undefined : 'Write name=value pairs: numbers, True/False/None, strings, or comma-separated tuples (dims=2,3).'),
  });
  if (answer === undefined) return undefined;
  return { kwargs: parseConstructorArguments(answer) };
}
