/**
 * The CPU backends: storage is a `Float32Array`, kernels run synchronously.
 * `cpuReference` runs every kernel's TypeScript `cpu` reference — the
 * reference every other path is compared with. `cpu` (the default device)
 * runs the same references except where `wasm/fast.ts` has a fast one
 * (matmul, scaled dot-product attention, softmax, convolution, broadcast
 * arithmetic, copies and max pooling on WASM SIMD; other arithmetic, copies
 * and pooling without per-element offset tables or bounds checks) and
 * WebAssembly is available; it is the fallback wherever WebGPU is missing. Neither
 * validates shapes (kernels' `outputs()` did) nor knows an operation.
 */

import type { Backend, OutputSpec, Storage, TensorView } from './backend';
import type { CpuView, Kernel } from './kernels/kernel';
import { numel } from './kernels/kernel';
import { wasmKernels } from './wasm/index';
import { FAST_CPU, type FastCpu } from './wasm/fast';

export class CpuStorage implements Storage {
  constructor(
    readonly backend: Backend,
    readonly data: Float32Array,
  ) {}
  get size(): number {
    return this.data.length;
  }
}

class CpuBackend implements Backend {
  readonly name = 'cpu';

  /** `fast`: use the WASM implementations where they exist and WebAssembly compiles here. */
  constructor(private readonly fast: boolean) {}

  private fastFor(kernel: string): FastCpu | undefined {
    return this.fast && wasmKernels() ? FAST_CPU.get(kernel) : undefined;
  }

  alloc(size: number): Storage {
    return new CpuStorage(this, new Float32Array(size));
  }

  upload(data: Float32Array): Storage {
    return new CpuStorage(this, Float32Array.from(data));
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
    const outs = outputs.map((o) => new Float32Array(numel(o.shape)));
    const fast = this.fastFor(kernel.name);
    if (fast) fast(views, attrs as never, outs);
    else kernel.cpu(views, attrs, outs);
    return outs.map((d) => new CpuStorage(this, d));
  }

  release(): void {
    // Garbage collection reclaims typed arrays.
  }

  private data(s: Storage): Float32Array {
    if (!(s instanceof CpuStorage)) throw new Error(`cpu backend got storage of backend '${s.backend.name}'`);
    return s.data;
  }
}

/** The default CPU backend: WASM SIMD kernels where they exist, the references elsewhere (stateless, shared). */
export const cpu: Backend = new CpuBackend(true);

/** Only the TypeScript references: what tests compare the fast path with. */
export const cpuReference: Backend = new CpuBackend(false);
