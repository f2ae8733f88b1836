/**
 * `torch.nn.functional` for the runtime: the layer maths that `nn` modules
 * and generated blocks call — linear, convolutions, normalisations,
 * activations, pooling, padding, softmax, scaled dot-product attention and
 * `multi_head_attention_forward` — with torch's argument handling (unbatched
 * inputs, int-or-tuple arguments, 'same'/'valid' padding) and torch's errors
 * for the rank checks it does before the kernels run. Inference only:
 * dropout with `training = true` is rejected rather than approximated.
 */

import { fmtShape, TorchError } from './errors';
import { adaptivePool as adaptivePoolK } from './kernels/ops/adaptive-pool';
import { batchNorm as batchNormK } from './kernels/ops/batch-norm';
import { conv as convK } from './kernels/ops/conv';
import { cumsum as cumsumK } from './kernels/ops/cumsum';
import { interpolate as interpolateK } from './kernels/ops/interpolate';
import { layerNorm as layerNormK } from './kernels/ops/layer-norm';
import { matmul as matmulK } from './kernels/ops/matmul';
import { pool as poolK } from './kernels/ops/pool';
import { sdpa as sdpaK } from './kernels/ops/sdpa';
import { topk as topkK } from './kernels/ops/topk';
import { unfold as unfoldK } from './kernels/ops/unfold';
import { arange, cat, full, ones, runKernel, Tensor, tensor, tril, zeros } from './tensor';

export type IntOrTuple = number | readonly number[];

export function ntuple(v: IntOrTuple, n: number, name = 'argument'): number[] {
  if (typeof v === 'number') return new Array<number>(n).fill(v);
  if (v.length === 1) return new Array<number>(n).fill(v[0]);
  if (v.length !== n) throw new TorchError('RuntimeError', `expected ${name} to be a single integer value or a list of ${n} values to match the convolution dimensions, but got ${name}=[${v.join(', ')}]`);
  return [...v];
}

// ---- linear and convolution -------------------------------------------------

/** `F.linear(x, weight (out, in), bias?)`: x (*, in) → (*, out). */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const inF = weight.shape[1];
  if (x.ndim === 0) throw new TorchError('RuntimeError', 'both arguments to linear need to be at least 1D, but they are 0D and 2D');
  if (x.shape[x.ndim - 1] !== inF) {
    const rows = x.ndim === 1 ? 1 : x.numel() / x.shape[x.ndim - 1];
    throw new TorchError('RuntimeError', `mat1 and mat2 shapes cannot be multiplied (${rows}x${x.shape[x.ndim - 1]} and ${weight.shape[1]}x${weight.shape[0]})`);
  }
  const lead = x.shape.slice(0, -1);
  const x2 = x.reshape(-1, inF);
  const outF = weight.shape[0];
  // A 1-D bias of the output features on the same device is added by the matmul itself (one
  // dispatch, one pass over the output, as torch's addmm); any other bias broadcasts as torch's add does.
  if (bias && weight.ndim === 2 && bias.ndim === 1 && bias.shape[0] === outF && bias.dtype === 'float32' && x2.dtype === 'float32' && weight.dtype === 'float32' && bias.device === x.device && weight.device === x.device) {
    return runKernel(matmulK, [x2, weight.t(), bias], {})[0].view([...lead, outF]);
  }
  const y = x2.matmul(weight.t());
  const out = bias ? y.add(bias) : y;
  return out.view([...lead, outF]);
}

export interface ConvOptions {
  readonly stride?: IntOrTuple;
  readonly padding?: IntOrTuple | 'same' | 'valid';
  readonly dilation?: IntOrTuple;
  readonly groups?: number;
}

function convNd(nsp: number, x: Tensor, weight: Tensor, bias: Tensor | null | undefined, o: ConvOptions): Tensor {
  const batched = x.ndim === nsp + 2;
  if (!batched && x.ndim !== nsp + 1) {
    throw new TorchError('RuntimeError', `Expected ${nsp + 1}D (unbatched) or ${nsp + 2}D (batched) input to conv${nsp}d, but got input of size: ${fmtShape(x.shape)}`);
  }
  let xin = batched ? x : x.unsqueeze(0);
  const stride = ntuple(o.stride ?? 1, nsp, 'stride');
  const dilation = ntuple(o.dilation ?? 1, nsp, 'dilation');
  let padding: number[];
  if (o.padding === 'valid') padding = new Array<number>(nsp).fill(0);
  else if (o.padding === 'same') {
    if (stride.some((s) => s !== 1)) throw new TorchError('ValueError', "padding='same' is not supported for strided convolutions");
    const total = weight.shape.slice(2).map((k, i) => dilation[i] * (k - 1));
    padding = total.map((t) => Math.floor(t / 2));
    // torch pads the odd remainder on the right/bottom.
    const extra = total.map((t) => t % 2);
    if (extra.some((e) => e)) {
      const pads: number[] = [];
      for (let i = nsp - 1; i >= 0; i--) pads.push(0, extra[i]);
      xin = pad(xin, pads);
    }
  } else padding = ntuple(o.padding ?? 0, nsp, 'padding');
  const inputs = bias ? [xin, weight, bias] : [xin, weight];
  const y = runKernel(convK, inputs, { stride, padding, dilation, groups: o.groups ?? 1 })[0];
  return batched ? y : y.squeeze(0);
}

export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, o: ConvOptions = {}): Tensor {
  return convNd(1, x, weight, bias, o);
}
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, o: ConvOptions = {}): Tensor {
  return convNd(2, x, weight, bias, o);
}
export function conv3d(x: Tensor, weight: Tensor, bias?: Tensor | null, o: ConvOptions = {}): Tensor {
  return convNd(3, x, weight, bias, o);
}

// ---- normalisation -------------------------------------------------------------

/** `F.batch_norm` in inference form (`training` must be false). */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  weight?: Tensor | null,
  bias?: Tensor | null,
  training = false,
  _momentum = 0.1,
  eps = 1e-5,
): Tensor {
  if (training) throw new TorchError('RuntimeError', 'batch_norm: training mode is not supported by this runtime (inference only)');
  const inputs = [x, runningMean, runningVar, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return runKernel(batchNormK, inputs, { eps, hasWeight: !!weight, hasBias: !!bias })[0];
}

export function layerNorm(x: Tensor, normalizedShape: IntOrTuple, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const ns = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return runKernel(layerNormK, inputs, { normalizedShape: ns, eps, hasWeight: !!weight, hasBias: !!bias })[0];
}

// ---- activations -------------------------------------------------------------------

export const relu = (x: Tensor): Tensor => x.relu();
export const sigmoid = (x: Tensor): Tensor => x.sigmoid();
export const tanh = (x: Tensor): Tensor => x.tanh();
export const gelu = (x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor => x.gelu(approximate);
export const hardswish = (x: Tensor): Tensor => x.hardswish();
export const silu = (x: Tensor): Tensor => x.silu();
export const softmax = (x: Tensor, dim: number): Tensor => x.softmax(dim);
export const logSoftmax = (x: Tensor, dim: number): Tensor => x.logSoftmax(dim);

/** Dropout in eval mode is the identity; training mode is not supported (inference runtime). */
/**
 * `F.group_norm`: each sample's channels split into `groups`, normalised over the group and the
 * spatial axes with the biased variance, then scaled and shifted per channel. Composed from
 * the reduce, binary and unary kernels.
 */
export function groupNorm(x: Tensor, groups: number, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  if (x.ndim < 2) throw new TorchError('RuntimeError', `Expected at least 2 dimensions for input tensor but received ${x.ndim}`);
  const [N, C] = x.shape;
  if (C % groups !== 0) throw new TorchError('RuntimeError', `Expected number of channels in input to be divisible by num_groups, but got input of shape ${fmtShape(x.shape)} and num_groups=${groups}`);
  const g = x.reshape(N, groups, -1);
  const mean = g.mean(-1, true);
  const d = g.sub(mean);
  const y = d.mul(d.mul(d).mean(-1, true).add(eps).rsqrt()).reshape(x.shape);
  const affine = [C, ...x.shape.slice(2).map(() => 1)];
  const w = weight ? y.mul(weight.reshape(affine)) : y;
  return bias ? w.add(bias.reshape(affine)) : w;
}

/**
 * `torch.cumsum(x, dim)`: the `cumsum` kernel (float32 for float inputs; int64, exact, for int64
 * and bool inputs).
 */
export function cumsum(x: Tensor, dim: number): Tensor {
  return runKernel(cumsumK, [x], { dim })[0];
}

/** `F.embedding(input, weight)`: the rows of `weight` at the int64 indices, shaped `[...input.shape, dim]`. */
export function embedding(input: Tensor, weight: Tensor): Tensor {
  if (input.dtype !== 'int64') throw new TorchError('RuntimeError', `Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got ${input.dtype === 'bool' ? 'torch.BoolTensor' : 'torch.FloatTensor'} instead (while checking arguments for embedding)`);
  if (weight.ndim !== 2) throw new TorchError('RuntimeError', `'weight' must be 2-D`);
  return weight.indexSelect(0, input.reshape(-1)).reshape([...input.shape, weight.shape[1]]);
}

/** `torch.gather(input, dim, index)`. */
export function gather(input: Tensor, dim: number, index: Tensor): Tensor {
  return input.gather(dim, index);
}

export interface UnfoldOptions {
  dilation?: IntOrTuple;
  padding?: IntOrTuple;
  stride?: IntOrTuple;
}

/**
 * `F.unfold(x, kernel_size, dilation, padding, stride)`: the sliding blocks of an (N, C, H, W)
 * (or unbatched (C, H, W)) input as columns, (N, C·kh·kw, L); one kernel (`unfold`).
 */
export function unfold(x: Tensor, kernelSize: IntOrTuple, o: UnfoldOptions = {}): Tensor {
  const two = (v: IntOrTuple, name: string) => ntuple(v, 2, name) as [number, number];
  return runKernel(unfoldK, [x], {
    kernel: two(kernelSize, 'kernel_size'),
    dilation: two(o.dilation ?? 1, 'dilation'),
    padding: two(o.padding ?? 0, 'padding'),
    stride: two(o.stride ?? 1, 'stride'),
  })[0];
}

export function dropout(x: Tensor, p = 0.5, training = false): Tensor {
  if (p < 0 || p > 1) throw new TorchError('ValueError', `dropout probability has to be between 0 and 1, but got ${p}`);
  if (training && p > 0) throw new TorchError('RuntimeError', 'dropout in training mode is not supported by this runtime (inference only)');
  return x;
}

// ---- pooling -------------------------------------------------------------------------

export interface PoolOptions {
  readonly stride?: IntOrTuple | null;
  readonly padding?: IntOrTuple;
  readonly dilation?: IntOrTuple;
  readonly ceilMode?: boolean;
  readonly countIncludePad?: boolean;
}

function checkPoolRank(name: string, nsp: number, x: Tensor): void {
  if (x.ndim !== nsp + 1 && x.ndim !== nsp + 2) {
    throw new TorchError('RuntimeError', `${name}: Expected ${nsp + 1}D or ${nsp + 2}D input, but got input of size: ${fmtShape(x.shape)}`);
  }
}

function poolNd(op: 'max' | 'avg', nsp: number, x: Tensor, kernelSize: IntOrTuple, o: PoolOptions): Tensor {
  checkPoolRank(`${op}_pool${nsp}d`, nsp, x);
  const kernel = ntuple(kernelSize, nsp, 'kernel_size');
  return runKernel(poolK, [x], {
    op,
    kernel,
    stride: o.stride === undefined || o.stride === null ? kernel : ntuple(o.stride, nsp, 'stride'),
    padding: ntuple(o.padding ?? 0, nsp, 'padding'),
    dilation: op === 'avg' ? new Array<number>(nsp).fill(1) : ntuple(o.dilation ?? 1, nsp, 'dilation'),
    ceilMode: o.ceilMode ?? false,
    countIncludePad: o.countIncludePad ?? true,
  })[0];
}

export const maxPool1d = (x: Tensor, k: IntOrTuple, o: PoolOptions = {}): Tensor => poolNd('max', 1, x, k, o);
export const maxPool2d = (x: Tensor, k: IntOrTuple, o: PoolOptions = {}): Tensor => poolNd('max', 2, x, k, o);
export const maxPool3d = (x: Tensor, k: IntOrTuple, o: PoolOptions = {}): Tensor => poolNd('max', 3, x, k, o);
export const avgPool1d = (x: Tensor, k: IntOrTuple, o: PoolOptions = {}): Tensor => poolNd('avg', 1, x, k, o);
export const avgPool2d = (x: Tensor, k: IntOrTuple, o: PoolOptions = {}): Tensor => poolNd('avg', 2, x, k, o);
export const avgPool3d = (x: Tensor, k: IntOrTuple, o: PoolOptions = {}): Tensor => poolNd('avg', 3, x, k, o);

/** Output sizes may be null (keep that input size), as in torch. */
export type AdaptiveSize = number | readonly (number | null)[];

function adaptiveNd(op: 'max' | 'avg', nsp: number, x: Tensor, size: AdaptiveSize): Tensor {
  checkPoolRank(`adaptive_${op}_pool${nsp}d`, nsp, x);
  const raw = typeof size === 'number' ? new Array<number>(nsp).fill(size) : size.length === 1 ? new Array(nsp).fill(size[0]) : [...size];
  if (raw.length !== nsp) throw new TorchError('RuntimeError', `adaptive_${op}_pool${nsp}d: output_size must be ${nsp}`);
  const outputSize = raw.map((s: number | null, i: number) => (s === null ? x.shape[x.ndim - nsp + i] : s));
  return runKernel(adaptivePoolK, [x], { op, outputSize })[0];
}

export const adaptiveAvgPool1d = (x: Tensor, s: AdaptiveSize): Tensor => adaptiveNd('avg', 1, x, s);
export const adaptiveAvgPool2d = (x: Tensor, s: AdaptiveSize): Tensor => adaptiveNd('avg', 2, x, s);
export const adaptiveAvgPool3d = (x: Tensor, s: AdaptiveSize): Tensor => adaptiveNd('avg', 3, x, s);
export const adaptiveMaxPool1d = (x: Tensor, s: AdaptiveSize): Tensor => adaptiveNd('max', 1, x, s);
export const adaptiveMaxPool2d = (x: Tensor, s: AdaptiveSize): Tensor => adaptiveNd('max', 2, x, s);
export const adaptiveMaxPool3d = (x: Tensor, s: AdaptiveSize): Tensor => adaptiveNd('max', 3, x, s);

// ---- padding ---------------------------------------------------------------------------

/** `F.pad(x, pads, value)` in constant mode: pads pair up from the last dim backwards; negative pads crop. */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  if (pads.length % 2 !== 0) throw new TorchError('RuntimeError', 'Padding length must be divisible by 2');
  if (pads.length / 2 > x.ndim) throw new TorchError('RuntimeError', 'Padding length should be less than or equal to two times the input dimension');
  let out = x;
  for (let i = 0; i < pads.length / 2; i++) {
    const d = x.ndim - 1 - i;
    const [before, after] = [pads[2 * i], pads[2 * i + 1]];
    if (before < 0) out = out.narrow(d, -before, out.shape[d] + before);
    if (after < 0) out = out.narrow(d, 0, out.shape[d] + after);
    const parts: Tensor[] = [];
    const side = (n: number) => {
      const shape = [...out.shape];
      shape[d] = n;
      return full(shape, value, { dtype: out.dtype, device: out.device });
    };
    if (before > 0) parts.push(side(before));
    parts.push(out);
    if (after > 0) parts.push(side(after));
    if (parts.length > 1) out = cat(parts, d);
  }
  return out;
}

/**
 * `F.pad(x, pads, mode=...)` in 'reflect', 'replicate' or 'circular' mode: each padded dim is
 * one gather (`index_select`) with the indices torch reads, so it runs on every backend.
 */
export function padMode(x: Tensor, pads: readonly number[], mode: 'reflect' | 'replicate' | 'circular'): Tensor {
  if (pads.length % 2 !== 0) throw new TorchError('RuntimeError', 'Padding length must be divisible by 2');
  const k = pads.length / 2;
  if (k > x.ndim - 1) throw new TorchError('NotImplementedError', `Only 2D, 3D, 4D, 5D padding with non-constant padding are supported for now (${mode} pads ${k} dims of a ${x.ndim}-D input)`);
  let out = x;
  for (let i = 0; i < k; i++) {
    const d = x.ndim - 1 - i;
    const [before, after] = [pads[2 * i], pads[2 * i + 1]];
    if (before === 0 && after === 0) continue;
    const n = out.shape[d];
    if (mode === 'reflect' && (before >= n || after >= n)) throw new TorchError('RuntimeError', `Argument #4: Padding size should be less than the corresponding input dimension, but got: padding (${before}, ${after}) at dimension ${d} of input ${fmtShape(x.shape)}`);
    if (mode === 'circular' && (before > n || after > n)) throw new TorchError('RuntimeError', 'Padding value causes wrapping around more than once.');
    const idx: number[] = [];
    for (let j = -before; j < n + after; j++) {
      if (mode === 'replicate') idx.push(Math.min(Math.max(j, 0), n - 1));
      else if (mode === 'circular') idx.push(((j % n) + n) % n);
      else idx.push(j < 0 ? -j : j >= n ? 2 * (n - 1) - j : j);
    }
    out = out.indexSelect(d, tensor(idx, { dtype: 'int64', device: out.device }));
  }
  return out;
}

// ---- selection ---------------------------------------------------------------------------

/**
 * `torch.topk(x, k, dim, largest)` (sorted): the `topk` kernel, values and int64 indices; equal
 * values come in ascending index order (torch leaves their order to its sort).
 */
export function topk(x: Tensor, k: number, dim = -1, largest = true): { values: Tensor; indices: Tensor } {
  const [values, indices] = runKernel(topkK, [x], { k, dim, largest });
  return { values, indices };
}

/**
 * `F.cross_entropy(input, target)` with class indices: log-softmax over dim 1, the target's entry
 * picked with a one-hot mask, positions whose target is `ignoreIndex` left out of the mean.
 */
export function crossEntropy(input: Tensor, target: Tensor, ignoreIndex = -100, reduction: 'mean' | 'sum' | 'none' = 'mean'): Tensor {
  if (target.dtype !== 'int64') throw new TorchError('RuntimeError', `expected scalar type Long but found ${target.dtype === 'bool' ? 'Bool' : 'Float'}`);
  const x = input.ndim === 1 ? input.unsqueeze(0) : input;
  const y = input.ndim === 1 ? target.reshape([1]) : target;
  const want = [x.shape[0], ...x.shape.slice(2)];
  if (y.shape.join() !== want.join()) throw new TorchError('ValueError', `Expected target size ${fmtShape(want)}, got ${fmtShape(y.shape)}`);
  const classes = arange(0, x.shape[1], 1, { dtype: 'int64', device: x.device }).reshape(x.shape.map((n, i) => (i === 1 ? n : 1)));
  const hit = classes.eq(y.unsqueeze(1));
  const nll = x.logSoftmax(1).maskedFill(hit.logicalNot(), 0).sum(1).neg();
  const valid = y.ne(ignoreIndex);
  const losses = nll.maskedFill(valid.logicalNot(), 0);
  if (reduction === 'none') return input.ndim === 1 ? losses.reshape([]) : losses;
  if (reduction === 'sum') return losses.sum();
  return losses.sum().div(valid.to('float32').sum());
}

// ---- interpolation -----------------------------------------------------------------------

export type InterpolateMode = 'nearest' | 'nearest-exact' | 'linear' | 'bilinear' | 'bicubic' | 'trilinear' | 'area';

export interface InterpolateOptions {
  readonly size?: number | readonly number[] | null;
  readonly scaleFactor?: number | readonly number[] | null;
  readonly mode?: InterpolateMode;
  readonly alignCorners?: boolean | null;
}

/**
 * `F.interpolate`: torch's argument handling (exactly one of size and scale_factor, per-axis
 * lists, align_corners only for the interpolating modes, the output size `floor(in ·
 * scale_factor)` with the scale factor itself used for the source index, as
 * `recompute_scale_factor=None`), then the `interpolate` kernel for nearest, nearest-exact,
 * (bi/tri)linear and bicubic, which computes each output element from its source positions and
 * weights; `area` is adaptive average pooling.
 */
export function interpolate(x: Tensor, o: InterpolateOptions): Tensor {
  const mode = o.mode ?? 'nearest';
  const sp = x.ndim - 2;
  if (sp < 1 || sp > 3) throw new TorchError('NotImplementedError', `Input Error: Only 3D, 4D and 5D input Tensors supported (got ${x.ndim}D) for the modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact (got ${mode})`);
  const need: Partial<Record<InterpolateMode, number>> = { linear: 1, bilinear: 2, bicubic: 2, trilinear: 3 };
  if (need[mode] !== undefined && need[mode] !== sp) throw new TorchError('NotImplementedError', `Got ${x.ndim}D input, but ${mode} mode needs ${need[mode]! + 2}D input`);
  const aligned = o.alignCorners ?? null;
  if (aligned !== null && (mode === 'nearest' || mode === 'nearest-exact' || mode === 'area')) throw new TorchError('ValueError', 'align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear');
  const hasSize = o.size !== undefined && o.size !== null;
  const hasScale = o.scaleFactor !== undefined && o.scaleFactor !== null;
  if (hasSize === hasScale) throw new TorchError('ValueError', hasSize ? 'only one of size or scale_factor should be defined' : 'either size or scale_factor should be defined');
  const list = (v: number | readonly number[], what: string): number[] => {
    const a = typeof v === 'number' ? Array(sp).fill(v) : [...v];
    if (a.length !== sp) throw new TorchError('ValueError', `Input and ${what} must have the same number of spatial dimensions, but got input with spatial dimensions of ${fmtShape(x.shape.slice(2))} and output ${what} of ${fmtShape(a)}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and output ${what} in (o1, o2, ...,oK) format.`);
    return a;
  };
  const factors = hasScale ? list(o.scaleFactor!, 'scale_factor') : null;
  const sizes = hasSize ? list(o.size!, 'size') : x.shape.slice(2).map((n, i) => Math.floor(n * factors![i]));
  if (mode === 'area') return adaptiveNd('avg', sp, x, sizes);
  return runKernel(interpolateK, [x], { mode, size: sizes, scales: factors, alignCorners: aligned === true })[0];
}

// ---- attention ---------------------------------------------------------------------------

export interface SdpaOptions {
  /** Bool (True = may attend) or float (added to the scores), broadcast to (…, L, S). */
  readonly attnMask?: Tensor | null;
  readonly dropoutP?: number;
  readonly isCausal?: boolean;
  readonly scale?: number | null;
}

/** `F.scaled_dot_product_attention` (eval: dropout must be 0). */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, o: SdpaOptions = {}): Tensor {
  return sdpaWithWeights(q, k, v, o, false)[0];
}

/** The same computation, also returning the attention weights (the materialising path). */
export function sdpaWithWeights(q: Tensor, k: Tensor, v: Tensor, o: SdpaOptions = {}, needWeights = true): Tensor[] {
  if (o.dropoutP) throw new TorchError('RuntimeError', 'scaled_dot_product_attention: dropout_p > 0 is not supported by this runtime (inference only)');
  const inputs = o.attnMask ? [q, k, v, o.attnMask] : [q, k, v];
  return runKernel(sdpaK, inputs, { scale: o.scale ?? undefined, causal: o.isCausal ?? false, needWeights });
}

export interface MhaForwardOptions {
  readonly embedDim: number;
  readonly numHeads: number;
  readonly inProjWeight?: Tensor | null;
  readonly inProjBias?: Tensor | null;
  readonly qProjWeight?: Tensor | null;
  readonly kProjWeight?: Tensor | null;
  readonly vProjWeight?: Tensor | null;
  readonly biasK?: Tensor | null;
  readonly biasV?: Tensor | null;
  readonly addZeroAttn: boolean;
  readonly dropoutP: number;
  readonly outProjWeight: Tensor;
  readonly outProjBias?: Tensor | null;
  readonly training: boolean;
  readonly keyPaddingMask?: Tensor | null;
  readonly needWeights: boolean;
  readonly attnMask?: Tensor | null;
  readonly averageAttnWeights: boolean;
  readonly isCausal: boolean;
}

/** A bool mask becomes an additive float mask (-inf where True); float masks pass through. */
function canonicalMask(m: Tensor | null | undefined, name: string): Tensor | null {
  if (!m) return null;
  if (m.dtype === 'bool') return zeros(m.shape, { device: m.device }).maskedFill(m, -Infinity);
  if (m.dtype !== 'float32') throw new TorchError('AssertionError', `only bool and floating types of ${name} are supported`);
  return m;
}

/**
 * `F.multi_head_attention_forward` on unbatched-or-(L, N, E) inputs (the
 * module transposes batch-first inputs first), following torch 2.x: masks
 * are merged into one additive mask, bias_k/bias_v and the zero slot extend
 * the keys (and pad the masks), weights come from the explicit path, and the
 * `is_causal` hint drops the mask only when neither weights nor a key padding
 * mask are needed. One tensor given as query, key and value is projected once
 * (torch's packed in-projection). Returns [output, weights | null].
 */
export function multiHeadAttentionForward(query: Tensor, key: Tensor, value: Tensor, o: MhaForwardOptions): [Tensor, Tensor | null] {
  const batched = query.ndim === 3;
  if (!batched) {
    if (query.ndim !== 2) throw new TorchError('AssertionError', `query should be unbatched 2D or batched 3D tensor but received ${query.ndim}-D query tensor`);
    const [out, w] = multiHeadAttentionForward(query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1), {
      ...o,
      keyPaddingMask: o.keyPaddingMask ? o.keyPaddingMask.unsqueeze(0) : o.keyPaddingMask,
    });
    return [out.squeeze(1), w ? w.squeeze(0) : null];
  }
  if (key.ndim !== 3 || value.ndim !== 3) {
    throw new TorchError('AssertionError', `For batched (3-D) \`query\`, expected \`key\` and \`value\` to be 3-D but found ${key.ndim}-D and ${value.ndim}-D tensors respectively`);
  }
  const [tgtLen, bsz, embedDim] = query.shape;
  let srcLen = key.shape[0];
  if (embedDim !== o.embedDim) throw new TorchError('AssertionError', `was expecting embedding dimension of ${o.embedDim}, but got ${embedDim}`);
  const H = o.numHeads;
  const headDim = Math.floor(embedDim / H);
  if (key.shape[0] !== value.shape[0] || key.shape[1] !== value.shape[1]) {
    throw new TorchError('AssertionError', `key shape ${fmtShape(key.shape)} does not match value shape ${fmtShape(value.shape)}`);
  }
  let attnMask: Tensor | null;
  let isCausal = o.isCausal;
  if (isCausal && !o.attnMask) {
    throw new TorchError('RuntimeError', 'Need attn_mask if specifying the is_causal hint. You may use the Transformer module method `generate_square_subsequent_mask` to create this mask.');
  }
  let kpm = canonicalMask(o.keyPaddingMask, 'key_padding_mask');
  if (isCausal && !o.keyPaddingMask && !o.needWeights) {
    attnMask = null;
  } else {
    attnMask = canonicalMask(o.attnMask, 'attn_mask');
    if (o.keyPaddingMask) isCausal = false;
  }

  if (attnMask) {
    if (attnMask.ndim === 2) {
      if (attnMask.shape[0] !== tgtLen || attnMask.shape[1] !== srcLen) {
        throw new TorchError('RuntimeError', `The shape of the 2D attn_mask is ${fmtShape(attnMask.shape)}, but should be (${tgtLen}, ${srcLen}).`);
      }
      attnMask = attnMask.unsqueeze(0);
    } else if (attnMask.ndim === 3) {
      if (attnMask.shape[0] !== bsz * H || attnMask.shape[1] !== tgtLen || attnMask.shape[2] !== srcLen) {
        throw new TorchError('RuntimeError', `The shape of the 3D attn_mask is ${fmtShape(attnMask.shape)}, but should be (${bsz * H}, ${tgtLen}, ${srcLen}).`);
      }
    } else throw new TorchError('RuntimeError', `attn_mask's dimension ${attnMask.ndim} is not supported`);
  }

  // Self-attention (query, key and value one tensor) without weights, bias_k/v or the zero slot
  // projects once by the whole in_proj_weight, as torch's `_in_projection_packed`: the input is
  // read (and, batch-first, made contiguous) once and one matmul and one bias add run instead of
  // three each. As torch, the result is made contiguous as (3, L, N, E), so SDPA reads q, k and v
  // with the layout of three projections (read in place from the (L, N, 3E) result, with rows
  // 3× further apart, SDPA ran slower on lavapipe than the copy costs).
  if (o.inProjWeight && query === key && key === value && !o.needWeights && !(o.biasK && o.biasV) && !o.addZeroAttn) {
    const proj = linear(query, o.inProjWeight, o.inProjBias).view(tgtLen, bsz, 3, embedDim).permute(2, 0, 1, 3).contiguous(); // (3, L, N, E)
    const [q4, k4, v4] = proj.view(3, tgtLen, bsz, H, headDim).permute(0, 2, 3, 1, 4).unbind(0); // 3 × (N, H, L, D)
    return [sdpaHeads(q4, k4, v4, attnMask, kpm, isCausal, o, { bsz, H, tgtLen, srcLen, embedDim }), null];
  }

  // Input projections.
  let q: Tensor;
  let k: Tensor;
  let v: Tensor;
  if (o.inProjWeight) {
    const [wq, wk, wv] = o.inProjWeight.chunk(3);
    const [bq, bk, bv] = o.inProjBias ? o.inProjBias.chunk(3) : [null, null, null];
    q = linear(query, wq, bq);
    k = linear(key, wk, bk);
    v = linear(value, wv, bv);
  } else {
    const [bq, bk, bv] = o.inProjBias ? o.inProjBias.chunk(3) : [null, null, null];
    q = linear(query, o.qProjWeight as Tensor, bq);
    k = linear(key, o.kProjWeight as Tensor, bk);
    v = linear(value, o.vProjWeight as Tensor, bv);
  }

  if (o.biasK && o.biasV) {
    k = cat([k, o.biasK.expand(1, bsz, embedDim)]);
    v = cat([v, o.biasV.expand(1, bsz, embedDim)]);
    if (attnMask) attnMask = pad(attnMask, [0, 1]);
    if (kpm) kpm = pad(kpm, [0, 1]);
  }

  // (L, N, E) -> (N*H, L, D)
  q = q.view(tgtLen, bsz * H, headDim).transpose(0, 1);
  k = k.view(k.shape[0], bsz * H, headDim).transpose(0, 1);
  v = v.view(v.shape[0], bsz * H, headDim).transpose(0, 1);

  if (o.addZeroAttn) {
    k = cat([k, zeros([bsz * H, 1, headDim], { device: k.device })], 1);
    v = cat([v, zeros([bsz * H, 1, headDim], { device: v.device })], 1);
    if (attnMask) attnMask = pad(attnMask, [0, 1]);
    if (kpm) kpm = pad(kpm, [0, 1]);
  }
  srcLen = k.shape[1];

  if (!o.needWeights) {
    return [sdpaHeads(q.view(bsz, H, tgtLen, headDim), k.view(bsz, H, srcLen, headDim), v.view(bsz, H, srcLen, headDim), attnMask, kpm, isCausal, o, { bsz, H, tgtLen, srcLen, embedDim }), null];
  }
  // Explicit path, as torch: scores = q * sqrt(1/E) @ kᵀ (+ mask), softmax, @ v.
  attnMask = withPaddingMask(attnMask, kpm, bsz, H, srcLen);
  let scores = q.mul(Math.sqrt(1 / headDim)).bmm(k.transpose(-2, -1));
  if (attnMask) scores = scores.add(attnMask);
  const w = dropout(scores.softmax(-1), o.training ? o.dropoutP : 0, o.training);
  let out = w.bmm(v);
  out = out.transpose(0, 1).contiguous().view(tgtLen * bsz, embedDim);
  out = linear(out, o.outProjWeight, o.outProjBias).view(tgtLen, bsz, out.shape[1]);
  const weights = w.view(bsz, H, tgtLen, srcLen);
  return [out, o.averageAttnWeights ? weights.mean(1) : weights];
}

/** The merged additive mask with the key padding mask (N, S) added per head, as (N·H, 1 or L, S). */
function withPaddingMask(attnMask: Tensor | null, kpm: Tensor | null, bsz: number, H: number, srcLen: number): Tensor | null {
  if (!kpm) return attnMask;
  if (kpm.shape[0] !== bsz || kpm.shape[1] !== srcLen) {
    throw new TorchError('AssertionError', `expecting key_padding_mask shape of (${bsz}, ${srcLen}), but got ${fmtShape(kpm.shape)}`);
  }
  const expanded = kpm.view(bsz, 1, 1, srcLen).expand(-1, H, -1, -1).reshape(bsz * H, 1, srcLen);
  return attnMask ? attnMask.add(expanded) : expanded;
}

/** The path without weights: heads (N, H, L|S, D) through SDPA, merged to (L·N, E), out_proj, as (L, N, E). */
function sdpaHeads(
  q4: Tensor, k4: Tensor, v4: Tensor,
  attnMask: Tensor | null, kpm: Tensor | null, isCausal: boolean,
  o: MhaForwardOptions,
  d: { bsz: number; H: number; tgtLen: number; srcLen: number; embedDim: number },
): Tensor {
  const merged = withPaddingMask(attnMask, kpm, d.bsz, d.H, d.srcLen);
  let mask: Tensor | null = null;
  if (merged) mask = merged.shape[0] === 1 && merged.ndim === 3 ? merged.unsqueeze(0) : merged.view(d.bsz, d.H, -1, d.srcLen);
  let out = scaledDotProductAttention(q4, k4, v4, { attnMask: mask, dropoutP: o.training ? o.dropoutP : 0, isCausal });
  out = out.permute(2, 0, 1, 3).contiguous().view(d.bsz * d.tgtLen, d.embedDim);
  return linear(out, o.outProjWeight, o.outProjBias).view(d.tgtLen, d.bsz, out.shape[1]);
}

/** A bool (L, S) mask, True above the diagonal (`torch.triu(torch.ones(L, S, dtype=bool), 1)`). */
export function causalIgnoreMask(L: number, S: number, device = ones([1]).device): Tensor {
  return tril(ones([L, S], { dtype: 'bool', device })).logicalNot();
}
