/**
 * The CPU backend: storage is a `Float32Array`, kernels run their `cpu`
 * reference synchronously. It is the reference every other backend is
 * compared with and the fallback wherever WebGPU is missing. It never
 * validates shapes (kernels' `outputs()` did) and knows no operation.
 */

import type { Backend, OutputSpec, Storage, TensorView } from './backend';
import type { CpuView, Kernel } from './kernels/kernel';
import { numel } from './kernels/kernel';

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
    kernel.cpu(views, attrs, outs);
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

/** The one CPU backend instance (stateless, so sharing it is safe). */
export const cpu: Backend = new CpuBackend();
