/**
 * The WASM SIMD kernels (wasm/kernels.ts, compiled at build time into
 * `kernels.generated.ts` as bytes) and the scratch arena in their linear
 * memory: callers ask for views of N floats, fill them, call a kernel, copy
 * results out; nothing stays allocated between calls. It knows no tensor.
 *
 * Compilation is synchronous on first use where the host allows it (Node,
 * workers). Chromium refuses to compile modules over 4 KB synchronously on
 * its main thread (this one is ~11 KB), so there the first call starts an
 * asynchronous compile and returns null until it has finished: the CPU
 * backend runs the TypeScript references meanwhile and the fast path from
 * then on (`wasmKernelsReady()` lets a caller wait for it). Where
 * WebAssembly or SIMD is unavailable, or a CSP without 'wasm-unsafe-eval'
 * forbids compiling, it stays null for good.
 *
 * Memory: the arena grows to the largest call's needs. The big operations
 * (matmul, softmax, broadcast arithmetic, copies) work in chunks of a few
 * MB, so the benchmark workloads, SAGAN's 4096×4096 attention map included,
 * stay far below `KEEP_BYTES` and keep one instance whose pages stay mapped
 * (growing it anew each call would fault in every page again); a linear
 * memory cannot shrink, so after a call that left it above `KEEP_BYTES` (the
 * weights path of attention, convolutions of large images) the instance is
 * dropped and the next call instantiates a fresh one from the compiled
 * module (microseconds, plus the growth).
 */

import { KERNELS_WASM } from './kernels.generated';

/** The parts of the WebAssembly API used here (typed locally: the runtime compiles without DOM or Node's wasm types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
  instantiate(bytes: Uint8Array, imports: object): Promise<{ readonly instance: { readonly exports: unknown } }>;
}

interface Exports {
  memory: WasmMemory;
  gemm(a: number, ars: number, acs: number, b: number, brs: number, bcs: number, c: number, ldc: number, M: number, N: number, K: number, work: number): void;
  gemmWorkFloats(): number;
  packedBFloats(K: number, N: number): number;
  packBPanels(b: number, brs: number, bcs: number, K: number, N: number, dst: number): void;
  gemmPackedWorkFloats(): number;
  gemmPacked(a: number, ars: number, acs: number, bp: number, c: number, ldc: number, M: number, N: number, K: number, work: number): void;
  flashAttention(q: number, qrs: number, k: number, krs: number, v: number, vrs: number, out: number, L: number, S: number, E: number, Ev: number, scale: number, causal: number, mask: number, work: number): void;
  flashWorkFloats(L: number, S: number, E: number, Ev: number): number;
  softmaxRows(p: number, rows: number, cols: number, scale: number, causal: number): void;
  addColVector(x: number, bias: number, rows: number, cols: number): void;
  binary2d(op: number, a: number, ars: number, acs: number, b: number, brs: number, bcs: number, out: number, rows: number, cols: number): void;
  gather3d(src: number, s0: number, s1: number, s2: number, dst: number, n0: number, n1: number, n2: number): void;
  maxPool2d(src: number, planes: number, H: number, W: number, kh: number, kw: number, sh: number, sw: number, OH: number, OW: number, dst: number): void;
}

/** Scratch memory starts past the module's own data (a few bytes in the first page). */
const BASE = 65536;
/** Floats of slack after each arena region: partial SIMD tiles may read (never write) a little past a region. */
const SLACK = 32;
/** A memory larger than this after a call is given back (the instance is re-created). */
const KEEP_BYTES = 32 << 20;

/** One region of the arena: its byte address and a Float32Array view of it. */
export interface Region {
  readonly ptr: number;
  readonly f32: Float32Array;
}

export class WasmKernels {
  private x: Exports | null;
  private views: Float32Array | null = null;

  /** `renew` instantiates a fresh copy synchronously; absent where the host only allows asynchronous instantiation. */
  constructor(
    first: Exports,
    private readonly renew?: () => Exports,
  ) {
    this.x = first;
  }

  private get exports(): Exports {
    if (!this.x) {
      this.x = (this.renew as () => Exports)();
      this.views = null;
    }
    return this.x;
  }

  /**
   * Lays out consecutive f32 regions of the given lengths (16-byte aligned,
   * with slack) and returns them; the views are valid until the next `arena`
   * or `done` call.
   */
  arena(lengths: readonly number[]): Region[] {
    const at: number[] = [];
    let end = BASE;
    for (const n of lengths) {
      at.push(end);
      end += Math.ceil(((n + SLACK) * 4) / 16) * 16;
    }
    const mem = this.exports.memory;
    if (end > mem.buffer.byteLength) mem.grow(Math.ceil((end - mem.buffer.byteLength) / 65536));
    if (!this.views || this.views.buffer !== mem.buffer) this.views = new Float32Array(mem.buffer);
    const v = this.views;
    return at.map((p, i) => ({ ptr: p, f32: v.subarray(p / 4, p / 4 + lengths[i]) }));
  }

  /** Ends a kernel call: drops an instance whose memory grew past `KEEP_BYTES`. */
  done(): void {
    if (this.renew && this.x && this.x.memory.buffer.byteLength > KEEP_BYTES) {
      this.x = null;
      this.views = null;
    }
  }

  /** Floats of work space `gemm` needs. */
  get gemmWork(): number {
    return this.exports.gemmWorkFloats();
  }

  /**
   * C (M×N, leading dim ldc) = A·B with A(i, k) at a + i·ars + k·acs and
   * B(k, j) at b + k·brs + j·bcs (byte addresses, element strides).
   */
  gemm(a: number, ars: number, acs: number, b: number, brs: number, bcs: number, c: number, ldc: number, M: number, N: number, K: number, work: number): void {
    this.exports.gemm(a, ars, acs, b, brs, bcs, c, ldc, M, N, K, work);
  }

  /** Floats `packBPanels` writes for a K×N operand. */
  packedBFloats(K: number, N: number): number {
    return this.exports.packedBFloats(K, N);
  }

  /** Packs B (K×N, B(k, j) at b + k·brs + j·bcs) once at `dst` for `gemmPacked`. */
  packBPanels(b: number, brs: number, bcs: number, K: number, N: number, dst: number): void {
    this.exports.packBPanels(b, brs, bcs, K, N, dst);
  }

  /** Floats of work space `gemmPacked` needs. */
  get gemmPackedWork(): number {
    return this.exports.gemmPackedWorkFloats();
  }

  /** `gemm` with B packed by `packBPanels` at `bp`. */
  gemmPacked(a: number, ars: number, acs: number, bp: number, c: number, ldc: number, M: number, N: number, K: number, work: number): void {
    this.exports.gemmPacked(a, ars, acs, bp, c, ldc, M, N, K, work);
  }

  flashWork(L: number, S: number, E: number, Ev: number): number {
    return this.exports.flashWorkFloats(L, S, E, Ev);
  }

  /**
   * One batch entry of fused attention with Q, K, V rows `qrs`, `krs`, `vrs` floats apart
   * (their elements contiguous); `mask` is an L×S additive mask's address or 0.
   */
  flashAttention(q: number, qrs: number, k: number, krs: number, v: number, vrs: number, out: number, L: number, S: number, E: number, Ev: number, scale: number, causal: boolean, mask: number, work: number): void {
    this.exports.flashAttention(q, qrs, k, krs, v, vrs, out, L, S, E, Ev, scale, causal ? 1 : 0, mask, work);
  }

  /** In-place softmax of `rows` rows of `cols` after multiplying by `scale`; `causal` masks j > i. */
  softmaxRows(p: number, rows: number, cols: number, scale: number, causal: boolean): void {
    this.exports.softmaxRows(p, rows, cols, scale, causal ? 1 : 0);
  }

  /**
   * out (rows×cols, row-major) = a ∘ b, a(i, j) at a + i·ars + j·acs and b likewise, column
   * strides 0 or 1; op 0 add, 1 sub, 2 mul, 3 div.
   */
  binary2d(op: number, a: number, ars: number, acs: number, b: number, brs: number, bcs: number, out: number, rows: number, cols: number): void {
    this.exports.binary2d(op, a, ars, acs, b, brs, bcs, out, rows, cols);
  }

  /** dst (n0×n1×n2, contiguous) = the view with element (i, j, k) at src + i·s0 + j·s1 + k·s2. */
  gather3d(src: number, s0: number, s1: number, s2: number, dst: number, n0: number, n1: number, n2: number): void {
    this.exports.gather3d(src, s0, s1, s2, dst, n0, n1, n2);
  }

  /** Max pooling of `planes` H×W planes into OH×OW, every kh×kw window (strides sh, sw) inside the input. */
  maxPool2d(src: number, planes: number, H: number, W: number, kh: number, kw: number, sh: number, sw: number, OH: number, OW: number, dst: number): void {
    this.exports.maxPool2d(src, planes, H, W, kh, kw, sh, sw, OH, OW, dst);
  }

  /** x (rows×cols) += bias broadcast over columns (bias has rows floats). */
  addColVector(x: number, bias: number, rows: number, cols: number): void {
    this.exports.addColVector(x, bias, rows, cols);
  }
}

let instance: WasmKernels | null | undefined;
let pending: Promise<void> | undefined;

function api(): WasmApi | undefined {
  return (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
}

/** The kernels, or null where WebAssembly SIMD cannot be compiled here (or, in a browser's main thread, not yet). */
export function wasmKernels(): WasmKernels | null {
  if (instance !== undefined) return instance;
  if (pending) return null;
  const wa = api();
  if (!wa) return (instance = null);
  try {
    const mod = new wa.Module(KERNELS_WASM);
    const make = () => new wa.Instance(mod, {}).exports as Exports;
    instance = new WasmKernels(make(), make);
  } catch {
    // Possibly only the synchronous size limit of a browser's main thread: try once asynchronously.
    pending = compileAsync(wa);
    return null;
  }
  return instance;
}

async function compileAsync(wa: WasmApi): Promise<void> {
  try {
    const { instance: inst } = await wa.instantiate(KERNELS_WASM, {});
    instance = new WasmKernels(inst.exports as Exports);
  } catch {
    instance = null;
  }
}

/** Resolves once the kernels are usable or known to be unavailable; true when they are. */
export async function wasmKernelsReady(): Promise<boolean> {
  if (wasmKernels()) return true;
  if (pending) await pending;
  return Boolean(instance);
}
