/**
 * The WASM SIMD kernels (wasm/kernels.ts, compiled at build time into
 * `kernels.generated.ts` as bytes, with their exports' type derived from the
 * AssemblyScript declarations) and the scratch arena in their linear
 * memory: callers ask for views of N floats, fill them, call a kernel
 * (`fn.<export>`), copy results out; nothing stays allocated between calls.
 * It knows no tensor and no op: the ops' fast paths are in their kernel files.
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

import { KERNELS_WASM, type KernelExports } from './kernels.generated';

/** The parts of the WebAssembly API used here (typed locally: the runtime compiles without DOM or Node's wasm types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
  instantiate(bytes: Uint8Array, imports: object): Promise<{ readonly instance: { readonly exports: unknown } }>;
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
  private x: KernelExports | null;
  private views: Float32Array | null = null;

  /** `renew` instantiates a fresh copy synchronously; absent where the host only allows asynchronous instantiation. */
  constructor(
    first: KernelExports,
    private readonly renew?: () => KernelExports,
  ) {
    this.x = first;
  }

  private get exports(): KernelExports {
    if (!this.x) {
      this.x = (this.renew as () => KernelExports)();
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

  /**
   * The module's exports, typed from their AssemblyScript declarations (`KernelExports`, generated
   * with the bytes by scripts/gen-wasm.ts): addresses are byte offsets into the arena, lengths and
   * strides are in floats, flags are 0 or 1. Valid until `done()`.
   */
  get fn(): KernelExports {
    return this.exports;
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
    const make = () => new wa.Instance(mod, {}).exports as KernelExports;
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
    instance = new WasmKernels(inst.exports as KernelExports);
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
