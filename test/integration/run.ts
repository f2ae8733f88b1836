/**
 * `npm run test:integration`: mocha inside the real extension host of VS Code 1.139 (the server
 * and workbench that code-server ships). The test files are bundled with esbuild into
 * out/integration/ (the extension host loads plain CommonJS), a copy of the demo workspace is
 * made in a temp folder (the tests edit files), and @vscode/test-electron's `runTests` starts
 * `launcher.cjs` as the "VS Code executable": it starts the server, opens the workbench in
 * headless chromium with the extension under development and these tests, and exits with the
 * tests' result. Prints the suite's `N passed, N failed` line. Expects `npm run build` first.
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
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'af-integration-ws-'));
  const workspace = path.join(tmp, 'workspace');
  fs.cpSync(path.join(ROOT, 'test/fixtures/workspace-demo'), workspace, { recursive: true });
  try {
    await runTests({
      vscodeExecutablePath: path.join(__dirname, 'launcher.cjs'),
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: path.join(outDir, 'index.js'),
      launchArgs: [workspace, `--user-data-dir=${path.join(tmp, 'user-data')}`, `--extensions-dir=${path.join(tmp, 'extensions')}`],
      extensionTestsEnv: { TMPDIR: tmp },
    });
    return 0;
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    return 1;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code));
