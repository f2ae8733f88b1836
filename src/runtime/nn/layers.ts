/**
 * The `torch.nn` layers the catalog's blocks use, with torch's class names,
 * constructor arguments (positional as in torch, keyword arguments in an
 * options object with torch's snake_case names), parameter names, default
 * initialisation and input checks: Linear, Conv1d/2d/3d, BatchNorm1d/2d/3d,
 * LayerNorm, activations, Dropout, pooling, Flatten, Identity, Sequential and
 * ModuleList. MultiheadAttention is in `attention.ts`. The maths lives in
 * `functional.ts`; these classes hold state and check arguments.
 */

import { TorchError } from '../errors';
import * as F from '../functional';
import { ones, Tensor, zeros } from '../tensor';
import { fanInBound, kaimingUniform_, ones_, uniform_, zeros_ } from './init';
import { defaultDevice, defaultGenerator, Module, Parameter, writeInto, type FactoryOptions } from './module';

type Fwd = Module & { forward(x: Tensor): Tensor };

export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;
  constructor(
    readonly in_features: number,
    readonly out_features: number,
    o: FactoryOptions & { bias?: boolean } = {},
  ) {
    super();
    const device = defaultDevice(o);
    const g = defaultGenerator(o);
    this.weight = new Parameter(zeros([out_features, in_features], { device }));
    this.bias = o.bias ?? true ? new Parameter(zeros([out_features], { device })) : null;
    // reset_parameters(): kaiming_uniform_(a=√5), bias U(-1/√fan_in, 1/√fan_in).
    kaimingUniform_(this.weight, { a: Math.sqrt(5), generator: g });
    if (this.bias) {
      const b = fanInBound(this.weight);
      uniform_(this.bias, -b, b, g);
    }
  }
  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
}

/** `nn.Embedding`: a lookup table initialised from N(0, 1), the `padding_idx` row zeroed. */
export class Embedding extends Module {
  weight: Parameter;
  readonly padding_idx: number | null;
  constructor(
    readonly num_embeddings: number,
    readonly embedding_dim: number,
    o: FactoryOptions & { padding_idx?: number | null } = {},
  ) {
    super();
    this.weight = new Parameter(zeros([num_embeddings, embedding_dim], { device: defaultDevice(o) }));
    let p = o.padding_idx ?? null;
    if (p !== null) {
      if (p >= num_embeddings || p < -num_embeddings) throw new TorchError('AssertionError', 'Padding_idx must be within num_embeddings');
      if (p < 0) p += num_embeddings;
    }
    // reset_parameters(): N(0, 1), then the padding row zeroed (written once, on any device).
    const g = defaultGenerator(o);
    const w = new Float32Array(num_embeddings * embedding_dim);
    for (let i = 0; i < w.length; i++) w[i] = g.normal(0, 1);
    if (p !== null) w.fill(0, p * embedding_dim, (p + 1) * embedding_dim);
    writeInto(this.weight, w);
    this.padding_idx = p;
  }
  forward(ids: Tensor): Tensor {
    return F.embedding(ids, this.weight);
  }
}

export interface ConvArgs extends FactoryOptions {
  readonly stride?: F.IntOrTuple;
  readonly padding?: F.IntOrTuple | 'same' | 'valid';
  readonly dilation?: F.IntOrTuple;
  readonly groups?: number;
  readonly bias?: boolean;
  readonly padding_mode?: 'zeros';
}

abstract class ConvNd extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly kernel_size: number[];
  readonly stride: number[];
  readonly padding: number[] | 'same' | 'valid';
  readonly dilation: number[];
  readonly groups: number;
  constructor(
    nsp: number,
    readonly in_channels: number,
    readonly out_channels: number,
    kernelSize: F.IntOrTuple,
    o: ConvArgs,
  ) {
    super();
    const groups = o.groups ?? 1;
    if (groups <= 0) throw new TorchError('ValueError', 'groups must be a positive integer');
    if (in_channels % groups !== 0) throw new TorchError('ValueError', 'in_channels must be divisible by groups');
    if (out_channels % groups !== 0) throw new TorchError('ValueError', 'out_channels must be divisible by groups');
    if ((o.padding_mode ?? 'zeros') !== 'zeros') throw new TorchError('ValueError', `padding_mode '${o.padding_mode}' is not supported by this runtime`);
    this.kernel_size = F.ntuple(kernelSize, nsp, 'kernel_size');
    this.stride = F.ntuple(o.stride ?? 1, nsp, 'stride');
    this.dilation = F.ntuple(o.dilation ?? 1, nsp, 'dilation');
    const p = o.padding ?? 0;
    if (typeof p === 'string') {
      if (p !== 'same' && p !== 'valid') throw new TorchError('ValueError', `Invalid padding string '${p}', should be one of {'valid', 'same'}`);
      if (p === 'same' && this.stride.some((s) => s !== 1)) throw new TorchError('ValueError', "padding='same' is not supported for strided convolutions");
      this.padding = p;
    } else this.padding = F.ntuple(p, nsp, 'padding');
    this.groups = groups;
    const device = defaultDevice(o);
    const g = defaultGenerator(o);
    this.weight = new Parameter(zeros([out_channels, in_channels / groups, ...this.kernel_size], { device }));
    this.bias = o.bias ?? true ? new Parameter(zeros([out_channels], { device })) : null;
    kaimingUniform_(this.weight, { a: Math.sqrt(5), generator: g });
    if (this.bias) {
      const b = fanInBound(this.weight);
      uniform_(this.bias, -b, b, g);
    }
  }
  protected opts(): F.ConvOptions {
    return { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups };
  }
}

export class Conv1d extends ConvNd {
  constructor(inC: number, outC: number, kernelSize: F.IntOrTuple, o: ConvArgs = {}) {
    super(1, inC, outC, kernelSize, o);
  }
  forward(x: Tensor): Tensor {
    return F.conv1d(x, this.weight, this.bias, this.opts());
  }
}
export class Conv2d extends ConvNd {
  constructor(inC: number, outC: number, kernelSize: F.IntOrTuple, o: ConvArgs = {}) {
    super(2, inC, outC, kernelSize, o);
  }
  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, this.opts());
  }
}
export class Conv3d extends ConvNd {
  constructor(inC: number, outC: number, kernelSize: F.IntOrTuple, o: ConvArgs = {}) {
    super(3, inC, outC, kernelSize, o);
  }
  forward(x: Tensor): Tensor {
    return F.conv3d(x, this.weight, this.bias, this.opts());
  }
}

export interface BatchNormArgs extends FactoryOptions {
  readonly eps?: number;
  readonly momentum?: number | null;
  readonly affine?: boolean;
  readonly track_running_stats?: boolean;
}

abstract class BatchNormNd extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  declare running_mean: Tensor;
  declare running_var: Tensor;
  declare num_batches_tracked: Tensor;
  readonly eps: number;
  readonly momentum: number | null;
  constructor(
    private readonly ranks: readonly number[],
    readonly num_features: number,
    o: BatchNormArgs,
  ) {
    super();
    const device = defaultDevice(o);
    this.eps = o.eps ?? 1e-5;
    this.momentum = o.momentum === undefined ? 0.1 : o.momentum;
    const affine = o.affine ?? true;
    this.weight = affine ? new Parameter(ones([num_features], { device })) : null;
    this.bias = affine ? new Parameter(zeros([num_features], { device })) : null;
    if (!(o.track_running_stats ?? true)) throw new TorchError('ValueError', 'track_running_stats=False needs batch statistics, which this inference runtime does not compute');
    this.registerBuffer('running_mean', zeros([num_features], { device }));
    this.registerBuffer('running_var', ones([num_features], { device }));
    this.registerBuffer('num_batches_tracked', zeros([], { device, dtype: 'int64' }));
  }
  forward(x: Tensor): Tensor {
    if (!this.ranks.includes(x.ndim)) {
      const want = this.ranks.map((r) => `${r}D`).join(' or ');
      throw new TorchError('ValueError', `expected ${want} input (got ${x.ndim}D input)`);
    }
    if (this.training) throw new TorchError('RuntimeError', `${this.typeName} in training mode is not supported by this runtime (call eval())`);
    return F.batchNorm(x, this.running_mean, this.running_var, this.weight, this.bias, false, this.momentum ?? 0, this.eps);
  }
  /** Zero-fills and ones-fills as torch's reset_parameters. */
  resetRunningStats(): void {
    zeros_(this.running_mean);
    ones_(this.running_var);
  }
}

export class BatchNorm1d extends BatchNormNd {
  constructor(numFeatures: number, o: BatchNormArgs = {}) {
    super([2, 3], numFeatures, o);
  }
}
export class BatchNorm2d extends BatchNormNd {
  constructor(numFeatures: number, o: BatchNormArgs = {}) {
    super([4], numFeatures, o);
  }
}
export class BatchNorm3d extends BatchNormNd {
  constructor(numFeatures: number, o: BatchNormArgs = {}) {
    super([5], numFeatures, o);
  }
}

export class LayerNorm extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  readonly normalized_shape: number[];
  readonly eps: number;
  constructor(normalizedShape: F.IntOrTuple, o: FactoryOptions & { eps?: number; elementwise_affine?: boolean; bias?: boolean } = {}) {
    super();
    const device = defaultDevice(o);
    this.normalized_shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.eps = o.eps ?? 1e-5;
    const affine = o.elementwise_affine ?? true;
    this.weight = affine ? new Parameter(ones(this.normalized_shape, { device })) : null;
    this.bias = affine && (o.bias ?? true) ? new Parameter(zeros(this.normalized_shape, { device })) : null;
  }
  forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.normalized_shape, this.weight, this.bias, this.eps);
  }
}

// ---- activations and dropout -------------------------------------------------------

/** `inplace` is accepted for signature compatibility; results are always new tensors. */
export interface InplaceArg {
  readonly inplace?: boolean;
}

export class ReLU extends Module {
  constructor(_o: InplaceArg = {}) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}
/** `nn.ReLU6`: min(max(x, 0), 6). */
export class ReLU6 extends Module {
  constructor(_o: InplaceArg = {}) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.clampMin(0).clampMax(6);
  }
}
/** `nn.GroupNorm`: statistics over each group of channels and the spatial axes, then the per-channel affine. */
export class GroupNorm extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  constructor(
    readonly num_groups: number,
    readonly num_channels: number,
    readonly o: FactoryOptions & { eps?: number; affine?: boolean } = {},
  ) {
    super();
    if (num_channels % num_groups !== 0) throw new TorchError('ValueError', 'num_channels must be divisible by num_groups');
    const device = defaultDevice(o);
    const affine = o.affine ?? true;
    this.weight = affine ? new Parameter(ones([num_channels], { device })) : null;
    this.bias = affine ? new Parameter(zeros([num_channels], { device })) : null;
  }
  forward(x: Tensor): Tensor {
    return F.groupNorm(x, this.num_groups, this.weight, this.bias, this.o.eps ?? 1e-5);
  }
}
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return x.tanh();
  }
}
export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.gelu(this.approximate);
  }
}
export class Hardswish extends Module {
  constructor(_o: InplaceArg = {}) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.hardswish();
  }
}
export class SiLU extends Module {
  constructor(_o: InplaceArg = {}) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.silu();
  }
}
export class Softmax extends Module {
  constructor(readonly dim: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.softmax(this.dim);
  }
}

export class Dropout extends Module {
  constructor(
    readonly p = 0.5,
    _o: InplaceArg = {},
  ) {
    super();
    if (p < 0 || p > 1) throw new TorchError('ValueError', `dropout probability has to be between 0 and 1, but got ${p}`);
  }
  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training);
  }
}

// ---- pooling ---------------------------------------------------------------------------

export interface PoolArgs {
  readonly stride?: F.IntOrTuple | null;
  readonly padding?: F.IntOrTuple;
  readonly dilation?: F.IntOrTuple;
  readonly ceil_mode?: boolean;
  readonly count_include_pad?: boolean;
}

abstract class PoolNd extends Module {
  constructor(
    private readonly fn: (x: Tensor, k: F.IntOrTuple, o: F.PoolOptions) => Tensor,
    readonly kernel_size: F.IntOrTuple,
    readonly o: PoolArgs,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.fn(x, this.kernel_size, {
      stride: this.o.stride,
      padding: this.o.padding,
      dilation: this.o.dilation,
      ceilMode: this.o.ceil_mode,
      countIncludePad: this.o.count_include_pad,
    });
  }
}
export class MaxPool1d extends PoolNd {
  constructor(k: F.IntOrTuple, o: PoolArgs = {}) {
    super(F.maxPool1d, k, o);
  }
}
export class MaxPool2d extends PoolNd {
  constructor(k: F.IntOrTuple, o: PoolArgs = {}) {
    super(F.maxPool2d, k, o);
  }
}
export class MaxPool3d extends PoolNd {
  constructor(k: F.IntOrTuple, o: PoolArgs = {}) {
    super(F.maxPool3d, k, o);
  }
}
export class AvgPool1d extends PoolNd {
  constructor(k: F.IntOrTuple, o: PoolArgs = {}) {
    super(F.avgPool1d, k, o);
  }
}
export class AvgPool2d extends PoolNd {
  constructor(k: F.IntOrTuple, o: PoolArgs = {}) {
    super(F.avgPool2d, k, o);
  }
}
export class AvgPool3d extends PoolNd {
  constructor(k: F.IntOrTuple, o: PoolArgs = {}) {
    super(F.avgPool3d, k, o);
  }
}

abstract class AdaptiveNd extends Module {
  constructor(
    private readonly fn: (x: Tensor, s: F.AdaptiveSize) => Tensor,
    readonly output_size: F.AdaptiveSize,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.fn(x, this.output_size);
  }
}
export class AdaptiveAvgPool1d extends AdaptiveNd {
  constructor(s: F.AdaptiveSize) {
    super(F.adaptiveAvgPool1d, s);
  }
}
export class AdaptiveAvgPool2d extends AdaptiveNd {
  constructor(s: F.AdaptiveSize) {
    super(F.adaptiveAvgPool2d, s);
  }
}
export class AdaptiveAvgPool3d extends AdaptiveNd {
  constructor(s: F.AdaptiveSize) {
    super(F.adaptiveAvgPool3d, s);
  }
}
export class AdaptiveMaxPool1d extends AdaptiveNd {
  constructor(s: F.AdaptiveSize) {
    super(F.adaptiveMaxPool1d, s);
  }
}
export class AdaptiveMaxPool2d extends AdaptiveNd {
  constructor(s: F.AdaptiveSize) {
    super(F.adaptiveMaxPool2d, s);
  }
}
export class AdaptiveMaxPool3d extends AdaptiveNd {
  constructor(s: F.AdaptiveSize) {
    super(F.adaptiveMaxPool3d, s);
  }
}

export class Flatten extends Module {
  constructor(
    readonly start_dim = 1,
    readonly end_dim = -1,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.flatten(this.start_dim, this.end_dim);
  }
}

/** `nn.Unfold(kernel_size, dilation, padding, stride)`: `F.unfold` as a layer. */
export class Unfold extends Module {
  constructor(
    readonly kernel_size: F.IntOrTuple,
    readonly options: F.UnfoldOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.unfold(x, this.kernel_size, this.options);
  }
}

// ---- containers ----------------------------------------------------------------------------

/** Children are registered under '0', '1', … as in torch; `get(i)` is `seq[i]`. */
export class Sequential extends Module {
  constructor(...modules: Module[]) {
    super();
    modules.forEach((m, i) => ((this as unknown as Record<string, Module>)[String(i)] = m));
  }
  get length(): number {
    return this.namedChildren().length;
  }
  get<M extends Module = Fwd>(i: number): M {
    const kids = this.namedChildren();
    const j = i < 0 ? i + kids.length : i;
    if (j < 0 || j >= kids.length) throw new TorchError('IndexError', `index ${i} is out of range`);
    return kids[j][1] as M;
  }
  forward(x: Tensor): Tensor {
    let y = x;
    for (const [, m] of this.namedChildren()) y = (m as Fwd).forward(y);
    return y;
  }
}

/** `nn.ModuleDict`: children under string keys, in insertion order. */
export class ModuleDict<M extends Module = Module> extends Module {
  constructor(modules: Iterable<[string, M]> = []) {
    super();
    for (const [k, m] of modules) this.set(k, m);
  }
  set(key: string, m: M): void {
    (this as unknown as Record<string, Module>)[key] = m;
  }
  has(key: string): boolean {
    return this.namedChildren().some(([k]) => k === key);
  }
  get(key: string): M {
    const hit = this.namedChildren().find(([k]) => k === key);
    if (!hit) throw new TorchError('KeyError', `'${key}'`);
    return hit[1] as M;
  }
  keys(): string[] {
    return this.namedChildren().map(([k]) => k);
  }
  get length(): number {
    return this.namedChildren().length;
  }
  forward(): never {
    throw new TorchError('RuntimeError', 'ModuleDict is not callable: index it by key');
  }
}

export class ModuleList<M extends Module = Module> extends Module {
  constructor(modules: Iterable<M> = []) {
    super();
    let i = 0;
    for (const m of modules) (this as unknown as Record<string, Module>)[String(i++)] = m;
  }
  get length(): number {
    return this.namedChildren().length;
  }
  get(i: number): M {
    const kids = this.namedChildren();
    const j = i < 0 ? i + kids.length : i;
    if (j < 0 || j >= kids.length) throw new TorchError('IndexError', `index ${i} is out of range`);
    return kids[j][1] as M;
  }
  [Symbol.iterator](): Iterator<M> {
    return this.namedChildren().map(([, m]) => m as M)[Symbol.iterator]();
  }
  forward(): never {
    throw new TorchError('RuntimeError', 'ModuleList is not callable: iterate over it');
  }
}
