/**
 * `npm run test:integration`: mocha inside the real extension host of VS Code 1.139 (the server
 * and workbench that code-server ships). The test files are bundled with esbuild into
 * out/integration/ (the extension host loads plain CommonJS), a copy of the demo workspace is
 * made in a temp folder (the tests edit files), and @vscode/test-electron's `runTests` starts
 * `launcher.cjs` as the "VS Code executable": it starts the server, opens the workbench in
 * headless chromium with the extension under development and these tests, and exits with the
 * tests' result. It runs twice: the whole suite in Restricted Mode, then the tests that depend on
 * trust in a trusted workspace; prints each pass's `N passed, N failed` line and their sum last.
 * Expects `npm run build` first.
 */

import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

const ROOT = path.resolve(__dirname, '../..');

async function main(): Promise<number> {
  if (!fs.existsSync(path.join(ROOT, 'dist/extension.js'))) {
    console.error('dist/extension.js is missing: run npm run build first');
    return 1;
  }
  const outDir = path.join(ROOT, 'out/integration');
  fs.rmSync(outDir, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: [path.join(__dirname, 'suite/index.ts')],
    outfile: path.join(outDir, 'index.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    external: ['vscode', 'mocha'],
    logLevel: 'warning',
  });
  // Two passes: every test with the workspace in Restricted Mode (the default for a folder
  // opened the first time), then, in a trusted workspace, the tests whose behaviour depends on
  // trust (their titles say "trusted, it runs"). One closing line adds both up.
  const passes = [
    { name: 'Restricted Mode', env: {} },
    { name: 'trusted workspace', env: { AF_INTEGRATION_TRUSTED: '1', AF_INTEGRATION_GREP: 'trusted, it runs' } },
  ];
  let passed = 0;
  let failed = 0;
  let code = 0;
  for (const pass of passes) {
    console.log(`integration: ${pass.name}`);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'af-integration-ws-'));
    const workspace = path.join(tmp, 'workspace');
    const summary = path.join(tmp, 'summary.json');
    fs.cpSync(path.join(ROOT, 'test/fixtures/workspace-demo'), workspace, { recursive: true });
    const saved = { ...process.env };
    Object.assign(process.env, pass.env, { AF_INTEGRATION_SUMMARY: summary });
    try {
      await runTests({
        vscodeExecutablePath: path.join(__dirname, 'launcher.cjs'),
        extensionDevelopmentPath: ROOT,
        extensionTestsPath: path.join(outDir, 'index.js'),
        launchArgs: [workspace, `--user-data-dir=${path.join(tmp, 'user-data')}`, `--extensions-dir=${path.join(tmp, 'extensions')}`],
        extensionTestsEnv: { TMPDIR: tmp },
      });
    } catch (e) {
      console.error(e instanceof Error ? e.message : String(e));
      code = 1;
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
      const r = fs.existsSync(summary) ? (JSON.parse(fs.readFileSync(summary, 'utf8')) as { passed: number; failed: number }) : { passed: 0, failed: 1 };
      passed += r.passed;
      failed += r.failed;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  console.log(`${passed} passed, ${failed} failed (both passes)`);
  return code || (failed > 0 || passed === 0 ? 1 : 0);
}

main().then((code) => process.exit(code));
