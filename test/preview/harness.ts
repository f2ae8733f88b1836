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
import type { PageGlobals } from './page';
import type { PreviewFromWebview, PreviewToWebview } from '../../src/protocol/preview';

export const ROOT = path.resolve(__dirname, '../..');
const WEBVIEW = path.join(ROOT, 'dist/webview');

/**
 * A few of the `--vscode-*` variables VS Code puts on a webview's root, per theme kind, so the
 * page is seen as it is in the editor (values from the default Dark Modern, Light Modern and
 * High Contrast themes).
 */
export type Theme = 'dark' | 'light' | 'high-contrast';
const THEMES: Record<Theme, { cls: string; vars: Record<string, string> }> = {
  dark: {
    cls: 'vscode-dark',
    vars: {
      foreground: '#cccccc', 'editor-background': '#1f1f1f', 'textLink-foreground': '#4daafc', 'textBlockQuote-background': '#2b2b2b',
      'editorWarning-foreground': '#cca700', 'editorError-foreground': '#f85149', focusBorder: '#0078d4', 'panel-border': '#2b2b2b', 'charts-blue': '#3794ff',
      'input-background': '#313131', 'input-foreground': '#cccccc', 'input-border': '#3c3c3c', 'button-background': '#0078d4', 'button-foreground': '#ffffff',
      'button-secondaryBackground': '#313131', 'button-secondaryForeground': '#cccccc', 'dropdown-background': '#313131', 'dropdown-foreground': '#cccccc', 'dropdown-border': '#3c3c3c',
      'list-hoverBackground': '#2a2d2e', 'list-activeSelectionBackground': '#04395e', 'keybindingTable-rowsBackground': 'rgba(204,204,204,0.04)', 'keybindingTable-headerBackground': 'rgba(204,204,204,0.04)',
      'editorGroup-border': 'rgba(255,255,255,0.09)', 'checkbox-background': '#313131', 'checkbox-border': '#3c3c3c', 'settings-checkboxBackground': '#313131',
    },
  },
  light: {
    cls: 'vscode-light',
    vars: {
      foreground: '#3b3b3b', 'editor-background': '#ffffff', 'textLink-foreground': '#005fb8', 'textBlockQuote-background': '#f8f8f8',
      'editorWarning-foreground': '#bf8803', 'editorError-foreground': '#e51400', focusBorder: '#005fb8', 'panel-border': '#e5e5e5', 'charts-blue': '#1a85ff',
      'input-background': '#ffffff', 'input-foreground': '#3b3b3b', 'input-border': '#cecece', 'button-background': '#005fb8', 'button-foreground': '#ffffff',
      'button-secondaryBackground': '#e5e5e5', 'button-secondaryForeground': '#3b3b3b', 'dropdown-background': '#ffffff', 'dropdown-foreground': '#3b3b3b', 'dropdown-border': '#cecece',
      'list-hoverBackground': '#f2f2f2', 'list-activeSelectionBackground': '#e8e8e8', 'keybindingTable-rowsBackground': 'rgba(59,59,59,0.04)', 'keybindingTable-headerBackground': 'rgba(59,59,59,0.04)',
      'editorGroup-border': '#e5e5e5', 'checkbox-background': '#f8f8f8', 'checkbox-border': '#cecece', 'settings-checkboxBackground': '#f8f8f8',
    },
  },
  'high-contrast': {
    cls: 'vscode-high-contrast',
    vars: {
      foreground: '#ffffff', 'editor-background': '#000000', 'textLink-foreground': '#21a6ff', 'textBlockQuote-background': '#000000', 'contrastBorder': '#6fc3df',
      'editorWarning-foreground': '#ffd370', 'editorError-foreground': '#ff3232', focusBorder: '#f38518', 'panel-border': '#6fc3df', 'charts-blue': '#3794ff',
      'input-background': '#000000', 'input-foreground': '#ffffff', 'input-border': '#6fc3df', 'button-background': '#000000', 'button-foreground': '#ffffff', 'button-border': '#6fc3df',
      'button-secondaryBackground': '#000000', 'button-secondaryForeground': '#ffffff', 'dropdown-background': '#000000', 'dropdown-foreground': '#ffffff', 'dropdown-border': '#6fc3df',
      'list-hoverBackground': '#000000', 'list-activeSelectionBackground': '#000000', 'keybindingTable-rowsBackground': '#000000', 'keybindingTable-headerBackground': '#000000',
      'editorGroup-border': '#6fc3df', 'checkbox-background': '#000000', 'checkbox-border': '#6fc3df', 'settings-checkboxBackground': '#000000',
    },
  },
};

function themeCss(t: Theme): string {
  const vars = Object.entries(THEMES[t].vars).map(([k, v]) => `  --vscode-${k}: ${v};`);
  return `:root {\n${vars.join('\n')}\n  --vscode-font-family: system-ui, sans-serif;\n  --vscode-font-size: 13px;\n  --vscode-editor-font-family: monospace;\n}\n`;
}

/** Stands in for VS Code's webview API: state in sessionStorage, messages to the Node binding. */
const SHIM = `
window.acquireVsCodeApi = () => ({
  postMessage: (m) => window.__afHost(JSON.stringify(m, (k, v) => (v instanceof Float32Array ? { __f32: Array.from(v) } : v))),
  getState: () => JSON.parse(sessionStorage.getItem('af-state') || 'null'),
  setState: (s) => sessionStorage.setItem('af-state', JSON.stringify(s)),
});
document.body.classList.add(new URL(location.href).searchParams.get('cls') || 'vscode-dark');
window.__afDeliver = (m) => {
  if (m && (m.type === 'weights' || m.type === 'image')) m.bytes = new Uint8Array(m.bytes);
  if (m && m.type === 'module' && m.maps) for (const x of m.maps) if (x.data) x.data = new Float32Array(x.data);
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
      const page = previewHtml({ nonce, cspSource: origin, script: `${origin}/webview/preview.js`, style: `${origin}/webview/preview.css`, worker: `${origin}/webview/preview-worker.js` }).replace(
        `<script nonce="${nonce}"`,
        `<script nonce="${nonce}" src="${origin}/shim.js"></script>\n<script nonce="${nonce}"`,
      ).replace('<link rel="stylesheet"', `<link rel="stylesheet" href="${origin}/theme.css?theme=${url.searchParams.get('theme') ?? 'dark'}">\n<link rel="stylesheet"`);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page);
      return;
    }
    if (url.pathname === '/theme.css') {
      const t = (url.searchParams.get('theme') ?? 'dark') as Theme;
      res.writeHead(200, { 'content-type': 'text/css' });
      res.end(themeCss(THEMES[t] ? t : 'dark'));
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
  /** Image bytes to answer `loadImage` with (as the extension's open dialog would). */
  nextImage?: { fileName: string; bytes: Uint8Array };
  /** What the extension does with a `moduleInput` (run the module on it and send `module`). */
  onModuleInput?: (m: Extract<PreviewFromWebview, { type: 'moduleInput' }>) => Promise<void>;
}

/** Opens the preview of `blockId` in a new page, answering its messages like the extension does. */
export async function openPreview(browser: Browser, server: Server, blockId: string, given: Record<string, number | boolean | string | null> = {}, theme: Theme = 'dark'): Promise<{ page: Page; host: Host; errors: string[] }> {
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
      const wire = m.type === 'weights' || m.type === 'image' ? { ...m, bytes: Array.from(m.bytes) } : m.type === 'module' ? { ...m, maps: m.maps?.map((x) => ({ ...x, data: x.data ? Array.from(x.data) : null })) } : m;
      await page.evaluate((x) => (globalThis as unknown as PageGlobals).__afDeliver(x), wire as unknown);
    },
  };
  const initFor = (id: string, g: typeof given): PreviewToWebview => {
    const r = previewBlock(id, g);
    return { type: 'init', blocks: previewBlockList(), ...('block' in r ? { block: r.block } : { block: null, error: r.error }) };
  };
  await page.exposeFunction('__afHost', async (json: string) => {
    // Float32Arrays cross the binding tagged (`__f32`), as VS Code's serializer carries typed arrays.
    const m = parsePreviewFromWebview(JSON.parse(json, (_k, v: unknown) => (v && typeof v === 'object' && Array.isArray((v as { __f32?: unknown }).__f32) ? Float32Array.from((v as { __f32: number[] }).__f32) : v)));
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
      case 'loadImage':
        if (host.nextImage) await host.send({ type: 'image', ...host.nextImage });
        return;
      case 'moduleInput':
        await host.onModuleInput?.(m);
        return;
      default:
        return;
    }
  });
  await page.goto(`${server.url}?theme=${theme}&cls=${THEMES[theme].cls}`);
  return { page, host, errors };
}

/** Waits until the page has a run result (or an error) and no run is pending. */
export async function settled(page: Page, timeoutMs = 60000): Promise<void> {
  await page.waitForFunction(() => {
    const g = (globalThis as unknown as PageGlobals);
    const p = g.__attentionForgePreview;
    return !!p && (p.result !== undefined || p.error !== undefined || !!g.document.getElementById('limit-warning'));
  }, undefined, { timeout: timeoutMs });
  await page.evaluate(() => (globalThis as unknown as PageGlobals).__attentionForgePreview?.settled);
}
