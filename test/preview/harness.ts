/**
 * Serves the preview webview to a real browser without VS Code, for `npm run test:preview` and
 * `scripts/bench-preview.ts`. The page is the panel's own (`previewHtml`: same CSP, same nonce
 * rule) with one extra nonce'd script that stands in for VS Code's `acquireVsCodeApi`: messages
 * from the page go to Node through a Playwright binding and are answered by the same catalog
 * functions the extension uses (`preview-model.ts`); replies are posted into the page as VS Code
 * would. Files come only from `dist/webview/` (run the build first). Browsers are Debian's
 * chromium through playwright-core, served on 127.0.0.1.
 */

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { previewHtml } from '../../src/extension/preview-html';
import { previewBlock, previewBlockList, resolvePreview } from '../../src/extension/preview-model';
import { parsePreviewFromWebview } from '../../src/protocol/preview';
import type { PreviewFromWebview, PreviewToWebview } from '../../src/protocol/preview';

export const ROOT = path.resolve(__dirname, '../..');
const WEBVIEW = path.join(ROOT, 'dist/webview');

/** Stands in for VS Code's webview API: state in sessionStorage, messages to the Node binding. */
const SHIM = `
window.acquireVsCodeApi = () => ({
  postMessage: (m) => window.__afHost(JSON.stringify(m)),
  getState: () => JSON.parse(sessionStorage.getItem('af-state') || 'null'),
  setState: (s) => sessionStorage.setItem('af-state', JSON.stringify(s)),
});
window.__afDeliver = (m) => {
  if (m && m.type === 'weights') m.bytes = new Uint8Array(m.bytes);
  window.postMessage(m, '*');
};
`;

export interface Server {
  url: string;
  close(): Promise<void>;
}

export async function startServer(): Promise<Server> {
  if (!fs.existsSync(path.join(WEBVIEW, 'preview.js'))) throw new Error('dist/webview/preview.js is missing: run `npm run build` first');
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (url.pathname === '/') {
      const nonce = crypto.randomBytes(16).toString('base64');
      const page = previewHtml({ nonce, cspSource: origin, script: `${origin}/webview/preview.js`, style: `${origin}/webview/preview.css` }).replace(
        `<script nonce="${nonce}"`,
        `<script nonce="${nonce}" src="${origin}/shim.js"></script>\n<script nonce="${nonce}"`,
      );
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page);
      return;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    if (url.pathname === '/shim.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(SHIM);
      return;
    }
    const rel = url.pathname.replace(/^\/webview\//, '');
    const file = path.join(WEBVIEW, rel);
    if (!url.pathname.startsWith('/webview/') || !file.startsWith(WEBVIEW + path.sep) || !fs.existsSync(file)) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'application/octet-stream' });
    res.end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export type Mode = 'webgpu' | 'cpu';

export async function launch(mode: Mode): Promise<Browser> {
  const args = ['--headless=new', '--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  if (mode === 'webgpu') args.push('--enable-unsafe-webgpu');
  return chromium.launch({ executablePath: '/usr/bin/chromium', args, headless: true });
}

/** What the fake extension host saw and can send. */
export interface Host {
  received: PreviewFromWebview[];
  send(m: PreviewToWebview): Promise<void>;
  /** Weights bytes to answer the next `loadWeights` with. */
  nextWeights?: { fileName: string; bytes: Uint8Array };
}

/** Opens the preview of `blockId` in a new page, answering its messages like the extension does. */
export async function openPreview(browser: Browser, server: Server, blockId: string, given: Record<string, number | boolean | string | null> = {}): Promise<{ page: Page; host: Host; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  let current = blockId;
  const host: Host = {
    received: [],
    send: async (m) => {
      const wire = m.type === 'weights' ? { ...m, bytes: Array.from(m.bytes) } : m;
      await page.evaluate((x) => (window as unknown as { __afDeliver(v: unknown): void }).__afDeliver(x), wire as unknown);
    },
  };
  const initFor = (id: string, g: typeof given): PreviewToWebview => {
    const r = previewBlock(id, g);
    return { type: 'init', blocks: previewBlockList(), ...('block' in r ? { block: r.block } : { block: null, error: r.error }) };
  };
  await page.exposeFunction('__afHost', async (json: string) => {
    const m = parsePreviewFromWebview(JSON.parse(json));
    if (!m) return;
    host.received.push(m);
    switch (m.type) {
      case 'ready':
        await host.send(initFor(current, given));
        return;
      case 'pickBlock':
        current = m.blockId;
        await host.send(initFor(current, {}));
        return;
      case 'resolve':
        await host.send(resolvePreview(m.blockId, m.blockId === blockId ? given : {}, m.seq, m.dims));
        return;
      case 'loadWeights':
        await host.send(host.nextWeights ? { type: 'weights', ...host.nextWeights } : { type: 'weightsError', message: 'No file was picked.', cancelled: true });
        return;
      default:
        return;
    }
  });
  await page.goto(server.url);
  return { page, host, errors };
}

/** Waits until the page has a run result (or an error) and no run is pending. */
export async function settled(page: Page, timeoutMs = 60000): Promise<void> {
  await page.waitForFunction(() => {
    const p = (window as unknown as { __attentionForgePreview?: { result?: unknown; error?: string } }).__attentionForgePreview;
    return !!p && (p.result !== undefined || p.error !== undefined || !!document.getElementById('limit-warning'));
  }, undefined, { timeout: timeoutMs });
  await page.evaluate(() => (window as unknown as { __attentionForgePreview: { settled: Promise<void> } }).__attentionForgePreview.settled);
}
