/**
 * *Toggle Shape Hints*: flips `attentionForge.shapeHints.enabled` at the most specific level
 * where it is set (workspace folder, workspace, or user), so the toggle is visible where the
 * user would look for it and does not leave a shadowed value behind.
 */

import * as vscode from 'vscode';
import { SETTINGS_SECTION } from '../analysis-view';
import type { Services } from '../services';

export async function toggleShapeHints(_s: Services): Promise<void> {
  const config = vscode.workspace.getConfiguration(SETTINGS_SECTION, vscode.window.activeTextEditor?.document.uri);
  const key = 'shapeHints.enabled';
  const i = config.inspect<boolean>(key);
  const current = config.get<boolean>(key, true);
  const target =
    i?.workspaceFolderValue !== undefined
      ? vscode.ConfigurationTarget.WorkspaceFolder
      : i?.workspaceValue !== undefined
        ? vscode.ConfigurationTarget.Workspace
        : vscode.ConfigurationTarget.Global;
  await config.update(key, !current, target);
  void vscode.window.setStatusBarMessage(`Attention Forge shape hints ${current ? 'off' : 'on'}`, 3000);
}
