/**
 * After generated TypeScript lands in a file, makes sure its project can install
 * `attention-forge/runtime`: gathers the facts (the nearest package.json, an installed
 * `node_modules/attention-forge`), lets `planRuntimeDependency` decide, and, when the user
 * accepts the offer, applies it as one undoable `WorkspaceEdit` (the tarball the extension
 * carries copied to `vendor/`, the `file:` dependency inserted into package.json, which is then
 * saved so `npm install` sees it). Asked once per project per session; "Don't ask again" is
 * remembered per project in the workspace state.
 */

import * as vscode from 'vscode';
import { ancestorFolders, BUNDLED_RUNTIME_TARBALL, importsRuntime, planRuntimeDependency, RUNTIME_PACKAGE } from './runtime-dependency';
import type { RuntimePlan } from './runtime-dependency';

const NEVER_KEY = 'attentionForge.runtimeDependency.never';

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

export class RuntimeSetup {
  /** Projects asked this session, answered or not. */
  private readonly asked = new Set<string>();

  constructor(private readonly context: vscode.ExtensionContext, private readonly log: vscode.LogOutputChannel) {}

  /** The facts and the plan for a document; undefined for documents outside the file system. */
  async plan(doc: vscode.Uri): Promise<RuntimePlan | undefined> {
    if (doc.scheme !== 'file') return undefined;
    const folder = vscode.workspace.getWorkspaceFolder(doc)?.uri ?? vscode.Uri.joinPath(doc, '..');
    const dirs = ancestorFolders(doc.path);
    let runtimeInstalled = false;
    for (const d of dirs) {
      if (await exists(doc.with({ path: `${d.replace(/\/$/, '')}/node_modules/${RUNTIME_PACKAGE}/package.json` }))) {
        runtimeInstalled = true;
        break;
      }
    }
    let packageJson: { path: string; text: string } | undefined;
    // The nearest package.json, not above the workspace folder (a home directory's is not the project's).
    for (const d of dirs) {
      if (d.length < folder.path.length && folder.path.startsWith(d)) break;
      const uri = doc.with({ path: `${d.replace(/\/$/, '')}/package.json` });
      if (await exists(uri)) {
        const open = vscode.workspace.textDocuments.find((t) => t.uri.toString() === uri.toString());
        packageJson = { path: uri.path, text: open ? open.getText() : new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)) };
        break;
      }
    }
    const version = (this.context.extension.packageJSON as { version?: string }).version ?? '0.0.0';
    return planRuntimeDependency({ docPath: doc.path, fallbackDir: folder.path, packageJson, runtimeInstalled, version });
  }

  /** Called after generated code was inserted into (or created as) `doc`. Never throws. */
  async afterInsert(doc: vscode.Uri, code: string): Promise<void> {
    try {
      if (!importsRuntime(code)) return;
      const plan = await this.plan(doc);
      if (!plan) return;
      if (plan.kind === 'present') return;
      if (plan.kind === 'unreadable') {
        this.log.warn(`not offering the ${RUNTIME_PACKAGE} runtime dependency: ${plan.reason}`);
        return;
      }
      const never = this.context.workspaceState.get<string[]>(NEVER_KEY, []);
      if (this.asked.has(plan.projectDir) || never.includes(plan.projectDir)) return;
      this.asked.add(plan.projectDir);
      const pick = await vscode.window.showInformationMessage(plan.question, 'Add Dependency', 'Not Now', "Don't Ask Again");
      if (pick === "Don't Ask Again") await this.context.workspaceState.update(NEVER_KEY, [...never, plan.projectDir]);
      if (pick !== 'Add Dependency') return;
      const message = await this.apply(plan, doc);
      if (message.ok) void vscode.window.showInformationMessage(message.text);
      else void vscode.window.showWarningMessage(message.text);
    } catch (e) {
      this.log.error(`runtime dependency: ${(e as Error).message}`);
    }
  }

  /** Carries out an offer as one undoable edit. */
  async apply(plan: Extract<RuntimePlan, { kind: 'offer' }>, doc: vscode.Uri): Promise<{ ok: boolean; text: string }> {
    const at = (p: string) => doc.with({ path: p });
    const edit = new vscode.WorkspaceEdit();
    const tarball = at(plan.tarball);
    if (!(await exists(tarball))) {
      const bytes = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(this.context.extensionUri, BUNDLED_RUNTIME_TARBALL));
      edit.createFile(tarball, { overwrite: false, ignoreIfExists: true, contents: bytes });
    }
    const pkg = at(plan.packageJson);
    if ('create' in plan.packageJsonEdit) edit.createFile(pkg, { overwrite: false, ignoreIfExists: false, contents: new TextEncoder().encode(plan.packageJsonEdit.create) });
    else for (const i of plan.packageJsonEdit.insert) edit.insert(pkg, new vscode.Position(i.line, i.character), i.text);
    if (!(await vscode.workspace.applyEdit(edit))) return { ok: false, text: `Could not edit ${vscode.workspace.asRelativePath(pkg)}.` };
    // npm reads the file from disk: save what the edit changed (undo stays available in the editor).
    if ('insert' in plan.packageJsonEdit) {
      const doc = await vscode.workspace.openTextDocument(pkg);
      if (doc.isDirty && !(await doc.save())) return { ok: false, text: `Added ${RUNTIME_PACKAGE} to ${vscode.workspace.asRelativePath(pkg)}, but could not save it; save it, then run \`${plan.command}\`.` };
    }
    this.log.info(plan.done);
    return { ok: true, text: plan.done };
  }
}
