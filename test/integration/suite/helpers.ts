/**
 * Helpers the integration suites share: waiting for the editor to catch up, and reading the
 * extension's own diagnostics.
 */

import * as vscode from 'vscode';

/** Polls `f` every 100 ms until it gives a value (not undefined or false); throws after `timeoutMs`. */
export async function waitFor<T>(what: string, f: () => T | undefined | Promise<T | undefined>, timeoutMs = 20000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Attention Forge's diagnostics on a document. */
export function ours(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'attention-forge');
}

/** A diagnostic's rule name. */
export function codeOf(d: vscode.Diagnostic): string | undefined {
  return typeof d.code === 'object' ? String(d.code.value) : d.code === undefined ? undefined : String(d.code);
}
