/**
 * `npm run test:preview`: the preview webview in headless Debian chromium (playwright-core),
 * served on 127.0.0.1 by `harness.ts`, in two modes — with `--enable-unsafe-webgpu` (WebGPU on
 * SwiftShader) and without (no adapter → the CPU path). For `multihead-attention`,
 * `sagan-spatial` and `cbam`, in both modes: the backend notice says which backend and why, the
 * layer table renders with the rows the CPU runtime traces, the drawn heatmaps and gates equal
 * the CPU runtime's values within tolerance (and, where the block returns its weights, the
 * block's own output), the canvas pixels are the colour scale of those values, hover and keyboard
 * navigation report query/key/weight, and the spatial view picks a query pixel. Also: a
 * mismatched state_dict is listed and nothing is loaded, a matching one is loaded; an attention map
 * over `maxStorageBufferBindingSize` is refused before running; 1,000 re-runs on WebGPU leave the
 * number of live storages and created GPU buffers flat, and closing the page releases them.
 * Screenshots: test-results/preview-<block>-<mode>.png. Prints `N passed, N failed`; needs
 * `npm run build` first (the npm script does it).
 */

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { previewBlock } from '../../src/extension/preview-model';
import type { PreviewBlock } from '../../src/protocol/preview';
import { cpu } from '../../src/runtime/cpu';
import { Generator, serializeSafetensors, Tensor } from '../../src/runtime/index';
import { instantiateBlock } from '../../src/twins/registry';
import { makeInputs, mapSlice, prepare, runOnce } from '../../webview/preview/engine';
import type { RunResult } from '../../webview/preview/engine';
import { launch, openPreview, ROOT, settled, startServer } from './harness';
import type { PageCanvas, PageGlobals } from './page';
import type { Mode, Server } from './harness';

const RESULTS = path.join(ROOT, 'test-results');
const BLOCKS = ['multihead-attention', 'sagan-spatial', 'cbam'];
/** CPU in the page vs CPU in Node: the same code, so float32 noise only; WebGPU: the kernels' stated 1e-4. */
const TOL: Record<Mode, number> = { cpu: 1e-5, webgpu: 1e-4 };
const STEP_TIMEOUT_MS = 180000;
const SETTINGS = { seed: 0, causal: false, padding: [] as number[] };

interface Drawn {
  path: string;
  item: number;
  head: number | 'mean';
  rows: number;
  cols: number;
  values: number[];
}

interface PageApi {
  backend?: { kind: string; adapter: string; reason: string; limit: number };
  result?: RunResult;
  drawn?: Drawn;
  gates: { path: string; kind: string; values: number[] }[];
  firstHeatmapMs?: number;
  runs: number;
  liveStorages: number;
  gpuStats?: { buffersCreated: number };
  error?: string;
}

const results: { name: string; ok: boolean; error?: string }[] = [];

async function step(name: string, fn: () => Promise<void>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([fn(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS)))]);
    results.push({ name, ok: true });
    console.log(`  ✓ ${name}`);
  } catch (e) {
    results.push({ name, ok: false, error: (e as Error).stack ?? String(e) });
    console.log(`  ✗ ${name}\n      ${(e as Error).message.split('\n').join('\n      ')}`);
  } finally {
    clearTimeout(timer);
  }
}

async function api(page: Page): Promise<PageApi> {
  return page.evaluate(() => {
    const p = (globalThis as unknown as PageGlobals).__attentionForgePreview!;
    return JSON.parse(JSON.stringify({ backend: p.backend, result: p.result, drawn: p.drawn, gates: p.gates, firstHeatmapMs: p.firstHeatmapMs, runs: p.runs, liveStorages: p.liveStorages, gpuStats: p.gpuStats, error: p.error }, (_k, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v))) as PageApi;
  });
}

function blockOf(id: string): PreviewBlock {
  const r = previewBlock(id);
  if (!('block' in r)) throw new Error(r.error);
  return r.block;
}

/** The same run in Node on the CPU backend: the reference the page must match. */
async function reference(id: string): Promise<RunResult> {
  const b = blockOf(id);
  return runOnce(prepare(b, SETTINGS.seed, cpu), b, SETTINGS);
}

/** The block's own returned attention weights (no tap, no tracer), when it returns them. */
function ownWeights(id: string): { values: Float32Array; shape: readonly number[] } | undefined {
  const b = blockOf(id);
  const m = instantiateBlock(b.id, b.params, { generator: new Generator(SETTINGS.seed), device: cpu });
  const out = m.forward(...makeInputs(b.inputs, SETTINGS, cpu));
  const idx = b.outputs.findIndex((o) => o.name === 'attn');
  if (idx < 0 || !Array.isArray(out)) return undefined;
  const attn = out[idx];
  return { values: attn.dataSync(), shape: attn.shape };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function blockSteps(browser: Browser, server: Server, mode: Mode, id: string): Promise<void> {
  const { page, errors } = await openPreview(browser, server, id);
  try {
    await step(`${mode} ${id}: runs on ${mode === 'webgpu' ? 'WebGPU' : 'the CPU'} and says why`, async () => {
      await settled(page);
      const a = await api(page);
      assert.equal(a.error, undefined, `run error: ${a.error}`);
      assert.equal(a.backend?.kind, mode);
      const notice = await page.locator('#backend').innerText();
      assert.match(notice, mode === 'webgpu' ? /Running on WebGPU/ : /Running on CPU .*requestAdapter\(\) returned no adapter/s);
      // The CPU path runs the WebAssembly SIMD kernels: the page's CSP allows compiling them.
      if (mode === 'cpu') assert.match(notice, /WebAssembly SIMD/);
      assert.match(notice, /ms per forward/);
    });
    const ref = await reference(id);
    await step(`${mode} ${id}: the layer table has the CPU runtime's rows`, async () => {
      const a = await api(page);
      const rows = await page.locator('#layers vscode-table-row').count();
      assert.equal(rows, ref.layers.length);
      assert.deepEqual(a.result!.layers.map((l) => [l.path, l.type, l.outputShapes, l.params, l.flops]), ref.layers.map((l) => [l.path, l.type, l.outputShapes, l.params, l.flops]));
      const first = await page.locator('#layers vscode-table-row').first().innerText();
      assert.ok(first.includes(ref.layers[0].type), first);
    });
    if (ref.maps.length) {
      await step(`${mode} ${id}: the heatmap's values equal the CPU runtime's (mean over heads, item 0)`, async () => {
        const a = await api(page);
        const want = mapSlice(ref.maps[0], 0, 'mean');
        assert.ok(a.drawn, 'nothing drawn');
        const d = maxDiff(a.drawn.values, want);
        assert.ok(d <= TOL[mode], `max |drawn - cpu| = ${d}`);
        const own = ownWeights(id);
        if (own) {
          // The block's returned weights: averaged (N, L, S) or per-pixel (N, HW, HW); item 0.
          const per = a.drawn.rows * a.drawn.cols;
          const d2 = maxDiff(a.drawn.values, own.values.subarray(0, per));
          assert.ok(d2 <= TOL[mode], `max |drawn - block's attn output| = ${d2}`);
        }
      });
      await step(`${mode} ${id}: canvas pixels are the colour scale of the values`, async () => {
        const a = await api(page);
        const { rows, cols, values } = a.drawn!;
        const cells = [0, Math.floor(rows / 2) * cols + Math.floor(cols / 3), rows * cols - 1];
        const px = await page.evaluate((idx) => {
          const c = (globalThis as unknown as PageGlobals).document.getElementById('heatmap') as PageCanvas;
          const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          return idx.map((i) => [d[4 * i], d[4 * i + 1], d[4 * i + 2]]);
        }, cells);
        const { colour, valueRange } = await import('../../webview/preview/colour');
        const r = valueRange(Float32Array.from(values));
        for (const [k, i] of cells.entries()) {
          const want = colour((values[i] - r.lo) / (r.hi - r.lo));
          assert.ok(want.every((c, j) => Math.abs(c - px[k][j]) <= 1), `cell ${i}: pixel ${px[k]} vs ${want}`);
        }
        assert.ok((await page.locator('.legend').count()) >= 1, 'no colour legend');
      });
      await step(`${mode} ${id}: hover and keyboard report query, key and weight`, async () => {
        const canvas = page.locator('#heatmap');
        const box = (await canvas.boundingBox())!;
        const a = await api(page);
        const { rows, cols, values } = a.drawn!;
        await page.mouse.move(box.x + (box.width * 2.5) / cols, box.y + (box.height * 1.5) / rows);
        const hover = await page.locator('#readout').innerText();
        const w = values[1 * cols + 2];
        assert.ok(hover.includes(': weight') && /1\D+2/.test(hover), hover);
        assert.ok(hover.includes(String(Number(w.toFixed(3))).slice(0, 4)) || Math.abs(w) < 1e-3, `${hover} vs ${w}`);
        await canvas.focus();
        await page.keyboard.press('ArrowDown');
        await page.keyboard.press('ArrowRight');
        const kb = await page.locator('#readout').innerText();
        assert.ok(/1\D+1: weight/.test(kb), kb);
      });
      if (ref.maps[0].grid) {
        await step(`${mode} ${id}: the spatial view shows the picked query pixel's map over H×W`, async () => {
          const sp = page.locator('#spatial');
          await sp.waitFor({ timeout: 5000 });
          const before = await page.locator('#spatial').getAttribute('aria-label');
          const box = (await sp.boundingBox())!;
          await page.mouse.click(box.x + box.width * 0.6, box.y + box.height * 0.6);
          const after = await page.locator('#spatial').getAttribute('aria-label');
          assert.notEqual(after, before, 'picking a pixel did not change the query');
          assert.match(after ?? '', /query pixel \(\d+, \d+\)/);
        });
      }
      if (ref.maps[0].heads > 1) {
        await step(`${mode} ${id}: the head selector draws one head`, async () => {
          await page.evaluate(() => {
            const g = (globalThis as unknown as PageGlobals);
            const s = g.document.getElementById('head-select')!;
            s.value = '3';
            s.dispatchEvent(new g.Event('change'));
          });
          await page.waitForFunction(() => (globalThis as unknown as PageGlobals).__attentionForgePreview?.drawn?.head === 3);
          const a = await api(page);
          const d = maxDiff(a.drawn!.values, mapSlice(ref.maps[0], 0, 3));
          assert.ok(d <= TOL[mode], `head 3: ${d}`);
        });
      }
    }
    if (ref.gates.length) {
      await step(`${mode} ${id}: gates (channel bars, spatial mask) equal the CPU runtime's`, async () => {
        const a = await api(page);
        assert.equal(a.gates.length, ref.gates.length);
        for (const [i, g] of ref.gates.entries()) {
          const per = g.data!.length / g.shape[0];
          const d = maxDiff(a.gates[i].values, g.data!.subarray(0, per));
          assert.ok(d <= TOL[mode], `${g.path}: ${d}`);
          assert.equal(a.gates[i].kind, g.kind);
        }
        if (id === 'cbam') {
          assert.deepEqual(ref.gates.map((g) => g.kind), ['channel', 'spatial']);
          assert.equal(await page.locator('#gates canvas.bars').count(), 1);
          assert.equal(await page.locator('#gates [data-kind="spatial"] canvas.heatmap').count(), 1);
        }
      });
    }
    await page.evaluate(() => {
      const g = (globalThis as unknown as PageGlobals);
      const head = g.document.getElementById('head-select');
      if (head) {
        head.value = 'mean';
        head.dispatchEvent(new g.Event('change'));
      }
    });
    fs.mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: path.join(RESULTS, `preview-${id}-${mode}.png`), fullPage: true });
    await step(`${mode} ${id}: no page errors`, async () => {
      assert.deepEqual(errors.filter((e) => !/favicon/.test(e)), []);
    });
  } finally {
    await page.close();
  }
}

async function weightsSteps(browser: Browser, server: Server, mode: Mode): Promise<void> {
  const id = 'multihead-attention';
  const { page, host } = await openPreview(browser, server, id);
  try {
    await settled(page);
    const b = blockOf(id);
    const module = instantiateBlock(b.id, b.params, { generator: new Generator(42), device: cpu });
    const good = serializeSafetensors(module.stateDict());
    await step(`${mode} weights: a mismatched state_dict is listed and nothing is loaded`, async () => {
      const sd = new Map<string, Tensor>(module.stateDict());
      const w = sd.get('mha.in_proj_weight')!;
      sd.set('mha.in_proj_weight', new Tensor(w.storage, [w.shape[0] - 1, w.shape[1]], [w.shape[1], 1], 0, 'float32'));
      sd.delete('mha.out_proj.bias');
      sd.set('extra.weight', sd.get('mha.out_proj.weight')!);
      const before = (await api(page)).drawn!.values;
      host.nextWeights = { fileName: 'bad.safetensors', bytes: serializeSafetensors(sd) };
      await page.locator('#load-weights').click();
      await page.locator('#weights-report').waitFor({ timeout: 20000 });
      await settled(page);
      const text = await page.locator('#weights-report').innerText();
      assert.match(text, /missing: mha\.out_proj\.bias/);
      assert.match(text, /unexpected: extra\.weight/);
      assert.match(text, /shape of mha\.in_proj_weight: file \(191, 64\), block \(192, 64\)/);
      assert.match(text, /nothing was loaded/);
      const after = (await api(page)).drawn!.values;
      assert.ok(maxDiff(before, after) === 0, 'weights changed although the file did not match');
    });
    await step(`${mode} weights: a matching state_dict is loaded and drawn`, async () => {
      host.nextWeights = { fileName: 'good.safetensors', bytes: good };
      await page.locator('#load-weights').click();
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.getElementById('weights')?.textContent?.includes('good.safetensors'), undefined, { timeout: 20000 });
      await settled(page);
      const p = prepare(b, 0, cpu, module.stateDict());
      assert.ok(p.weights?.ok);
      const ref = await runOnce(p, b, SETTINGS);
      const d = maxDiff((await api(page)).drawn!.values, mapSlice(ref.maps[0], 0, 'mean'));
      assert.ok(d <= TOL[mode], `loaded weights: ${d}`);
    });
  } finally {
    await page.close();
  }
}

async function limitSteps(browser: Browser, server: Server, mode: Mode): Promise<void> {
  const { page } = await openPreview(browser, server, 'multihead-attention');
  try {
    await settled(page);
    await step(`${mode} limits: an attention map over maxStorageBufferBindingSize is refused before running`, async () => {
      const limit = (await api(page)).backend!.limit;
      // (N·heads, L, S) float32 = 2·8·L·L·4 bytes; pick L so that it exceeds the limit.
      const L = Math.ceil(Math.sqrt(limit / (2 * 8 * 4))) + 16;
      const runs = (await api(page)).runs;
      for (const d of ['L', 'S']) {
        const input = page.locator(`#dim-${d} input`);
        await input.fill(String(L));
        await input.press('Enter');
        await input.blur();
      }
      await page.locator('#limit-warning').waitFor({ timeout: 60000 });
      const text = await page.locator('#limit-warning').innerText();
      assert.match(text, /attention map \(16, \d+, \d+\) needs .* over the .* maxStorageBufferBindingSize/);
      await settled(page);
      const a = await api(page);
      assert.equal(a.result, undefined, 'it ran anyway');
      assert.ok(a.runs <= runs + 1, 'it ran at the oversized dims');
    });
  } finally {
    await page.close();
  }
}

async function memorySteps(browser: Browser, server: Server, mode: Mode, reruns: number): Promise<void> {
  const { page } = await openPreview(browser, server, 'multihead-attention');
  try {
    await settled(page);
    await step(`${mode} memory: ${reruns} re-runs leave live storages${mode === 'webgpu' ? ' and created GPU buffers' : ''} flat; closing releases them`, async () => {
      await page.evaluate(() => (globalThis as unknown as PageGlobals).__attentionForgePreview!.rerun(10));
      const warm = await api(page);
      await page.evaluate((n) => (globalThis as unknown as PageGlobals).__attentionForgePreview!.rerun(n), reruns);
      const after = await api(page);
      assert.equal(after.runs, warm.runs + reruns);
      assert.equal(after.liveStorages, warm.liveStorages, `live storages ${warm.liveStorages} → ${after.liveStorages}`);
      if (mode === 'webgpu') assert.equal(after.gpuStats!.buffersCreated, warm.gpuStats!.buffersCreated, `GPU buffers created ${warm.gpuStats!.buffersCreated} → ${after.gpuStats!.buffersCreated}`);
      await page.evaluate(() => {
        const g = (globalThis as unknown as PageGlobals);
        g.dispatchEvent(new g.Event('pagehide'));
      });
      assert.equal((await api(page)).liveStorages, 0);
    });
  } finally {
    await page.close();
  }
}

async function themeSteps(browser: Browser, server: Server, mode: Mode): Promise<void> {
  for (const theme of ['light', 'high-contrast'] as const) {
    const { page } = await openPreview(browser, server, 'sagan-spatial', {}, theme);
    try {
      await step(`${mode} theme ${theme}: the page takes the theme's colours${theme === 'high-contrast' ? ' and a black→white scale' : ''}`, async () => {
        await settled(page);
        const { fg, bg, px } = await page.evaluate(() => {
          const g = (globalThis as unknown as PageGlobals);
          const c = g.document.getElementById('heatmap') as PageCanvas;
          const d = c.getContext('2d')!.getImageData(0, 0, 1, 1).data;
          const st = g.getComputedStyle(g.document.body);
          return { fg: st.color, bg: st.backgroundColor, px: [d[0], d[1], d[2]] };
        });
        assert.equal(bg, theme === 'light' ? 'rgb(255, 255, 255)' : 'rgb(0, 0, 0)');
        assert.equal(fg, theme === 'light' ? 'rgb(59, 59, 59)' : 'rgb(255, 255, 255)');
        if (theme === 'high-contrast') assert.ok(px[0] === px[1] && px[1] === px[2], `not grey: ${px}`);
        await page.screenshot({ path: path.join(RESULTS, `preview-sagan-spatial-${mode}-${theme}.png`), fullPage: true });
      });
    } finally {
      await page.close();
    }
  }
}

async function main(): Promise<void> {
  const server = await startServer();
  try {
    for (const mode of ['webgpu', 'cpu'] as const) {
      console.log(`${mode === 'webgpu' ? 'WebGPU (--enable-unsafe-webgpu, SwiftShader)' : 'CPU (no WebGPU adapter)'}:`);
      const browser = await launch(mode);
      try {
        for (const id of BLOCKS) await blockSteps(browser, server, mode, id);
        await weightsSteps(browser, server, mode);
        if (mode === 'webgpu') await limitSteps(browser, server, mode);
        await memorySteps(browser, server, mode, mode === 'webgpu' ? 1000 : 200);
        if (mode === 'cpu') await themeSteps(browser, server, mode);
      } finally {
        await browser.close();
      }
    }
  } finally {
    await server.close();
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log(`\n${results.length - failed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

void main();
