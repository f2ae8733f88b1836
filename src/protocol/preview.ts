/**
 * Messages between the extension and the block preview webview (issue 5), as discriminated
 * unions on `type`, with the validators each side runs on receipt: the webview is a separate,
 * untrusted context, and a malformed message is dropped rather than acted on. Also the state
 * the webview keeps with `getState`/`setState`, and its parser.
 *
 * The extension owns the catalog: it sends what the webview needs to build and feed one block
 * (its id and resolved parameters for `instantiateBlock`, its free dims and the concrete input and
 * output shapes at those dims) and re-evaluates shapes when the user changes a dim. The webview
 * owns the run: backend choice, weights, masks, tracing and drawing. Plain data only: this
 * module imports neither `vscode`, nor the DOM, nor the catalog, nor the runtime.
 */

import { isMap, type AttentionMap } from './preview-worker';

export type ParamScalar = number | boolean | string | null;

/** How the webview synthesises an input (the catalog's `Fill`, plus `randn`). */
export type InputFill = 'randn' | 'padding' | 'causal-ignore' | 'causal-keep' | 'causal-additive';
export const INPUT_FILLS: readonly InputFill[] = ['randn', 'padding', 'causal-ignore', 'causal-keep', 'causal-additive'];

/** One forward argument at concrete dims. */
export interface PreviewInput {
  name: string;
  shape: number[];
  dtype: 'float' | 'bool';
  fill: InputFill;
  /** The argument may be `null` (masks): the webview passes `null` when the mask is switched off. */
  optional: boolean;
}

export interface PreviewOutput {
  name: string;
  shape: number[];
}

/** A free input dimension the user may change (batch, length, H, W…). */
export interface PreviewDim {
  name: string;
  doc: string;
  value: number;
}

/** Everything the webview needs to build and run one block. */
export interface PreviewBlock {
  id: string;
  title: string;
  /** `(N, C, H, W)`-style layout, shown in the header. */
  layout: string;
  /** Every parameter, resolved and validated by the catalog: what `instantiateBlock` builds. */
  params: Record<string, ParamScalar>;
  dims: PreviewDim[];
  inputs: PreviewInput[];
  outputs: PreviewOutput[];
  /** Why the previewed variant differs from what was asked (baked choices), if it does. */
  notes: string[];
}

/** extension → webview: the block to preview (null with `error` when it cannot be previewed). */
export interface PreviewInitMessage {
  type: 'init';
  block: PreviewBlock | null;
  /** Every catalog block, for the panel's own block picker. */
  blocks: { id: string; title: string }[];
  error?: string;
}

/** extension → webview: shapes at the dims of a `resolve` request (issues instead when invalid). */
export interface PreviewResolvedMessage {
  type: 'resolved';
  seq: number;
  dims: Record<string, number>;
  inputs: PreviewInput[];
  outputs: PreviewOutput[];
  issues: string[];
}

/** extension → webview: a `.safetensors` file the user picked, as bytes. */
export interface PreviewWeightsMessage {
  type: 'weights';
  fileName: string;
  bytes: Uint8Array;
}

/** extension → webview: picking or reading a weights file failed (or was cancelled: `cancelled`). */
export interface PreviewWeightsErrorMessage {
  type: 'weightsError';
  message: string;
  cancelled: boolean;
}

/** One traced module call of a user module's run (the tracer's row, as the block table shows it). */
export interface PreviewModuleLayer {
  path: string;
  type: string;
  depth: number;
  outputShapes: number[][];
  params: number;
  flops: number;
  activationBytes: number;
}

/**
 * extension → webview: the user's own `nn.Module` (issue 14), run by the extension host's
 * interpreter: the per-layer shapes, or the one-line reason it could not run (`error`, with the
 * layers traced before it stopped, if any).
 */
export interface PreviewModuleMessage {
  type: 'module';
  /** The file's name (as shown) and the class. */
  file: string;
  className: string;
  inputs: PreviewOutput[];
  outputs: PreviewOutput[];
  layers: PreviewModuleLayer[];
  totalParams: number;
  totalFlops: number;
  activationBytes: number;
  forwardMs: number;
  /** The attention the run computed: every softmax over the last axis and every SDPA, by layer and head. */
  maps?: AttentionMap[];
  /** Whether the panel offers *Compare with PyTorch* (a trusted workspace). */
  compareAvailable?: boolean;
  /** The last *Compare with PyTorch* of this run: the largest |Δ| per layer, or why it could not run. */
  compare?: ModuleCompare;
  /** The run's first input was given rather than drawn at random: the name of what it came from (an image file), as shown. */
  inputFrom?: string;
  /** The checkpoint the run loaded (non-strictly: the keys it left at their initial values and those it ignored); absent for seeded weights. */
  weights?: { file: string; missing: string[]; unexpected: string[] };
  error?: string;
}

/** Compare with PyTorch: the interpreter it ran, torch's version, and each module's largest |Δ| (null with a note where they cannot be compared). */
export interface ModuleCompare {
  python: string;
  torch?: string;
  error?: string;
  layers: { path: string; type: string; maxAbsDiff: number | null; note?: string }[];
}

/** extension → webview: an image file (PNG or JPEG) the user picked as the module's input, as bytes; the page decodes it. */
export interface PreviewImageMessage {
  type: 'image';
  fileName: string;
  bytes: Uint8Array;
}

export type PreviewToWebview = PreviewInitMessage | PreviewResolvedMessage | PreviewWeightsMessage | PreviewWeightsErrorMessage | PreviewModuleMessage | PreviewImageMessage;

/** webview → extension: the script listens; reply with `init`. */
export interface PreviewReadyMessage {
  type: 'ready';
  /** The block the restored state shows, so a reloaded panel keeps its block. */
  blockId?: string;
}

/** webview → extension: evaluate the shapes at these dims; reply with `resolved`. */
export interface PreviewResolveMessage {
  type: 'resolve';
  seq: number;
  blockId: string;
  dims: Record<string, number>;
}

/** webview → extension: switch the panel to another block (re-sends `init`). */
export interface PreviewPickBlockMessage {
  type: 'pickBlock';
  blockId: string;
}

/** webview → extension: let the user pick a `.safetensors` file; reply with `weights` or `weightsError`. */
export interface PreviewLoadWeightsMessage {
  type: 'loadWeights';
}

/** webview → extension: let the user pick a checkpoint (`.pt`, `.pth`, `.bin`, `.safetensors`) for the module shown; the extension runs it again and replies with `module`. */
export interface PreviewLoadModuleWeightsMessage {
  type: 'loadModuleWeights';
}

/** webview → extension: run the module shown in real PyTorch and compare it layer by layer (trusted workspaces only); the extension replies with `module`. */
export interface PreviewCompareModuleMessage {
  type: 'compareModule';
}

/** webview → extension: let the user pick an image (PNG, JPEG) as the module's input; reply with `image` (nothing when cancelled). */
export interface PreviewLoadImageMessage {
  type: 'loadImage';
}

/**
 * webview → extension: run the module shown again with this tensor as its first input (the
 * picked image, resized and normalised, `(N, C, H, W)`); the other inputs stay seeded. `from`
 * names where it came from, as shown. Reply with `module`.
 */
export interface PreviewModuleInputMessage {
  type: 'moduleInput';
  from: string;
  shape: number[];
  data: Float32Array;
}

/** webview → extension: what ran where, for the output channel (and the end-to-end test). */
export interface PreviewReportMessage {
  type: 'report';
  backend: 'webgpu' | 'cpu';
  adapter: string;
  reason: string;
  forwardMs: number;
  error?: string;
}

export type PreviewFromWebview = PreviewReadyMessage | PreviewResolveMessage | PreviewPickBlockMessage | PreviewLoadWeightsMessage | PreviewLoadModuleWeightsMessage | PreviewCompareModuleMessage | PreviewLoadImageMessage | PreviewModuleInputMessage | PreviewReportMessage;

// ------------------------------------------------------------------ validation on receipt

type Obj = Record<string, unknown>;

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

const MAX_ID = 200;
/** Dims beyond this are refused before anything is allocated (2^24 keeps int64 exact too). */
export const MAX_DIM = 1 << 24;

function isId(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0 && x.length < MAX_ID;
}

function isDimValue(x: unknown): x is number {
  return Number.isSafeInteger(x) && (x as number) >= 1 && (x as number) <= MAX_DIM;
}

function isDims(x: unknown): x is Record<string, number> {
  return isObj(x) && Object.keys(x).length <= 16 && Object.entries(x).every(([k, v]) => k.length < 32 && isDimValue(v));
}

function isShape(x: unknown): x is number[] {
  return Array.isArray(x) && x.length <= 8 && x.every((d) => Number.isSafeInteger(d) && d >= 0);
}

function isScalar(x: unknown): x is ParamScalar {
  return x === null || typeof x === 'number' || typeof x === 'boolean' || typeof x === 'string';
}

function isInput(x: unknown): x is PreviewInput {
  return (
    isObj(x) &&
    typeof x.name === 'string' &&
    isShape(x.shape) &&
    (x.dtype === 'float' || x.dtype === 'bool') &&
    typeof x.fill === 'string' &&
    (INPUT_FILLS as readonly string[]).includes(x.fill) &&
    typeof x.optional === 'boolean'
  );
}

function isOutput(x: unknown): x is PreviewOutput {
  return isObj(x) && typeof x.name === 'string' && isShape(x.shape);
}

function isStrings(x: unknown): x is string[] {
  return Array.isArray(x) && x.every((s) => typeof s === 'string');
}

function isBlock(x: unknown): x is PreviewBlock {
  return (
    isObj(x) &&
    isId(x.id) &&
    typeof x.title === 'string' &&
    typeof x.layout === 'string' &&
    isObj(x.params) &&
    Object.values(x.params).every(isScalar) &&
    Array.isArray(x.dims) &&
    x.dims.every((d) => isObj(d) && typeof d.name === 'string' && typeof d.doc === 'string' && isDimValue(d.value)) &&
    Array.isArray(x.inputs) &&
    x.inputs.every(isInput) &&
    Array.isArray(x.outputs) &&
    x.outputs.every(isOutput) &&
    isStrings(x.notes)
  );
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0;
}

function isModuleLayer(x: unknown): x is PreviewModuleLayer {
  return (
    isObj(x) &&
    typeof x.path === 'string' &&
    typeof x.type === 'string' &&
    Number.isSafeInteger(x.depth) &&
    Array.isArray(x.outputShapes) &&
    x.outputShapes.every(isShape) &&
    isCount(x.params) &&
    isCount(x.flops) &&
    isCount(x.activationBytes)
  );
}

/** The message when `x` is a well-formed extension → webview message, else undefined. */
export function parsePreviewToWebview(x: unknown): PreviewToWebview | undefined {
  if (!isObj(x)) return undefined;
  switch (x.type) {
    case 'init':
      return (x.block === null || isBlock(x.block)) &&
        Array.isArray(x.blocks) &&
        x.blocks.every((b) => isObj(b) && isId(b.id) && typeof b.title === 'string') &&
        (x.error === undefined || typeof x.error === 'string')
        ? (x as unknown as PreviewInitMessage)
        : undefined;
    case 'resolved':
      return Number.isSafeInteger(x.seq) && isDims(x.dims) && Array.isArray(x.inputs) && x.inputs.every(isInput) && Array.isArray(x.outputs) && x.outputs.every(isOutput) && isStrings(x.issues)
        ? (x as unknown as PreviewResolvedMessage)
        : undefined;
    case 'weights':
    case 'image': {
      // Typed arrays may arrive as another view type or a bare ArrayBuffer, depending on the host's serializer.
      const bytes = asBytes(x.bytes);
      return typeof x.fileName === 'string' && bytes ? { type: x.type, fileName: x.fileName, bytes } : undefined;
    }
    case 'weightsError':
      return typeof x.message === 'string' && typeof x.cancelled === 'boolean' ? { type: 'weightsError', message: x.message, cancelled: x.cancelled } : undefined;
    case 'module':
      return typeof x.file === 'string' &&
        typeof x.className === 'string' &&
        Array.isArray(x.inputs) &&
        x.inputs.every(isOutput) &&
        Array.isArray(x.outputs) &&
        x.outputs.every(isOutput) &&
        Array.isArray(x.layers) &&
        x.layers.length <= 100_000 &&
        x.layers.every(isModuleLayer) &&
        isCount(x.totalParams) &&
        isCount(x.totalFlops) &&
        isCount(x.activationBytes) &&
        isCount(x.forwardMs) &&
        (x.maps === undefined || (Array.isArray(x.maps) && x.maps.length <= 64 && x.maps.every(isMap))) &&
        (x.weights === undefined || isModuleWeights(x.weights)) &&
        (x.compareAvailable === undefined || typeof x.compareAvailable === 'boolean') &&
        (x.compare === undefined || isCompare(x.compare)) &&
        (x.inputFrom === undefined || typeof x.inputFrom === 'string') &&
        (x.error === undefined || typeof x.error === 'string')
        ? (x as unknown as PreviewModuleMessage)
        : undefined;
    default:
      return undefined;
  }
}

function isCompare(c: unknown): boolean {
  const layer = (l: unknown) => isObj(l) && typeof l.path === 'string' && typeof l.type === 'string' && (l.maxAbsDiff === null || (typeof l.maxAbsDiff === 'number' && l.maxAbsDiff >= 0)) && (l.note === undefined || typeof l.note === 'string');
  return isObj(c) && typeof c.python === 'string' && (c.torch === undefined || typeof c.torch === 'string') && (c.error === undefined || typeof c.error === 'string') && Array.isArray(c.layers) && c.layers.length <= 100_000 && c.layers.every(layer);
}

function asBytes(b: unknown): Uint8Array | undefined {
  return b instanceof Uint8Array ? b : b instanceof ArrayBuffer ? new Uint8Array(b) : ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : undefined;
}

/** Values a given input may hold (3 × 1024 × 1024 is about 3.1 M): larger is refused before it is copied. */
export const MAX_INPUT_VALUES = 1 << 22;

/** Float32 data however the serializer delivered it (a Float32Array, another view, or its ArrayBuffer); undefined for anything else. */
function asFloats(d: unknown): Float32Array | undefined {
  if (d instanceof Float32Array) return d;
  const bytes = asBytes(d);
  if (!bytes || bytes.byteLength % 4) return undefined;
  // A copy: the view's offset need not be 4-aligned.
  return new Float32Array(bytes.slice().buffer);
}

/** The `moduleInput` message when its shape is 1 to 8 sizes ≥ 1, its data has exactly that many finite values, and it is not too large. */
function parseModuleInput(x: Obj): PreviewModuleInputMessage | undefined {
  if (typeof x.from !== 'string' || x.from.length > 500) return undefined;
  if (!Array.isArray(x.shape) || x.shape.length < 1 || x.shape.length > 8 || !x.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 1 && (d as number) <= MAX_DIM)) return undefined;
  const shape = x.shape as number[];
  const n = shape.reduce((p, d) => p * d, 1);
  if (n > MAX_INPUT_VALUES) return undefined;
  const data = asFloats(x.data);
  if (!data || data.length !== n) return undefined;
  for (const v of data) if (!Number.isFinite(v)) return undefined;
  return { type: 'moduleInput', from: x.from, shape: [...shape], data };
}

function isModuleWeights(w: unknown): boolean {
  const keys = (v: unknown) => Array.isArray(v) && v.length <= 100_000 && v.every((k) => typeof k === 'string');
  return isObj(w) && typeof w.file === 'string' && keys(w.missing) && keys(w.unexpected);
}

/** The message when `x` is a well-formed webview → extension message, else undefined. */
export function parsePreviewFromWebview(x: unknown): PreviewFromWebview | undefined {
  if (!isObj(x)) return undefined;
  switch (x.type) {
    case 'ready':
      if (x.blockId === undefined) return { type: 'ready' };
      return isId(x.blockId) ? { type: 'ready', blockId: x.blockId } : undefined;
    case 'resolve':
      return Number.isSafeInteger(x.seq) && isId(x.blockId) && isDims(x.dims) ? { type: 'resolve', seq: x.seq as number, blockId: x.blockId, dims: x.dims } : undefined;
    case 'pickBlock':
      return isId(x.blockId) ? { type: 'pickBlock', blockId: x.blockId } : undefined;
    case 'loadWeights':
      return { type: 'loadWeights' };
    case 'loadModuleWeights':
      return { type: 'loadModuleWeights' };
    case 'compareModule':
      return { type: 'compareModule' };
    case 'loadImage':
      return { type: 'loadImage' };
    case 'moduleInput':
      return parseModuleInput(x);
    case 'report':
      return (x.backend === 'webgpu' || x.backend === 'cpu') &&
        typeof x.adapter === 'string' &&
        typeof x.reason === 'string' &&
        typeof x.forwardMs === 'number' &&
        (x.error === undefined || typeof x.error === 'string')
        ? { type: 'report', backend: x.backend, adapter: x.adapter.slice(0, 500), reason: x.reason.slice(0, 500), forwardMs: x.forwardMs, ...(typeof x.error === 'string' ? { error: x.error.slice(0, 2000) } : {}) }
        : undefined;
    default:
      return undefined;
  }
}

// ------------------------------------------------------------------ webview state

/** Which attention view is shown: one head, or the mean over heads. */
export type HeadChoice = number | 'mean';

/** What the webview keeps across reloads with `getState`/`setState` (weights files are not kept). */
export interface PreviewState {
  blockId?: string;
  dims?: Record<string, number>;
  seed: number;
  causal: boolean;
  /** Padded keys at the end of each batch item (masks with fill `padding`). */
  padding: number[];
  head: HeadChoice;
  /** Which captured attention map is shown (index into the run's maps). */
  map: number;
  /** Batch item shown. */
  batch: number;
  /** The query pixel of the spatial view, as a flat index over H×W. */
  queryPixel: number;
  /** A module's image input: the normalisation's mean and std as typed (three numbers each), when changed. */
  imageMean?: string;
  imageStd?: string;
}

export const DEFAULT_PREVIEW_STATE: PreviewState = { seed: 0, causal: false, padding: [], head: 'mean', map: 0, batch: 0, queryPixel: 0 };

function nonNegInt(x: unknown, max: number): number | undefined {
  return Number.isSafeInteger(x) && (x as number) >= 0 && (x as number) <= max ? (x as number) : undefined;
}

/** The state when well-formed, field by field; anything malformed falls back to the default. */
export function parsePreviewState(x: unknown): PreviewState {
  const s: PreviewState = { ...DEFAULT_PREVIEW_STATE, padding: [] };
  if (!isObj(x)) return s;
  if (isId(x.blockId)) s.blockId = x.blockId;
  if (isDims(x.dims)) s.dims = x.dims;
  s.seed = nonNegInt(x.seed, 2 ** 31) ?? s.seed;
  if (typeof x.causal === 'boolean') s.causal = x.causal;
  if (Array.isArray(x.padding) && x.padding.length <= 1024 && x.padding.every((p) => nonNegInt(p, MAX_DIM) !== undefined)) s.padding = x.padding as number[];
  s.head = x.head === 'mean' ? 'mean' : (nonNegInt(x.head, 4096) ?? s.head);
  s.map = nonNegInt(x.map, 4096) ?? s.map;
  s.batch = nonNegInt(x.batch, MAX_DIM) ?? s.batch;
  s.queryPixel = nonNegInt(x.queryPixel, MAX_DIM) ?? s.queryPixel;
  if (typeof x.imageMean === 'string' && x.imageMean.length <= 200) s.imageMean = x.imageMean;
  if (typeof x.imageStd === 'string' && x.imageStd.length <= 200) s.imageStd = x.imageStd;
  return s;
}
