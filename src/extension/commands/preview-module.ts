/**
 * *Preview Module* (issue 14): runs the user's own `nn.Module` on the bundled runtime and shows
 * its per-layer shapes in the preview panel. Arguments, all optional: the document's URI and the
 * class name (from the code lens above the class); without them, the active Python editor and a
 * pick among its module classes. The input shape is asked for, offered from the class's first
 * layer; programmatic callers may pass it (`'2,10,64'`), a checkpoint's path and an image's
 * path (a PNG or JPEG for the first input, handled as *Use an image…* handles a picked one). The
 * panel may run it again with a checkpoint or an image as the first input, and compare it with
 * PyTorch (the closures this command hands it). The decisions and the run are `module-preview.ts` (no
 * `vscode`), loaded on first use. A TypeScript file's class (one extending the runtime's
 * `nn.Module`) is run from its own code on the same thread, in a trusted workspace only
 * (`previewTsModule`).
 */

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { GivenInput, ImportContext, ModuleWeights } from '../module-preview';
import type { TsArgument } from '../ts-module-source';
import type { ModuleCompare, PreviewModuleMessage } from '../../protocol/preview';
import type { Services } from '../services';

export async function previewModule(s: Services, uri?: unknown, className?: unknown, shapesText?: unknown, weightsPath?: unknown, imagePath?: unknown): Promise<void> {
  const m = await import('../module-preview');
  const doc = uri instanceof vscode.Uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
  if (doc?.languageId === 'typescript') return previewTsModule(s, doc, className, shapesText, weightsPath, imagePath);
  if (!doc || doc.languageId !== 'python') {
    void vscode.window.showInformationMessage("Preview Module runs an nn.Module subclass of a Python file, or a TypeScript class extending the runtime's nn.Module: open one first.");
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
    // A checkpoint named by the caller (programmatic use: tests, other extensions) is loaded as Load weights would.
    let weights: ModuleWeights | undefined;
    if (typeof weightsPath === 'string') {
      const { readStateDict } = await import('../../runtime/index');
      weights = { file: path.basename(weightsPath), tensors: readStateDict(new Uint8Array(await vscode.workspace.fs.readFile(vscode.Uri.file(weightsPath)))).tensors };
    }
    // An image named by the caller goes to the page as a picked one does (Use an image…): the page decodes and normalises it, then the module runs on it.
    const image = typeof imagePath === 'string' ? { fileName: path.basename(imagePath), bytes: new Uint8Array(await vscode.workspace.fs.readFile(vscode.Uri.file(imagePath))) } : undefined;
    const first = await inThread(s, name, source, file, given, where, weights);
    if (first) s.previews.showModule(offer(first, doc), (o) => inThread(s, name, source, file, given, where, o.weights, o.input).then((r) => r && offer(r, doc)), (o) => compare(s, doc, name, source, file, given, where, o.weights, o.input), weights, image);
    return;
  }
  const guess = await m.guessInputShape(source, file, name, where);
  const shapes = await askShapes(name, guess ? guess.join(',') : '2,16,64');
  if (!shapes) return;
  const msg = await inThread(s, name, source, file, shapes, where);
  if (!msg) return;
  if (msg.error) s.log.warn(`preview of ${name} stopped: ${msg.error}`);
  else s.log.info(`preview of ${name}: ${msg.layers.length} layers, ${msg.forwardMs.toFixed(1)} ms per forward`);
  s.previews.showModule(offer(msg, doc), (o) => inThread(s, name, source, file, shapes, where, o.weights, o.input).then((r) => r && offer(r, doc)), (o) => compare(s, doc, name, source, file, shapes, where, o.weights, o.input));
}

/** The run's message, offering Compare with PyTorch where it may run: a Python file on disk in a trusted workspace. */
function offer(m: PreviewModuleMessage, doc: vscode.TextDocument): PreviewModuleMessage {
  return { ...m, compareAvailable: vscode.workspace.isTrusted && doc.uri.scheme === 'file' && doc.languageId === 'python' };
}

/** An image named by a programmatic caller, read for the page as a picked one (Use an image…). */
async function readImage(imagePath: unknown): Promise<{ fileName: string; bytes: Uint8Array } | undefined> {
  return typeof imagePath === 'string' ? { fileName: path.basename(imagePath), bytes: new Uint8Array(await vscode.workspace.fs.readFile(vscode.Uri.file(imagePath))) } : undefined;
}

/**
 * Preview Module for a TypeScript file: the class's own code runs (on the module thread), so only
 * in a trusted workspace. The class is picked among the file's runtime module classes, its
 * constructor arguments asked for when some have no default (`name=value`), the input shape
 * offered from its doc comment (`- x: (B, N, dim)`), else 2,16,64. The decisions are
 * `ts-module-source.ts`, the run `ts-module-run.ts`; both without `vscode`.
 */
async function previewTsModule(s: Services, doc: vscode.TextDocument, className: unknown, shapesText: unknown, weightsPath: unknown, imagePath: unknown): Promise<void> {
  if (!vscode.workspace.isTrusted) {
    // Not awaited: the command ends here whether or not the user answers.
    const manage = 'Manage Workspace Trust';
    void vscode.window.showWarningMessage(`Preview Module runs the code of ${path.basename(doc.fileName)}: trust the workspace first (Restricted Mode runs no TypeScript).`, manage).then((pick) => pick === manage && vscode.commands.executeCommand('workbench.trust.manage'));
    return;
  }
  const t = await import('../ts-module-source');
  const m = await import('../module-preview');
  const source = doc.getText();
  let name = typeof className === 'string' ? className : undefined;
  if (!name) {
    const classes = t.tsModuleClasses(source);
    if (!classes.length) {
      void vscode.window.showInformationMessage(`${path.basename(doc.fileName)} defines no class extending the runtime's nn.Module.`);
      return;
    }
    name = classes.length === 1 ? classes[0].className : await vscode.window.showQuickPick(classes.map((c) => c.className), { title: 'Preview Module', placeHolder: 'Class to run' });
    if (!name) return;
  }
  const file = vscode.workspace.asRelativePath(doc.uri, false);
  const quiet = typeof shapesText === 'string';
  // Arguments without a default are asked for; a programmatic run goes without, and the panel says what is missing.
  const required = t.requiredParameters(t.constructorParameters(source, name) ?? []);
  let kwargs = new Map<string, TsArgument>();
  if (required.length && !quiet) {
    const answer = await vscode.window.showInputBox({
      title: `Arguments of ${name}`,
      prompt: `Constructor arguments as name=value separated by spaces (no default: ${required.join(', ')})`,
      value: required.map((r) => `${r}=`).join(' '),
      validateInput: (v) => (t.parseTsArguments(v) ? undefined : 'Write name=value pairs: numbers, true/false/null, quoted strings, or comma-separated arrays (dims=2,3).'),
    });
    if (answer === undefined) return;
    kwargs = t.parseTsArguments(answer) ?? kwargs;
  }
  const where = { ...(doc.uri.scheme === 'file' ? { path: doc.uri.fsPath } : {}), kwargs };
  let shapes: number[][];
  if (quiet) {
    const given = m.parseShapes(shapesText);
    if (typeof given === 'string') {
      void vscode.window.showErrorMessage(given);
      return;
    }
    shapes = given;
  } else {
    const guess = t.guessTsInputShape(source, name, kwargs);
    const parsed = await askShapes(name, guess ? guess.map((g) => g.join(',')).join('; ') : '2,16,64');
    if (!parsed) return;
    shapes = parsed;
  }
  let weights: ModuleWeights | undefined;
  if (typeof weightsPath === 'string') {
    const { readStateDict } = await import('../../runtime/index');
    weights = { file: path.basename(weightsPath), tensors: readStateDict(new Uint8Array(await vscode.workspace.fs.readFile(vscode.Uri.file(weightsPath)))).tensors };
  }
  const image = await readImage(imagePath);
  const msg = await inThread(s, name, source, file, shapes, where, weights, undefined, 'typescript');
  if (!msg) return;
  if (msg.error) s.log.warn(`preview of ${name} stopped: ${msg.error}`);
  else s.log.info(`preview of ${name}: ${msg.layers.length} layers, ${msg.forwardMs.toFixed(1)} ms per forward`);
  s.previews.showModule(offer(msg, doc), (o) => inThread(s, name, source, file, shapes, where, o.weights, o.input, 'typescript').then((r) => r && offer(r, doc)), undefined, weights, image);
}

/**
 * The Python that Compare with PyTorch runs: the `attentionForge.python.interpreter` setting (a
 * restricted setting: a workspace cannot set it unless trusted), else the Python extension's
 * selection for the file, else `python3` on the PATH.
 */
async function pythonInterpreter(uri: vscode.Uri): Promise<string> {
  const set = vscode.workspace.getConfiguration('attentionForge', uri).get<string>('python.interpreter', '').trim();
  if (set) return set;
  try {
    const ext = vscode.extensions.getExtension<{ environments?: { getActiveEnvironmentPath(r?: vscode.Uri): { path: string } } }>('ms-python.python');
    const api = ext ? (ext.isActive ? ext.exports : await ext.activate()) : undefined;
    const p = api?.environments?.getActiveEnvironmentPath(uri)?.path;
    if (p) return p;
  } catch {
    // No usable Python extension: the PATH's python3.
  }
  return 'python3';
}

/** Compare with PyTorch, on explicit request only: never in an untrusted workspace, on the saved file, with a progress notification and Cancel. */
async function compare(s: Services, doc: vscode.TextDocument, name: string, source: string, file: string, shapes: readonly number[][], where: ImportContext, weights?: ModuleWeights, given?: GivenInput): Promise<ModuleCompare | undefined> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage('Compare with PyTorch runs Python on this file: trust the workspace first.');
    return undefined;
  }
  if (doc.uri.scheme !== 'file' || !where.path) {
    void vscode.window.showWarningMessage('Compare with PyTorch needs the file saved on disk.');
    return undefined;
  }
  if (doc.isDirty || doc.getText() !== source) {
    void vscode.window.showWarningMessage(`Save ${path.basename(doc.fileName)} and run Preview Module again: PyTorch imports the file from disk, and it differs from the run shown.`);
    return undefined;
  }
  const python = await pythonInterpreter(doc.uri);
  s.log.info(`Compare with PyTorch: ${name} in ${python}`);
  const r = await import('../module-runner');
  const req = { ...r.request(source, file, name, shapes, 0, where, weights, given), compare: { python, script: path.join(__dirname, '..', 'python', 'compare_module.py') } };
  try {
    return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Comparing ${name} with PyTorch (${python})…`, cancellable: true }, (_progress, token) =>
      r.compareInWorker({ script: path.join(__dirname, 'module-worker.js') }, req, token),
    );
  } catch (e) {
    if (e instanceof r.Cancelled) return undefined;
    throw e;
  }
}

/**
 * One run on its own thread, under a progress notification with Cancel: the editor stays
 * responsive, and Cancel ends the run at once (undefined: nothing changes in the panel).
 */
async function inThread(s: Services, name: string, source: string, file: string, shapes: readonly number[][], where: ImportContext, weights?: ModuleWeights, given?: GivenInput, language: 'python' | 'typescript' = 'python'): Promise<PreviewModuleMessage | undefined> {
  const r = await import('../module-runner');
  const req = { ...r.request(source, file, name, shapes, 0, where, weights, given), language };
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

/** The input shapes of `forward`, asked with `value` proposed; undefined when the user cancels. */
async function askShapes(name: string, value: string): Promise<number[][] | undefined> {
  const { parseShapes } = await import('../module-preview');
  const answer = await vscode.window.showInputBox({
    title: `Preview ${name}`,
    prompt: 'Input shape of forward (several inputs separated by ;). Weights are random (seed 0).',
    value,
    validateInput: (v) => {
      const r = parseShapes(v);
      return typeof r === 'string' ? r : undefined;
    },
  });
  if (answer === undefined) return undefined;
  const shapes = parseShapes(answer);
  return typeof shapes === 'string' ? undefined : shapes;
}
