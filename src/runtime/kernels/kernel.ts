/**
 * The shape every kernel shares (see the anatomy in `../backend.ts`): its
 * name, validation and output shapes, the WGSL program, the CPU reference,
 * an optional WASM fast path, the tolerance against torch, and the FLOP
 * count the tracer reports. Each kernel is one file under `ops/` and
 * `registry.ts` is the only list of them. Plus the small helpers CPU
 * references use to walk strided inputs and torch's broadcasting rule. No
 * kernel is defined here and nothing here allocates tensors: kernels see
 * only metadata, typed arrays, WGSL strings and the WASM arena.
 */

import type { DType, OutputSpec, TensorMeta } from '../backend';
import { TorchError } from '../errors';
import type { WasmKernels } from '../wasm/index';

/** A strided view whose storage is a CPU typed array. */
export interface CpuView extends TensorMeta {
  readonly data: Float32Array;
}

/**
 * What the WebGPU backend dispatches for one kernel call. The WebGPU engineer
 * owns the details (bind group layout conventions, uniform packing); bindings
 * are, in order, the inputs (read-only storage), the outputs (read-write
 * storage) and, when present, one uniform buffer.
 */
export interface WgslProgram {
  /** WGSL source; also the pipeline cache key together with `entryPoint`. */
  readonly code: string;
  readonly entryPoint?: string;
  readonly workgroups: readonly [number, number, number];
  readonly uniforms?: ArrayBuffer;
}

export interface Tolerance {
  /** Max abs error against torch goldens on the CPU backend. */
  readonly cpu: number;
  /** Max abs error against torch goldens on WebGPU. */
  readonly webgpu: number;
  /** Required when either is looser than the defaults (1e-5, 1e-4). */
  readonly why?: string;
}

export const DEFAULT_TOLERANCE: Tolerance = { cpu: 1e-5, webgpu: 1e-4 };

export interface Kernel<A> {
  readonly name: string;
  /** Validates inputs and attrs (throwing `TorchError` where torch raises) and returns the output specs. */
  outputs(inputs: readonly TensorMeta[], attrs: A): OutputSpec[];
  /** The CPU reference: reads strided inputs, writes each output (contiguous, zero-filled) in place. */
  cpu(inputs: readonly CpuView[], attrs: A, outputs: Float32Array[]): void;
  /**
   * The fast CPU path (optional): the same results as `cpu` within `tolerance.cpu`, on the WASM
   * SIMD kernels (`wasm`, its arena and exports) or tighter TypeScript loops; the default CPU
   * backend runs it instead of `cpu` where WebAssembly compiles. Its outputs arrive
   * uninitialised (pooled arrays are not zeroed for it): it writes every element, or hands the
   * case to the reference through `reference()`, which zeroes them first.
   * `runtime-fast-cpu.test.ts` compares the two.
   */
  fast?(inputs: readonly CpuView[], attrs: A, outputs: Float32Array[], wasm: WasmKernels): void;
  /** The WebGPU program for these shapes (shapes baked in; device limits checked by the backend). */
  wgsl(inputs: readonly TensorMeta[], attrs: A, outputs: readonly OutputSpec[]): WgslProgram;
  /** The kernel only reads contiguous inputs (offset 0, row-major strides); the core copies others first. */
  readonly contiguousInputs?: boolean;
  readonly tolerance: Tolerance;
  /**
   * Floating-point operations of one call, for the tracer (`trace.ts`), by one rule set:
   * a multiply–add is 2 (matmul, convolution, attention's QKᵀ and AV, each tap of an
   * interpolation); elementwise ops 1 per output element; reductions, pooling, scans (cumsum)
   * and top-k selection 1 per input element; softmax and normalisation 5 per element (softmax:
   * max, subtract, exp, sum, divide; a norm: centre, square-sum or running statistics, scale,
   * weight, bias); copies, concatenation, indexing and nearest-neighbour resampling 0.
   */
  flops(inputs: readonly TensorMeta[], attrs: A, outputs: readonly OutputSpec[]): number;
}

/** Runs `k`'s CPU reference from a fast path, on outputs zeroed first as `cpu` expects them. */
export function reference<A>(k: Kernel<A>, inputs: readonly CpuView[], attrs: A, outputs: Float32Array[]): void {
  for (const o of outputs) o.fill(0);
  k.cpu(inputs, attrs, outputs);
}

/** `flops` of data movement (copies, concatenation, indexing). */
export function noFlops(): number {
  return 0;
}

/** `flops` of elementwise kernels: one per output element. */
export function flopsPerOutput(_inputs: readonly TensorMeta[], _attrs: unknown, outputs: readonly OutputSpec[]): number {
  return outputs[0] ? numel(outputs[0].shape) : 0;
}

/** `flops` of reductions and pooling: one per input element read. */
export function flopsPerInput(inputs: readonly TensorMeta[]): number {
  return inputs[0] ? numel(inputs[0].shape) : 0;
}

/** A kernel with its attribute type erased, as the registry stores it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyKernel = Kernel<any>;

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = s;
    s *= shape[i];
  }
  return st;
}

export function isContiguous(m: TensorMeta): boolean {
  let s = 1;
  for (let i = m.shape.length - 1; i >= 0; i--) {
    if (m.shape[i] !== 1 && m.strides[i] !== s) return false;
    s *= m.shape[i];
  }
  return true;
}

/**
 * Storage offsets of every element of a strided view in row-major order
 * (`shape` may be a broadcast target: pass strides with 0 on broadcast dims).
 */
export function stridedOffsets(shape: readonly number[], strides: readonly number[], offset: number): Int32Array {
  const n = numel(shape);
  const out = new Int32Array(n);
  const nd = shape.length;
  if (nd === 0) {
    if (n) out[0] = offset;
    return out;
  }
  // Innermost dim as a tight loop; outer dims by an odometer.
  const inner = shape[nd - 1];
  const innerStride = strides[nd - 1];
  const idx = new Array<number>(nd).fill(0);
  let base = offset;
  for (let i = 0; i < n; i += inner) {
    for (let j = 0; j < inner; j++) out[i + j] = base + j * innerStride;
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      base += strides[d];
      if (idx[d] < shape[d]) break;
      base -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** The elements of a view in row-major order, as a new contiguous array (or the storage itself when it already is). */
export function contiguousData(v: CpuView): Float32Array {
  const n = numel(v.shape);
  if (isContiguous(v)) return v.offset === 0 && v.data.length === n ? v.data : v.data.subarray(v.offset, v.offset + n);
  const offs = stridedOffsets(v.shape, v.strides, v.offset);
  const out = new Float32Array(n);
  const d = v.data;
  for (let i = 0; i < n; i++) out[i] = d[offs[i]];
  return out;
}

/** Strides of `m` broadcast to `shape` (right-aligned; 0 on broadcast dims). */
export function broadcastStrides(m: TensorMeta, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length).fill(0);
  const off = shape.length - m.shape.length;
  for (let i = 0; i < m.shape.length; i++) out[off + i] = m.shape[i] === 1 ? 0 : m.strides[i];
  return out;
}

/** torch's broadcasting rule, with torch's error message. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new TorchError('RuntimeError', `The size of tensor a (${da}) must match the size of tensor b (${db}) at non-singleton dimension ${i}`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

export function sameDType(a: DType, b: DType): boolean {
  return a === b;
}
