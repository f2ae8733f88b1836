/**
 * The tensor core: a `Tensor` is a storage plus shape, strides, offset and a
 * dtype tag, exactly as in torch, so views (`permute`, `transpose`, `view`,
 * `expand`, `narrow`, `select`, `unsqueeze`, `squeeze`, `chunk`, `split`)
 * share storage and never touch a backend, and `view` fails exactly where
 * torch's does. Everything that computes values goes through `runKernel`,
 * which validates with the kernel's `outputs()` and dispatches to the
 * tensors' backend. Ops enqueue synchronously and return tensors; values are
 * read back asynchronously (`toArray`, `data`) or, on the CPU, synchronously
 * (`dataSync`). This module does not implement any kernel math, neural
 * network layer or file format (see `kernels/`, `functional.ts`, `nn/`,
 * `safetensors.ts`).
 */

import type { Backend, DType, OutputSpec, TensorView } from './backend';
import { cpu } from './cpu';
import { fmtShape, normDim, TorchError } from './errors';
import { contiguousStrides, isContiguous, numel, type CpuView, type Kernel } from './kernels/kernel';
import { binary, type BinaryOp } from './kernels/ops/binary';
import { cat as catKernel } from './kernels/ops/cat';
import { copy } from './kernels/ops/copy';
import { gather } from './kernels/ops/gather';
import { indexCopy } from './kernels/ops/index-copy';
import { indexSelect } from './kernels/ops/index-select';
import { maskedFill } from './kernels/ops/masked-fill';
import { matmul as matmulKernel } from './kernels/ops/matmul';
import { reduce, type ReduceAttrs } from './kernels/ops/reduce';
import { softmax as softmaxKernel } from './kernels/ops/softmax';
import { unary, type UnaryOp } from './kernels/ops/unary';
import { where } from './kernels/ops/where';

export type { DType } from './backend';

export interface TensorOptions {
  readonly dtype?: DType;
  /** The backend that holds the tensor; `cpu` by default (torch's `device=`). */
  readonly device?: Backend;
}

/** A nested array of numbers/booleans, as `torch.tensor` accepts. */
export type NestedArray = number | boolean | readonly NestedArray[];

export class Tensor {
  constructor(
    readonly storage: TensorView['storage'],
    readonly shape: readonly number[],
    readonly strides: readonly number[],
    readonly offset: number,
    readonly dtype: DType,
  ) {}

  // ---- metadata ---------------------------------------------------------

  get device(): Backend {
    return this.storage.backend;
  }
  get ndim(): number {
    return this.shape.length;
  }
  dim(): number {
    return this.shape.length;
  }
  numel(): number {
    return numel(this.shape);
  }
  /** `size()` is the shape; `size(d)` one dim (negative allowed). */
  size(): number[];
  size(dim: number): number;
  size(dim?: number): number[] | number {
    return dim === undefined ? [...this.shape] : this.shape[normDim(dim, this.ndim)];
  }
  stride(): number[];
  stride(dim: number): number;
  stride(dim?: number): number[] | number {
    return dim === undefined ? [...this.strides] : this.strides[normDim(dim, this.ndim)];
  }
  isContiguous(): boolean {
    return isContiguous(this);
  }
  toString(): string {
    return `Tensor(shape=${fmtShape(this.shape)}, dtype=${this.dtype}, device=${this.device.name})`;
  }

  // ---- read back --------------------------------------------------------

  /** The elements in row-major order (a fresh array). */
  async data(): Promise<Float32Array> {
    const c = this.contiguous();
    try {
      const all = await c.device.read(c.storage);
      return all.length === this.numel() && c.offset === 0 ? all : all.slice(c.offset, c.offset + this.numel());
    } finally {
      // The copy a strided view was read through is nobody's: back to the pool (a scope that
      // also holds it releases it a second time, which does nothing).
      if (c.storage !== this.storage) c.dispose();
    }
  }
  /** Synchronous read; CPU tensors only. */
  dataSync(): Float32Array {
    const c = this.contiguous();
    try {
      if (!c.device.readSync) {
        const host = mirrors.get(c.storage);
        if (!host) throw new TorchError('RuntimeError', `dataSync() is not available on the ${c.device.name} backend: use await data()`);
        return host.slice(c.offset, c.offset + this.numel());
      }
      return c.device.readSync(c.storage).slice(c.offset, c.offset + this.numel());
    } finally {
      if (c.storage !== this.storage) c.dispose();
    }
  }
  /** Nested arrays like `tensor.tolist()`; booleans for bool tensors. */
  async toArray(): Promise<NestedArray> {
    return nest(await this.data(), this.shape, this.dtype);
  }
  /** The value of a one-element tensor (CPU: synchronous). */
  item(): number {
    if (this.numel() !== 1) throw new TorchError('RuntimeError', `a Tensor with ${this.numel()} elements cannot be converted to Scalar`);
    return this.dataSync()[0];
  }
  /** Releases the storage; this tensor and every view of it must not be used afterwards. */
  dispose(): void {
    this.device.release(this.storage);
  }

  // ---- views ------------------------------------------------------------

  private as(shape: readonly number[], strides: readonly number[], offset = this.offset): Tensor {
    return new Tensor(this.storage, shape, strides, offset, this.dtype);
  }

  /** `view(*shape)`: no copy; fails exactly where torch's view fails. */
  view(...shape: number[] | [readonly number[]]): Tensor {
    const target = inferSize(flatArgs(shape), this.numel());
    const st = computeStride(this.shape, this.strides, target);
    if (!st) {
      throw new TorchError(
        'RuntimeError',
        "view size is not compatible with input tensor's size and stride (at least one dimension spans across two contiguous subspaces). Use .reshape(...) instead.",
      );
    }
    return this.as(target, st);
  }

  /** `reshape(*shape)`: a view when possible, otherwise a contiguous copy. */
  reshape(...shape: number[] | [readonly number[]]): Tensor {
    const target = inferSize(flatArgs(shape), this.numel());
    const st = computeStride(this.shape, this.strides, target);
    if (st) return this.as(target, st);
    return this.contiguous().view(target);
  }

  flatten(startDim = 0, endDim = -1): Tensor {
    if (this.ndim === 0) return this.reshape(1);
    const s = normDim(startDim, this.ndim);
    const e = normDim(endDim, this.ndim);
    if (s > e) throw new TorchError('RuntimeError', 'flatten() has invalid args: start_dim cannot come after end_dim');
    if (s === e) return this;
    const shape = [...this.shape.slice(0, s), numel(this.shape.slice(s, e + 1)), ...this.shape.slice(e + 1)];
    return this.reshape(shape);
  }

  unflatten(dim: number, sizes: readonly number[]): Tensor {
    const d = normDim(dim, this.ndim);
    const inner = inferSize(sizes, this.shape[d]);
    return this.view([...this.shape.slice(0, d), ...inner, ...this.shape.slice(d + 1)]);
  }

  permute(...dims: number[] | [readonly number[]]): Tensor {
    const ds = flatArgs(dims);
    if (ds.length !== this.ndim) {
      throw new TorchError('RuntimeError', `permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = ${this.ndim} is not equal to len(dims) = ${ds.length}`);
    }
    const n = ds.map((d) => normDim(d, this.ndim));
    if (new Set(n).size !== n.length) throw new TorchError('RuntimeError', 'permute(): duplicate dims are not allowed.');
    return this.as(
      n.map((d) => this.shape[d]),
      n.map((d) => this.strides[d]),
    );
  }

  transpose(dim0: number, dim1: number): Tensor {
    if (this.ndim === 0) {
      normDim(dim0, 0);
      normDim(dim1, 0);
      return this;
    }
    const a = normDim(dim0, this.ndim);
    const b = normDim(dim1, this.ndim);
    const order = this.shape.map((_, i) => i);
    order[a] = b;
    order[b] = a;
    return this.permute(order);
  }

  /** `t()`: transpose of a ≤ 2-D tensor. */
  t(): Tensor {
    if (this.ndim > 2) throw new TorchError('RuntimeError', `t() expects a tensor with <= 2 dimensions, but self is ${this.ndim}D`);
    return this.ndim < 2 ? this : this.transpose(0, 1);
  }

  unsqueeze(dim: number): Tensor {
    const d = normDim(dim, this.ndim + 1);
    const shape = [...this.shape];
    const strides = [...this.strides];
    const st = d < this.ndim ? this.shape[d] * this.strides[d] : 1;
    shape.splice(d, 0, 1);
    strides.splice(d, 0, st);
    return this.as(shape, strides);
  }

  /** `squeeze()` drops every size-1 dim; `squeeze(dim)` only that one, when it is 1. */
  squeeze(dim?: number | readonly number[]): Tensor {
    const drop = new Set<number>();
    if (dim === undefined) this.shape.forEach((s, i) => s === 1 && drop.add(i));
    else for (const d of typeof dim === 'number' ? [dim] : dim) {
      if (this.ndim === 0) {
        normDim(d, 0);
        continue;
      }
      const n = normDim(d, this.ndim);
      if (this.shape[n] === 1) drop.add(n);
    }
    return this.as(
      this.shape.filter((_, i) => !drop.has(i)),
      this.strides.filter((_, i) => !drop.has(i)),
    );
  }

  /** `expand(*sizes)`: -1 keeps a dim; new leading dims may be added; size-1 dims stretch with stride 0. */
  expand(...sizes: number[] | [readonly number[]]): Tensor {
    const sz = flatArgs(sizes);
    if (sz.length < this.ndim) {
      throw new TorchError('RuntimeError', `expand(torch.FloatTensor{[${this.shape.join(', ')}]}, size=[${sz.join(', ')}]): the number of sizes provided (${sz.length}) must be greater or equal to the number of dimensions in the tensor (${this.ndim})`);
    }
    const lead = sz.length - this.ndim;
    const shape: number[] = [];
    const strides: number[] = [];
    for (let i = 0; i < sz.length; i++) {
      const j = i - lead;
      const target = sz[i];
      if (j < 0) {
        if (target < 0) throw new TorchError('RuntimeError', `The expanded size of the tensor (${target}) isn't allowed in a leading, non-existing dimension ${i}`);
        shape.push(target);
        strides.push(0);
        continue;
      }
      const cur = this.shape[j];
      if (target === -1 || target === cur) {
        shape.push(cur);
        strides.push(this.strides[j]);
      } else if (cur === 1) {
        shape.push(target);
        strides.push(0);
      } else {
        throw new TorchError('RuntimeError', `The expanded size of the tensor (${target}) must match the existing size (${cur}) at non-singleton dimension ${i}.  Target sizes: [${sz.join(', ')}].  Tensor sizes: [${this.shape.join(', ')}]`);
      }
    }
    return this.as(shape, strides);
  }

  expandAs(other: Tensor): Tensor {
    return this.expand(other.shape);
  }

  /** `narrow(dim, start, length)`: a view of `length` elements from `start`. */
  narrow(dim: number, start: number, length: number): Tensor {
    const d = normDim(dim, this.ndim);
    const n = this.shape[d];
    const s = start < 0 ? start + n : start;
    if (s < 0 || s > n) throw new TorchError('IndexError', `start out of range (expected to be in range of [${-n}, ${n}], but got ${start})`);
    if (length < 0 || s + length > n) throw new TorchError('RuntimeError', `start (${s}) + length (${length}) exceeds dimension size (${n}).`);
    const shape = [...this.shape];
    shape[d] = length;
    return this.as(shape, this.strides, this.offset + s * this.strides[d]);
  }

  /** Python slicing `x[..., start:end:step, ...]` on one dim; bounds clamp like Python. */
  slice(dim: number, start?: number, end?: number, step = 1): Tensor {
    if (step <= 0) throw new TorchError('ValueError', 'step must be greater than zero');
    const d = normDim(dim, this.ndim);
    const n = this.shape[d];
    const clamp = (v: number | undefined, def: number) => (v === undefined ? def : Math.min(Math.max(v < 0 ? v + n : v, 0), n));
    const s = clamp(start, 0);
    const e = Math.max(clamp(end, n), s);
    const shape = [...this.shape];
    const strides = [...this.strides];
    shape[d] = Math.ceil((e - s) / step);
    strides[d] = this.strides[d] * step;
    return this.as(shape, strides, this.offset + s * this.strides[d]);
  }

  /** `x.select(dim, i)` = `x[..., i, ...]`: drops the dim. */
  select(dim: number, index: number): Tensor {
    const d = normDim(dim, this.ndim);
    const n = this.shape[d];
    if (index < -n || index >= n) throw new TorchError('IndexError', `index ${index} is out of bounds for dimension ${d} with size ${n}`);
    const i = index < 0 ? index + n : index;
    return this.as(
      this.shape.filter((_, k) => k !== d),
      this.strides.filter((_, k) => k !== d),
      this.offset + i * this.strides[d],
    );
  }

  /** `split(size)` in pieces of `size` (the last may be smaller) or `split([sizes])` exactly. */
  split(splitSize: number | readonly number[], dim = 0): Tensor[] {
    const d = normDim(dim, this.ndim);
    const n = this.shape[d];
    if (typeof splitSize === 'number') {
      if (splitSize < 0) throw new TorchError('RuntimeError', `split expects split_size be non-negative, but got split_size=${splitSize}`);
      if (splitSize === 0 && n !== 0) throw new TorchError('RuntimeError', `split_size can only be 0 if dimension size is 0, but got dimension size of ${n}`);
      const out: Tensor[] = [];
      for (let s = 0; s < n; s += splitSize) out.push(this.narrow(d, s, Math.min(splitSize, n - s)));
      return out.length ? out : [this];
    }
    const total = splitSize.reduce((a, b) => a + b, 0);
    if (total !== n || splitSize.some((s) => s < 0)) {
      throw new TorchError('RuntimeError', `split_with_sizes expects split_sizes to sum exactly to ${n} (input tensor's size at dimension ${d}), but got split_sizes=[${splitSize.join(', ')}]`);
    }
    let s = 0;
    return splitSize.map((len) => {
      const t = this.narrow(d, s, len);
      s += len;
      return t;
    });
  }

  chunk(chunks: number, dim = 0): Tensor[] {
    if (chunks <= 0) throw new TorchError('RuntimeError', `chunk expects \`chunks\` to be greater than 0, got: ${chunks}`);
    const n = this.shape[normDim(dim, this.ndim)];
    return this.split(Math.max(Math.ceil(n / chunks), n === 0 ? 0 : 1), dim);
  }

  unbind(dim = 0): Tensor[] {
    const d = normDim(dim, this.ndim);
    return Array.from({ length: this.shape[d] }, (_, i) => this.select(d, i));
  }

  /** `repeat_interleave(repeats, dim)` with an integer count: each slice repeated in place. */
  repeatInterleave(repeats: number, dim: number): Tensor {
    const d = normDim(dim, this.ndim);
    const shape = [...this.shape];
    const exp = [...this.shape.slice(0, d + 1), repeats, ...this.shape.slice(d + 1)];
    shape[d] *= repeats;
    return this.unsqueeze(d + 1).expand(exp).reshape(shape);
  }

  // ---- copies -----------------------------------------------------------

  contiguous(): Tensor {
    return isContiguous(this) ? this : this.clone();
  }
  clone(): Tensor {
    return runKernel(copy, [this], {})[0];
  }
  /** Dtype conversion (`.float()`, `.bool()`, `.long()`), or a move to another backend. */
  to(target: DType | Backend): Tensor {
    if (typeof target === 'string') return target === this.dtype ? this : runKernel(copy, [this], { dtype: target })[0];
    if (target === this.device) return this;
    // Cross-backend moves go through the host; only CPU sources can do it synchronously.
    const data = this.dataSync();
    return new Tensor(fresh(uploaded(target, data, this.dtype)), [...this.shape], contiguousStrides(this.shape), 0, this.dtype);
  }
  float(): Tensor {
    return this.to('float32');
  }
  bool(): Tensor {
    return this.to('bool');
  }
  long(): Tensor {
    return this.to('int64');
  }

  // ---- elementwise ------------------------------------------------------

  private unaryOp(op: UnaryOp, scalar?: number): Tensor {
    return runKernel(unary, [this], { op, scalar })[0];
  }
  private binOp(op: BinaryOp, other: Tensor): Tensor {
    return runKernel(binary, [this, other], { op })[0];
  }
  add(other: Tensor | number, alpha = 1): Tensor {
    if (typeof other === 'number') return this.unaryOp('add_s', other * alpha);
    return this.binOp('add', alpha === 1 ? other : other.mul(alpha));
  }
  sub(other: Tensor | number): Tensor {
    return typeof other === 'number' ? this.unaryOp('sub_s', other) : this.binOp('sub', other);
  }
  /** `scalar - this` (Python's `s - x`). */
  rsub(scalar: number): Tensor {
    return this.unaryOp('rsub_s', scalar);
  }
  mul(other: Tensor | number): Tensor {
    return typeof other === 'number' ? this.unaryOp('mul_s', other) : this.binOp('mul', other);
  }
  div(other: Tensor | number): Tensor {
    return typeof other === 'number' ? this.unaryOp('div_s', other) : this.binOp('div', other);
  }
  pow(other: Tensor | number): Tensor {
    return typeof other === 'number' ? this.unaryOp('pow_s', other) : this.binOp('pow', other);
  }
  maximum(other: Tensor): Tensor {
    return this.binOp('maximum', other);
  }
  minimum(other: Tensor): Tensor {
    return this.binOp('minimum', other);
  }
  clampMin(min: number): Tensor {
    return this.unaryOp('max_s', min);
  }
  clampMax(max: number): Tensor {
    return this.unaryOp('min_s', max);
  }
  eq(other: Tensor | number): Tensor {
    return typeof other === 'number' ? this.unaryOp('eq_s', other) : this.binOp('eq', other);
  }
  ne(other: Tensor | number): Tensor {
    return typeof other === 'number' ? this.unaryOp('ne_s', other) : this.binOp('ne', other);
  }
  lt(other: Tensor | number): Tensor {
    return typeof other === 'number' ? this.unaryOp('lt_s', other) : this.binOp('lt', other);
  }
  le(other: Tensor | number): Tensor {
    return typeof other === 'number' ? this.unaryOp('le_s', other) : this.binOp('le', other);
  }
  gt(other: Tensor | number): Tensor {
    return typeof other === 'number' ? this.unaryOp('gt_s', other) : this.binOp('gt', other);
  }
  ge(other: Tensor | number): Tensor {
    return typeof other === 'number' ? this.unaryOp('ge_s', other) : this.binOp('ge', other);
  }
  logicalAnd(other: Tensor): Tensor {
    return this.binOp('logical_and', other);
  }
  logicalOr(other: Tensor): Tensor {
    return this.binOp('logical_or', other);
  }
  /** `~mask` on bool tensors (torch's bitwise_not). */
  logicalNot(): Tensor {
    if (this.dtype !== 'bool') throw new TorchError('RuntimeError', 'logicalNot() (~) is only defined for bool tensors in this runtime');
    return this.unaryOp('logical_not');
  }
  neg(): Tensor {
    return this.unaryOp('neg');
  }
  abs(): Tensor {
    return this.unaryOp('abs');
  }
  exp(): Tensor {
    return this.unaryOp('exp');
  }
  log(): Tensor {
    return this.unaryOp('log');
  }
  erf(): Tensor {
    return this.unaryOp('erf');
  }
  floor(): Tensor {
    return this.unaryOp('floor');
  }
  sin(): Tensor {
    return this.unaryOp('sin');
  }
  cos(): Tensor {
    return this.unaryOp('cos');
  }
  sqrt(): Tensor {
    return this.unaryOp('sqrt');
  }
  rsqrt(): Tensor {
    return this.unaryOp('rsqrt');
  }
  sigmoid(): Tensor {
    return this.unaryOp('sigmoid');
  }
  relu(): Tensor {
    return this.unaryOp('relu');
  }
  tanh(): Tensor {
    return this.unaryOp('tanh');
  }
  /** `approximate: 'none'` (erf, torch's default) or `'tanh'`. */
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor {
    return this.unaryOp(approximate === 'tanh' ? 'gelu_tanh' : 'gelu');
  }
  hardswish(): Tensor {
    return this.unaryOp('hardswish');
  }
  silu(): Tensor {
    return this.unaryOp('silu');
  }

  maskedFill(mask: Tensor, value: number): Tensor {
    return runKernel(maskedFill, [this, mask], { value })[0];
  }

  // ---- reductions ---------------------------------------------------------

  private reduceOp(op: ReduceAttrs['op'], dim: number | readonly number[] | undefined, keepdim: boolean): Tensor[] {
    const dims = dim === undefined ? [] : typeof dim === 'number' ? [dim] : [...dim];
    if (dim !== undefined && dims.length === 0 && (op === 'sum' || op === 'mean')) {
      // torch: an empty dim list reduces everything for sum/mean.
    }
    return runKernel(reduce, [this], { op, dims, keepdim });
  }
  sum(dim?: number | readonly number[], keepdim = false): Tensor {
    return this.reduceOp('sum', dim, keepdim)[0];
  }
  mean(dim?: number | readonly number[], keepdim = false): Tensor {
    return this.reduceOp('mean', dim, keepdim)[0];
  }
  amax(dim?: number | readonly number[], keepdim = false): Tensor {
    return this.reduceOp('amax', dim, keepdim)[0];
  }
  amin(dim?: number | readonly number[], keepdim = false): Tensor {
    return this.reduceOp('amin', dim, keepdim)[0];
  }
  /** `max()` over everything, or `max(dim)` → `{ values, indices }` like torch's named tuple. */
  max(): Tensor;
  max(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  max(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    if (dim === undefined) return this.reduceOp('amax', undefined, false)[0];
    const [values, indices] = this.reduceOp('max', dim, keepdim);
    return { values, indices };
  }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  min(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    if (dim === undefined) return this.reduceOp('amin', undefined, false)[0];
    const [values, indices] = this.reduceOp('min', dim, keepdim);
    return { values, indices };
  }
  softmax(dim: number): Tensor {
    return runKernel(softmaxKernel, [this], { dim, log: false })[0];
  }
  logSoftmax(dim: number): Tensor {
    return runKernel(softmaxKernel, [this], { dim, log: true })[0];
  }

  // ---- linear algebra -----------------------------------------------------

  /** `torch.matmul` semantics: 1-D operands are promoted and the added dim removed; batch dims broadcast. */
  matmul(other: Tensor): Tensor {
    const a: Tensor = this.as(this.shape, this.strides);
    const b = other;
    if (a.ndim === 0 || b.ndim === 0) {
      throw new TorchError('RuntimeError', `both arguments to matmul need to be at least 1D, but they are ${a.ndim}D and ${b.ndim}D`);
    }
    if (a.ndim === 1 && b.ndim === 1) {
      if (a.shape[0] !== b.shape[0]) {
        throw new TorchError('RuntimeError', `inconsistent tensor size, expected tensor [${a.shape[0]}] and src [${b.shape[0]}] to have the same number of elements, but got ${a.shape[0]} and ${b.shape[0]} elements respectively`);
      }
      return runKernel(matmulKernel, [a.unsqueeze(0), b.unsqueeze(1)], {})[0].view([]);
    }
    const a2 = a.ndim === 1 ? a.unsqueeze(0) : a;
    const b2 = b.ndim === 1 ? b.unsqueeze(1) : b;
    if (a.ndim === 2 && b.ndim === 1 && a.shape[1] !== b.shape[0]) {
      throw new TorchError('RuntimeError', `size mismatch, got input (${a.shape[0]}), mat (${a.shape[0]}x${a.shape[1]}), vec (${b.shape[0]})`);
    }
    let out = runKernel(matmulKernel, [a2, b2], {})[0];
    if (a.ndim === 1) out = out.squeeze(-2);
    if (b.ndim === 1) out = out.squeeze(-1);
    return out;
  }

  /** `torch.bmm`: both operands exactly 3-D with equal batch sizes. */
  bmm(other: Tensor): Tensor {
    if (this.ndim !== 3) throw new TorchError('RuntimeError', `batch1 must be a 3D tensor`);
    if (other.ndim !== 3) throw new TorchError('RuntimeError', `batch2 must be a 3D tensor`);
    if (this.shape[0] !== other.shape[0] || this.shape[2] !== other.shape[1]) {
      throw new TorchError('RuntimeError', `Expected size for first two dimensions of batch2 tensor to be: [${this.shape[0]}, ${this.shape[2]}] but got: [${other.shape[0]}, ${other.shape[1]}].`);
    }
    return runKernel(matmulKernel, [this, other], {})[0];
  }

  /** `x[index]` along `dim` with an int64 index tensor (torch.index_select). */
  indexSelect(dim: number, index: Tensor): Tensor {
    return runKernel(indexSelect, [this, index], { dim })[0];
  }

  /** `torch.gather(this, dim, index)`: out[i][j] = this[index[i][j]][j] along `dim` (the index's shape). */
  gather(dim: number, index: Tensor): Tensor {
    return runKernel(gather, [this, index], { dim })[0];
  }

  /**
   * `x.unfold(dim, size, step)`: a view of every slice of `size` elements along `dim`, `step`
   * apart, as a new last dim (torch's sliding windows; no copy).
   */
  unfold(dim: number, size: number, step: number): Tensor {
    const d = normDim(dim, this.ndim);
    const n = this.ndim === 0 ? 1 : this.shape[d];
    if (size > n) throw new TorchError('RuntimeError', `maximum size for tensor at dimension ${d} is ${n} but size is ${size}`);
    if (size < 0) throw new TorchError('RuntimeError', `size is ${size} but must be >= 0`);
    if (step <= 0) throw new TorchError('RuntimeError', `step is ${step} but must be > 0`);
    if (this.ndim === 0) return this.as([size], [1]);
    const shape = [...this.shape];
    const strides = [...this.strides];
    shape[d] = Math.floor((n - size) / step) + 1;
    strides[d] = this.strides[d] * step;
    return this.as([...shape, size], [...strides, this.strides[d]]);
  }

  /** `x.index_copy(dim, index, source)`: a copy of x with its slices at `index` along `dim` replaced by source's. */
  indexCopy(dim: number, index: Tensor, source: Tensor): Tensor {
    return runKernel(indexCopy, [this, index, source], { dim })[0];
  }

  /** `torch.where(cond, this, other)`. */
  where(cond: Tensor, other: Tensor): Tensor {
    return runKernel(where, [cond, this, other], {})[0];
  }

  /** `torch.roll(x, shifts, dims)`: a composition of narrow and cat. */
  roll(shifts: number | readonly number[], dims: number | readonly number[]): Tensor {
    const sh = typeof shifts === 'number' ? [shifts] : shifts;
    const ds = typeof dims === 'number' ? [dims] : dims;
    if (sh.length !== ds.length) throw new TorchError('RuntimeError', `shifts and dimensions must align. shifts: ${sh.length}, dims:${ds.length}`);
    let out: Tensor = this.as(this.shape, this.strides);
    sh.forEach((s, i) => {
      const d = normDim(ds[i], out.ndim);
      const n = out.shape[d];
      if (n === 0) return;
      const k = ((s % n) + n) % n;
      if (k === 0) return;
      out = cat([out.narrow(d, n - k, k), out.narrow(d, 0, n - k)], d);
    });
    return out;
  }
}

// ---- free functions ----------------------------------------------------------

function flatArgs(args: number[] | [readonly number[]]): number[] {
  return args.length === 1 && Array.isArray(args[0]) ? [...(args[0] as readonly number[])] : (args as number[]);
}

/** Resolves one -1 in a requested shape, with torch's messages. */
export function inferSize(shape: readonly number[], n: number): number[] {
  let infer = -1;
  let prod = 1;
  shape.forEach((s, i) => {
    if (s === -1) {
      if (infer >= 0) throw new TorchError('RuntimeError', 'only one dimension can be inferred');
      infer = i;
    } else if (s < 0 || !Number.isInteger(s)) throw new TorchError('RuntimeError', `invalid shape dimension ${s}`);
    else prod *= s;
  });
  const out = [...shape];
  if (infer >= 0) {
    if (prod === 0 || n % prod !== 0) {
      throw new TorchError('RuntimeError', `shape '[${shape.join(', ')}]' is invalid for input of size ${n}`);
    }
    out[infer] = n / prod;
  } else if (prod !== n) {
    throw new TorchError('RuntimeError', `shape '[${shape.join(', ')}]' is invalid for input of size ${n}`);
  }
  return out;
}

/** torch's `computeStride`: strides for viewing (oldShape, oldStride) as newShape, or null when impossible. */
export function computeStride(oldShape: readonly number[], oldStride: readonly number[], newShape: readonly number[]): number[] | null {
  if (oldShape.length === 0) return newShape.map(() => 1);
  const n = numel(oldShape);
  if (n === 0) {
    if (oldShape.length === newShape.length && oldShape.every((s, i) => s === newShape[i])) return [...oldStride];
    return contiguousStrides(newShape);
  }
  const newStride = new Array<number>(newShape.length);
  let viewD = newShape.length - 1;
  let chunkBase = oldStride[oldStride.length - 1];
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = oldShape.length - 1; d >= 0; d--) {
    tensorNumel *= oldShape[d];
    if (d === 0 || (oldShape[d - 1] !== 1 && oldStride[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] === 1)) {
        newStride[viewD] = viewNumel * chunkBase;
        viewNumel *= newShape[viewD];
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = oldStride[d - 1];
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  if (viewD !== -1) return null;
  return newStride;
}

function nest(data: Float32Array, shape: readonly number[], dtype: DType): NestedArray {
  const conv = (v: number): number | boolean => (dtype === 'bool' ? v !== 0 : v);
  if (shape.length === 0) return conv(data[0]);
  const rec = (off: number, d: number): NestedArray[] => {
    const out: NestedArray[] = [];
    const step = numel(shape.slice(d + 1));
    for (let i = 0; i < shape[d]; i++) out.push(d === shape.length - 1 ? conv(data[off + i]) : rec(off + i * step, d + 1));
    return out;
  };
  return rec(0, 0);
}

/**
 * Validates with the kernel, copies inputs when it needs contiguous ones,
 * runs it on the inputs' backend and wraps the outputs. Every computing op
 * of the runtime goes through here.
 */
/** Told about every kernel `runKernel` runs while it is installed (see `observeKernels`). */
export type KernelObserver = (kernel: string, inputs: readonly Tensor[], attrs: unknown, outputs: readonly Tensor[]) => void;

let kernelObserver: KernelObserver | null = null;

// ---- memory scopes -----------------------------------------------------------

/** Storages created inside each open `tidy` scope, innermost last. */
const scopes: Set<TensorView['storage']>[] = [];

/** Registers a storage just created by an op or a factory with the innermost open scope. */
export function fresh(storage: TensorView['storage']): TensorView['storage'] {
  scopes[scopes.length - 1]?.add(storage);
  return storage;
}

/** Takes a storage out of every open scope: it now belongs to a module (a parameter or buffer). */
export function adopt(storage: TensorView['storage']): void {
  for (const s of scopes) s.delete(storage);
}

function keep(v: unknown, out: Set<TensorView['storage']>, seen = new Set<unknown>()): void {
  if (v instanceof Tensor) out.add(v.storage);
  else if (v && typeof v === 'object' && !seen.has(v)) {
    seen.add(v);
    for (const x of Array.isArray(v) ? v : Object.values(v)) keep(x, out, seen);
  }
}

/**
 * Runs `fn` (synchronous) and then releases, back to their backend's pool, the storage of every
 * tensor an op or a factory created inside it, except the storages of the tensors `fn` returns
 * (found in arrays and plain objects), which pass to the enclosing scope. The ownership rule:
 * a tensor made inside `tidy` and not returned must not be used after it (views of it neither);
 * parameters and buffers built before it are never touched. A module that keeps a tensor it
 * made in `forward` (a cache) must be called outside `tidy`. As tf.tidy.
 */
export function tidy<T>(fn: () => T): T {
  const mine = new Set<TensorView['storage']>();
  scopes.push(mine);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const s of mine) s.backend.release(s);
    throw e;
  }
  scopes.pop();
  const kept = new Set<TensorView['storage']>();
  keep(result, kept);
  for (const s of mine) {
    if (kept.has(s)) fresh(s);
    else s.backend.release(s);
  }
  return result;
}

/**
 * Runs `fn` with `observer` told about every kernel it runs, then restores
 * the previous observer (scoped, not a setting: ops enqueue synchronously, so
 * the kernels of a synchronous `fn` are exactly those observed). This is how
 * `trace.ts` attributes matmuls and softmaxes to the layer that ran them.
 */
export function observeKernels<T>(observer: KernelObserver, fn: () => T): T {
  const previous = kernelObserver;
  kernelObserver = observer;
  try {
    return fn();
  } finally {
    kernelObserver = previous;
  }
}

// ---- host mirrors ---------------------------------------------------------------

/**
 * Host copies of small integer and boolean device storages, for backends that cannot read
 * synchronously (WebGPU): such a storage uploaded from the host (a tensor moved there, `tensor`,
 * `arange`, `full`), or written by a kernel whose inputs all have one, keeps its contents on the
 * host too, computed by the kernel's CPU reference (float tensors — activations, weights — never
 * cost a CPU computation). `dataSync()` (and so `.item()`, `int(t)`) reads the copy, so code that
 * turns position indices into a Python number (`int(position_ids.max()) + 1`) runs there as it
 * does in torch, which reads a CUDA tensor back synchronously. Keyed by the storage object (a
 * released storage is never handed out again; its buffer is), and outside `tidy`'s pools.
 */
const mirrors = new WeakMap<TensorView['storage'], Float32Array>();
/** Elements a mirrored storage may hold: index and position tensors, not activations. */
const MIRROR_MAX = 1 << 16;

/** Index-like tensors: integers and booleans (positions, lengths, masks), never activations. */
function mirrored(dev: Backend, n: number, dtype: DType): boolean {
  return !dev.readSync && n <= MIRROR_MAX && dtype !== 'float32';
}

function uploaded(dev: Backend, data: Float32Array, dtype: DType): TensorView['storage'] {
  const s = dev.upload(data);
  if (mirrored(dev, data.length, dtype)) mirrors.set(s, data.slice());
  return s;
}

function allocated(dev: Backend, n: number, dtype: DType): TensorView['storage'] {
  const s = dev.alloc(n);
  if (mirrored(dev, n, dtype)) mirrors.set(s, new Float32Array(n));
  return s;
}

/** Overwrites the whole of `storage` with `data` (loading weights, a host-side write), keeping its host mirror in step. */
export function writeStorage(storage: TensorView['storage'], data: Float32Array): void {
  storage.backend.write(storage, data);
  if (mirrors.has(storage)) mirrors.set(storage, data.slice());
}

function mirrorOutputs<A>(kernel: Kernel<A>, inputs: readonly Tensor[], attrs: A, specs: readonly OutputSpec[], storages: readonly TensorView['storage'][]): void {
  if (specs.every((s) => s.dtype === 'float32')) return;
  const views: CpuView[] = [];
  for (const t of inputs) {
    const data = mirrors.get(t.storage);
    if (!data) return;
    views.push({ data, shape: t.shape, strides: t.strides, offset: t.offset, dtype: t.dtype });
  }
  const outs = specs.map((s) => new Float32Array(numel(s.shape)));
  if (outs.some((o) => o.length > MIRROR_MAX)) return;
  try {
    kernel.cpu(views, attrs, outs);
  } catch {
    return;
  }
  storages.forEach((s, i) => specs[i].dtype !== 'float32' && mirrors.set(s, outs[i]));
}

/**
 * Overwrites `dst` with `src` on their backend (`Backend.copy`: an in-place write on a device
 * without synchronous reads), keeping `dst`'s host mirror in step.
 */
export function copyStorage(src: TensorView['storage'], dst: TensorView['storage']): void {
  const dev = dst.backend;
  if (!dev.copy) throw new TorchError('RuntimeError', `the ${dev.name} backend cannot copy storages`);
  dev.copy(src, dst);
  const host = mirrors.get(src);
  if (host) mirrors.set(dst, host.slice());
  else mirrors.delete(dst);
}

export function runKernel<A>(kernel: Kernel<A>, inputs: readonly Tensor[], attrs: A): Tensor[] {
  const backend = inputs[0]?.device ?? cpu;
  for (const t of inputs) {
    if (t.device !== backend) {
      throw new TorchError('RuntimeError', `Expected all tensors to be on the same device, but found at least two devices, ${backend.name} and ${t.device.name}!`);
    }
  }
  const specs = kernel.outputs(inputs, attrs);
  const ins = kernel.contiguousInputs ? inputs.map((t) => t.contiguous()) : inputs;
  const storages = backend.run(kernel, ins, attrs, specs);
  if (!backend.readSync) mirrorOutputs(kernel, ins, attrs, specs, storages);
  const outs = specs.map((s, i) => new Tensor(fresh(storages[i]), [...s.shape], contiguousStrides(s.shape), 0, s.dtype));
  kernelObserver?.(kernel.name, inputs, attrs, outs);
  return outs;
}

/** `torch.cat`. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  return runKernel(catKernel, tensors, { dim })[0];
}

/** `torch.stack`: all shapes equal, a new dim at `dim`. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new TorchError('RuntimeError', 'stack expects a non-empty TensorList');
  const ref = tensors[0].shape;
  tensors.forEach((t, i) => {
    if (t.shape.length !== ref.length || t.shape.some((s, k) => s !== ref[k])) {
      throw new TorchError('RuntimeError', `stack expects each tensor to be equal size, but got ${fmtShape(ref)} at entry 0 and ${fmtShape(t.shape)} at entry ${i}`);
    }
  });
  const d = normDim(dim, ref.length + 1);
  return cat(tensors.map((t) => t.unsqueeze(d)), d);
}

/** `torch.where(cond, a, b)`. */
export function whereOp(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  return runKernel(where, [cond, a, b], {})[0];
}

// ---- creation ------------------------------------------------------------------

function flattenNested(data: NestedArray, shape: number[], out: number[], depth = 0): void {
  if (Array.isArray(data)) {
    if (shape.length === depth) shape.push(data.length);
    else if (shape[depth] !== data.length) throw new TorchError('ValueError', `expected sequence of length ${shape[depth]} at dim ${depth} (got ${data.length})`);
    for (const d of data as readonly NestedArray[]) flattenNested(d, shape, out, depth + 1);
  } else {
    if (depth !== shape.length) throw new TorchError('ValueError', 'ragged nested sequence');
    out.push(typeof data === 'boolean' ? (data ? 1 : 0) : (data as number));
  }
}

/** `torch.tensor(data)`: from nested arrays (dtype inferred: bool for booleans, float otherwise) or a flat array plus shape. */
export function tensor(data: NestedArray | Float32Array | readonly number[], opts: TensorOptions & { shape?: readonly number[] } = {}): Tensor {
  let flat: Float32Array;
  let shape: number[];
  let inferred: DType = 'float32';
  if (data instanceof Float32Array) {
    flat = data;
    shape = opts.shape ? [...opts.shape] : [data.length];
  } else {
    const vals: number[] = [];
    shape = [];
    flattenNested(data as NestedArray, shape, vals);
    const first = Array.isArray(data) ? (data as NestedArray[]).flat(Infinity as 1)[0] : data;
    if (typeof first === 'boolean') inferred = 'bool';
    flat = Float32Array.from(vals);
    if (opts.shape) shape = [...opts.shape];
  }
  if (numel(shape) !== flat.length) throw new TorchError('RuntimeError', `shape '${fmtShape(shape)}' is invalid for input of size ${flat.length}`);
  const dev = opts.device ?? cpu;
  return new Tensor(fresh(uploaded(dev, flat, opts.dtype ?? inferred)), shape, contiguousStrides(shape), 0, opts.dtype ?? inferred);
}

export function full(shape: readonly number[], value: number | boolean, opts: TensorOptions = {}): Tensor {
  const n = numel(shape);
  const dev = opts.device ?? cpu;
  const v = typeof value === 'boolean' ? (value ? 1 : 0) : value;
  const dtype = opts.dtype ?? (typeof value === 'boolean' ? 'bool' : 'float32');
  const storage = fresh(v === 0 ? allocated(dev, n, dtype) : uploaded(dev, new Float32Array(n).fill(v), dtype));
  return new Tensor(storage, [...shape], contiguousStrides(shape), 0, dtype);
}

export function zeros(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return full(shape, 0, opts);
}

export function ones(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return full(shape, 1, opts);
}

/** `torch.arange(start, end, step)` as int64 (integer arguments) or float32. */
/** `torch.linspace(start, end, steps)`: float32, computed as torch does (from both ends, halves meeting in the middle). */
export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  if (steps < 0) throw new TorchError('RuntimeError', 'number of steps must be non-negative');
  const d = new Float32Array(steps);
  // The step in float32; each value start + step·i (or end - step·(steps-1-i)) rounded once, as torch's fused CPU kernel gives.
  const f = Math.fround;
  const [s0, e0] = [f(start), f(end)];
  const step = steps > 1 ? f(f(e0 - s0) / (steps - 1)) : 0;
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) d[i] = i < half ? f(s0 + step * i) : f(e0 - step * (steps - i - 1));
  return tensor(d, { shape: [steps], device: opts.device, dtype: opts.dtype ?? 'float32' });
}

export function arange(start: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  const [s, e] = end === undefined ? [0, start] : [start, end];
  const n = Math.max(0, Math.ceil((e - s) / step));
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = s + i * step;
  const integral = Number.isInteger(s) && Number.isInteger(step);
  return tensor(d, { shape: [n], device: opts.device, dtype: opts.dtype ?? (integral ? 'int64' : 'float32') });
}

/**
 * `torch.meshgrid(*xs, indexing)`: each 0-d or 1-d input expanded over the grid of all of them
 * (views, no copy); 'xy' swaps the first two axes of the grid, as torch does.
 */
export function meshgrid(xs: readonly Tensor[], indexing: 'ij' | 'xy' = 'ij'): Tensor[] {
  for (const x of xs) if (x.ndim > 1) throw new TorchError('RuntimeError', 'torch.meshgrid: Expected 0D or 1D tensor in the tensor list');
  const order = xs.map((_, i) => i);
  if (indexing === 'xy' && xs.length >= 2) [order[0], order[1]] = [order[1], order[0]];
  const sizes = order.map((i) => xs[i].numel());
  return xs.map((x, i) => {
    const shape = sizes.map(() => 1);
    shape[order.indexOf(i)] = x.numel();
    return x.reshape(shape).expand(sizes);
  });
}

/** `torch.triu(x, diagonal)` / `torch.tril`: elements outside the triangle become 0 (False). */
export function triu(x: Tensor, diagonal = 0): Tensor {
  return triangle(x, diagonal, true);
}
export function tril(x: Tensor, diagonal = 0): Tensor {
  return triangle(x, diagonal, false);
}
function triangle(x: Tensor, diagonal: number, upper: boolean): Tensor {
  if (x.ndim < 2) throw new TorchError('RuntimeError', `${upper ? 'triu' : 'tril'}: input tensor must have at least 2 dimensions`);
  const [R, C] = x.shape.slice(-2);
  const m = new Float32Array(R * C);
  for (let i = 0; i < R; i++) for (let j = 0; j < C; j++) m[i * C + j] = (upper ? j - i < diagonal : j - i > diagonal) ? 1 : 0;
  return x.maskedFill(tensor(m, { shape: [R, C], dtype: 'bool', device: x.device }), 0);
}
