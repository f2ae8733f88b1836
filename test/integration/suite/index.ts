/**
 * The entry the extension host loads as `extensionTestsPath`: runs the integration tests with
 * mocha (no skipped tests allowed, as in every suite of the project) and hands the outcome to
 * the launcher twice over — by rejecting on failure (the workbench then reports a non-zero
 * exit code) and as a JSON file at $AF_INTEGRATION_RESULTS with one line per test, because the
 * extension host's console is not reliably relayed to the launcher.
 */

import * as fs from 'node:fs';
import Mocha from 'mocha';
import { activationMs, registerTests } from './extension.test';
import { registerNotebookTests } from './notebook.test';

export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60000, color: false, reporter: function Silent() {} as unknown as Mocha.ReporterConstructor });
  mocha.suite.emit('pre-require', globalThis, 'extension.test', mocha);
  registerTests();
  registerNotebookTests();
  // A second pass of the runner (run.ts) runs only the tests that differ in a trusted workspace.
  if (process.env.AF_INTEGRATION_GREP) mocha.grep(process.env.AF_INTEGRATION_GREP);
  const lines: string[] = [];
  let passed = 0;
  let failed = 0;
  await new Promise<void>((resolve) => {
    const runner = mocha.run(() => resolve());
    runner.on('pass', (t) => {
      passed++;
      lines.push(`  ✔ ${t.fullTitle()}`);
    });
    runner.on('fail', (t, err: Error) => {
      failed++;
      lines.push(`  ✗ ${t.fullTitle()}\n      ${String(err?.stack ?? err).split('\n').slice(0, 6).join('\n      ')}`);
    });
    runner.on('pending', (t) => {
      failed++;
      lines.push(`  - ${t.fullTitle()} (skipped: skipped tests are not allowed)`);
    });
  });
  const file = process.env.AF_INTEGRATION_RESULTS;
  if (file) fs.writeFileSync(file, JSON.stringify({ passed, failed, lines, activationMs: activationMs() }));
  for (const l of lines) console.log(`[af-test] ${l}`);
  console.log(`[af-test] ${passed} passed, ${failed} failed`);
  if (failed > 0 || passed === 0) throw new Error(`${failed} integration test(s) failed`);
}
