/**
 * The preview's engine: builds a block's compiled twin, feeds it synthetic inputs and masks,
 * runs one forward pass on a backend, and returns what the panel shows — a per-layer table in
 * the manner of torchinfo (path, type, output shape, parameters, FLOPs, activation memory), the
 * attention maps and gates computed on the way, and the time per forward. It is DOM-free, so
 * the same code runs in the webview (WebGPU or CPU) and in Node (tests and the benchmark).
 *
 * How it sees inside a block without touching the runtime or the generated code:
 * - the runtime's one tracer (`traceForward`, the same as `attention-forge run` and the
 *   benchmarks) wraps each submodule's `forward` and observes every kernel: per-layer output
 *   shapes, parameters, FLOPs (each kernel's own `flops`: QKᵀ and AV included) and activation
 *   memory, with totals that are the sums of the rows; it also hands the panel each kernel's
 *   outputs, so softmax outputs become attention maps and sigmoids gates;
 * - a *tap* backend wraps the real one (CPU or WebGPU): it asks the fused
 *   `scaled_dot_product_attention` kernel for its weights too (the path that materialises
 *   them), so SDPA blocks show maps as well, and says so (`RunResult.sdpaWeights`): the time
 *   reported is that of the path that ran. It also knows every storage allocated during a run
 *   and releases them afterwards, back to the backend's pool, which keeps memory flat over
 *   re-runs;
 * - a *meta* backend allocates nothing and computes nothing: a dry run on it yields every
 *   kernel's output shape before the real run, so a map larger than the adapter's
 *   `maxStorageBufferBindingSize` is reported before anything is dispatched.
 */

import type { Backend, OutputSpec, Storage, TensorView } from '../../src/runtime/backend';
import { cpu } from '../../src/runtime/cpu';
import type { AnyKernel, Kernel } from '../../src/runtime/kernels/kernel';
import { Generator, nn, ones, parseSafetensors, randn, Tensor, tensor, traceForward, triu } from '../../src/runtime/index';
import type { PreviewBlock, PreviewInput } from '../../src/protocol/preview';
import type { AttentionMap, Gate, LimitWarning, RunResult, RunSettings, WeightsReport } from '../../src/protocol/preview-worker';
import { instantiateBlock } from '../../src/twins/registry';

// ------------------------------------------------------------------ backends

/** A storage of the tap backend: the wrapped backend's storage. */
class TapStorage implements Storage {
  constructor(
    readonly backend: TapBackend,
    readonly inner: Storage,
  ) {}
  get size(): number {
    return this.inner.size;
  }
}

/** The attention weights a fused SDPA call computed for the preview. */
export interface CapturedWeights {
  readonly spec: OutputSpec;
  readonly storage: Storage;
}

/** Wraps a backend: tracks which storages are alive and captures fused SDPA's weights. */
export class TapBackend implements Backend {
  readonly name: string;
  readonly readSync?: (s: Storage) => Float32Array;
  /** Storages allocated and not released yet; tests assert it does not grow over re-runs. */
  readonly live = new Set<TapStorage>();
  /** Ask fused SDPA calls for their weights (one more output); `runOnce` and `dryRun` turn it on. */
  captureSdpaWeights = false;
  /** The weights of the last SDPA call that computed them for the preview, until taken. */
  private captured: CapturedWeights | null = null;
  /** Whether a fused SDPA ran its weights path for the preview since the last `resetPath()`. */
  sdpaWeights = false;

  constructor(readonly inner: Backend) {
    this.name = inner.name;
    const rs = inner.readSync;
    if (rs) this.readSync = (s) => rs.call(inner, this.unwrap(s));
  }

  private wrap(s: Storage): TapStorage {
    const t = new TapStorage(this, s);
    this.live.add(t);
    return t;
  }

  private unwrap(s: Storage): Storage {
    if (!(s instanceof TapStorage) || s.backend !== this) throw new Error(`storage of the '${s.backend.name}' backend given to the preview's tap`);
    return s.inner;
  }

  alloc(size: number): Storage {
    return this.wrap(this.inner.alloc(size));
  }
  upload(data: Float32Array): Storage {
    return this.wrap(this.inner.upload(data));
  }
  write(storage: Storage, data: Float32Array): void {
    this.inner.write(this.unwrap(storage), data);
  }
  read(storage: Storage): Promise<Float32Array> {
    return this.inner.read(this.unwrap(storage));
  }
  run<A>(kernel: Kernel<A>, inputs: readonly TensorView[], attrs: A, outputs: readonly OutputSpec[]): Storage[] {
    const ins = inputs.map((v) => ({ shape: v.shape, strides: v.strides, offset: v.offset, dtype: v.dtype, storage: this.unwrap(v.storage) }));
    const a = attrs as unknown as { needWeights?: boolean };
    if (kernel.name === 'scaled_dot_product_attention' && this.captureSdpaWeights && a.needWeights === false) {
      // Same kernel, weights path: one more output, the (…, L, S) weights, kept for the preview only.
      const k = kernel as AnyKernel;
      const withWeights = { ...a, needWeights: true };
      const specs = k.outputs(inputs, withWeights);
      const raw = this.inner.run(k, ins, withWeights, specs).map((s) => this.wrap(s));
      this.captured = { spec: specs[outputs.length], storage: raw[outputs.length] };
      this.sdpaWeights = true;
      return raw.slice(0, outputs.length);
    }
    return this.inner.run(kernel, ins, attrs, outputs).map((s) => this.wrap(s));
  }
  /** The weights the last fused SDPA call computed for the preview (once). */
  takeWeights(): CapturedWeights | null {
    const w = this.captured;
    this.captured = null;
    return w;
  }
  release(storage: Storage): void {
    const s = storage as TapStorage;
    if (!this.live.delete(s)) return;
    this.inner.release(s.inner);
  }
  /** Releases every live storage except `keep` (the parameters). */
  releaseAllBut(keep: ReadonlySet<Storage>): void {
    for (const s of [...this.live]) if (!keep.has(s)) this.release(s);
  }
}

class MetaStorage implements Storage {
  constructor(
    readonly backend: Backend,
    readonly size: number,
  ) {}
}

/** Shapes only: allocates nothing, computes nothing (reads give zeros). */
export class MetaBackend implements Backend {
  readonly name = 'meta';
  alloc(size: number): Storage {
    return new MetaStorage(this, size);
  }
  upload(data: Float32Array): Storage {
    return new MetaStorage(this, data.length);
  }
  write(): void {}
  read(s: Storage): Promise<Float32Array> {
    return Promise.resolve(new Float32Array(s.size));
  }
  readSync(s: Storage): Float32Array {
    return new Float32Array(s.size);
  }
  run<A>(_k: Kernel<A>, _i: readonly TensorView[], _a: A, outputs: readonly OutputSpec[]): Storage[] {
    return outputs.map((o) => new MetaStorage(this, numel(o.shape)));
  }
  release(): void {}
}

// ------------------------------------------------------------------ counting

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

// ------------------------------------------------------------------ results

// The results are plain data the worker sends to the page: their types live in the protocol.
export type { AttentionMap, Gate, LayerRow, LimitWarning, RunResult, RunSettings, WeightsReport } from '../../src/protocol/preview-worker';

/** Elements above which a captured map or gate is not read back (it would be too large to draw). */
export const MAX_READ = 1 << 24;

// ------------------------------------------------------------------ building

/** The block's twin with seeded torch-like initial values, on `device`. Throws when there is no twin. */
export function instantiate(block: PreviewBlock, seed: number, device: Backend): nn.Module {
  return instantiateBlock(block.id, block.params, { generator: new Generator(seed), device });
}

export function compareStateDict(module: nn.Module, sd: ReadonlyMap<string, Tensor>): WeightsReport {
  const own = module.stateDict();
  const missing = [...own.keys()].filter((k) => !sd.has(k));
  const unexpected = [...sd.keys()].filter((k) => !own.has(k));
  const mismatched: WeightsReport['mismatched'] = [];
  for (const [k, t] of sd) {
    const d = own.get(k);
    if (d && (d.shape.length !== t.shape.length || d.shape.some((s, i) => s !== t.shape[i]))) mismatched.push({ key: k, expected: [...d.shape], got: [...t.shape] });
  }
  return { missing, unexpected, mismatched, ok: !missing.length && !unexpected.length && !mismatched.length };
}

/** Parses a `.safetensors` file and checks it against the block; loads nothing (see `loadWeights`). */
export function checkWeights(module: nn.Module, bytes: Uint8Array): { sd: Map<string, Tensor>; report: WeightsReport } {
  const sd = parseSafetensors(bytes, cpu);
  return { sd, report: compareStateDict(module, sd) };
}

/** Loads a checked state_dict: all of it or, when the report is not clean, nothing. */
export function loadWeights(module: nn.Module, sd: ReadonlyMap<string, Tensor>): WeightsReport {
  const report = compareStateDict(module, sd);
  if (report.ok) module.loadStateDict(sd);
  return report;
}

function causalMask(spec: PreviewInput, device: Backend): Tensor {
  const [L, S] = spec.shape.slice(-2);
  const above = triu(ones([L, S], { dtype: 'bool', device }), 1);
  switch (spec.fill) {
    case 'causal-keep':
      return above.logicalNot();
    case 'causal-additive':
      return tensor(new Float32Array(L * S).map((_, i) => (i % S > Math.floor(i / S) ? -Infinity : 0)), { shape: [L, S], device });
    default:
      return above;
  }
}

function paddingMask(spec: PreviewInput, padding: readonly number[], device: Backend): Tensor {
  const [N, S] = spec.shape;
  const d = new Float32Array(N * S);
  for (let n = 0; n < N; n++) {
    const pad = Math.min(S, padding[n] ?? 0);
    for (let s = S - pad; s < S; s++) d[n * S + s] = 1;
  }
  return tensor(d, { shape: [N, S], dtype: 'bool', device });
}

/** The forward arguments for the block's inputs under the settings (masks off give `null`). */
export function makeInputs(inputs: readonly PreviewInput[], settings: RunSettings, device: Backend): (Tensor | null)[] {
  const gen = new Generator(settings.seed + 7919);
  return inputs.map((spec) => {
    if (spec.fill === 'randn') return randn(spec.shape, gen, device);
    if (spec.fill === 'padding') return spec.optional && !settings.padding.some((p) => p > 0) ? null : paddingMask(spec, settings.padding, device);
    return spec.optional && !settings.causal ? null : causalMask(spec, device);
  });
}

// ------------------------------------------------------------------ classification

interface Context {
  batch: number;
  H?: number;
  W?: number;
  channels?: number;
}

function contextOf(block: PreviewBlock): Context {
  const dim = (n: string) => block.dims.find((d) => d.name === n)?.value;
  const x = block.inputs[0];
  const image = x && x.shape.length === 4;
  return { batch: dim('N') ?? dim('B') ?? 1, H: dim('H'), W: dim('W'), channels: image ? x.shape[1] : undefined };
}

function normDim(dim: number, rank: number): number {
  return dim < 0 ? dim + rank : dim;
}

function classifyMap(path: string, source: string, shape: readonly number[], ctx: Context): AttentionMap {
  const L = shape[shape.length - 2];
  const S = shape[shape.length - 1];
  const lead = numel(shape.slice(0, -2));
  let heads = 1;
  if (shape.length >= 4) heads = shape[shape.length - 3];
  else if (shape.length === 3 && lead % ctx.batch === 0 && lead > ctx.batch) heads = lead / ctx.batch;
  const m: AttentionMap = { path, source, shape: [...shape], items: lead / heads, heads, L, S, data: null, itemsRead: 0, channel: false };
  if (ctx.H !== undefined && ctx.W !== undefined) {
    if (L === ctx.H * ctx.W) m.grid = { H: ctx.H, W: ctx.W };
    if (S === ctx.H * ctx.W) m.keyGrid = { H: ctx.H, W: ctx.W };
    else if (m.grid && S === Math.floor(ctx.H / 2) * Math.floor(ctx.W / 2)) m.keyGrid = { H: Math.floor(ctx.H / 2), W: Math.floor(ctx.W / 2) };
  }
  if (!m.grid && ctx.channels !== undefined && L === ctx.channels && S === ctx.channels) m.channel = true;
  return m;
}

function classifyGate(path: string, shape: readonly number[], ctx: Context): Gate {
  const per = numel(shape) / Math.max(1, shape[0]);
  const trailing = shape.slice(1).filter((d) => d !== 1);
  let kind: Gate['kind'] = 'other';
  if (ctx.H !== undefined && ctx.W !== undefined && trailing.length === 2 && trailing[0] === ctx.H && trailing[1] === ctx.W && per === ctx.H * ctx.W) kind = 'spatial';
  else if (trailing.length === 1 && (ctx.channels === undefined || per === ctx.channels || shape.length <= 3)) kind = 'channel';
  return { path, shape: [...shape], kind, data: null };
}

// ------------------------------------------------------------------ running

export interface PreparedRun {
  module: nn.Module;
  tap: TapBackend;
  /** Storages the module owns (kept across runs). */
  keep: Set<Storage>;
}

/**
 * The block's twin on a tap over `device`: built on the CPU (seeded init, optional state_dict),
 * then moved. Returns the weights report when a state_dict was given and did not match (then
 * nothing is loaded and the seeded weights are used).
 */
export function prepare(block: PreviewBlock, seed: number, device: Backend, sd?: ReadonlyMap<string, Tensor>): PreparedRun & { weights?: WeightsReport } {
  const module = instantiate(block, seed, cpu);
  let weights: WeightsReport | undefined;
  if (sd) weights = loadWeights(module, sd);
  const tap = device instanceof TapBackend ? device : new TapBackend(device);
  module.to(tap);
  const keep = new Set<Storage>();
  for (const [, t] of module.stateDict()) keep.add(t.storage);
  for (const [, p] of module.namedParameters()) keep.add(p.storage);
  for (const [, b] of module.namedBuffers()) keep.add(b.storage);
  return { module, tap, keep, ...(weights ? { weights } : {}) };
}

/** A dry run on the meta backend: output shapes of every kernel, and those exceeding `limit` bytes. */
export function dryRun(block: PreviewBlock, settings: RunSettings, limit: number, info?: { layers: number }): LimitWarning[] {
  const meta = new MetaBackend();
  const tap = new TapBackend(meta);
  tap.captureSdpaWeights = true;
  const module = instantiate(block, settings.seed, tap);
  const warnings: LimitWarning[] = [];
  const args = makeInputs(block.inputs, settings, tap);
  const trace = traceForward(module, () => (module.forward as (...a: unknown[]) => unknown)(...args), {
    onKernel: (k) => {
      const w = k.op === 'scaled_dot_product_attention' ? tap.takeWeights() : null;
      const all = [...k.outputs.map((o) => ({ shape: o.shape, attention: k.op === 'softmax' })), ...(w ? [{ shape: w.spec.shape, attention: true }] : [])];
      for (const o of all) {
        const bytes = numel(o.shape) * 4;
        if (bytes > limit) warnings.push({ path: k.layer.path || '(block)', kernel: k.op, shape: [...o.shape], bytes, limit, attention: o.attention });
      }
    },
  });
  if (info) info.layers = trace.layers.length;
  return warnings;
}

/** What a run reports while it goes: the layer whose call started last (its index among the calls). */
export interface RunProgress {
  phase: 'forward' | 'reading';
  layer?: string;
  index?: number;
}

/**
 * Reads the first items of a captured map that fit `MAX_READ` elements (all of them for any
 * map that fits): a map too large to read whole is still drawn for its first items, which is
 * what a forced run on a large input shows. A copy that belongs to the caller.
 */
async function readItems(tap: TapBackend, m: AttentionMap, storage: Storage): Promise<void> {
  const per = m.heads * m.L * m.S;
  const n = Math.min(m.items, Math.floor(MAX_READ / Math.max(1, per)));
  if (n === 0) return;
  const all = await tap.read(storage);
  m.data = n === m.items ? all : all.slice(0, n * per);
  m.itemsRead = n;
}

/** One forward pass with tracing and capture; every storage it allocated is released before it returns. */
export async function runOnce(run: PreparedRun, block: PreviewBlock, settings: RunSettings, onProgress?: (p: RunProgress) => void): Promise<RunResult> {
  const { module, tap } = run;
  const ctx = contextOf(block);
  const maps: { map: AttentionMap; storage: Storage }[] = [];
  const gates: { gate: Gate; storage: Storage }[] = [];
  tap.captureSdpaWeights = true;
  tap.sdpaWeights = false;
  try {
    // The inputs are built before the timed, traced forward: they are not the block's work.
    const args = makeInputs(block.inputs, settings, tap);
    const t0 = performance.now();
    let lastLayer: unknown;
    let started = 0;
    const trace = traceForward(module, () => (module.forward as (...a: unknown[]) => unknown)(...args), {
      onKernel: (k) => {
        const path = k.layer.path || '(block)';
        if (onProgress && k.layer !== lastLayer) {
          lastLayer = k.layer;
          started++;
          onProgress({ phase: 'forward', layer: path, index: started });
        }
        if (k.op === 'softmax') {
          const a = k.attrs as { dim: number; log: boolean };
          const shape = k.outputs[0].shape;
          if (a.log) return;
          if (shape.length >= 2 && normDim(a.dim, shape.length) === shape.length - 1) maps.push({ map: classifyMap(path, k.op, shape, ctx), storage: k.outputs[0].storage });
          else gates.push({ gate: classifyGate(path, shape, ctx), storage: k.outputs[0].storage });
        } else if (k.op === 'scaled_dot_product_attention') {
          const w = tap.takeWeights() ?? (k.outputs[1] ? { spec: { shape: k.outputs[1].shape, dtype: k.outputs[1].dtype }, storage: k.outputs[1].storage } : null);
          if (w) maps.push({ map: classifyMap(path, k.op, w.spec.shape, ctx), storage: w.storage });
        } else if (k.op === 'unary' && (k.attrs as { op: string }).op === 'sigmoid') {
          gates.push({ gate: classifyGate(path, k.outputs[0].shape, ctx), storage: k.outputs[0].storage });
        }
      },
    });
    const out = trace.result;
    const outputs = (Array.isArray(out) ? out : [out]).filter((o): o is Tensor => o instanceof Tensor);
    // Reading back waits for the GPU: the timing covers the whole forward.
    onProgress?.({ phase: 'reading' });
    for (const m of maps) await readItems(tap, m.map, m.storage);
    for (const g of gates) if (numel(g.gate.shape) <= MAX_READ) g.gate.data = await tap.read(g.storage);
    if (outputs[0]) await outputs[0].data();
    const forwardMs = performance.now() - t0;
    const names = block.outputs.map((o) => o.name);
    return {
      layers: trace.layers.map((l) => ({ path: l.path || '(block)', type: l.type, depth: l.depth, outputShapes: l.outputShapes.map((s) => [...s]), params: l.parameters, flops: l.flops, activationBytes: l.activationBytes })),
      maps: maps.map((m) => m.map),
      gates: gates.map((g) => g.gate),
      outputs: outputs.map((o, i) => ({ name: names[i] ?? `output ${i}`, shape: [...o.shape] })),
      totalParams: trace.totals.parameters,
      totalFlops: trace.totals.flops,
      activationBytes: trace.totals.activationBytes,
      forwardMs,
      sdpaWeights: tap.sdpaWeights,
    };
  } finally {
    tap.captureSdpaWeights = false;
    tap.takeWeights();
    // Views share storage and nothing here is used again: release everything the run made.
    tap.releaseAllBut(run.keep);
  }
}

/** A head's map, or the mean over heads, for one item: L×S values. */
export function mapSlice(m: AttentionMap, item: number, head: number | 'mean'): Float32Array {
  const { L, S, heads } = m;
  const out = new Float32Array(L * S);
  if (!m.data) return out;
  const base = item * heads * L * S;
  if (head === 'mean') {
    for (let h = 0; h < heads; h++) {
      const o = base + h * L * S;
      for (let i = 0; i < L * S; i++) out[i] += m.data[o + i] / heads;
    }
  } else out.set(m.data.subarray(base + head * L * S, base + (head + 1) * L * S));
  return out;
}
