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
 * The run lifecycle (issue 14): the forward runs in a worker (WebGPU included); a new run clears the
 * previous one's maps at once; a refusal for memory offers the input halved and (CPU) a run
 * anyway, which clears the refusal, names the layer running, and is cancelled by terminating the
 * worker; the head grid shows every head, labelled, and enlarges the one clicked; the value under
 * the pointer is shown in a tooltip at the pointer, inside the viewport, with axis labels and
 * ticks and a keyboard cell cursor. A user's ViT-style module (CPU): "Use an image…" with a PNG
 * the suite writes sends the image resized and ImageNet-normalised, and the class token's
 * attention (mean and per head) and the rollout are painted over it with the values computed in
 * Node, and a click on a patch makes it the query; the mean and std typed survive a reload of
 * the page and normalise the next image; bytes that are no image get a one-line refusal and no
 * run.
 * Screenshots: test-results/preview-<block>-<mode>.png, preview-head-grid-<block>-<mode>.png, preview-image-overlay-cpu.png. Prints `N passed, N failed`; needs
 * `npm run build` first (the npm script does it).
 */

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { previewBlock } from '../../src/extension/preview-model';
import { runModulePreview } from '../../src/extension/module-preview';
import type { PreviewBlock } from '../../src/protocol/preview';
import { cpu } from '../../src/runtime/cpu';
import { Generator, serializeSafetensors, Tensor } from '../../src/runtime/index';
import { instantiateBlock } from '../../src/twins/registry';
import { makeInputs, mapSlice, prepare, runOnce } from '../../webview/preview/engine';
import type { RunResult } from '../../webview/preview/engine';
import { attentionOverPatches, IMAGENET_MEAN, IMAGENET_STD, patchGrid, resizeRGBA, rgbaToCHW } from '../../webview/preview/image-input';
import { meanOverHeads, rollout } from '../../webview/preview/rollout';
import { png } from '../helpers/png';
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
  backend?: { kind: string; adapter: string; reason: string; limit: number; where: string };
  phase: string;
  workers: { started: number; terminated: number; where?: string };
  heads: number[];
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
    return JSON.parse(JSON.stringify({ backend: p.backend, phase: p.phase, workers: p.workers, heads: p.heads, result: p.result, drawn: p.drawn, gates: p.gates, firstHeatmapMs: p.firstHeatmapMs, runs: p.runs, liveStorages: p.liveStorages, gpuStats: p.gpuStats, error: p.error }, (_k, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v))) as PageApi;
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
      // The forward runs in the preview's worker, WebGPU included (the worker's own navigator.gpu).
      assert.equal(a.backend?.where, 'worker');
      const notice = await page.locator('#backend').innerText();
      assert.match(notice, /in a worker/);
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
      await step(`${mode} ${id}: the value under the pointer is shown at the pointer, inside the viewport; arrow keys move a cell cursor`, async () => {
        const canvas = page.locator('#heatmap');
        await canvas.scrollIntoViewIfNeeded();
        const box = (await canvas.boundingBox())!;
        const a = await api(page);
        const { rows, cols, values } = a.drawn!;
        const m = ref.maps[0];
        const pos = (i: number, g?: { H: number; W: number }) => (g ? `(${Math.floor(i / g.W)}, ${i % g.W})` : String(i));
        const x = box.x + (box.width * 2.5) / cols;
        const y = box.y + (box.height * 1.5) / rows;
        await page.mouse.move(x, y);
        const tip = page.locator('#tooltip');
        await tip.waitFor({ state: 'visible', timeout: 5000 });
        const text = await tip.innerText();
        assert.ok(text.includes(`query ${pos(1, m.grid)}, key ${pos(2, m.keyGrid)}: weight`), text);
        const w = values[1 * cols + 2];
        const shown = Number(/weight (\S+)$/.exec(text)![1]);
        assert.ok(Math.abs(shown - w) <= Math.max(5e-4, Math.abs(w) * 1e-3), `${text} vs ${w}`);
        // At the pointer: just below and to the right of it (or flipped where the viewport ends), never off-screen.
        const t = (await tip.boundingBox())!;
        const vp = page.viewportSize()!;
        assert.ok(Math.abs(t.x - x) <= 40 + t.width && Math.abs(t.y - y) <= 40 + t.height, `tooltip at ${t.x},${t.y}, pointer at ${x},${y}`);
        assert.ok(t.x >= 0 && t.y >= 0 && t.x + t.width <= vp.width && t.y + t.height <= vp.height, `tooltip outside the viewport: ${JSON.stringify(t)}`);
        // The far corner: the tooltip flips to stay inside.
        await page.mouse.move(box.x + box.width - 1, box.y + box.height - 1);
        const t2 = (await tip.boundingBox())!;
        assert.ok(t2.x + t2.width <= vp.width && t2.y + t2.height <= vp.height && t2.x >= 0 && t2.y >= 0, `corner tooltip outside the viewport: ${JSON.stringify(t2)}`);
        assert.ok((await tip.innerText()).includes(`query ${pos(rows - 1, m.grid)}, key ${pos(cols - 1, m.keyGrid)}`));
        await page.mouse.move(0, 0);
        await tip.waitFor({ state: 'hidden', timeout: 5000 });
        await canvas.focus();
        await page.keyboard.press('ArrowDown');
        await page.keyboard.press('ArrowRight');
        const kb = await tip.innerText();
        assert.ok(kb.includes(`query ${pos(1, m.grid)}, key ${pos(1, m.keyGrid)}: weight`), kb);
        assert.ok(await page.locator('#enlarged .cell-cursor').isVisible(), 'no cell cursor');
        // Screen readers get the same line.
        assert.ok((await page.locator('#readout').textContent())!.includes(`key ${pos(1, m.keyGrid)}`));
        // Axis titles and ticks: query on y, key on x; (h, w) positions over image grids.
        const ylabel = await page.locator('#enlarged .y-label').innerText();
        const xlabel = await page.locator('#enlarged .x-label').innerText();
        assert.match(ylabel, /query/);
        assert.match(xlabel, /key/);
        const ticks = await page.locator('#enlarged .x-ticks .tick').allInnerTexts();
        assert.ok(ticks.length >= 2, `x ticks: ${ticks}`);
        assert.equal(ticks[0], m.keyGrid ? '(0, 0)' : '0');
        if (m.grid) assert.match(ylabel, /\(h, w\)/);
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
        await step(`${mode} ${id}: the head grid shows every head, labelled; clicking one enlarges it`, async () => {
          const H = ref.maps[0].heads;
          const cells = page.locator('#head-grid .head-cell');
          assert.equal(await cells.count(), H);
          assert.deepEqual(await page.locator('#head-grid figcaption').allInnerTexts(), Array.from({ length: H }, (_, h) => `head ${h}`));
          fs.mkdirSync(RESULTS, { recursive: true });
          await page.locator('#attention').screenshot({ path: path.join(RESULTS, `preview-head-grid-${id}-${mode}.png`) });
          await page.locator('#head-grid .head-cell[data-head="3"] canvas').click();
          await page.waitForFunction(() => (globalThis as unknown as PageGlobals).__attentionForgePreview?.drawn?.head === 3);
          const a = await api(page);
          const d = maxDiff(a.drawn!.values, mapSlice(ref.maps[0], 0, 3));
          assert.ok(d <= TOL[mode], `head 3: ${d}`);
          assert.equal(await page.locator('#head-grid .head-cell.selected').getAttribute('data-head'), '3');
          // From the keyboard: focus a head, Enter.
          await page.locator('#head-grid .head-cell[data-head="5"] canvas').focus();
          await page.keyboard.press('Enter');
          await page.waitForFunction(() => (globalThis as unknown as PageGlobals).__attentionForgePreview?.drawn?.head === 5);
        });
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
  const { page, host } = await openPreview(browser, server, 'multihead-attention');
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
      assert.equal(a.phase, 'refused');
    });
    await step(`${mode} limits: the refusal offers the input halved and runs it; Cancel terminates the WebGPU worker`, async () => {
      const smaller = page.locator('#smaller');
      const label = await smaller.innerText();
      const L = Number(await page.locator('#dim-L input').inputValue());
      const half = Math.ceil(L / 2);
      assert.ok(label.includes(`L ${L} → ${half}`) && label.includes(`S ${L} → ${half}`) && !label.includes('N '), label);
      assert.equal(await page.locator('#run-anyway').count(), 0, 'WebGPU offers no CPU run');
      const before = await api(page);
      const resolves = host.received.filter((m) => m.type === 'resolve').length;
      await smaller.click();
      // The halved input is asked for and run (a long run on SwiftShader: cancelled here once it is
      // under way). The run to cancel is the one the host's answer starts: wait for the halved dims.
      for (const t0 = Date.now(); Number(await page.locator('#dim-L input').inputValue()) !== half; await new Promise((r) => setTimeout(r, 50))) {
        if (Date.now() - t0 > 60000) throw new Error(`the halved dims (L ${half}) were not applied`);
      }
      await page.locator('#cancel').waitFor({ timeout: 60000 });
      const asked = host.received.filter((m) => m.type === 'resolve');
      assert.equal(asked.length, resolves + 1);
      assert.deepEqual((asked[asked.length - 1] as { dims: Record<string, number> }).dims, { N: 2, L: half, S: half });
      assert.equal(await page.locator('#limit-warning').count(), 0, 'the refusal stayed');
      await page.locator('#cancel').click();
      const a = await api(page);
      assert.equal(a.phase, 'cancelled');
      assert.equal(a.workers.terminated, before.workers.terminated + 1);
      assert.equal(await page.locator('#cancel').count(), 0);
    });
  } finally {
    await page.close();
  }
}

/**
 * The run lifecycle on the CPU path: a refusal for memory offers the input halved and a CPU run
 * anyway; the forced run clears the refusal at once, shows which layer runs, and Cancel
 * terminates its worker and returns the page to idle; the halved input then runs and draws; a
 * new run clears the previous one's maps before it starts.
 */
async function runSteps(browser: Browser, server: Server, mode: Mode): Promise<void> {
  const { page, host } = await openPreview(browser, server, 'multihead-attention');
  const setDims = async (v: number) => {
    for (const d of ['L', 'S']) {
      const input = page.locator(`#dim-${d} input`);
      await input.fill(String(v));
      await input.press('Enter');
      await input.blur();
    }
  };
  try {
    await settled(page);
    await step(`${mode} run: a second run clears the first's maps before it starts`, async () => {
      const before = await api(page);
      assert.equal(await page.locator('#head-grid .head-cell').count(), 8);
      const now = await page.evaluate(() => {
        const g = globalThis as unknown as PageGlobals & { document: { querySelectorAll(s: string): { length: number } } };
        const f = g.document.getElementById('seed')!;
        f.value = '5';
        f.dispatchEvent(new g.Event('change'));
        // Synchronously after the change: the old run's table and maps are gone, the progress line is up.
        return { canvases: g.document.querySelectorAll('canvas.heatmap').length, table: g.document.querySelectorAll('#layers').length, status: g.document.getElementById('run-status')?.textContent ?? '', phase: g.__attentionForgePreview!.phase };
      });
      assert.deepEqual({ canvases: now.canvases, table: now.table, phase: now.phase }, { canvases: 0, table: 0, phase: 'running' });
      assert.match(now.status, /Cancel/);
      await settled(page);
      const after = await api(page);
      assert.equal(after.phase, 'done');
      assert.equal(await page.locator('#head-grid .head-cell').count(), 8, 'a head grid per run, not two');
      assert.equal(await page.locator('#heatmap').count(), 1);
      assert.ok(maxDiff(before.drawn!.values, after.drawn!.values) > 0, 'the new seed drew the same map');
    });
    await step(`${mode} run: a run refused for memory says so and offers a smaller input and a CPU run`, async () => {
      await setDims(2048);
      await page.locator('#limit-warning').waitFor({ timeout: 60000 });
      await settled(page);
      const text = await page.locator('#limit-warning').innerText();
      assert.match(text, /Not run, for memory/);
      assert.match(await page.locator('#smaller').innerText(), /L 2048 → 1024, S 2048 → 1024/);
      assert.equal(await page.locator('#run-anyway').count(), 1);
      assert.equal(await page.locator('canvas.heatmap').count(), 0, 'the previous maps are still shown');
    });
    await step(`${mode} run: Run on the CPU anyway clears the refusal, shows the layer running, and Cancel terminates the worker`, async () => {
      const before = await api(page);
      await page.locator('#run-anyway').click();
      // The refusal goes at once: no stale "Not run" box while (or after) the forced run goes.
      assert.equal(await page.locator('#limit-warning').count(), 0);
      await page.waitForFunction(() => /Running layer/.test((globalThis as unknown as PageGlobals).document.getElementById('progress')?.textContent ?? ''), undefined, { timeout: 60000 });
      const progress = await page.locator('#progress').innerText();
      assert.match(progress, /Running layer (\(block\)|mha)/);
      await page.locator('#cancel').click();
      const a = await api(page);
      assert.equal(a.phase, 'cancelled');
      assert.equal(a.workers.terminated, before.workers.terminated + 1, 'the worker was not terminated');
      assert.equal(await page.locator('#cancel').count(), 0);
      assert.match(await page.locator('#run-status').innerText(), /Cancelled/);
      assert.equal(await page.locator('#limit-warning').count(), 0);
      assert.equal(await page.locator('canvas.heatmap').count(), 0);
      // A fresh worker comes up for the next run.
      await page.waitForFunction(() => ((globalThis as unknown as PageGlobals).__attentionForgePreview as unknown as { workers: { started: number } }).workers.started >= 2);
    });
    await step(`${mode} run: the smaller input the refusal offers runs and is drawn`, async () => {
      await page.locator('#run').click();
      await page.locator('#smaller').waitFor({ timeout: 60000 });
      const resolves = host.received.filter((m) => m.type === 'resolve').length;
      await page.locator('#smaller').click();
      // (`api()` would serialise 16 M map values: read only what is checked.)
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).__attentionForgePreview?.phase === 'done', undefined, { timeout: 120000 });
      const asked = host.received.filter((m) => m.type === 'resolve');
      assert.equal(asked.length, resolves + 1);
      assert.deepEqual((asked[asked.length - 1] as { dims: Record<string, number> }).dims, { N: 2, L: 1024, S: 1024 });
      const rows = await page.evaluate(() => ((globalThis as unknown as PageGlobals).__attentionForgePreview as unknown as { result: { maps: { L: number; itemsRead: number }[] } }).result.maps.map((m) => [m.L, m.itemsRead]));
      assert.deepEqual(rows, [[1024, 2]]);
      assert.equal(await page.locator('#heatmap').count(), 1);
      assert.equal(await page.locator('#limit-warning').count(), 0);
      assert.equal(await page.locator('#head-grid .head-cell').count(), 8);
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

/** A user's own module (issue 14): the extension runs it and sends the message; the page draws its layers and its attention. */
async function moduleSteps(browser: Browser, server: Server, mode: Mode): Promise<void> {
  const { page, host, errors } = await openPreview(browser, server, 'multihead-attention');
  try {
    await settled(page);
    const file = path.join(ROOT, 'test/fixtures/user-modules/vit_attention.py');
    const m = await runModulePreview(fs.readFileSync(file, 'utf8'), 'vit_attention.py', 'Attention', [[2, 10, 64]]);
    await step(`${mode} module: a user's module shows its layer table and every head of its attention`, async () => {
      assert.equal(m.error, undefined);
      await host.send(m);
      await page.locator('#attention').waitFor({ timeout: 20000 });
      assert.equal(await page.locator('h2').first().innerText(), 'Attention');
      assert.equal(await page.locator('.head-cell').count(), 8);
      const drawn = (await api(page)).drawn as unknown as { rows: number; cols: number; values: number[] };
      assert.deepEqual([drawn.rows, drawn.cols], [10, 10]);
      const want = mapSlice(m.maps![0], 0, 'mean');
      assert.ok(maxDiff(Float32Array.from(drawn.values), want) <= 1e-6, 'the drawn map is the module\'s mean attention');
      await page.screenshot({ path: path.join(RESULTS, `preview-user-module-${mode}.png`), fullPage: true });
      assert.deepEqual(errors.filter((e) => !/favicon/.test(e)), []);
    });
  } finally {
    await page.close();
  }
}

/** An image as the input of a ViT-style module (issue "Preview any module", item 4): the map over the patch grid and the rollout are drawn over it. */
async function imageSteps(browser: Browser, server: Server, mode: Mode): Promise<void> {
  const { page, host, errors } = await openPreview(browser, server, 'multihead-attention');
  try {
    await settled(page);
    const src = fs.readFileSync(path.join(ROOT, 'test/fixtures/user-modules/tiny_vit.py'), 'utf8');
    const first = await runModulePreview(src, 'tiny_vit.py', 'TinyViT', [[1, 3, 16, 16]]);
    // 40×24: red on the left, blue on the right, a green band along the top; resized to the input's 16×16.
    const rgba = new Uint8Array(40 * 24 * 4);
    for (let p = 0; p < 40 * 24; p++) rgba.set(p < 40 * 4 ? [0, 255, 0, 255] : p % 40 < 20 ? [255, 0, 0, 255] : [0, 0, 255, 255], p * 4);
    host.nextImage = { fileName: 'halves.png', bytes: png(40, 24, rgba) };
    let given: { from: string; shape: number[]; data: Float32Array } | undefined;
    let run: Awaited<ReturnType<typeof runModulePreview>> | undefined;
    host.onModuleInput = async (m) => {
      given = m;
      run = await runModulePreview(src, 'tiny_vit.py', 'TinyViT', [[1, 3, 16, 16]], 0, {}, undefined, m);
      await host.send(run);
    };
    await step(`${mode} image: an image is resized, normalised and run; its attention and rollout are drawn over it`, async () => {
      assert.equal(first.error, undefined);
      await host.send(first);
      await page.locator('#use-image').click({ timeout: 20000 });
      await page.locator('#overlay-rollout').waitFor({ timeout: 60000 });
      assert.ok(given && run);
      assert.deepEqual(given.shape, [1, 3, 16, 16]);
      assert.equal(given.from, 'halves.png');
      // The decoded pixels resized and normalised with ImageNet's statistics, as Node computes them.
      const want = rgbaToCHW(resizeRGBA(rgba, 40, 24, 16, 16), 16, 16, IMAGENET_MEAN, IMAGENET_STD);
      assert.ok(maxDiff(given.data, want) <= 1e-6, 'the input is the image, resized and normalised');
      assert.ok(Math.abs(given.data[16 * 16 * 2 - 1] - (0 - 0.456) / 0.224) < 1e-6 && Math.abs(given.data[0] - (0 - 0.485) / 0.229) < 1e-6, 'no red in the green band at the top left, no green in the blue at the bottom right');
      const overlays = (await page.evaluate(() => (globalThis as unknown as PageGlobals).__attentionForgePreview?.overlays)) as { kind: string; head?: number; g: number; values: number[] }[];
      assert.deepEqual(overlays.map((o) => [o.kind, o.head ?? null, o.g]), [['mean', null, 4], ['head', 0, 4], ['head', 1, 4], ['rollout', null, 4]]);
      const grid = patchGrid(17)!;
      const map = run.maps![0];
      assert.ok(maxDiff(overlays[0].values, attentionOverPatches(mapSlice(map, 0, 'mean'), 17, 17, grid)) <= 1e-6, "the mean overlay is the class token's row");
      const r = rollout(run.maps!.map((x) => meanOverHeads(x.data!, x.heads, 17)), 17)!;
      assert.ok(maxDiff(overlays[3].values, Array.from(r.subarray(1, 17))) <= 1e-6, "the rollout overlay is the class token's row of the rollout");
      // The overlay canvas was painted: no transparent pixel, and more than the image's two colours.
      const px = await page.evaluate(() => {
        const c = (globalThis as unknown as PageGlobals).document.getElementById('overlay-rollout') as unknown as PageCanvas;
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        const colours = new Set<string>();
        let transparent = 0;
        for (let i = 0; i < d.length; i += 4) {
          if (d[i + 3] < 255) transparent++;
          colours.add(`${d[i]},${d[i + 1]},${d[i + 2]}`);
        }
        return { transparent, colours: colours.size };
      });
      assert.equal(px.transparent, 0);
      assert.ok(px.colours > 8, `${px.colours} colours`);
      await page.screenshot({ path: path.join(RESULTS, `preview-image-overlay-${mode}.png`), fullPage: true });
      assert.deepEqual(errors.filter((e) => !/favicon/.test(e)), []);
    });
    await step(`${mode} image: clicking a patch makes it the query of every overlay`, async () => {
      const box = (await page.locator('#overlay-mean').boundingBox())!;
      // Patch (1, 2) of the 4×4 grid: query 1 + 1·4 + 2 = 7 (the class token is query 0).
      await page.locator('#overlay-mean').click({ position: { x: (2.5 / 4) * box.width, y: (1.5 / 4) * box.height } });
      await page.waitForFunction(() => /patch \(1, 2\)'s attention/.test((globalThis as unknown as PageGlobals).document.getElementById('image-attention')?.textContent ?? ''), undefined, { timeout: 10000 });
      const overlays = (await page.evaluate(() => (globalThis as unknown as PageGlobals).__attentionForgePreview?.overlays)) as { kind: string; values: number[] }[];
      const grid = patchGrid(17)!;
      assert.ok(run);
      assert.ok(maxDiff(overlays[0].values, attentionOverPatches(mapSlice(run.maps![0], 0, 'mean'), 17, 17, grid, 7)) <= 1e-6, "the mean overlay is query 7's row");
      const r = rollout(run.maps!.map((x) => meanOverHeads(x.data!, x.heads, 17)), 17)!;
      assert.ok(maxDiff(overlays[3].values, Array.from(r.subarray(7 * 17 + 1, 8 * 17))) <= 1e-6, "the rollout overlay is query 7's row of the rollout");
    });
    await step(`${mode} image: the mean and std typed survive a reload of the page and normalise the next image`, async () => {
      const typed = async (id: string, v: string) => {
        const input = page.locator(`#${id} input`);
        await input.fill(v);
        await input.press('Enter');
        await input.blur();
      };
      await typed('image-mean', '0.5, 0.5, 0.5');
      await typed('image-std', '0.25, 0.25, 0.25');
      // The image runs again with them; then the page is reloaded (VS Code does so when the panel moves or the window reloads).
      await page.waitForFunction(() => !/Running on/.test((globalThis as unknown as PageGlobals).document.getElementById('image-controls')?.textContent ?? ''), undefined, { timeout: 60000 });
      await page.reload();
      await settled(page);
      await host.send(first);
      await page.locator('#image-mean').waitFor({ timeout: 20000 });
      const shown = await page.evaluate(() => ['image-mean', 'image-std'].map((id) => ((globalThis as unknown as PageGlobals).document.getElementById(id) as unknown as { value: string }).value));
      assert.deepEqual(shown, ['0.5, 0.5, 0.5', '0.25, 0.25, 0.25']);
      given = undefined;
      await page.locator('#use-image').click();
      await page.locator('#overlay-rollout').waitFor({ timeout: 60000 });
      const again = given as { data: Float32Array } | undefined; // set by the host's callback
      assert.ok(again);
      const want = rgbaToCHW(resizeRGBA(rgba, 40, 24, 16, 16), 16, 16, [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]);
      assert.ok(maxDiff(again.data, want) <= 1e-6, 'the image is normalised with the restored mean and std');
    });
    await step(`${mode} image: bytes that are no image are refused with one line; nothing is run`, async () => {
      given = undefined;
      host.nextImage = { fileName: 'broken.png', bytes: new Uint8Array([1, 2, 3, 4]) };
      await page.locator('#use-image').click();
      await page.locator('#image-error').waitFor({ timeout: 20000 });
      assert.match(await page.locator('#image-error').innerText(), /^broken\.png could not be read as an image .*; pick a PNG or JPEG file\.$/);
      assert.equal(given, undefined);
    });
  } finally {
    await page.close();
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
        // The memory steps come before the limit steps: a cancelled WebGPU run's dispatches may keep
        // SwiftShader (a CPU in the GPU process) busy after its worker is gone, and a page opened then
        // could wait for an adapter past its timeout.
        await memorySteps(browser, server, mode, mode === 'webgpu' ? 1000 : 200);
        if (mode === 'webgpu') await limitSteps(browser, server, mode);
        if (mode === 'cpu') await runSteps(browser, server, mode);
        if (mode === 'cpu') await themeSteps(browser, server, mode);
        if (mode === 'cpu') await moduleSteps(browser, server, mode);
        if (mode === 'cpu') await imageSteps(browser, server, mode);
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
