/**
 * The block preview, in the webview (issues 5 and 14). It runs the block the extension names on
 * the bundled runtime — in the preview's worker (`worker.ts`, with `runner.ts`), which picks
 * WebGPU when its `navigator.gpu` gives an adapter, else the CPU backend, with a notice saying
 * which and why — and shows the per-layer table, the attention maps (a grid of every head, one
 * enlarged with axis labels and ticks, or the mean over heads; a spatial view for image blocks;
 * the C×C map for channel attention) and the gates of SE/ECA/CBAM-style blocks (channel weights
 * as bars, spatial masks as images), with the time per forward. While a run goes, a progress line
 * names the layer running and Cancel terminates the worker (a fresh one serves the next run); a
 * new run clears what the previous one showed; a run refused for memory says so and offers the
 * input halved. Controls: dims, seed, masks the block takes, head, map and batch item, weights
 * from seeded init or a `.safetensors` file the extension reads. Everything the user chose
 * survives a reload through `getState`/`setState`, the image's mean and std included (a weights
 * file does not: it reverts to seeded init; nor does a picked image).
 *
 * The worker is started from the script URL the page names (`data-worker`); where the browser
 * refuses that URL (a VS Code webview serves resources from another origin than the page's), from
 * the same bytes fetched and wrapped in a `blob:` URL; where no worker starts at all, the run loop
 * runs on this thread, asynchronously, and Cancel then drops the run between its phases.
 *
 * The worker does the running; this file does the DOM. Messages are validated on receipt
 * (`parsePreviewToWebview`, `parseWorkerReply`); shapes at new dims come from the extension,
 * which owns the catalog. GPU resources are released when the page goes away (`pagehide`). A
 * small read-only hook, `window.__attentionForgePreview`, exposes what was drawn for the browser
 * tests.
 *
 * A user's own module (issue 14) is run by the extension host's interpreter, not here: its
 * `module` message carries the per-layer shapes (or the interpreter's `file:line` reason), which
 * this page shows with the same table until a block is picked again. Where its first input is an
 * RGB image `(N, 3, H, W)`, "Use an image…" asks the extension for a PNG or JPEG, decodes and
 * resizes it here, normalises it with the mean and std shown, and asks the extension to run the
 * module on it; a map whose keys are a square patch grid is then drawn over the image, per head,
 * as the mean over heads and as the attention rollout across layers (`rollout.ts`).
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
import { parsePreviewState, parsePreviewToWebview } from '../../src/protocol/preview';
import type { HeadChoice, ModuleCompare, PreviewBlock, PreviewFromWebview, PreviewInitMessage, PreviewModuleMessage, PreviewState } from '../../src/protocol/preview';
import { halvedDims, parseWorkerReply } from '../../src/protocol/preview-worker';
import type { AttentionMap, Gate, LimitWarning, RunResult, WeightsReport, WorkerDeviceMessage, WorkerProgressMessage, WorkerReply, WorkerRequest, WorkerStats } from '../../src/protocol/preview-worker';
import { mapSlice, numel } from './engine';
import { bars, fmt, heatmap, hideTooltip } from './heatmap';
import { attentionOverPatches, IMAGENET_MEAN, IMAGENET_STD, parseTriple, patchGrid, queryLabel, queryName, rgbaToCHW, type QueryChoice } from './image-input';
import { decodeImage, overlay, type InputImage } from './overlay';
import { meanOverHeads, rollout } from './rollout';
import { PreviewRunner } from './runner';

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

// ------------------------------------------------------------------ the engine (worker)

/** Where the run loop lives: the preview's worker, or (no worker could start) this thread. */
interface Engine {
  id: number;
  where: 'worker' | 'page';
  post(m: WorkerRequest, transfer?: Transferable[]): void;
  /** Stops it: a worker is terminated; the page-thread loop drops runs up to `seq`. */
  stop(seq: number): void;
}

let engineCount = 0;
let terminated = 0;
let engine: Engine | undefined;
let engineReady: Promise<Engine> | undefined;

function onReply(id: number, data: unknown): void {
  if (id !== engineCount || (engine && engine.id !== id)) return; // A stopped engine's late replies.
  const m = parseWorkerReply(data);
  if (!m) {
    console.warn('dropped a malformed message from the preview worker', data);
    return;
  }
  handleReply(m);
}

function workerUrl(): string | undefined {
  return document.body.dataset.worker || undefined;
}

/** Starts a worker on `url`; resolves when it has said which device it uses, rejects if it fails to load. */
function tryWorker(id: number, url: string): Promise<Engine> {
  return new Promise((resolve, reject) => {
    let w: Worker;
    try {
      w = new Worker(url);
    } catch (e) {
      reject(e as Error);
      return;
    }
    let up = false;
    const e: Engine = {
      id,
      where: 'worker',
      post: (m, t = []) => w.postMessage(m, t),
      stop: () => {
        w.terminate();
        terminated++;
      },
    };
    w.addEventListener('message', (ev: MessageEvent) => {
      if (!up) {
        up = true;
        resolve(e);
      }
      onReply(id, ev.data);
    });
    w.addEventListener('error', (ev) => {
      if (up) return;
      ev.preventDefault();
      w.terminate();
      reject(new Error(ev.message || `the worker script ${url} did not load`));
    });
  });
}

/** The run loop on this thread: the same code, answering through the event loop. */
function pageEngine(id: number): Engine {
  const runner = new PreviewRunner((m) => setTimeout(() => onReply(id, m), 0), 'on the page (no worker could be started)');
  return {
    id,
    where: 'page',
    post: (m) => setTimeout(() => void runner.handle(m), 0),
    stop: (seq) => {
      runner.cancelledUpTo = seq;
    },
  };
}

async function startEngine(): Promise<Engine> {
  const id = ++engineCount;
  const url = workerUrl();
  let e: Engine | undefined;
  if (url && typeof Worker === 'function') {
    // A same-origin script starts directly; VS Code serves webview resources from another origin
    // than the page's, where a worker can only start from a blob: URL of the same bytes.
    const sameOrigin = new URL(url, location.href).origin === location.origin;
    try {
      if (!sameOrigin) throw new Error('cross-origin worker script');
      e = await tryWorker(id, url);
    } catch {
      try {
        const text = await (await fetch(url)).text();
        e = await tryWorker(id, URL.createObjectURL(new Blob([text], { type: 'text/javascript' })));
      } catch (err) {
        console.warn(`no preview worker (${(err as Error).message}); running on the page's thread`);
      }
    }
  }
  e ??= pageEngine(id);
  engine = e;
  // Weights live in the engine: a new one (after Cancel) gets them again.
  if (weights && block) {
    const bytes = weights.bytes.slice();
    e.post({ type: 'weights', block, seed: state.seed, fileName: weights.fileName, bytes }, [bytes.buffer]);
  }
  return e;
}

function currentEngine(): Promise<Engine> {
  engineReady ??= startEngine();
  return engineReady;
}

// ------------------------------------------------------------------ page state

type Device = WorkerDeviceMessage & { where: 'worker' | 'page' };

/** Where the current run is: `running` shows the progress line and Cancel; the others are settled. */
type Phase = 'idle' | 'running' | 'refused' | 'done' | 'failed' | 'cancelled';

let init: PreviewInitMessage | undefined;
let block: PreviewBlock | undefined;
/** A user module the extension ran (issue 14): shown instead of a block until one is picked. */
let moduleView: PreviewModuleMessage | undefined;
/** The image the user picked as the module's first input, at that input's H×W, and how it is normalised. */
let image: InputImage | undefined;
/** The mean and std as typed (kept in the webview state: a reload shows what the user set). */
let imageMean = state.imageMean !== undefined && parseTriple(state.imageMean, false) ? state.imageMean : IMAGENET_MEAN.join(', ');
let imageStd = state.imageStd !== undefined && parseTriple(state.imageStd, true) ? state.imageStd : IMAGENET_STD.join(', ');
/** Why the image could not be used (undecodable, bad mean/std), shown under its controls. */
let imageError: string | undefined;
/** The query whose attention is drawn over the image (`default`: the class token, else the mean over queries). */
let overlayQuery: QueryChoice = 'default';
/** An image run the extension has not answered yet. */
let imagePending = false;
/** The overlays drawn (browser tests read them). */
let drawnOverlays: { kind: 'head' | 'mean' | 'rollout'; path: string; head?: number; g: number; values: Float32Array }[] = [];
let device: Device | undefined;
let weights: { fileName: string; bytes: Uint8Array } | undefined;
let weightsReport: { fileName: string; report: WeightsReport } | undefined;
let result: RunResult | undefined;
let runError: string | undefined;
/** What the dry run refused (phase `refused`), or what a forced run went ahead despite. */
let warnings: LimitWarning[] = [];
let phase: Phase = 'idle';
let progress: WorkerProgressMessage | undefined;
let resolveSeq = 0;
let runSeq = 0;
let firstHeatmapMs: number | undefined;
let drawn: { path: string; item: number; head: HeadChoice; rows: number; cols: number; values: Float32Array } | undefined;
let drawnHeads: number[] = [];
let drawnGates: { path: string; kind: string; values: Float32Array }[] = [];
let stats: WorkerStats = { liveStorages: 0, runs: 0 };
/** The dims a memory refusal was for, so its button can halve them. */
let refusedDims: Record<string, number> | undefined;
/** Settles when the latest scheduled run has settled (done, refused, failed or cancelled). */
let running: Promise<void> = Promise.resolve();
const waiting = new Map<number, () => void>();

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

/** Settles every waiter up to `seq`. */
function settle(seq: number): void {
  for (const [s, done] of waiting) {
    if (s > seq) continue;
    waiting.delete(s);
    done();
  }
}

/**
 * Starts a run of the current block: the previous run's table, maps, warnings and errors are
 * cleared at once, and the engine serves runs in order (a reply to an older run than the latest
 * is ignored). `force` runs on the CPU despite a refused attention map.
 */
function schedule(force = false): void {
  if (!block) return;
  const seq = ++runSeq;
  const b = block;
  running = new Promise<void>((resolve) => waiting.set(seq, resolve));
  result = undefined;
  runError = undefined;
  warnings = [];
  refusedDims = undefined;
  drawn = undefined;
  drawnHeads = [];
  drawnGates = [];
  phase = 'running';
  progress = undefined;
  performance.mark('af:run-start');
  render();
  void currentEngine().then((e) => e.post({ type: 'run', seq, block: b, settings: settings(), force }));
}

/** Cancel: the worker is terminated (a fresh one, with the weights, serves the next run); the page returns to idle. */
function cancel(): void {
  if (phase !== 'running') return;
  const e = engine;
  engine = undefined;
  engineReady = undefined;
  e?.stop(runSeq);
  phase = 'cancelled';
  progress = undefined;
  settle(runSeq);
  render();
  // Warm the next worker (device and WebAssembly) while the user decides.
  void currentEngine();
}

function report(d: Device, forwardMs: number, error?: string): void {
  post({ type: 'report', backend: d.kind, adapter: d.adapter, reason: d.reason, forwardMs, ...(error !== undefined ? { error } : {}) });
}

function handleReply(m: WorkerReply): void {
  switch (m.type) {
    case 'device':
      performance.mark('af:device');
      // A worker's first message (this one) comes before `engine` is set; the page's loop answers after.
      device = { ...m, where: engine?.where ?? 'worker' };
      if (phase !== 'running') render();
      else updateStatus();
      return;
    case 'progress':
      if (m.seq !== runSeq || phase !== 'running') return;
      progress = m;
      updateStatus();
      return;
    case 'refused':
      if (m.seq !== runSeq) return;
      phase = 'refused';
      warnings = m.warnings;
      refusedDims = currentDims();
      settle(m.seq);
      render();
      return;
    case 'done':
      stats = m.stats;
      if (m.seq !== runSeq) return;
      performance.mark('af:forward');
      phase = 'done';
      result = m.result;
      warnings = m.warnings;
      if (m.weightsReport) {
        weightsReport = m.weightsReport;
        weights = undefined;
      }
      if (device) report(device, result.forwardMs);
      settle(m.seq);
      render();
      return;
    case 'failed':
      if (m.seq !== runSeq) return;
      phase = 'failed';
      runError = m.message;
      if (device) report(device, 0, runError);
      settle(m.seq);
      render();
      return;
    case 'weightsChecked':
      if (!pendingWeights || pendingWeights.fileName !== m.fileName) return;
      if (m.error) {
        runError = m.error;
        weightsReport = { fileName: m.fileName, report: m.report };
      } else if (m.report.ok) {
        weights = pendingWeights;
        weightsReport = undefined;
      } else weightsReport = { fileName: m.fileName, report: m.report };
      pendingWeights = undefined;
      if (m.error) {
        phase = 'failed';
        render();
      } else schedule();
      return;
    case 'disposed':
      stats = m.stats;
      return;
  }
}

let pendingWeights: { fileName: string; bytes: Uint8Array } | undefined;

// ------------------------------------------------------------------ rendering

function notice(): HTMLElement {
  const d = device;
  if (!d) return el('div', { class: 'notice', id: 'backend' }, 'Looking for a WebGPU adapter…');
  const kind = d.kind === 'webgpu' ? 'WebGPU' : 'CPU';
  const where = d.where === 'worker' ? ' (in a worker)' : " (on the page's thread: no worker could be started)";
  const box = el('div', { class: `notice ${d.kind}`, id: 'backend', role: 'status', 'data-backend': d.kind, 'data-where': d.where }, el('strong', {}, `Running on ${kind}`), `${where} — ${d.adapter}. ${d.reason}`);
  // The time is that of the path that ran: with fused attention's weights materialised for the maps, it says so.
  if (result) box.append(el('span', { class: 'timing', id: 'timing' }, ` ${result.forwardMs.toFixed(1)} ms per forward${result.sdpaWeights ? ' (fused attention with its weights materialised, for the maps)' : ''}.`));
  return box;
}

function statusText(): string {
  const p = progress;
  if (!device) return 'Starting the runtime…';
  if (!p || p.phase === 'checking') return 'Checking shapes and memory (dry run)…';
  if (p.phase === 'building') return `Building the block${weights ? ` with ${weights.fileName}` : ''}…`;
  if (p.phase === 'reading') return 'Reading the maps back…';
  const of = p.total ? ` (layer call ${Math.min(p.index ?? 1, p.total)} of ${p.total})` : '';
  return `Running layer ${p.layer ?? ''}${of}…`;
}

/** The progress line and Cancel while a run goes; after Cancel, that it was cancelled. */
function statusLine(): HTMLElement | undefined {
  if (phase === 'cancelled') return el('p', { class: 'hint', id: 'run-status', role: 'status', 'data-phase': phase }, 'Cancelled: nothing was run to the end. Press Run to run again.');
  if (phase !== 'running') return undefined;
  const stop = el('vscode-button', { id: 'cancel', secondary: '' }, 'Cancel');
  stop.addEventListener('click', () => cancel());
  return el('div', { class: 'status', id: 'run-status', role: 'status', 'data-phase': phase }, el('span', { class: 'loading', id: 'progress' }, statusText()), stop);
}

/** Progress updates touch only the progress line, so typing in a field is never interrupted. */
function updateStatus(): void {
  const p = document.getElementById('progress');
  if (p) p.textContent = statusText();
  else render();
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
    engine?.post({ type: 'clearWeights' });
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

/** A screen reader's copy of what the tooltip shows (visually hidden: the value is shown at the cursor). */
function readout(id = 'readout'): HTMLElement {
  return el('div', { class: 'readout sr-only', id, 'aria-live': 'polite' });
}

/** `(h, w)` of a flat index over a grid, else the index itself. */
function position(i: number, grid: { H: number; W: number } | undefined): string {
  return grid ? `(${Math.floor(i / grid.W)}, ${i % grid.W})` : String(i);
}

/** Axis titles and ticks for an L×S map: query index on y, key index on x; `(h, w)` over grids. */
function mapAxes(m: AttentionMap): NonNullable<Parameters<typeof heatmap>[0]['axes']> {
  const what = m.channel ? ['query channel', 'key channel'] : ['query', 'key'];
  const step = (g?: { H: number; W: number }) => (g ? g.W * Math.max(1, Math.ceil(g.H / 5)) : undefined);
  return {
    y: `${what[0]} ${m.grid ? 'position (h, w)' : 'index'}`,
    x: `${what[1]} ${m.keyGrid ? 'position (h, w)' : 'index'}`,
    yTick: (i) => position(i, m.grid),
    xTick: (i) => position(i, m.keyGrid),
    yStep: step(m.grid),
    xStep: step(m.keyGrid),
  };
}

function cellText(m: AttentionMap, c: { row: number; col: number; value: number }, headLabel: string): string {
  const names = m.channel ? ['channel', 'channel'] : ['query', 'key'];
  return `${headLabel}: ${names[0]} ${position(c.row, m.grid)}, ${names[1]} ${position(c.col, m.keyGrid)}: weight ${fmt(c.value)}`;
}

/** Every head of the item, small and on one colour scale, each labelled; click (or Enter) enlarges it. */
function headGrid(m: AttentionMap, item: number, shown: HeadChoice, out: HTMLElement): HTMLElement {
  const slices = Array.from({ length: m.heads }, (_, h) => mapSlice(m, item, h));
  let hi = 0;
  for (const v of slices) for (const x of v) if (Number.isFinite(x) && x > hi) hi = x;
  const range = { lo: 0, hi: hi > 0 ? hi : 1 };
  const grid = el('div', { class: 'head-grid', id: 'head-grid', role: 'list', 'aria-label': `${m.heads} heads of ${m.path}, item ${item}` });
  drawnHeads = [];
  for (const [h, values] of slices.entries()) {
    const enlarge = () => {
      state.head = h;
      save();
      render();
      document.querySelector<HTMLCanvasElement>('#heatmap')?.focus();
    };
    const hm = heatmap({
      rows: m.L,
      cols: m.S,
      values,
      size: 96,
      range,
      legend: false,
      label: `${m.path} attention, head ${h} (press Enter to enlarge)`,
      rowName: 'queries',
      colName: 'keys',
      tip: (c) => cellText(m, c, `head ${h}`),
      onCell: (c) => {
        out.textContent = c ? cellText(m, c, `head ${h}`) : '';
      },
      onPick: enlarge,
    });
    const fig = el('figure', { class: `head-cell${shown === h ? ' selected' : ''}`, 'data-head': String(h), role: 'listitem' }, hm.element, el('figcaption', {}, `head ${h}`));
    drawnHeads.push(h);
    grid.append(fig);
  }
  return grid;
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
  const readable = Math.max(1, m.itemsRead);
  if (m.items > 1) {
    pickers.append(select(m.items === (block ? batchOf(block) : m.items) ? 'Batch item' : 'Item (batch × windows)', Array.from({ length: Math.min(readable, 256) }, (_, i) => ({ value: String(i), text: String(i) })), String(Math.min(state.batch, readable - 1)), (v) => {
      state.batch = Number(v);
      save();
      render();
    }, 'batch-select'));
  }
  section.append(pickers);
  if (!m.data) {
    section.append(el('p', { class: 'warning' }, `This map has ${fmtCount(numel(m.shape))} values, ${fmtCount(m.heads * m.L * m.S)} per item; it is not drawn.`));
    return section;
  }
  if (m.itemsRead < m.items) section.append(el('p', { class: 'hint', id: 'items-read' }, `The map is too large to read whole: the first ${m.itemsRead} of its ${m.items} items are shown.`));
  const item = Math.min(state.batch, m.itemsRead - 1);
  const head: HeadChoice = state.head === 'mean' || state.head < m.heads ? state.head : 'mean';
  const values = mapSlice(m, item, head);
  drawn = { path: m.path, item, head, rows: m.L, cols: m.S, values };
  const out = readout();
  const label = m.heads === 1 ? 'one head' : head === 'mean' ? `mean over ${m.heads} heads` : `head ${head}`;
  const plural = m.channel ? ['channels', 'channels'] : ['queries', 'keys'];
  if (m.heads > 1) {
    section.append(el('p', { class: 'hint' }, `All ${m.heads} heads of item ${item} on one colour scale; click a head (or focus it and press Enter) to enlarge it.`), headGrid(m, item, head, out));
  }
  const views = el('div', { class: 'views' });
  const hm = heatmap({
    rows: m.L,
    cols: m.S,
    values,
    size: 360,
    label: `${m.path} attention, ${label}`,
    rowName: plural[0],
    colName: plural[1],
    axes: mapAxes(m),
    tip: (c) => cellText(m, c, label),
    onCell: (c) => {
      out.textContent = c ? cellText(m, c, label) : '';
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
  views.append(el('figure', { id: 'enlarged' }, hm.element, el('figcaption', {}, `${m.path} — ${label}, item ${item}: ${m.L} ${plural[0]} × ${m.S} ${plural[1]}`)));
  if (m.grid && m.keyGrid) {
    const q = Math.min(state.queryPixel, m.L - 1);
    const row = values.subarray(q * m.S, (q + 1) * m.S);
    const qy = Math.floor(q / m.grid.W);
    const qx = q % m.grid.W;
    const same = m.keyGrid.H === m.grid.H && m.keyGrid.W === m.grid.W;
    const text = (c: { row: number; col: number; value: number }) => `query pixel (${qy}, ${qx}) → key pixel (${c.row}, ${c.col}): weight ${fmt(c.value)}`;
    const sp = heatmap({
      rows: m.keyGrid.H,
      cols: m.keyGrid.W,
      values: row,
      size: 240,
      label: `attention of query pixel (${qy}, ${qx}) over the ${m.keyGrid.H}×${m.keyGrid.W} keys`,
      rowName: 'rows',
      colName: 'columns',
      axes: { y: 'key row h', x: 'key column w', yTick: String, xTick: String },
      marked: same ? { row: qy, col: qx } : undefined,
      tip: text,
      onCell: (c) => {
        out.textContent = c ? text(c) : '';
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
  const out = readout('gate-readout');
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
    const text = (i: number) => `${g.path}: channel ${i} weight ${fmt(values[i])}`;
    const b = bars(values, `${g.path} channel weights`, (i) => {
      out.textContent = i === undefined ? '' : text(i);
    }, text);
    b.dataset.kind = 'channel';
    return el('figure', {}, b, el('figcaption', {}, `${g.path} — channel weights (${per}), item ${item}`));
  }
  const dims = g.shape.slice(1).filter((d) => d !== 1);
  const rows = dims.length >= 2 ? dims[dims.length - 2] : 1;
  const cols = dims.length >= 1 ? dims[dims.length - 1] : 1;
  const shown = values.subarray(0, rows * cols);
  const text = (c: { row: number; col: number; value: number }) => `${g.path}: (${c.row}, ${c.col}) weight ${fmt(c.value)}`;
  const hm = heatmap({
    rows,
    cols,
    values: shown,
    size: 200,
    label: `${g.path} ${g.kind === 'spatial' ? 'spatial mask' : 'gate'}`,
    rowName: 'rows',
    colName: 'columns',
    axes: g.kind === 'spatial' ? { y: 'row h', x: 'column w', yTick: String, xTick: String } : undefined,
    tip: text,
    onCell: (c) => {
      out.textContent = c ? text(c) : '';
    },
  });
  hm.element.dataset.kind = g.kind;
  return el('figure', {}, hm.element, el('figcaption', {}, `${g.path} — ${g.kind === 'spatial' ? 'spatial mask over H×W' : `gate ${fmtShape(g.shape)}`}, item ${item}`));
}

/** The button a memory refusal offers: the sequence/spatial dims halved, then a rerun (through the extension's shapes). */
function smallerButton(dims: Record<string, number> | undefined): HTMLElement | undefined {
  if (!block || !dims) return undefined;
  const half = halvedDims(block.dims.map((d) => ({ ...d, value: dims[d.name] ?? d.value })));
  if (!half) return undefined;
  const changes = Object.entries(half).filter(([k, v]) => v !== (dims[k] ?? v)).map(([k, v]) => `${k} ${dims[k]} → ${v}`);
  const b = el('vscode-button', { id: 'smaller' }, `Halve the input (${changes.join(', ')}) and run`);
  b.addEventListener('click', () => requestDims(half));
  return b;
}

function warningsView(): HTMLElement | undefined {
  if (!warnings.length) return undefined;
  const d = device;
  const list = el('ul', {});
  for (const w of warnings.slice(0, 8)) {
    list.append(el('li', {}, `${w.path}: ${w.attention ? 'attention map' : w.kernel + ' output'} ${fmtShape(w.shape)} needs ${fmtBytes(w.bytes)}, over the ${fmtBytes(w.limit)} maxStorageBufferBindingSize`));
  }
  if (phase !== 'refused') {
    // A forced CPU run went ahead: a note, not the refusal.
    return el('div', { class: 'hint', id: 'forced-note' }, 'Ran on the CPU although a typical WebGPU adapter would refuse:', list);
  }
  const what = d?.kind === 'webgpu' ? 'Not run, for memory: this adapter cannot bind buffers that large.' : 'Not run, for memory: a typical WebGPU adapter would refuse this, and on the CPU it is slow.';
  const box = el('div', { class: 'warning', id: 'limit-warning', role: 'alert' }, `${what} Reduce the sequence length or image size.`, list);
  const buttons = el('div', { class: 'buttons-row' });
  const smaller = smallerButton(refusedDims);
  if (smaller) buttons.append(smaller);
  if (d?.kind === 'cpu') {
    const go = el('vscode-button', { id: 'run-anyway', secondary: '' }, 'Run on the CPU anyway');
    go.addEventListener('click', () => schedule(true));
    buttons.append(go);
  }
  box.append(buttons);
  return box;
}

/** A refusal from the extension's shape check (inputs and outputs alone over the memory limit) also offers the smaller input. */
function errorView(): HTMLElement | undefined {
  if (!runError) return undefined;
  const box = el('div', { class: 'warning', id: 'error', role: 'alert' }, resolveError ? runError : `The forward pass failed: ${runError}`);
  if (resolveError && /can allocate|memory/i.test(runError)) {
    const smaller = smallerButton(state.dims);
    if (smaller) box.append(el('div', { class: 'buttons-row' }, smaller));
  }
  return box;
}

/** Whether `runError` is the extension's answer to a dims request (not a failed forward). */
let resolveError = false;

/** A user module's run: its shapes per layer (the extension host ran it), or why it could not run. */
function moduleSection(m: PreviewModuleMessage): HTMLElement[] {
  const out: HTMLElement[] = [el('header', {}, el('h2', {}, m.className)), el('p', { class: 'hint' }, `${m.file} · inputs ${m.inputs.map((i) => `${i.name} ${fmtShape(i.shape)}`).join(', ')}`)];
  const load = el('vscode-button', { id: 'load-module-weights', secondary: '' }, 'Load weights (.pt, .safetensors)…');
  load.addEventListener('click', () => post({ type: 'loadModuleWeights' }));
  const w = m.weights;
  const line = el('div', { class: 'hint', id: 'weights' }, w ? `Weights: ${w.file}` : 'Weights: random initial values (seed 0).');
  const imageControls = imageInputControls(m);
  const buttons = el('div', { class: 'control buttons' }, load, ...(imageControls ? [imageControls.button] : []));
  if (m.compareAvailable) {
    const cmp = el('vscode-button', { id: 'compare-torch', secondary: '' }, 'Compare with PyTorch');
    cmp.addEventListener('click', () => post({ type: 'compareModule' }));
    buttons.append(cmp);
  }
  out.push(buttons, line);
  if (imageControls) out.push(imageControls.fields);
  if (imageError) out.push(el('div', { class: 'warning', id: 'image-error', role: 'alert' }, imageError));
  if (w && (w.missing.length || w.unexpected.length)) {
    // As load_state_dict(strict=False) reports them: the missing keys kept their initial values.
    const list = el('ul', { class: 'mismatch' });
    for (const k of w.missing.slice(0, 50)) list.append(el('li', {}, `missing (left at its initial value): ${k}`));
    for (const k of w.unexpected.slice(0, 50)) list.append(el('li', {}, `unexpected (ignored): ${k}`));
    const more = w.missing.length + w.unexpected.length - Math.min(50, w.missing.length) - Math.min(50, w.unexpected.length);
    if (more > 0) list.append(el('li', {}, `… and ${more} more`));
    out.push(el('div', { class: 'warning', id: 'weights-report', role: 'alert' }, `${w.file} does not match ${m.className} exactly:`, list));
  }
  if (m.error) out.push(el('div', { class: 'warning', id: 'error', role: 'alert' }, m.error));
  if (m.layers.length && !m.error) {
    const run: RunResult = { layers: m.layers, maps: m.maps ?? [], gates: [], outputs: m.outputs, totalParams: m.totalParams, totalFlops: m.totalFlops, activationBytes: m.activationBytes, forwardMs: m.forwardMs, sdpaWeights: false };
    out.push(table(run));
    if (m.compare) out.push(compareView(m.compare));
    const attention = attentionView(run);
    if (attention) out.push(attention);
    const over = imageAttentionView(m, run.maps);
    if (over) out.push(over);
  }
  return out;
}

/** Differences above this (float32 rounding through a block is ~1e-6) are marked. */
const COMPARE_MARK = 1e-4;

/** Compare with PyTorch: the largest |Δ| between torch's and the bundled run's output, per layer. */
function compareView(c: ModuleCompare): HTMLElement {
  if (c.error) return el('div', { class: 'warning', id: 'compare', role: 'alert' }, `Compare with PyTorch (${c.python}): ${c.error}`);
  const worst = Math.max(0, ...c.layers.map((l) => l.maxAbsDiff ?? 0));
  const over = c.layers.filter((l) => l.maxAbsDiff === null || l.maxAbsDiff > COMPARE_MARK);
  const list = el('ul', { class: 'compare' });
  for (const l of c.layers) {
    const text = l.maxAbsDiff === null ? `${l.path || '(module)'} · ${l.type}: ${l.note ?? 'not compared'}` : `${l.path || '(module)'} · ${l.type}: max |Δ| ${l.maxAbsDiff.toExponential(2)}`;
    list.append(el('li', l.maxAbsDiff === null || l.maxAbsDiff > COMPARE_MARK ? { class: 'over' } : {}, text));
  }
  const head = over.length ? `${over.length} of ${c.layers.length} layers differ from PyTorch ${c.torch} by more than ${COMPARE_MARK} (largest ${worst.toExponential(2)}):` : `Every layer matches PyTorch ${c.torch} (${c.python}) within ${COMPARE_MARK}; largest |Δ| ${worst.toExponential(2)}.`;
  return el('div', { class: over.length ? 'warning' : 'hint', id: 'compare' }, head, list);
}

/** H×W of the module's first input when it is an RGB image batch `(N, 3, H, W)`; else undefined. */
function imageSize(m: PreviewModuleMessage): { H: number; W: number } | undefined {
  const s = m.inputs[0]?.shape;
  return s && s.length === 4 && s[1] === 3 ? { H: s[2], W: s[3] } : undefined;
}

/** "Use an image…" and the normalisation's mean and std, for a module whose first input is an RGB image. */
function imageInputControls(m: PreviewModuleMessage): { button: HTMLElement; fields: HTMLElement } | undefined {
  const size = imageSize(m);
  if (!size) return undefined;
  const button = el('vscode-button', { id: 'use-image', secondary: '' }, 'Use an image…');
  button.addEventListener('click', () => post({ type: 'loadImage' }));
  const triple = (label: string, value: string, positive: boolean, set: (v: string) => void, id: string) =>
    textfield(label, value, (v, f) => {
      f.invalid = !parseTriple(v, positive);
      if (f.invalid) return;
      set(v);
      if (image) sendImage();
    }, { id });
  const fields = el(
    'div',
    { class: 'controls', id: 'image-controls' },
    triple('Mean (R, G, B)', imageMean, false, (v) => {
      imageMean = state.imageMean = v;
      save();
    }, 'image-mean'),
    triple('Std (R, G, B)', imageStd, true, (v) => {
      imageStd = state.imageStd = v;
      save();
    }, 'image-std'),
    el('span', { class: 'hint' }, imagePending ? `Running on ${image?.name ?? 'the image'}…` : `An image is resized to ${size.H}×${size.W} and normalised per channel, (x − mean) / std, as a (1, 3, ${size.H}, ${size.W}) input.`),
  );
  return { button, fields };
}

/** Decodes the picked file at the shown module's input size and runs the module on it. */
async function useImage(name: string, bytes: Uint8Array): Promise<void> {
  const size = moduleView && imageSize(moduleView);
  if (!size) return;
  try {
    image = await decodeImage(name, bytes, size.W, size.H);
    imageError = undefined;
  } catch (e) {
    image = undefined;
    imageError = `${name} could not be read as an image (${(e as Error).message || 'unknown format'}); pick a PNG or JPEG file.`;
    render();
    return;
  }
  sendImage();
}

/** The image as a normalised (1, 3, H, W) tensor to the extension, which runs the module on it. */
function sendImage(): void {
  if (!image) return;
  const mean = parseTriple(imageMean, false);
  const std = parseTriple(imageStd, true);
  if (!mean || !std) {
    imageError = 'The mean needs three numbers and the std three positive numbers, such as 0.485, 0.456, 0.406.';
    render();
    return;
  }
  imageError = undefined;
  imagePending = true;
  const data = rgbaToCHW(image.rgba, image.W, image.H, mean, std);
  post({ type: 'moduleInput', from: image.name, shape: [1, 3, image.H, image.W], data });
  render();
}

/**
 * The chosen map over the image the module ran on, when its keys are a square patch grid (ViT
 * style, with or without a class token): every head and the mean over heads, for the class
 * token's query (else the mean over queries); and the attention rollout of every S×S map with
 * that grid, in layer order.
 */
function imageAttentionView(m: PreviewModuleMessage, maps: AttentionMap[]): HTMLElement | undefined {
  drawnOverlays = [];
  const img = image;
  if (!img || !m.inputFrom || m.inputFrom !== img.name || !maps.length) return undefined;
  const size = imageSize(m);
  if (!size || size.H !== img.H || size.W !== img.W) return undefined;
  const map = maps[Math.min(state.map, maps.length - 1)];
  const section = el('section', { class: 'image-attention', id: 'image-attention' }, el('h3', {}, `Attention over ${img.name}`));
  const grid = patchGrid(map.S);
  if (!grid || !map.data) {
    section.append(el('p', { class: 'hint' }, `${map.path} has ${map.S} keys, not a square grid of patches (g² or g² + 1 with a class token): it is not drawn over the image.`));
    return section;
  }
  const who = queryName(overlayQuery, map.L, map.S, grid);
  const queries = [
    { value: 'default', text: `Default (${queryName('default', map.L, map.S, grid)})` },
    { value: 'mean', text: 'Mean over queries' },
    ...Array.from({ length: Math.min(map.L, 4096) }, (_, q) => ({ value: String(q), text: queryLabel(q, map.L, map.S, grid) })),
  ];
  section.append(
    el('div', { class: 'controls' }, select('Query', queries, String(overlayQuery), (v) => {
      overlayQuery = v === 'default' || v === 'mean' ? v : Number(v);
      render();
    }, 'query-select')),
    el('p', { class: 'hint' }, `${map.path}: ${who}'s attention over the ${grid.g}×${grid.g} patches${grid.cls ? ' (the class token itself left out)' : ''}, each drawn over its own range${map.L === map.S ? '; click a patch to make it the query' : ''}.`),
  );
  // A click on an overlay makes the patch under the pointer the query (self-attention only: queries are then the same tokens).
  const pickPatch = (c: HTMLCanvasElement) => {
    if (map.L !== map.S) return;
    c.addEventListener('click', (e: MouseEvent) => {
      const r = c.getBoundingClientRect();
      const i = Math.min(grid.g - 1, Math.max(0, Math.floor(((e.clientY - r.top) / r.height) * grid.g)));
      const j = Math.min(grid.g - 1, Math.max(0, Math.floor(((e.clientX - r.left) / r.width) * grid.g)));
      overlayQuery = (grid.cls ? 1 : 0) + i * grid.g + j;
      render();
    });
  };
  const figs = el('div', { class: 'head-grid', id: 'overlays' });
  const add = (kind: 'head' | 'mean', head: number | undefined, caption: string) => {
    const values = attentionOverPatches(mapSlice(map, 0, head ?? 'mean'), map.L, map.S, grid, overlayQuery);
    drawnOverlays.push({ kind, path: map.path, ...(head !== undefined ? { head } : {}), g: grid.g, values });
    const c = overlay(img, values, grid.g, `${map.path}, ${caption}: ${who}'s attention over the image`);
    c.id = head === undefined ? 'overlay-mean' : `overlay-head-${head}`;
    pickPatch(c);
    figs.append(el('figure', { class: 'head-cell' }, c, el('figcaption', {}, caption)));
  };
  if (map.heads > 1) add('mean', undefined, `mean over ${map.heads} heads`);
  for (let h = 0; h < map.heads; h++) add(map.heads > 1 ? 'head' : 'mean', map.heads > 1 ? h : undefined, `head ${h}`);
  section.append(figs);
  // Rollout: every self-attention map (L = S) with this grid, one per block, in the order they ran.
  const layers = maps.filter((x) => x.L === x.S && x.S === map.S && x.data && x.itemsRead > 0);
  const r = map.L === map.S ? rollout(layers.map((x) => meanOverHeads(x.data!.subarray(0, x.heads * x.S * x.S), x.heads, x.S)), map.S) : undefined;
  if (r) {
    const values = attentionOverPatches(Float32Array.from(r), map.S, map.S, grid, overlayQuery);
    drawnOverlays.push({ kind: 'rollout', path: map.path, g: grid.g, values });
    const c = overlay(img, values, grid.g, `attention rollout over ${layers.length} layers: ${who}'s attention over the image`, 240);
    c.id = 'overlay-rollout';
    pickPatch(c);
    section.append(
      el('h3', {}, 'Attention rollout'),
      el('p', { class: 'hint' }, `Abnar & Zuidema (2020): the ${layers.length} self-attention maps over these ${map.S} tokens, each averaged over heads, given the residual (0.5·A + 0.5·I, rows renormalised) and multiplied in layer order (R = Â_n ⋯ Â_1); ${who}'s row.`),
      el('figure', {}, c, el('figcaption', {}, `rollout of ${layers.map((x) => x.path).join(' → ')}`)),
    );
  }
  return section;
}

function render(): void {
  hideTooltip();
  drawnOverlays = [];
  const app = document.getElementById('app')!;
  app.replaceChildren();
  if (moduleView) {
    app.append(...moduleSection(moduleView));
    return;
  }
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
  const st = statusLine();
  if (st) app.append(st);
  const lw = warningsView();
  if (lw) app.append(lw);
  const err = errorView();
  if (err) app.append(err);
  if (!result) return;
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
    case 'image':
      if (moduleView) void useImage(m.fileName, m.bytes);
      return;
    case 'module': {
      // A block run still going is dropped: its replies carry an older sequence number.
      moduleView = m;
      imagePending = false;
      // A run that was not on the image (the command ran the module afresh) lets it go: its size may differ.
      if (!m.inputFrom) {
        image = undefined;
        overlayQuery = 'default';
      }
      block = undefined;
      result = undefined;
      runError = undefined;
      ++runSeq;
      settle(runSeq);
      phase = 'idle';
      render();
      return;
    }
    case 'init': {
      performance.mark('af:init');
      moduleView = undefined;
      init = m;
      if (m.block?.id !== block?.id) {
        weights = undefined;
        weightsReport = undefined;
        engine?.post({ type: 'clearWeights' });
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
      resolveError = false;
      state.blockId = block?.id;
      save();
      if (block) {
        const d = state.dims;
        if (d && block.dims.every((x) => x.name in d) && block.dims.some((x) => d[x.name] !== x.value)) requestDims(d);
        else {
          state.dims = undefined;
          schedule();
        }
      } else render();
      return;
    }
    case 'resolved': {
      if (!block || m.seq !== resolveSeq) return;
      if (m.issues.length) {
        // A refused input clears the last run's state too: nothing stale stays on the page.
        ++runSeq;
        settle(runSeq);
        phase = 'failed';
        runError = m.issues.join('; ');
        resolveError = true;
        result = undefined;
        warnings = [];
        render();
        return;
      }
      resolveError = false;
      block = { ...block, dims: block.dims.map((d) => ({ ...d, value: m.dims[d.name] ?? d.value })), inputs: m.inputs, outputs: m.outputs };
      schedule();
      return;
    }
    case 'weights': {
      if (!block) return;
      pendingWeights = { fileName: m.fileName, bytes: m.bytes };
      const b = block;
      // The worker keeps the parsed file; the page keeps the bytes for a worker started after Cancel.
      void currentEngine().then((e) => {
        const bytes = m.bytes.slice();
        e.post({ type: 'weights', block: b, seed: state.seed, fileName: m.fileName, bytes }, [bytes.buffer]);
      });
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
  const e = engine;
  if (!e) return;
  if (e.where === 'page') {
    e.post({ type: 'dispose' });
    return;
  }
  engine = undefined;
  engineReady = undefined;
  e.stop(runSeq);
  // A terminated worker's storages and device are gone with it.
  stats = { ...stats, liveStorages: 0 };
});

declare global {
  interface Window {
    /** Read-only view of what was drawn, for the browser tests. */
    __attentionForgePreview?: unknown;
  }
}

window.__attentionForgePreview = {
  get backend() {
    return device ? { kind: device.kind, adapter: device.adapter, reason: device.reason, limit: device.limit, where: device.where } : undefined;
  },
  get result() {
    return result;
  },
  get drawn() {
    return drawn && { ...drawn, values: Array.from(drawn.values) };
  },
  get heads() {
    return drawnHeads;
  },
  get gates() {
    return drawnGates.map((g) => ({ ...g, values: Array.from(g.values) }));
  },
  get firstHeatmapMs() {
    return firstHeatmapMs;
  },
  get runs() {
    return stats.runs;
  },
  get liveStorages() {
    return stats.liveStorages;
  },
  get gpuStats() {
    return stats.buffersCreated !== undefined ? { buffersCreated: stats.buffersCreated } : undefined;
  },
  get phase() {
    return phase;
  },
  get workers() {
    return { started: engineCount, terminated, where: engine?.where };
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
  get module() {
    return moduleView;
  },
  get image() {
    return image && { name: image.name, W: image.W, H: image.H, pending: imagePending, error: imageError };
  },
  get overlays() {
    return drawnOverlays.map((o) => ({ ...o, values: Array.from(o.values) }));
  },
  get settled() {
    return running;
  },
};

render();
void currentEngine();
post({ type: 'ready', ...(state.blockId ? { blockId: state.blockId } : {}) });
