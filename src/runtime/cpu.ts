/**
 * The CPU backends: storage is a `Float32Array`, kernels run synchronously.
 * `cpuReference` runs every kernel's TypeScript `cpu` reference — the
 * reference every other path is compared with. `cpu` (the default device)
 * runs the same references except where a kernel has a fast path
 * (`Kernel.fast`, in its file: matmul, scaled dot-product attention, softmax,
 * convolution, broadcast arithmetic, copies, max pooling and interpolation on WASM SIMD;
 * other arithmetic, copies and pooling without per-element offset tables or
 * bounds checks) and WebAssembly is available; it is the fallback wherever WebGPU is missing. Neither
 * validates shapes (kernels' `outputs()` did) nor knows an operation.
 */

import type { Backend, OutputSpec, Storage, TensorView } from './backend';
import type { CpuView, Kernel } from './kernels/kernel';
import { numel } from './kernels/kernel';
import { wasmKernels } from './wasm/index';

export class CpuStorage implements Storage {
  constructor(
    readonly backend: Backend,
    /** The elements; after `release` an empty array (the buffer went back to the pool). */
    public data: Float32Array,
  ) {}
  get size(): number {
    return this.data.length;
  }
}

const MIB = 1 << 20;

/**
 * Released `Float32Array`s by length, for reuse by later allocations: the first touch of a fresh
 * 64 MB array costs ~250 ms of page faults here, a reused one only its zero-fill. Holds at most
 * `limitBytes`; beyond that released arrays are left to the garbage collector.
 */
export class CpuPool {
  private readonly free = new Map<number, Float32Array[]>();
  /** Bytes held for reuse now. */
  heldBytes = 0;
  /** Arrays created and arrays handed out again; for tests and the benchmark. */
  readonly stats = { created: 0, reused: 0 };

  constructor(readonly limitBytes = 256 * MIB) {}

  /**
   * An array of `n` elements, reused when one of that length is free: zero-filled, or with
   * `zero = false` holding whatever a reused array held (for callers that write every element;
   * a 64 MB fill costs several ms).
   */
  take(n: number, zero = true): Float32Array {
    const a = this.free.get(n)?.pop();
    if (a) {
      this.heldBytes -= a.byteLength;
      this.stats.reused++;
      return zero ? a.fill(0) : a;
    }
    this.stats.created++;
    return new Float32Array(n);
  }

  give(a: Float32Array): void {
    if (a.length === 0 || this.heldBytes + a.byteLength > this.limitBytes) return;
    const list = this.free.get(a.length);
    if (list) list.push(a);
    else this.free.set(a.length, [a]);
    this.heldBytes += a.byteLength;
  }

  /** Drops every held array. */
  trim(): void {
    this.free.clear();
    this.heldBytes = 0;
  }
}

const EMPTY = new Float32Array(0);

/**
 * Ownership: a storage's array belongs to the storage until `release`, which returns it to the
 * pool (a second `release` does nothing). `readSync` hands out that array itself, valid until the
 * storage is released; `read` and `Tensor.dataSync()`/`data()` hand out copies, which belong to
 * the caller and are never recycled.
 */
class CpuBackend implements Backend {
  readonly name = 'cpu';
  readonly pool = new CpuPool();

  /** `fast`: use the WASM implementations where they exist and WebAssembly compiles here. */
  constructor(private readonly fast: boolean) {}

  alloc(size: number): Storage {
    return new CpuStorage(this, this.pool.take(size));
  }

  upload(data: Float32Array): Storage {
    const a = this.pool.take(data.length, false);
    a.set(data);
    return new CpuStorage(this, a);
  }

  write(storage: Storage, data: Float32Array): void {
    this.data(storage).set(data);
  }

  read(storage: Storage): Promise<Float32Array> {
    return Promise.resolve(Float32Array.from(this.data(storage)));
  }

  readSync(storage: Storage): Float32Array {
    return this.data(storage);
  }

  run<A>(kernel: Kernel<A>, inputs: readonly TensorView[], attrs: A, outputs: readonly OutputSpec[]): Storage[] {
    const views: CpuView[] = inputs.map((v) => ({ shape: v.shape, strides: v.strides, offset: v.offset, dtype: v.dtype, data: this.data(v.storage) }));
    // A fast path writes every output element (see `Kernel.fast`), so its outputs are not zeroed.
    const wasm = this.fast && kernel.fast ? wasmKernels() : null;
    const outs = outputs.map((o) => this.pool.take(numel(o.shape), !wasm));
    if (wasm && kernel.fast) kernel.fast(views, attrs, outs, wasm);
    else kernel.cpu(views, attrs, outs);
    return outs.map((d) => new CpuStorage(this, d));
  }

  release(storage: Storage): void {
    if (!(storage instanceof CpuStorage) || storage.backend !== this || storage.data === EMPTY) return;
    const a = storage.data;
    storage.data = EMPTY;
    this.pool.give(a);
  }

  private data(s: Storage): Float32Array {
    if (!(s instanceof CpuStorage)) throw new Error(`cpu backend got storage of backend '${s.backend.name}'`);
    if (s.data === EMPTY) throw new Error("use of released CPU storage");
    return s.data;
  }
}

/** The default CPU backend: WASM SIMD kernels where they exist, the references elsewhere (shared; its pool holds released arrays). */
export const cpu: Backend & { readonly pool: CpuPool } = new CpuBackend(true);

/** Only the TypeScript references: what tests compare the fast path with. */
export const cpuReference: Backend & { readonly pool: CpuPool } = new CpuBackend(false);
