/**
 * The block preview, in the webview (issue 5). It runs the block the extension names on the
 * bundled runtime — WebGPU when `navigator.gpu` gives an adapter, else the CPU backend, with a
 * notice saying which and why — and shows the per-layer table, the attention maps (per head and
 * averaged; a spatial view for image blocks; the C×C map for channel attention) and the gates of
 * SE/ECA/CBAM-style blocks (channel weights as bars, spatial masks as images), with the time per
 * forward. Controls: dims, seed, masks the block takes, head, map and batch item, weights from
 * seeded init or a `.safetensors` file the extension reads. Everything the user chose survives a
 * reload through `getState`/`setState` (a weights file does not: it reverts to seeded init).
 *
 * The engine (`engine.ts`) does the running; this file does the DOM. Messages are validated on
 * receipt (`parsePreviewToWebview`); shapes at new dims come from the extension, which owns the
 * catalog. GPU resources are released when the page goes away (`pagehide`). A small read-only
 * hook, `window.__attentionForgePreview`, exposes what was drawn for the browser tests.
 */

import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import '@vscode-elements/elements/dist/vscode-divider/index.js';
import '@vscode-elements/elements/dist/vscode-table/index.js';
import '@vscode-elements/elements/dist/vscode-table-header/index.js';
import '@vscode-elements/elements/dist/vscode-table-header-cell/index.js';
import '@vscode-elements/elements/dist/vscode-table-body/index.js';
import '@vscode-elements/elements/dist/vscode-table-row/index.js';
import '@vscode-elements/elements/dist/vscode-table-cell/index.js';
import type { Backend, Storage } from '../../src/runtime/backend';
import { cpu } from '../../src/runtime/cpu';
import type { Tensor } from '../../src/runtime/index';
import { wasmKernelsReady } from '../../src/runtime/wasm/index';
import { requestDeviceFrom, WebGpuBackend } from '../../src/runtime/webgpu/backend';
import { parsePreviewState, parsePreviewToWebview } from '../../src/protocol/preview';
import type { HeadChoice, PreviewBlock, PreviewFromWebview, PreviewInitMessage, PreviewState } from '../../src/protocol/preview';
import { checkWeights, dryRun, mapSlice, numel, prepare, runOnce, TapBackend } from './engine';
import type { Gate, LimitWarning, PreparedRun, RunResult, WeightsReport } from './engine';
import { bars, fmt, heatmap } from './heatmap';

interface VsCodeApi {
  postMessage(m: PreviewFromWebview): void;
  getState(): unknown;
  setState(s: PreviewState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface ValueElement extends HTMLElement {
  value: string;
  checked?: boolean;
  invalid?: boolean;
}

performance.mark('af:script');
const vscode = acquireVsCodeApi();
const state: PreviewState = parsePreviewState(vscode.getState());

// ------------------------------------------------------------------ backend choice

interface Device {
  kind: 'webgpu' | 'cpu';
  backend: Backend;
  adapter: string;
  /** Why this backend (shown in the notice). */
  reason: string;
  /** Largest storage binding; attention maps above it are refused before running. */
  limit: number;
  gpu?: WebGpuBackend;
}

/** Typical adapters' limit, used to warn on the CPU path about what a GPU would refuse. */
const TYPICAL_BINDING_LIMIT = 128 * 1024 * 1024;

/**
 * The CPU backend, after its WebAssembly SIMD kernels have compiled (asynchronously on a
 * browser's main thread; the CSP allows 'wasm-unsafe-eval' for exactly this), so the notice
 * says which CPU path runs: the SIMD kernels, or the TypeScript references where WebAssembly
 * SIMD is unavailable.
 */
async function cpuDevice(reason: string): Promise<Device> {
  const simd = await wasmKernelsReady().catch(() => false);
  return { kind: 'cpu', backend: cpu, adapter: simd ? 'WebAssembly SIMD (CPU backend)' : 'JavaScript (CPU reference kernels; WebAssembly SIMD unavailable)', reason, limit: TYPICAL_BINDING_LIMIT };
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

async function pickDevice(): Promise<Device> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return cpuDevice('WebGPU is not available in this webview (navigator.gpu is undefined).');
  try {
    const adapter = await withTimeout(gpu.requestAdapter(), 5000, 'navigator.gpu.requestAdapter()');
    if (!adapter) return cpuDevice('navigator.gpu.requestAdapter() returned no adapter (usual for VS Code on Linux, or a GPU blocklisted by the browser).');
    const device = await withTimeout(requestDeviceFrom(adapter), 5000, 'adapter.requestDevice()');
    const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
    const name = [info?.vendor, info?.architecture, info?.description, info?.device].filter(Boolean).join(' ') || 'unknown adapter';
    const backend = new WebGpuBackend(device, { adapter: name });
    return { kind: 'webgpu', backend, adapter: name, reason: 'A WebGPU adapter is available.', limit: device.limits.maxStorageBufferBindingSize, gpu: backend };
  } catch (e) {
    return cpuDevice(`WebGPU failed to start: ${(e as Error).message}`);
  }
}

// ------------------------------------------------------------------ page state

let init: PreviewInitMessage | undefined;
let block: PreviewBlock | undefined;
let device: Device | undefined;
const devicePromise = pickDevice().then((d) => {
  performance.mark('af:device');
  return (device = d);
});
let prepared: (PreparedRun & { key: string }) | undefined;
let weights: { fileName: string; sd: Map<string, Tensor> } | undefined;
let weightsReport: { fileName: string; report: WeightsReport } | undefined;
let result: RunResult | undefined;
let runError: string | undefined;
let warnings: LimitWarning[] = [];
let resolveSeq = 0;
let runSeq = 0;
let running: Promise<void> = Promise.resolve();
let firstHeatmapMs: number | undefined;
let drawn: { path: string; item: number; head: HeadChoice; rows: number; cols: number; values: Float32Array } | undefined;
let drawnGates: { path: string; kind: string; values: Float32Array }[] = [];
let runs = 0;
/** The user asked to run on the CPU despite an oversized attention map. */
let force = false;

function save(): void {
  vscode.setState(state);
}

function post(m: PreviewFromWebview): void {
  vscode.postMessage(m);
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Record<string, string>, ...children: (Node | string)[]): HTMLElementTagNameMap[K];
function el(tag: string, attrs?: Record<string, string>, ...children: (Node | string)[]): HTMLElement;
function el(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

function fmtCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

function fmtBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(2)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

function fmtShape(s: readonly number[]): string {
  return `(${s.join(', ')})`;
}

// ------------------------------------------------------------------ running

function settings(): { seed: number; causal: boolean; padding: number[] } {
  return { seed: state.seed, causal: state.causal, padding: state.padding };
}

function hasFill(b: PreviewBlock, fills: string[]): boolean {
  return b.inputs.some((i) => fills.includes(i.fill));
}

/** Releases the current module's storages (and, with `all`, the GPU device). */
function releasePrepared(): void {
  if (!prepared) return;
  prepared.tap.releaseAllBut(new Set<Storage>());
  prepared = undefined;
}

/** Rebuilds (when weights/seed/backend changed) and runs; runs are serialised and the latest wins. */
function schedule(): void {
  const seq = ++runSeq;
  running = running.then(() => (seq === runSeq ? execute() : undefined));
}

async function execute(): Promise<void> {
  if (!block) return;
  const d = device ?? (await devicePromise);
  const b = block;
  runError = undefined;
  try {
    performance.mark('af:run-start');
    warnings = dryRun(b, settings(), d.limit);
    performance.mark('af:dry-run');
    // On WebGPU any oversized binding would fail; on the CPU an oversized map only runs when asked to.
    const blocked = d.kind === 'webgpu' ? warnings.length > 0 : warnings.some((w) => w.attention) && !force;
    force = false;
    if (blocked) {
      result = undefined;
      render();
      return;
    }
    const key = `${b.id}|${JSON.stringify(b.params)}|${state.seed}|${weights?.fileName ?? ''}|${d.kind}`;
    if (!prepared || prepared.key !== key) {
      releasePrepared();
      const p = prepare(b, state.seed, new TapBackend(d.backend), weights?.sd);
      if (p.weights && !p.weights.ok && weights) {
        weightsReport = { fileName: weights.fileName, report: p.weights };
        weights = undefined;
      }
      prepared = { ...p, key };
    }
    performance.mark('af:prepared');
    result = await runOnce(prepared, b, settings());
    performance.mark('af:forward');
    runs++;
    post({ type: 'report', backend: d.kind, adapter: d.adapter, reason: d.reason, forwardMs: result.forwardMs });
  } catch (e) {
    result = undefined;
    runError = (e as Error).message;
    post({ type: 'report', backend: d.kind, adapter: d.adapter, reason: d.reason, forwardMs: 0, error: runError });
  }
  render();
}

// ------------------------------------------------------------------ rendering

function notice(): HTMLElement {
  const d = device;
  if (!d) return el('div', { class: 'notice', id: 'backend' }, 'Looking for a WebGPU adapter…');
  const kind = d.kind === 'webgpu' ? 'WebGPU' : 'CPU';
  const box = el('div', { class: `notice ${d.kind}`, id: 'backend', role: 'status', 'data-backend': d.kind }, el('strong', {}, `Running on ${kind}`), ` — ${d.adapter}. ${d.reason}`);
  // The time is that of the path that ran: with fused attention's weights materialised for the maps, it says so.
  if (result) box.append(el('span', { class: 'timing', id: 'timing' }, ` ${result.forwardMs.toFixed(1)} ms per forward${result.sdpaWeights ? ' (fused attention with its weights materialised, for the maps)' : ''}.`));
  return box;
}

function textfield(label: string, value: string, onChange: (v: string, f: ValueElement) => void, attrs: Record<string, string> = {}): HTMLElement {
  const f = el('vscode-textfield', { 'aria-label': label, ...attrs }) as ValueElement;
  f.value = value;
  f.addEventListener('change', () => onChange(f.value, f));
  return el('label', { class: 'control' }, el('span', { class: 'control-label' }, label), f);
}

function select(label: string, options: { value: string; text: string }[], value: string, onChange: (v: string) => void, id: string): HTMLElement {
  const s = el('vscode-single-select', { 'aria-label': label, id }) as ValueElement;
  for (const o of options) {
    const opt = el('vscode-option', { value: o.value }, o.text);
    if (o.value === value) opt.setAttribute('selected', '');
    s.append(opt);
  }
  s.addEventListener('change', () => onChange(s.value));
  return el('label', { class: 'control' }, el('span', { class: 'control-label' }, label), s);
}

function controls(b: PreviewBlock): HTMLElement {
  const box = el('div', { class: 'controls', id: 'controls' });
  for (const d of b.dims) {
    box.append(
      textfield(`${d.name} (${d.doc})`, String(d.value), (v, f) => {
        const n = Number(v);
        if (!Number.isSafeInteger(n) || n < 1) {
          f.invalid = true;
          return;
        }
        f.invalid = false;
        // Merge with the latest requested dims: an earlier edit may not have been answered yet.
        requestDims({ ...currentDims(), [d.name]: n });
      }, { id: `dim-${d.name}`, type: 'number', min: '1' }),
    );
  }
  box.append(
    textfield('Seed', String(state.seed), (v, f) => {
      const n = Number(v);
      f.invalid = !(Number.isSafeInteger(n) && n >= 0);
      if (f.invalid) return;
      state.seed = n;
      save();
      schedule();
    }, { id: 'seed', type: 'number', min: '0' }),
  );
  if (hasFill(b, ['causal-ignore', 'causal-keep', 'causal-additive'])) {
    const c = el('vscode-checkbox', { id: 'causal', label: 'Causal mask' }) as ValueElement;
    c.checked = state.causal;
    c.addEventListener('change', () => {
      state.causal = !!c.checked;
      save();
      schedule();
    });
    box.append(el('div', { class: 'control' }, c));
  }
  const pad = b.inputs.find((i) => i.fill === 'padding');
  if (pad) {
    box.append(
      textfield(`Padding per batch item (of ${pad.shape[1]} keys)`, state.padding.join(', '), (v, f) => {
        const parts = v.split(/[\s,]+/).filter(Boolean).map(Number);
        f.invalid = !parts.every((p) => Number.isSafeInteger(p) && p >= 0 && p <= pad.shape[1]) || parts.length > pad.shape[0];
        if (f.invalid) return;
        state.padding = parts;
        save();
        schedule();
      }, { id: 'padding', placeholder: 'e.g. 0, 3' }),
    );
  }
  const load = el('vscode-button', { id: 'load-weights', secondary: '' }, 'Load .safetensors…');
  load.addEventListener('click', () => post({ type: 'loadWeights' }));
  const reset = el('vscode-button', { id: 'seeded-weights', secondary: '' }, 'Seeded weights');
  reset.addEventListener('click', () => {
    weights = undefined;
    weightsReport = undefined;
    schedule();
  });
  const rerun = el('vscode-button', { id: 'run' }, 'Run');
  rerun.addEventListener('click', () => schedule());
  box.append(el('div', { class: 'control buttons' }, rerun, load, reset));
  return box;
}

function currentDims(): Record<string, number> {
  return { ...Object.fromEntries((block?.dims ?? []).map((x) => [x.name, x.value])), ...(state.dims ?? {}) };
}

function requestDims(dims: Record<string, number>): void {
  if (!block) return;
  state.dims = dims;
  save();
  post({ type: 'resolve', seq: ++resolveSeq, blockId: block.id, dims });
}

function weightsLine(): HTMLElement | undefined {
  if (weightsReport && !weightsReport.report.ok) {
    const r = weightsReport.report;
    const list = el('ul', { class: 'mismatch' });
    for (const k of r.missing) list.append(el('li', {}, `missing: ${k}`));
    for (const k of r.unexpected) list.append(el('li', {}, `unexpected: ${k}`));
    for (const m of r.mismatched) list.append(el('li', {}, `shape of ${m.key}: file ${fmtShape(m.got)}, block ${fmtShape(m.expected)}`));
    return el('div', { class: 'warning', id: 'weights-report', role: 'alert' }, `${weightsReport.fileName} does not match this block; nothing was loaded (seeded weights are used):`, list);
  }
  return el('div', { class: 'hint', id: 'weights' }, weights ? `Weights: ${weights.fileName}` : `Weights: seeded torch-like initialisation (seed ${state.seed}).`);
}

/** Indents a cell by depth (CSSOM, which the CSP allows, unlike a style attribute). */
function indented(cell: HTMLElement, depth: number): HTMLElement {
  cell.style.paddingLeft = `${10 + depth * 14}px`;
  return cell;
}

function table(r: RunResult): HTMLElement {
  const t = el('vscode-table', { id: 'layers', zebra: '', 'bordered-columns': '', columns: '["34%","18%","18%","10%","10%","10%"]' });
  const head = el('vscode-table-header', { slot: 'header' });
  for (const h of ['Layer (path)', 'Type', 'Output shape', 'Params', 'FLOPs', 'Activations']) head.append(el('vscode-table-header-cell', {}, h));
  const body = el('vscode-table-body', { slot: 'body' });
  for (const row of r.layers) {
    body.append(
      el(
        'vscode-table-row',
        { 'data-path': row.path },
        indented(el('vscode-table-cell', { class: 'path' }, `${row.depth ? '└ ' : ''}${row.path}`), row.depth),
        el('vscode-table-cell', {}, row.type),
        el('vscode-table-cell', { class: 'shape' }, row.outputShapes.map(fmtShape).join(', ')),
        el('vscode-table-cell', { class: 'num' }, fmtCount(row.params)),
        el('vscode-table-cell', { class: 'num', 'data-flops': String(row.flops) }, fmtCount(row.flops)),
        el('vscode-table-cell', { class: 'num' }, fmtBytes(row.activationBytes)),
      ),
    );
  }
  t.append(head, body);
  // The table lays its body out in its own height: give it the rows' (scrolling beyond 18 rows).
  t.style.height = `${Math.min(18, r.layers.length) * 24 + 30}px`;
  const totals = el(
    'p',
    { class: 'totals', id: 'totals' },
    `Total: ${fmtCount(r.totalParams)} parameters (${fmtBytes(r.totalParams * 4)}), ${fmtCount(r.totalFlops)} FLOPs, ${fmtBytes(r.activationBytes)} of activations. Outputs: ${r.outputs.map((o) => `${o.name} ${fmtShape(o.shape)}`).join(', ')}.`,
  );
  return el('section', { class: 'table' }, el('h3', {}, 'Layers'), t, totals);
}

function readout(): HTMLElement {
  return el('div', { class: 'readout', id: 'readout', 'aria-live': 'polite' }, 'Hover a cell or focus the map and use the arrow keys.');
}

function attentionView(r: RunResult): HTMLElement | undefined {
  if (!r.maps.length) return undefined;
  const m = r.maps[Math.min(state.map, r.maps.length - 1)];
  const section = el('section', { class: 'attention', id: 'attention' }, el('h3', {}, m.channel ? 'Channel attention (C×C)' : 'Attention'));
  const pickers = el('div', { class: 'controls' });
  if (r.maps.length > 1) {
    pickers.append(select('Map', r.maps.map((x, i) => ({ value: String(i), text: `${x.path} ${fmtShape(x.shape)}` })), String(state.map), (v) => {
      state.map = Number(v);
      save();
      render();
    }, 'map-select'));
  }
  if (m.heads > 1) {
    const opts = [{ value: 'mean', text: 'Mean over heads' }, ...Array.from({ length: m.heads }, (_, h) => ({ value: String(h), text: `Head ${h}` }))];
    pickers.append(select('Head', opts, String(state.head), (v) => {
      state.head = v === 'mean' ? 'mean' : Number(v);
      save();
      render();
    }, 'head-select'));
  }
  if (m.items > 1) {
    pickers.append(select(m.items === (block ? batchOf(block) : m.items) ? 'Batch item' : 'Item (batch × windows)', Array.from({ length: Math.min(m.items, 256) }, (_, i) => ({ value: String(i), text: String(i) })), String(Math.min(state.batch, m.items - 1)), (v) => {
      state.batch = Number(v);
      save();
      render();
    }, 'batch-select'));
  }
  section.append(pickers);
  if (!m.data) {
    section.append(el('p', { class: 'warning' }, `This map has ${fmtCount(numel(m.shape))} values; it is not drawn.`));
    return section;
  }
  const item = Math.min(state.batch, m.items - 1);
  const head: HeadChoice = state.head === 'mean' || state.head < m.heads ? state.head : 'mean';
  const values = mapSlice(m, item, head);
  drawn = { path: m.path, item, head, rows: m.L, cols: m.S, values };
  const out = readout();
  const label = m.heads === 1 ? 'one head' : head === 'mean' ? `mean over ${m.heads} heads` : `head ${head}`;
  const names = m.channel ? ['channel', 'channel'] : ['query', 'key'];
  const plural = m.channel ? ['channels', 'channels'] : ['queries', 'keys'];
  const views = el('div', { class: 'views' });
  const hm = heatmap({
    rows: m.L,
    cols: m.S,
    values,
    size: 360,
    label: `${m.path} attention, ${label}`,
    rowName: plural[0],
    colName: plural[1],
    onCell: (c) => {
      out.textContent = c ? `${names[0]} ${c.row}, ${names[1]} ${c.col}: weight ${fmt(c.value)}` : '';
    },
    onPick: m.grid
      ? (c) => {
          state.queryPixel = c.row;
          save();
          render();
        }
      : undefined,
  });
  hm.canvas.id = 'heatmap';
  views.append(el('figure', {}, hm.element, el('figcaption', {}, `${m.path} — ${label}, item ${item}: ${m.L} ${plural[0]} × ${m.S} ${plural[1]}`)));
  if (m.grid && m.keyGrid) {
    const q = Math.min(state.queryPixel, m.L - 1);
    const row = values.subarray(q * m.S, (q + 1) * m.S);
    const qy = Math.floor(q / m.grid.W);
    const qx = q % m.grid.W;
    const same = m.keyGrid.H === m.grid.H && m.keyGrid.W === m.grid.W;
    const sp = heatmap({
      rows: m.keyGrid.H,
      cols: m.keyGrid.W,
      values: row,
      size: 240,
      label: `attention of query pixel (${qy}, ${qx}) over the ${m.keyGrid.H}×${m.keyGrid.W} keys`,
      rowName: 'rows',
      colName: 'columns',
      marked: same ? { row: qy, col: qx } : undefined,
      onCell: (c) => {
        out.textContent = c ? `query pixel (${qy}, ${qx}) → key pixel (${c.row}, ${c.col}): weight ${fmt(c.value)}` : '';
      },
      onPick: same
        ? (c) => {
            state.queryPixel = c.row * m.grid!.W + c.col;
            save();
            render();
          }
        : undefined,
    });
    sp.canvas.id = 'spatial';
    views.append(el('figure', {}, sp.element, el('figcaption', {}, `Spatial view: query pixel (${qy}, ${qx}) over H×W${same ? '' : ` (keys sub-sampled to ${m.keyGrid.H}×${m.keyGrid.W})`}; click or press Enter to pick another query pixel.`)));
  }
  section.append(views, out);
  return section;
}

function batchOf(b: PreviewBlock): number {
  return b.dims.find((d) => d.name === 'N' || d.name === 'B')?.value ?? 1;
}

function gatesView(r: RunResult): HTMLElement | undefined {
  if (!r.gates.length) return undefined;
  const section = el('section', { class: 'gates', id: 'gates' }, el('h3', {}, 'Gates'));
  const out = readout();
  out.id = 'gate-readout';
  drawnGates = [];
  for (const g of r.gates) section.append(gateFigure(g, out));
  section.append(out);
  return section;
}

function gateFigure(g: Gate, out: HTMLElement): HTMLElement {
  if (!g.data) return el('p', {}, `${g.path}: ${fmtShape(g.shape)} (too large to draw)`);
  const item = Math.min(state.batch, g.shape[0] - 1);
  const per = numel(g.shape) / g.shape[0];
  const values = g.data.subarray(item * per, (item + 1) * per);
  drawnGates.push({ path: g.path, kind: g.kind, values });
  if (g.kind === 'channel') {
    const b = bars(values, `${g.path} channel weights`, (i) => {
      out.textContent = i === undefined ? '' : `${g.path}: channel ${i} weight ${fmt(values[i])}`;
    });
    b.dataset.kind = 'channel';
    return el('figure', {}, b, el('figcaption', {}, `${g.path} — channel weights (${per}), item ${item}`));
  }
  const dims = g.shape.slice(1).filter((d) => d !== 1);
  const rows = dims.length >= 2 ? dims[dims.length - 2] : 1;
  const cols = dims.length >= 1 ? dims[dims.length - 1] : 1;
  const shown = values.subarray(0, rows * cols);
  const hm = heatmap({
    rows,
    cols,
    values: shown,
    size: 200,
    label: `${g.path} ${g.kind === 'spatial' ? 'spatial mask' : 'gate'}`,
    rowName: 'rows',
    colName: 'columns',
    onCell: (c) => {
      out.textContent = c ? `${g.path}: (${c.row}, ${c.col}) weight ${fmt(c.value)}` : '';
    },
  });
  hm.element.dataset.kind = g.kind;
  return el('figure', {}, hm.element, el('figcaption', {}, `${g.path} — ${g.kind === 'spatial' ? 'spatial mask over H×W' : `gate ${fmtShape(g.shape)}`}, item ${item}`));
}

function warningsView(): HTMLElement | undefined {
  if (!warnings.length) return undefined;
  const d = device;
  const list = el('ul', {});
  for (const w of warnings.slice(0, 8)) {
    list.append(el('li', {}, `${w.path}: ${w.attention ? 'attention map' : w.kernel + ' output'} ${fmtShape(w.shape)} needs ${fmtBytes(w.bytes)}, over the ${fmtBytes(w.limit)} maxStorageBufferBindingSize`));
  }
  const what = d?.kind === 'webgpu' ? 'Not run: this adapter cannot bind buffers that large.' : 'Not run: a typical WebGPU adapter would refuse this, and on the CPU it is slow.';
  const box = el('div', { class: 'warning', id: 'limit-warning', role: 'alert' }, `${what} Reduce the sequence length or image size.`, list);
  if (d?.kind === 'cpu' && !result) {
    const go = el('vscode-button', { id: 'run-anyway', secondary: '' }, 'Run on the CPU anyway');
    go.addEventListener('click', () => {
      force = true;
      schedule();
    });
    box.append(go);
  }
  return box;
}

function render(): void {
  const app = document.getElementById('app')!;
  app.replaceChildren();
  if (!init) {
    app.append(el('p', { class: 'loading' }, 'Loading…'));
    return;
  }
  const pick = select('Block', init.blocks.map((b) => ({ value: b.id, text: b.title })), block?.id ?? '', (v) => post({ type: 'pickBlock', blockId: v }), 'block-select');
  app.append(el('header', {}, el('h2', {}, block ? `${block.title}` : 'Attention block preview'), pick), notice());
  if (!block) {
    app.append(el('p', { class: 'warning', id: 'error' }, init.error ?? 'No block.'));
    return;
  }
  app.append(el('p', { class: 'hint' }, `${block.id} · layout ${block.layout} · inputs ${block.inputs.map((i) => `${i.name} ${fmtShape(i.shape)}`).join(', ')}`));
  for (const n of block.notes) app.append(el('p', { class: 'hint' }, n));
  app.append(controls(block));
  const w = weightsLine();
  if (w) app.append(w);
  const lw = warningsView();
  if (lw) app.append(lw);
  if (runError) app.append(el('p', { class: 'warning', id: 'error', role: 'alert' }, `The forward pass failed: ${runError}`));
  if (!result) {
    if (!runError && !lw) app.append(el('p', { class: 'loading' }, 'Running…'));
    return;
  }
  app.append(table(result));
  const a = attentionView(result);
  if (a) app.append(a);
  const g = gatesView(result);
  if (g) app.append(g);
  if (!a && !g) app.append(el('p', { class: 'hint' }, 'This block computes no softmax attention map or sigmoid gate to show.'));
  if ((a || g) && firstHeatmapMs === undefined) {
    firstHeatmapMs = performance.now();
    performance.mark('af:first-heatmap');
  }
}

// ------------------------------------------------------------------ messages

window.addEventListener('message', (e: MessageEvent) => {
  const m = parsePreviewToWebview(e.data);
  if (!m) {
    console.warn('dropped a malformed message from the extension', e.data);
    return;
  }
  switch (m.type) {
    case 'init': {
      performance.mark('af:init');
      init = m;
      if (m.block?.id !== block?.id) {
        weights = undefined;
        weightsReport = undefined;
        if (block) {
          state.dims = undefined;
          state.map = 0;
          state.head = 'mean';
          state.queryPixel = 0;
          state.padding = [];
        }
      }
      block = m.block ?? undefined;
      result = undefined;
      runError = undefined;
      state.blockId = block?.id;
      save();
      // Render the controls only if the run has not finished by the next frame: a small block's
      // first heatmap then costs one render, not two.
      requestAnimationFrame(() => {
        if (!result && !runError) render();
      });
      if (block) {
        const d = state.dims;
        if (d && block.dims.every((x) => x.name in d) && block.dims.some((x) => d[x.name] !== x.value)) requestDims(d);
        else {
          state.dims = undefined;
          schedule();
        }
      }
      return;
    }
    case 'resolved': {
      if (!block || m.seq !== resolveSeq) return;
      if (m.issues.length) {
        runError = m.issues.join('; ');
        result = undefined;
        render();
        return;
      }
      block = { ...block, dims: block.dims.map((d) => ({ ...d, value: m.dims[d.name] ?? d.value })), inputs: m.inputs, outputs: m.outputs };
      schedule();
      return;
    }
    case 'weights': {
      if (!block || !prepared) return;
      try {
        const { sd, report } = checkWeights(prepared.module, m.bytes);
        if (report.ok) {
          weights = { fileName: m.fileName, sd };
          weightsReport = undefined;
        } else weightsReport = { fileName: m.fileName, report };
      } catch (err) {
        weightsReport = { fileName: m.fileName, report: { ok: false, missing: [], unexpected: [], mismatched: [] } };
        runError = `${m.fileName} is not a readable .safetensors file: ${(err as Error).message}`;
      }
      schedule();
      return;
    }
    case 'weightsError':
      if (!m.cancelled) {
        runError = m.message;
        render();
      }
      return;
  }
});

// Leaving the page (panel closed or hidden without retained context): free GPU memory.
window.addEventListener('pagehide', () => {
  releasePrepared();
  if (device?.gpu) {
    device.gpu.trim();
    device.gpu.device.destroy();
  }
});

declare global {
  interface Window {
    /** Read-only view of what was drawn, for the browser tests. */
    __attentionForgePreview?: unknown;
  }
}

window.__attentionForgePreview = {
  get backend() {
    return device ? { kind: device.kind, adapter: device.adapter, reason: device.reason, limit: device.limit } : undefined;
  },
  get result() {
    return result;
  },
  get drawn() {
    return drawn && { ...drawn, values: Array.from(drawn.values) };
  },
  get gates() {
    return drawnGates.map((g) => ({ ...g, values: Array.from(g.values) }));
  },
  get firstHeatmapMs() {
    return firstHeatmapMs;
  },
  get runs() {
    return runs;
  },
  get liveStorages() {
    return prepared?.tap.live.size ?? 0;
  },
  get gpuStats() {
    return device?.gpu ? { ...device.gpu.stats } : undefined;
  },
  /** Runs the forward `n` more times (the GPU-memory test) and resolves when done. */
  async rerun(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      schedule();
      await running;
    }
  },
  get error() {
    return runError;
  },
  get settled() {
    return running;
  },
};

render();
post({ type: 'ready', ...(state.blockId ? { blockId: state.blockId } : {}) });
