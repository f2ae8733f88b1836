/**
 * The WASM SIMD kernels (wasm/kernels.ts, compiled at build time into
 * `kernels.generated.ts` as bytes): instantiated synchronously on first use
 * (the module is ~2.4 KB, under browsers' 4 KB limit for synchronous
 * compilation), with one growable linear memory used as a scratch arena —
 * callers ask for views of N floats, fill them, call a kernel, copy results
 * out; nothing stays allocated between calls. When WebAssembly or SIMD is
 * unavailable (or a CSP without 'wasm-unsafe-eval' forbids compiling),
 * `wasmKernels()` returns null and the CPU backend uses the TypeScript
 * references. It knows no tensor.
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
}

interface Exports {
  memory: WasmMemory;
  gemmNN(a: number, b: number, c: number, M: number, N: number, K: number): void;
  softmaxRows(p: number, rows: number, cols: number, scale: number, causal: number): void;
}

/** Scratch memory starts past the module's own data (it has none beyond the first page). */
const BASE = 65536;

export class WasmKernels {
  private views: Float32Array | null = null;

  constructor(private readonly x: Exports) {}

  /**
   * Lays out consecutive f32 regions of the given lengths (16-byte aligned)
   * and returns their byte addresses plus a view of the whole memory; the view
   * is valid until the next `arena` call.
   */
  arena(lengths: readonly number[]): { ptr: number[]; f32: Float32Array } {
    const ptr: number[] = [];
    let at = BASE;
    for (const n of lengths) {
      ptr.push(at);
      at += Math.ceil((n * 4) / 16) * 16;
    }
    const mem = this.x.memory;
    if (at > mem.buffer.byteLength) mem.grow(Math.ceil((at - mem.buffer.byteLength) / 65536));
    if (!this.views || this.views.buffer !== mem.buffer) this.views = new Float32Array(mem.buffer);
    return { ptr, f32: this.views };
  }

  /** C (M×N) = A (M×K) · B (K×N), row-major, at byte addresses. */
  gemmNN(a: number, b: number, c: number, M: number, N: number, K: number): void {
    this.x.gemmNN(a, b, c, M, N, K);
  }

  /** In-place softmax of `rows` rows of `cols` after multiplying by `scale`; `causal` masks j > i. */
  softmaxRows(p: number, rows: number, cols: number, scale: number, causal: boolean): void {
    this.x.softmaxRows(p, rows, cols, scale, causal ? 1 : 0);
  }
}

let instance: WasmKernels | null | undefined;

/** The kernels, or null where WebAssembly SIMD cannot be compiled here. */
export function wasmKernels(): WasmKernels | null {
  if (instance === undefined) {
    try {
      const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
      if (!api) throw new Error('no WebAssembly');
      const mod = new api.Module(KERNELS_WASM);
      instance = new WasmKernels(new api.Instance(mod, {}).exports as Exports);
    } catch {
      instance = null;
    }
  }
  return instance;
}
