#!/usr/bin/env node
/**
 * What @vscode/test-electron's `runTests` starts as `vscodeExecutablePath`: it receives VS
 * Code's usual command line (--extensionDevelopmentPath=…, --extensionTestsPath=…, a folder)
 * and runs the tests in a real VS Code instead of the desktop build, which cannot be downloaded
 * here. It starts the VS Code server bundled in code-server with the smoke-test driver enabled,
 * opens the workbench in headless chromium with the development and tests paths as the
 * `payload`, relays the extension host's log, and exits with the code the test runner reports
 * through `codeAutomationExit`. A screenshot of the workbench is kept under test-results/.
 * Everything it starts is stopped (by process group) and its temp folders removed.
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness.cjs');

const ROOT = path.resolve(__dirname, '../..');
const TIMEOUT_MS = Number(process.env.AF_INTEGRATION_TIMEOUT_MS || 300000);

function parseArgs(argv) {
  const o = { folder: undefined, dev: undefined, tests: undefined };
  for (const a of argv) {
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(a);
    if (!m) { o.folder = path.resolve(a); continue; }
    if (m[1] === 'extensionDevelopmentPath') o.dev = path.resolve(m[2]);
    if (m[1] === 'extensionTestsPath') o.tests = path.resolve(m[2]);
  }
  if (!o.dev || !o.tests) throw new Error('usage: launcher.cjs --extensionDevelopmentPath=DIR --extensionTestsPath=FILE [FOLDER]');
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const tmp = h.tempRoot('af-integration');
  const results = path.join(tmp.root, 'results.json');
  let server;
  let browser;
  let code = 1;
  try {
    // AF_INTEGRATION_TRUSTED=1: the workspace is trusted (by default it opens in Restricted Mode).
    const extraEnv = { AF_INTEGRATION_RESULTS: results };
    if (process.env.AF_INTEGRATION_GREP) extraEnv.AF_INTEGRATION_GREP = process.env.AF_INTEGRATION_GREP;
    server = await h.startServerMain(tmp, { extraEnv, trusted: process.env.AF_INTEGRATION_TRUSTED === '1' });
    const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${p}`;
    const payload = JSON.stringify([['extensionDevelopmentPath', remote(o.dev)], ['extensionTestsPath', remote(o.tests)]]);
    const url = `http://127.0.0.1:${server.port}/?${o.folder ? `folder=${encodeURIComponent(o.folder)}&` : ''}payload=${encodeURIComponent(payload)}`;
    browser = await h.launchChromium();
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    let resolveExit;
    const exited = new Promise((r) => { resolveExit = r; });
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const text = (Array.isArray(args) ? args : [args]).map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
      // The results file is the record; the workbench log is only relayed on request.
      if (process.env.AF_VERBOSE) console.log(text);
    });
    await page.exposeFunction('codeAutomationExit', (c) => resolveExit(Number(c)));
    await h.withTimeout(page.goto(url), 60000, 'open the workbench');
    code = await h.withTimeout(exited, TIMEOUT_MS, 'the integration tests to finish');
    fs.mkdirSync(path.join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, 'test-results/integration-workbench.png') }).catch(() => {});
  } catch (e) {
    console.error(`launcher: ${e && e.message ? e.message : e}`);
    code = 1;
  } finally {
    if (fs.existsSync(results)) {
      const r = JSON.parse(fs.readFileSync(results, 'utf8'));
      for (const l of r.lines) console.log(l);
      const a = r.activationMs || {};
      if (a.activate !== undefined) {
        const load = a.loadAndActivate !== undefined ? `; ${a.loadAndActivate.toFixed(1)} ms including loading the bundle` : '';
        console.log(`extension activation: ${a.activate.toFixed(1)} ms inside activate()${load}`);
      }
      console.log(`${r.passed} passed, ${r.failed} failed`);
      if (r.failed > 0 || r.passed === 0) code = code || 1;
      if (process.env.AF_INTEGRATION_SUMMARY) fs.writeFileSync(process.env.AF_INTEGRATION_SUMMARY, JSON.stringify({ passed: r.passed, failed: r.failed }));
    } else {
      console.log('0 passed, 1 failed (no results: the tests did not run)');
      code = code || 1;
      if (process.env.AF_INTEGRATION_SUMMARY) fs.writeFileSync(process.env.AF_INTEGRATION_SUMMARY, JSON.stringify({ passed: 0, failed: 1 }));
      const log = path.join(tmp.root, 'server.log');
      if (fs.existsSync(log)) console.error(fs.readFileSync(log, 'utf8').split('\n').slice(-40).join('\n'));
    }
    if (browser) await browser.close().catch(() => {});
    if (server) await server.stop();
    tmp.cleanup();
  }
  process.exit(code);
}

main();
