/**
 * Messages between the preview page and the preview's worker (issue 14): the page owns the DOM
 * and the extension round trips; the worker (`webview/preview/worker.ts`, bundled as
 * `dist/webview/preview-worker.js`) owns the backend, the block's module, its weights and the
 * forward pass, so the page stays responsive while a large input runs and Cancel can terminate
 * the worker. Both directions are discriminated unions on `type` with a validator each side runs
 * on receipt: a message of an unknown type or with a malformed field is dropped, never acted on.
 * Also the plain-data results a run produces (the per-layer rows, attention maps, gates and
 * binding-limit warnings), which the worker sends and the page draws. Plain data only: no DOM,
 * no runtime, no catalog.
 */

import { INPUT_FILLS, MAX_DIM } from './preview';
import type { PreviewBlock } from './preview';

// ------------------------------------------------------------------ results

export interface LayerRow {
  path: string;
  type: string;
  depth: number;
  /** Output shapes of this call (a tuple gives several; `null` outputs are skipped). */
  outputShapes: number[][];
  /** Parameters of the module and its children. */
  params: number;
  /** FLOPs of every kernel run inside the call (children included). */
  flops: number;
  /** Bytes of every kernel output produced inside the call (children included). */
  activationBytes: number;
}

/** An attention map as captured: (…lead, L, S), row-stochastic over S. */
export interface AttentionMap {
  /** The layer that computed it (`''` is the block itself). */
  path: string;
  /** `softmax` or `scaled_dot_product_attention`. */
  source: string;
  shape: number[];
  /** Items (batch, or windows) × heads × L × S, row-major. */
  items: number;
  heads: number;
  L: number;
  S: number;
  /**
   * The values read back: the first `itemsRead` items (all of them unless the whole map is over
   * `MAX_READ` elements; none when one item alone is).
   */
  data: Float32Array | null;
  /** How many items `data` holds (0 when `data` is null). */
  itemsRead: number;
  /** Query grid when L = H·W (image blocks): the spatial view. */
  grid?: { H: number; W: number };
  /** Key grid when S = H·W. */
  keyGrid?: { H: number; W: number };
  /** L = S = channels: a C×C channel-attention map. */
  channel: boolean;
}

/** A gate: a sigmoid (or a softmax over a non-last dim) that scales features. */
export interface Gate {
  path: string;
  shape: number[];
  /** `channel`: one weight per channel (bars); `spatial`: an H×W mask (image); `other`: a grid. */
  kind: 'channel' | 'spatial' | 'other';
  data: Float32Array | null;
}

/** A kernel output that would not fit one storage binding of the device. */
export interface LimitWarning {
  path: string;
  kernel: string;
  shape: number[];
  bytes: number;
  limit: number;
  attention: boolean;
}

export interface RunResult {
  layers: LayerRow[];
  maps: AttentionMap[];
  gates: Gate[];
  outputs: { name: string; shape: number[] }[];
  /** The tracer's totals: equal to the block row's parameters, FLOPs and activation bytes. */
  totalParams: number;
  totalFlops: number;
  activationBytes: number;
  /** Milliseconds of the forward pass that ran (see `sdpaWeights`), including reading the results back. */
  forwardMs: number;
  /**
   * True when a fused SDPA ran its weights path so that the panel could draw its maps: the
   * time is then that of the weights path, not of the fused kernel the module runs elsewhere.
   */
  sdpaWeights: boolean;
}

/** The user's run settings (from the panel's controls). */
export interface RunSettings {
  seed: number;
  causal: boolean;
  /** Padded keys at the end of each batch item. */
  padding: readonly number[];
}

/** A key/shape report on a state_dict: what is missing, unexpected or mis-shaped. */
export interface WeightsReport {
  missing: string[];
  unexpected: string[];
  mismatched: { key: string; expected: number[]; got: number[] }[];
  ok: boolean;
}

// ------------------------------------------------------------------ page → worker

/** Run the block once (after a dry run that may refuse it; `force` runs a CPU refusal anyway). */
export interface WorkerRunRequest {
  type: 'run';
  seq: number;
  block: PreviewBlock;
  settings: RunSettings;
  force: boolean;
}

/** A `.safetensors` file to check against the block (and use from the next run on when it matches). */
export interface WorkerWeightsRequest {
  type: 'weights';
  block: PreviewBlock;
  seed: number;
  fileName: string;
  bytes: Uint8Array;
}

/** Back to seeded weights. */
export interface WorkerClearWeightsRequest {
  type: 'clearWeights';
}

/** Release every storage (the page is going away). */
export interface WorkerDisposeRequest {
  type: 'dispose';
}

export type WorkerRequest = WorkerRunRequest | WorkerWeightsRequest | WorkerClearWeightsRequest | WorkerDisposeRequest;

// ------------------------------------------------------------------ worker → page

/** The backend the worker picked, once, before its first answer. */
export interface WorkerDeviceMessage {
  type: 'device';
  kind: 'webgpu' | 'cpu';
  adapter: string;
  reason: string;
  /** Largest storage binding; attention maps above it are refused before running. */
  limit: number;
}

export type RunPhase = 'checking' | 'building' | 'forward' | 'reading';

/** Where a run is: its phase and, during the forward, the layer that last ran a kernel. */
export interface WorkerProgressMessage {
  type: 'progress';
  seq: number;
  phase: RunPhase;
  /** The layer's path (`(block)` for the block itself). */
  layer?: string;
  /** Layer calls started so far, and how many the dry run counted. */
  index?: number;
  total?: number;
}

/** The dry run found outputs over the binding limit: nothing was run. */
export interface WorkerRefusedMessage {
  type: 'refused';
  seq: number;
  warnings: LimitWarning[];
}

export interface WorkerStats {
  /** Storages the module's tap holds (the module's own, between runs). */
  liveStorages: number;
  /** WebGPU buffers created so far (WebGPU only). */
  buffersCreated?: number;
  /** Runs completed by this worker. */
  runs: number;
}

export interface WorkerDoneMessage {
  type: 'done';
  seq: number;
  result: RunResult;
  /** `warnings` the run went ahead despite (a forced CPU run), for the panel's note. */
  warnings: LimitWarning[];
  /** Set when the weights in use were found not to match at build time (nothing loaded). */
  weightsReport?: { fileName: string; report: WeightsReport };
  stats: WorkerStats;
}

export interface WorkerFailedMessage {
  type: 'failed';
  seq: number;
  message: string;
}

export interface WorkerWeightsCheckedMessage {
  type: 'weightsChecked';
  fileName: string;
  report: WeightsReport;
  /** The file could not be read at all. */
  error?: string;
}

export interface WorkerDisposedMessage {
  type: 'disposed';
  stats: WorkerStats;
}

export type WorkerReply = WorkerDeviceMessage | WorkerProgressMessage | WorkerRefusedMessage | WorkerDoneMessage | WorkerFailedMessage | WorkerWeightsCheckedMessage | WorkerDisposedMessage;

// ------------------------------------------------------------------ validation

type Obj = Record<string, unknown>;

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isSeq(x: unknown): x is number {
  return Number.isSafeInteger(x) && (x as number) >= 0;
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0;
}

function isShape(x: unknown): x is number[] {
  return Array.isArray(x) && x.length <= 8 && x.every((d) => Number.isSafeInteger(d) && d >= 0);
}

function isStr(x: unknown, max = 100_000): x is string {
  return typeof x === 'string' && x.length <= max;
}

function isStrings(x: unknown): x is string[] {
  return Array.isArray(x) && x.every((s) => isStr(s, 1000));
}

function isDimValue(x: unknown): boolean {
  return Number.isSafeInteger(x) && (x as number) >= 1 && (x as number) <= MAX_DIM;
}

function isBlock(x: unknown): x is PreviewBlock {
  return (
    isObj(x) &&
    isStr(x.id, 200) &&
    x.id.length > 0 &&
    isStr(x.title) &&
    isStr(x.layout) &&
    isObj(x.params) &&
    Object.values(x.params).every((v) => v === null || ['number', 'boolean', 'string'].includes(typeof v)) &&
    Array.isArray(x.dims) &&
    x.dims.every((d) => isObj(d) && isStr(d.name, 32) && isStr(d.doc) && isDimValue(d.value)) &&
    Array.isArray(x.inputs) &&
    x.inputs.every((i) => isObj(i) && isStr(i.name) && isShape(i.shape) && (i.dtype === 'float' || i.dtype === 'bool') && (INPUT_FILLS as readonly unknown[]).includes(i.fill) && typeof i.optional === 'boolean') &&
    Array.isArray(x.outputs) &&
    x.outputs.every((o) => isObj(o) && isStr(o.name) && isShape(o.shape)) &&
    isStrings(x.notes)
  );
}

function isSettings(x: unknown): x is RunSettings {
  return isObj(x) && isSeq(x.seed) && typeof x.causal === 'boolean' && Array.isArray(x.padding) && x.padding.length <= 1024 && x.padding.every((p) => isSeq(p) && p <= MAX_DIM);
}

function toBytes(b: unknown): Uint8Array | undefined {
  return b instanceof Uint8Array ? b : b instanceof ArrayBuffer ? new Uint8Array(b) : ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : undefined;
}

/** The request when `x` is a well-formed page → worker message, else undefined. */
export function parseWorkerRequest(x: unknown): WorkerRequest | undefined {
  if (!isObj(x)) return undefined;
  switch (x.type) {
    case 'run':
      return isSeq(x.seq) && isBlock(x.block) && isSettings(x.settings) && typeof x.force === 'boolean' ? { type: 'run', seq: x.seq, block: x.block, settings: x.settings, force: x.force } : undefined;
    case 'weights': {
      const bytes = toBytes(x.bytes);
      return isBlock(x.block) && isSeq(x.seed) && isStr(x.fileName, 1000) && bytes ? { type: 'weights', block: x.block, seed: x.seed, fileName: x.fileName, bytes } : undefined;
    }
    case 'clearWeights':
      return { type: 'clearWeights' };
    case 'dispose':
      return { type: 'dispose' };
    default:
      return undefined;
  }
}

function isWarning(x: unknown): x is LimitWarning {
  return isObj(x) && isStr(x.path) && isStr(x.kernel, 200) && isShape(x.shape) && isCount(x.bytes) && isCount(x.limit) && typeof x.attention === 'boolean';
}

function isGrid(x: unknown): boolean {
  return x === undefined || (isObj(x) && isSeq(x.H) && isSeq(x.W));
}

function isData(x: unknown, max: number): boolean {
  return x === null || (x instanceof Float32Array && x.length <= max);
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function isMap(x: unknown): x is AttentionMap {
  return (
    isObj(x) &&
    isStr(x.path) &&
    isStr(x.source, 200) &&
    isShape(x.shape) &&
    isSeq(x.items) &&
    isSeq(x.heads) &&
    isSeq(x.L) &&
    isSeq(x.S) &&
    isSeq(x.itemsRead) &&
    (x.itemsRead as number) <= (x.items as number) &&
    isData(x.data, numel(x.shape)) &&
    (x.data === null || (x.data as Float32Array).length === (x.itemsRead as number) * (x.heads as number) * (x.L as number) * (x.S as number)) &&
    isGrid(x.grid) &&
    isGrid(x.keyGrid) &&
    typeof x.channel === 'boolean'
  );
}

function isGate(x: unknown): x is Gate {
  return isObj(x) && isStr(x.path) && isShape(x.shape) && (x.kind === 'channel' || x.kind === 'spatial' || x.kind === 'other') && isData(x.data, numel(x.shape));
}

function isRow(x: unknown): x is LayerRow {
  return isObj(x) && isStr(x.path) && isStr(x.type, 1000) && isSeq(x.depth) && Array.isArray(x.outputShapes) && x.outputShapes.every(isShape) && isCount(x.params) && isCount(x.flops) && isCount(x.activationBytes);
}

function isResult(x: unknown): x is RunResult {
  return (
    isObj(x) &&
    Array.isArray(x.layers) &&
    x.layers.every(isRow) &&
    Array.isArray(x.maps) &&
    x.maps.every(isMap) &&
    Array.isArray(x.gates) &&
    x.gates.every(isGate) &&
    Array.isArray(x.outputs) &&
    x.outputs.every((o) => isObj(o) && isStr(o.name) && isShape(o.shape)) &&
    isCount(x.totalParams) &&
    isCount(x.totalFlops) &&
    isCount(x.activationBytes) &&
    isCount(x.forwardMs) &&
    typeof x.sdpaWeights === 'boolean'
  );
}

function isReport(x: unknown): x is WeightsReport {
  return (
    isObj(x) &&
    isStrings(x.missing) &&
    isStrings(x.unexpected) &&
    Array.isArray(x.mismatched) &&
    x.mismatched.every((m) => isObj(m) && isStr(m.key, 1000) && isShape(m.expected) && isShape(m.got)) &&
    typeof x.ok === 'boolean'
  );
}

function isStats(x: unknown): x is WorkerStats {
  return isObj(x) && isSeq(x.liveStorages) && isSeq(x.runs) && (x.buffersCreated === undefined || isSeq(x.buffersCreated));
}

const PHASES: readonly RunPhase[] = ['checking', 'building', 'forward', 'reading'];

/** The reply when `x` is a well-formed worker → page message, else undefined. */
export function parseWorkerReply(x: unknown): WorkerReply | undefined {
  if (!isObj(x)) return undefined;
  switch (x.type) {
    case 'device':
      return (x.kind === 'webgpu' || x.kind === 'cpu') && isStr(x.adapter, 1000) && isStr(x.reason, 2000) && isCount(x.limit) ? (x as unknown as WorkerDeviceMessage) : undefined;
    case 'progress':
      return isSeq(x.seq) &&
        (PHASES as readonly unknown[]).includes(x.phase) &&
        (x.layer === undefined || isStr(x.layer, 1000)) &&
        (x.index === undefined || isSeq(x.index)) &&
        (x.total === undefined || isSeq(x.total))
        ? (x as unknown as WorkerProgressMessage)
        : undefined;
    case 'refused':
      return isSeq(x.seq) && Array.isArray(x.warnings) && x.warnings.every(isWarning) ? (x as unknown as WorkerRefusedMessage) : undefined;
    case 'done':
      return isSeq(x.seq) &&
        isResult(x.result) &&
        Array.isArray(x.warnings) &&
        x.warnings.every(isWarning) &&
        isStats(x.stats) &&
        (x.weightsReport === undefined || (isObj(x.weightsReport) && isStr(x.weightsReport.fileName, 1000) && isReport(x.weightsReport.report)))
        ? (x as unknown as WorkerDoneMessage)
        : undefined;
    case 'failed':
      return isSeq(x.seq) && isStr(x.message) ? { type: 'failed', seq: x.seq, message: x.message } : undefined;
    case 'weightsChecked':
      return isStr(x.fileName, 1000) && isReport(x.report) && (x.error === undefined || isStr(x.error)) ? (x as unknown as WorkerWeightsCheckedMessage) : undefined;
    case 'disposed':
      return isStats(x.stats) ? { type: 'disposed', stats: x.stats } : undefined;
    default:
      return undefined;
  }
}

/**
 * The input a memory refusal offers instead: every sequence or spatial dim (all but batch and
 * channels) halved, rounded up; undefined when none can shrink. Pure, so the page and its tests
 * agree on what the button asks for.
 */
export function halvedDims(dims: readonly { name: string; doc: string; value: number }[]): Record<string, number> | undefined {
  const fixed = (d: { name: string; doc: string }) => /^(N|B|C)$/.test(d.name) || /^(batch|channels)\b/.test(d.doc);
  let changed = false;
  const out: Record<string, number> = {};
  for (const d of dims) {
    const v = !fixed(d) && d.value > 1 ? Math.ceil(d.value / 2) : d.value;
    if (v !== d.value) changed = true;
    out[d.name] = v;
  }
  return changed ? out : undefined;
}
