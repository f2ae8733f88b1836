/**
 * The backend interface: where tensor storage lives and how a kernel runs on
 * it. The tensor core (`tensor.ts`) is backend-agnostic: shape, strides,
 * offset and every view (permute, view, expand, narrow…) are metadata it
 * handles itself; only work that reads or writes element values goes through
 * a `Backend`, one kernel at a time. This file holds types only; it does not
 * implement a backend (`cpu.ts` is the CPU reference; the WebGPU backend lives
 * in `webgpu/`) and it does not know any operation (`kernels/`).
 *
 * ## Execution model (tfjs / webgpu-torch style)
 *
 * - Ops are synchronous to *enqueue* and return `Tensor`s immediately; a GPU
 *   backend records/dispatches the kernel and returns storage whose contents
 *   are produced later. Reading values back is asynchronous:
 *   `await t.toArray()` / `await t.data()`. The CPU backend also offers
 *   `readSync` (`t.dataSync()`), which a GPU backend leaves undefined.
 * - Every tensor, whatever its dtype, is stored as 32-bit floats, so a
 *   storage is one `f32` buffer on every backend: `bool` is 0/1 and `int64`
 *   (index buffers such as Swin's `relative_position_index`) holds integers
 *   exact up to 2^24. The dtype is a tag on the tensor that ops check the way
 *   torch does (masks must be bool, indices integral).
 * - Storage is shared by views: `permute`, `transpose`, `view`, `expand`,
 *   `narrow`, `select`, `unsqueeze`… never call the backend. Kernels receive
 *   their inputs as strided views (`TensorView`: storage, shape, strides,
 *   offset) and write fresh contiguous outputs. A kernel that only handles
 *   contiguous inputs says so (`Kernel.contiguousInputs`), and the tensor core
 *   copies inputs with the `copy` kernel first.
 * - Storage is reference-free: a backend may pool and release buffers;
 *   `Tensor.dispose()` calls `release` when no other tensor shares it.
 *
 * ## Kernel anatomy (`kernels/ops/<op>.ts`, one registry `kernels/ops/index.ts`)
 *
 * Each kernel is a `Kernel<Attrs>` (see `kernels/kernel.ts`), all of it in its op's file:
 *   1. `outputs(inputs, attrs)` validates the inputs' shapes/dtypes and the
 *      attributes and throws a `TorchError` in exactly the cases torch raises,
 *      with torch's wording where practical; it returns the output specs
 *      (shape and dtype). It is pure and shared by every backend, so a GPU
 *      backend never has to re-validate.
 *   2. `wgsl(...)` returns the WGSL program for these shapes.
 *   3. `cpu(...)` is the reference implementation over typed arrays; `fast(...)`
 *      (optional) computes the same faster on WASM SIMD, and the default CPU
 *      backend prefers it where WebAssembly compiles.
 *   4. `tolerance` is the max abs error allowed against torch goldens per
 *      backend (1e-5 CPU, 1e-4 WebGPU; anything looser says why).
 *   5. `flops(...)` is what one call computes, by one rule set (`kernel.ts`);
 *      the tracer (`trace.ts`) reports nothing else.
 *
 * A backend's `run(kernel, inputs, attrs, outputs)` receives the validated
 * output specs and returns one new storage per output.
 */

import type { Kernel } from './kernels/kernel';

export type DType = 'float32' | 'bool' | 'int64';

/** A flat buffer of `size` f32 elements owned by one backend. */
export interface Storage {
  readonly backend: Backend;
  readonly size: number;
}

/** Shape, strides and dtype: what `Kernel.outputs` validates. */
export interface TensorMeta {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly dtype: DType;
}

/** A strided view over a storage: what a kernel reads. */
export interface TensorView extends TensorMeta {
  readonly storage: Storage;
}

/** One output of a kernel, always written contiguously (row-major) into fresh storage. */
export interface OutputSpec {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

export interface Backend {
  /** 'cpu', 'webgpu', …; shown in errors and in `attention-forge run`. */
  readonly name: string;
  /** Fresh storage of `size` elements, contents zero. */
  alloc(size: number): Storage;
  /** Fresh storage holding a copy of `data`. */
  upload(data: Float32Array): Storage;
  /** Overwrites the whole of `storage` with `data` (same length); used by `loadStateDict`. */
  write(storage: Storage, data: Float32Array): void;
  /** The storage's contents, once every kernel enqueued before has run. */
  read(storage: Storage): Promise<Float32Array>;
  /** Synchronous read; only backends that can (CPU) define it. */
  readSync?(storage: Storage): Float32Array;
  /**
   * Overwrites the whole of `dst` with `src` (same size) on the device, after the work enqueued
   * before; backends without `readSync` define it, so in-place writes (`t[i] = v`, `t.op_()`)
   * stay on the device.
   */
  copy?(src: Storage, dst: Storage): void;
  /**
   * Runs a kernel whose `outputs()` already validated `inputs` and produced
   * `outputs`; returns one fresh storage per output spec.
   */
  run<A>(kernel: Kernel<A>, inputs: readonly TensorView[], attrs: A, outputs: readonly OutputSpec[]): Storage[];
  /** The storage is no longer referenced by any tensor; the backend may reuse it. */
  release(storage: Storage): void;
}
