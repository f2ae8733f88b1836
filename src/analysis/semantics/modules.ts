/**
 * Calls of torch layers (`nn.Linear`, `nn.Conv*d`, norms, pools, `nn.Embedding`,
 * `nn.MultiheadAttention`, `nn.Sequential`, einops layers…), one handler per layer type, and
 * the functional forms that share their arithmetic (`F.adaptive_*_pool`, `F.*_norm`). A layer's
 * constructor arguments against its input are the facts the `*-mismatch` rules judge
 * (`in_features`, `in_channels`, `normalized_shape`, `embed_dim`, the input's rank). A tensor of
 * unknown rank fed to a layer that needs a batch of maps takes that rank (`BATCHED_RANK`).
 */

import * as D from '../dims';
import type { Dim } from '../dims';
import type { OpInfo } from '../events';
import type { Node } from '../parse';
import type { Axis, IntV, Role, TensorV, TorchModuleV, Value } from '../values';
import { UNKNOWN } from '../values';
import type { EinopsKind } from '../ops/einops';
import { contiguousStrides, keep, sameShape } from './facts';
import { mha } from './attention';
import { einops } from './einops';
import { failed, intV, isTensor, margs, nth, raises, type FunctionHandler, type ModuleHandler, type OpHost } from './host';
import { divides } from './shape';

/** Layers that keep their input's shape (activations, dropout, identity). */
const SHAPE_PRESERVING_MODULES = new Set([
  'Dropout', 'Dropout1d', 'Dropout2d', 'ReLU', 'GELU', 'SiLU', 'Sigmoid', 'Tanh', 'Identity', 'LeakyReLU', 'ELU', 'Mish',
  'Hardswish', 'Hardsigmoid', 'ReLU6', 'Softplus', 'PReLU', 'SELU', 'Softsign', 'Tanhshrink', 'Hardtanh', 'GLU_',
]);

/** Layers whose usual input is a batch of N-d maps, and that rank (B, C and the spatial axes). */
export const BATCHED_RANK: Record<string, number> = {
  Conv1d: 3, Conv2d: 4, Conv3d: 5, ConvTranspose1d: 3, ConvTranspose2d: 4, ConvTranspose3d: 5,
  BatchNorm2d: 4, BatchNorm3d: 5, InstanceNorm2d: 4, InstanceNorm3d: 5,
  MaxPool1d: 3, MaxPool2d: 4, MaxPool3d: 5, AvgPool1d: 3, AvgPool2d: 4, AvgPool3d: 5,
  AdaptiveAvgPool1d: 3, AdaptiveAvgPool2d: 4, AdaptiveAvgPool3d: 5, AdaptiveMaxPool1d: 3, AdaptiveMaxPool2d: 4, AdaptiveMaxPool3d: 5,
};

/**
 * Layers whose output has a fixed number of axes more than their input, whatever its rank
 * (`nn.Embedding` appends the embedding axis): a rank fixed downstream fixes the input's.
 */
export const RANK_ADDING: Record<string, number> = {
  Embedding: 1,
};

const moduleLinear: ModuleHandler = (h, { m, info, t, rank }) => {
  const a = margs(m, m.type === 'Linear' ? ['in_features', 'out_features'] : ['out_features']);
  const out = a.out_features;
  if (!t?.axes || rank === 0) return { kind: 'tensor' } as TensorV;
  if (m.type === 'Linear' && a.in_features?.kind === 'int') {
    const last = t.axes[rank! - 1].size;
    info.contracted = [last, a.in_features.dim];
    if (h.unify(last, a.in_features.dim) === 'ne') return { kind: 'tensor' } as TensorV;
  }
  const axes = [...t.axes.slice(0, -1), { size: out?.kind === 'int' ? out.dim : h.fresh('d'), role: 'chan' as Role, label: h.label() }];
  return { kind: 'tensor', axes, strides: contiguousStrides(axes.map((q) => q.size)), dtype: 'float', permutes: t.permutes, lastPermute: t.lastPermute } as TensorV;
};

const moduleConv1d: ModuleHandler = (h, { m, info, t, rank }) => {
  const nd = Number(m.type[4]);
  const a = margs(m, ['in_channels', 'out_channels', 'kernel_size', 'stride', 'padding', 'dilation', 'groups']);
  if (!t?.axes) return { kind: 'tensor' } as TensorV;
  if (rank !== nd + 2 && rank !== nd + 1) {
    info.rank = { expected: `${nd + 1}-d or ${nd + 2}-d (N, C, ${nd === 1 ? 'L' : nd === 2 ? 'H, W' : 'D, H, W'}) input`, got: rank! };
    return { kind: 'tensor' } as TensorV;
  }
  const cAxis = rank === nd + 2 ? 1 : 0;
  if (a.in_channels?.kind === 'int') {
    const got = t.axes[cAxis].size;
    if (h.unify(got, a.in_channels.dim) === 'ne' || h.apart(got, a.in_channels.dim)) {
      info.expectedSize = { axis: cAxis, expected: a.in_channels.dim, got, what: `${m.type} in_channels` };
      return { kind: 'tensor' } as TensorV;
    }
  }
  const sp = t.axes.slice(cAxis + 1).map((ax, i) => convOut(h, ax.size, nth(h, a.kernel_size, i), nth(h, a.stride, i) ?? 1, padding(h, a.padding, i, nth(h, a.kernel_size, i), nth(h, a.dilation, i) ?? 1), nth(h, a.dilation, i) ?? 1));
  const out = a.out_channels?.kind === 'int' ? a.out_channels.dim : h.fresh('C');
  const axes: Axis[] = [...(cAxis === 1 ? [{ ...t.axes[0], role: 'batch' as Role }] : []), { size: out, role: 'chan', label: h.label() }, ...sp.map((s, i) => ({ size: s, role: t.axes![cAxis + 1 + i].role ?? ('space' as Role), label: D.equal(s, t.axes![cAxis + 1 + i].size) ? t.axes![cAxis + 1 + i].label : h.label() }))];
  return { kind: 'tensor', axes, strides: contiguousStrides(axes.map((q) => q.size)), dtype: 'float' } as TensorV;
};

const moduleBatchNorm1d: ModuleHandler = (h, { m, info, t, rank }) => {
  const nd = Number(m.type[m.type.length - 2]);
  const a = margs(m, ['num_features']);
  if (!t?.axes) return { kind: 'tensor' } as TensorV;
  const okRanks = nd === 1 ? [2, 3] : m.type.startsWith('Instance') ? [nd + 1, nd + 2] : [nd + 2];
  if (!okRanks.includes(rank!)) {
    info.rank = { expected: `${okRanks.join('-d or ')}-d input`, got: rank! };
    return { kind: 'tensor' } as TensorV;
  }
  const cAxis = rank === nd + 1 && m.type.startsWith('Instance') ? 0 : 1;
  if (a.num_features?.kind === 'int') {
    const got = t.axes[cAxis].size;
    if (h.unify(got, a.num_features.dim) === 'ne' || h.apart(got, a.num_features.dim)) info.expectedSize = { axis: cAxis, expected: a.num_features.dim, got, what: `${m.type} num_features` };
  }
  if (cAxis === 1 && !t.axes[1].role) t.axes[1].role = 'chan';
  return keep(t);
};

const moduleGroupNorm: ModuleHandler = (h, { m, info, t, rank }) => {
  const a = margs(m, ['num_groups', 'num_channels']);
  if (!t?.axes || rank! < 2) return { kind: 'tensor' } as TensorV;
  if (a.num_channels?.kind === 'int' && (h.unify(t.axes[1].size, a.num_channels.dim) === 'ne' || h.apart(t.axes[1].size, a.num_channels.dim))) info.expectedSize = { axis: 1, expected: a.num_channels.dim, got: t.axes[1].size, what: 'GroupNorm num_channels' };
  return keep(t);
};

const moduleLayerNorm: ModuleHandler = (h, { m, info, t, rank }) => {
  const a = margs(m, ['normalized_shape']);
  if (!t?.axes) return { kind: 'tensor' } as TensorV;
  const ns = a.normalized_shape;
  const dims = ns?.kind === 'int' ? [ns.dim] : ns?.kind === 'tuple' && ns.items.every((i) => i.kind === 'int') ? ns.items.map((i) => (i as IntV).dim) : undefined;
  if (dims) {
    if (dims.length > rank!) info.rank = { expected: `at least ${dims.length}-d input`, got: rank! };
    else
      dims.forEach((d, i) => {
        const ax = rank! - dims.length + i;
        if (!info.expectedSize && (h.unify(t.axes![ax].size, d) === 'ne' || h.apart(t.axes![ax].size, d))) info.expectedSize = { axis: ax, expected: d, got: t.axes![ax].size, what: 'LayerNorm normalized_shape' };
      });
  }
  return keep(t);
};

const moduleMultiheadAttention: ModuleHandler = (h, { m, args, kwargs, info }) => {
  return mha(h, m, args, kwargs, info);
};

const moduleSequential: ModuleHandler = (h, { m, argNodes, n, x }) => {
  let cur: Value = x ?? UNKNOWN;
  for (const it of m.items ?? []) {
    if (it.kind === 'torchmodule') cur = h.callModule(it, [cur], {}, argNodes, {}, n);
    else if (it.kind === 'instance') cur = h.callInstance(it, [cur], {}, n, false);
    else cur = UNKNOWN;
  }
  return cur;
};

const moduleSoftmax: ModuleHandler = (h, { m, argNodes, n, t }) => {
  if (!t) return { kind: 'tensor' } as TensorV;
  const a = margs(m, ['dim']);
  return h.tensorOp('softmax', [t, ...(a.dim ? [a.dim] : [])], {}, [argNodes[0], m.node], {}, n, m.node);
};

const moduleFlatten: ModuleHandler = (h, { m, argNodes, n, t }) => {
  if (!t) return { kind: 'tensor' } as TensorV;
  const a = margs(m, ['start_dim', 'end_dim']);
  return h.tensorOp('flatten', [t, a.start_dim ?? intV(D.dconst(1)), a.end_dim ?? intV(D.dconst(-1))], {}, [argNodes[0]], {}, n, n);
};

const moduleAdaptiveAvgPool2d: ModuleHandler = (_h, { m, t }) => {
  return adaptivePool(t, margs(m, ['output_size']).output_size, m.type.endsWith('1d') ? 1 : 2);
};

const moduleAvgPool2d: ModuleHandler = (h, { m, t, rank }) => {
  const nd = m.type.endsWith('1d') ? 1 : m.type.endsWith('3d') ? 3 : 2;
  const a = margs(m, ['kernel_size', 'stride', 'padding']);
  if (!t?.axes || rank! < nd + 1) return { kind: 'tensor' } as TensorV;
  // Kernel, stride and padding may differ per spatial axis ((1, 2, 2) pools only H and W).
  const lead = t.axes.slice(0, rank! - nd);
  const sp = t.axes.slice(rank! - nd).map((ax, i) => {
    const k = nth(h, a.kernel_size, i);
    const s = a.stride && a.stride.kind !== 'none' ? nth(h, a.stride, i) : k;
    const p = nth(h, a.padding, i) ?? 0;
    return { size: convOut(h, ax.size, k, s ?? 1, p, 1), role: ax.role ?? ('space' as Role) };
  });
  const axes = [...lead, ...sp];
  return { kind: 'tensor', axes, strides: contiguousStrides(axes.map((q) => q.size)) } as TensorV;
};

const moduleEmbedding: ModuleHandler = (h, { m, t }) => {
  const a = margs(m, ['num_embeddings', 'embedding_dim']);
  if (!t?.axes || a.embedding_dim?.kind !== 'int') return { kind: 'tensor', dtype: 'float', learned: true } as TensorV;
  const axes = [...t.axes, { size: a.embedding_dim.dim, role: 'chan' as Role, label: h.label() }];
  return { kind: 'tensor', axes, strides: contiguousStrides(axes.map((q) => q.size)), dtype: 'float', learned: true } as TensorV;
};

const moduleUpsample: ModuleHandler = (h, { m, t, rank }) => {
  // (*, C * r * r, H, W) -> (*, C, H * r, W * r); a channel count r * r does not divide is unknown.
  const r = margs(m, ['upscale_factor']).upscale_factor;
  if (!t?.axes || rank! < 3 || r?.kind !== 'int') return { kind: 'tensor' } as TensorV;
  const rr = D.mul(r.dim, r.dim);
  const c = t.axes[rank! - 3].size;
  const cv = D.constValue(h.norm(c));
  const rv = D.constValue(h.norm(rr));
  if (cv !== undefined && rv !== undefined ? rv === 0 || cv % rv !== 0 : !divides(rr, c)) return { kind: 'tensor' } as TensorV;
  const q = D.floorDiv(h.norm(c), h.norm(rr));
  if (!q) return { kind: 'tensor' } as TensorV;
  const axes: Axis[] = [...t.axes.slice(0, rank! - 3), { size: q, role: 'chan' }, { size: D.mul(t.axes[rank! - 2].size, r.dim), role: 'space' }, { size: D.mul(t.axes[rank! - 1].size, r.dim), role: 'space' }];
  return { kind: 'tensor', axes, strides: contiguousStrides(axes.map((a) => a.size)), dtype: t.dtype } as TensorV;
};

const moduleTransformerEncoderLayer: ModuleHandler = (h, { m, info, t, rank }) => {
  // Encoder layers keep the input's shape; the model width must be the last axis.
  if (!t?.axes || (rank !== 2 && rank !== 3)) return { kind: 'tensor' } as TensorV;
  const layer = m.type === 'TransformerEncoder' ? m.kwargs.encoder_layer ?? m.args[0] : m;
  const dm = layer?.kind === 'torchmodule' ? layer.kwargs.d_model ?? layer.args[0] : undefined;
  if (dm?.kind === 'int' && (h.unify(t.axes[rank! - 1].size, dm.dim) === 'ne' || h.apart(t.axes[rank! - 1].size, dm.dim))) info.expectedSize = { axis: rank! - 1, expected: dm.dim, got: t.axes[rank! - 1].size, what: 'd_model' };
  return keep(t);
};

/**
 * Decoder layers, `nn.TransformerDecoder` and `nn.Transformer` return the target's shape (`tgt`:
 * the first argument of a decoder, the second of a whole transformer); its last axis must be
 * `d_model`. The memory (or source) only has to share the width, which attention checks.
 */
const moduleTransformerDecoderLayer: ModuleHandler = (h, { m, args, kwargs, info }) => {
  const whole = m.type === 'Transformer';
  const tgt = kwargs.tgt ?? args[whole ? 1 : 0];
  if (!isTensor(tgt) || !tgt.axes || (tgt.axes.length !== 2 && tgt.axes.length !== 3)) return { kind: 'tensor' } as TensorV;
  const rank = tgt.axes.length;
  const layer = m.type === 'TransformerDecoder' ? m.kwargs.decoder_layer ?? m.args[0] : m;
  const dm = layer?.kind === 'torchmodule' ? layer.kwargs.d_model ?? layer.args[0] : undefined;
  const width = dm?.kind === 'int' ? dm.dim : whole && !dm ? D.dconst(512) : undefined;
  if (width && (h.unify(tgt.axes[rank - 1].size, width) === 'ne' || h.apart(tgt.axes[rank - 1].size, width))) info.expectedSize = { axis: rank - 1, expected: width, got: tgt.axes[rank - 1].size, what: 'd_model', arg: { name: 'target', value: tgt } };
  return keep(tgt);
};

const moduleDefault: ModuleHandler = (_h, { m, t }) => {
  if (SHAPE_PRESERVING_MODULES.has(m.type) && t) return m.type.startsWith('Dropout') || m.type === 'Identity' ? t : keep(t);
  return { kind: 'tensor' } as TensorV;
};

export const MODULES: Record<string, ModuleHandler> = {
  Linear: moduleLinear,
  LazyLinear: moduleLinear,
  Conv1d: moduleConv1d,
  Conv2d: moduleConv1d,
  Conv3d: moduleConv1d,
  BatchNorm1d: moduleBatchNorm1d,
  BatchNorm2d: moduleBatchNorm1d,
  BatchNorm3d: moduleBatchNorm1d,
  InstanceNorm1d: moduleBatchNorm1d,
  InstanceNorm2d: moduleBatchNorm1d,
  InstanceNorm3d: moduleBatchNorm1d,
  GroupNorm: moduleGroupNorm,
  LayerNorm: moduleLayerNorm,
  MultiheadAttention: moduleMultiheadAttention,
  Sequential: moduleSequential,
  Softmax: moduleSoftmax,
  LogSoftmax: moduleSoftmax,
  Flatten: moduleFlatten,
  AdaptiveAvgPool2d: moduleAdaptiveAvgPool2d,
  AdaptiveMaxPool2d: moduleAdaptiveAvgPool2d,
  AdaptiveAvgPool1d: moduleAdaptiveAvgPool2d,
  AdaptiveMaxPool1d: moduleAdaptiveAvgPool2d,
  AvgPool2d: moduleAvgPool2d,
  MaxPool2d: moduleAvgPool2d,
  AvgPool1d: moduleAvgPool2d,
  MaxPool1d: moduleAvgPool2d,
  AvgPool3d: moduleAvgPool2d,
  MaxPool3d: moduleAvgPool2d,
  Embedding: moduleEmbedding,
  Upsample: moduleUpsample,
  ConvTranspose2d: moduleUpsample,
  ConvTranspose1d: moduleUpsample,
  PixelShuffle: moduleUpsample,
  TransformerEncoderLayer: moduleTransformerEncoderLayer,
  TransformerEncoder: moduleTransformerEncoderLayer,
  TransformerDecoderLayer: moduleTransformerDecoderLayer,
  TransformerDecoder: moduleTransformerDecoderLayer,
  Transformer: moduleTransformerDecoderLayer,
};

const torchInterpolate: FunctionHandler = (_h) => {
  return { kind: 'tensor' };
};

const torchAdaptiveAvgPool2d: FunctionHandler = (_h, { op, args, kwargs }) => {
  const x = args[0];
  const out = args[1] ?? kwargs.output_size;
  return adaptivePool(x, out, op.endsWith('1d') ? 1 : 2);
};

const torchLayerNorm: FunctionHandler = (_h, { args }) => {
  return isTensor(args[0]) ? sameShape(args[0]) : { kind: 'tensor' };
};

export const MODULE_FUNCTIONS: Record<string, FunctionHandler> = {
  interpolate: torchInterpolate,
  pad: torchInterpolate,
  unfold: torchInterpolate,
  fold: torchInterpolate,
  conv2d: torchInterpolate,
  conv1d: torchInterpolate,
  avg_pool2d: torchInterpolate,
  max_pool2d: torchInterpolate,
  one_hot: torchInterpolate,
  embedding: torchInterpolate,
  adaptive_avg_pool2d: torchAdaptiveAvgPool2d,
  adaptive_max_pool2d: torchAdaptiveAvgPool2d,
  adaptive_avg_pool1d: torchAdaptiveAvgPool2d,
  adaptive_max_pool1d: torchAdaptiveAvgPool2d,
  layer_norm: torchLayerNorm,
  group_norm: torchLayerNorm,
  batch_norm: torchLayerNorm,
  instance_norm: torchLayerNorm,
};

/** A call of a torch layer: seeds an input of unknown rank, runs the layer's handler, emits `module-call`. */
export function callModule(h: OpHost, m: TorchModuleV, args: Value[], kwargs: Record<string, Value>, argNodes: Node[], kwargNodes: Record<string, Node>, n: Node): Value {
  return asProjection(n, layerCall(h, m, args, kwargs, argNodes, kwargNodes, n));
}

const QUERY_PROJECTION = /^(q|query|to_q|q_proj|query_proj|query_conv|wq|w_q|linear_q|q_linear|proj_q|query_layer|query_net)$/i;
const KEY_PROJECTION = /^(k|key|to_k|k_proj|key_proj|key_conv|wk|w_k|linear_k|k_linear|proj_k|key_layer|key_net)$/i;

/** The positions a query or key projection (`self.key_conv(x)`, `self.to_q(x)`) maps are its queries or its keys. */
function asProjection(n: Node, r: Value): Value {
  const fnNode = n.type === 'call' ? n.childForFieldName('function') : null;
  const name = fnNode?.type === 'attribute' ? fnNode.childForFieldName('attribute')?.text : undefined;
  const which = name && QUERY_PROJECTION.test(name) ? 'query' : name && KEY_PROJECTION.test(name) ? 'key' : undefined;
  if (!which || !isTensor(r) || !r.axes) return r;
  return { ...r, axes: r.axes.map((a) => (a.role === 'seq' || a.role === 'space' ? { ...a, role: which } : a)) };
}

function layerCall(h: OpHost, m: TorchModuleV, args: Value[], kwargs: Record<string, Value>, argNodes: Node[], kwargNodes: Record<string, Node>, n: Node): Value {
  // A tensor of unknown rank fed to a layer that needs a batched N-d input takes that rank:
  // (B, C, H, W) for Conv2d, named after the axes (the unbatched form is rare in modules).
  const first = args[0] ?? kwargs.input;
  const batchedRank = BATCHED_RANK[m.type];
  if (batchedRank && isTensor(first) && !first.axes && !first.failed) {
    const names = ['B', 'C', ...['L', 'H,W', 'D,H,W'][batchedRank - 3].split(',')];
    const seeded = h.tensor(names.map((nm) => h.fresh(nm)), names);
    first.axes = seeded.axes;
    first.strides = seeded.strides;
  }
  // nn.MultiheadAttention takes batches of sequences: (L, N, E), or (N, L, E) with batch_first;
  // query, key and value of unknown rank take that rank (the unbatched form is rare in modules).
  if (m.type === 'MultiheadAttention') {
    const bf = margs(m, ['embed_dim', 'num_heads', 'dropout', 'bias', 'add_bias_kv', 'add_zero_attn', 'kdim', 'vdim', 'batch_first']).batch_first ?? { kind: 'bool', value: false };
    if (bf?.kind === 'bool' && bf.value !== undefined) {
      const qkv = [args[0] ?? kwargs.query, args[1] ?? kwargs.key, args[2] ?? kwargs.value];
      qkv.forEach((t, i) => {
        if (!isTensor(t) || t.axes || t.failed) return;
        const names = bf.value ? ['N', i === 0 ? 'L' : 'S', 'E'] : [i === 0 ? 'L' : 'S', 'N', 'E'];
        const seeded = h.tensor(names.map((nm) => h.fresh(nm)), names);
        t.axes = seeded.axes;
        t.strides = seeded.strides;
      });
    }
  }
  const ein = /^einops\.(Rearrange|Repeat|Reduce)$/.exec(m.type);
  if (ein) {
    const lengths = Object.fromEntries(Object.entries(m.kwargs).filter(([k]) => k !== 'pattern' && k !== 'reduction'));
    return einops(h, ein[1].toLowerCase() as EinopsKind, args[0], m.args[0] ?? m.kwargs.pattern, lengths, n, n, argNodes, kwargNodes);
  }
  const info: OpInfo = {};
  const x = args[0] ?? kwargs.input ?? kwargs.x ?? kwargs.query;
  if ([...args, ...Object.values(kwargs)].some((v) => isTensor(v) && v.failed)) return failed();
  const emit = () => {
    if (info.rank && args.some((v) => isTensor(v) && v.rankFromComment)) delete info.rank;
    h.emit({ kind: 'module-call', node: n, module: m, args, kwargs, argNodes, kwargNodes, info });
  };
  const t = isTensor(x) ? x : undefined;
  const rank = t?.axes?.length;
  const handler = Object.hasOwn(MODULES, m.type) ? MODULES[m.type] : moduleDefault;
  const result = handler(h, { m, args, kwargs, argNodes, kwargNodes, n, info, x, t, rank });
  emit();
  return raises(h, info) ? failed() : result;
}

export function adaptivePool(x: Value | undefined, out: Value | undefined, nd: number): Value {
  if (!isTensor(x) || !x.axes || x.axes.length < nd + 1) return { kind: 'tensor' };
  // `None` in an output size keeps that input axis (coordinate attention's (None, 1) pools).
  const spatial = x.axes.slice(x.axes.length - nd);
  const sizes =
    out?.kind === 'int'
      ? Array(nd).fill(out.dim)
      : out?.kind === 'tuple' && out.items.length === nd && out.items.every((i) => i.kind === 'int' || i.kind === 'none')
        ? out.items.map((i, k) => (i.kind === 'int' ? i.dim : spatial[k].size))
        : undefined;
  if (!sizes) return { kind: 'tensor' };
  const lead = x.axes.slice(0, x.axes.length - nd);
  return { kind: 'tensor', axes: [...lead.map((a) => ({ ...a })), ...sizes.map((s: Dim) => ({ size: s, role: 'space' as Role }))], strides: contiguousStrides([...lead.map((a) => a.size), ...sizes]) };
}

export function padding(h: OpHost, v: Value | undefined, i: number, k: number | undefined, dil: number): number | undefined {
  if (v?.kind === 'str') return v.value === 'same' && k !== undefined ? (dil * (k - 1)) / 2 : 0;
  return v === undefined ? 0 : nth(h, v, i);
}

export function convOut(h: OpHost, size: Dim, k: number | undefined, s: number, p: number | undefined, dil: number): Dim {
  // A size nothing more is known of is named after the input's (`H_out`, as torch's docs name
  // it), so two such axes never read as one size.
  const named = D.format(h.norm(size));
  const fresh = () => h.fresh(/^[A-Za-z_]\w*$/.test(named) ? `${named}_out` : 'd');
  if (k === undefined || p === undefined) return fresh();
  const num = D.add(size, D.dconst(2 * p - dil * (k - 1) - 1));
  const c = D.constValue(h.norm(num));
  if (c !== undefined) return D.dconst(Math.floor(c / s) + 1);
  if (s === 1) return D.add(num, D.dconst(1));
  return fresh();
}

export function moduleAttribute(m: TorchModuleV, name: string, h?: OpHost): Value {
  if (m.entries) return m.entries[name] ?? UNKNOWN;
  const a = (i: number, k: string) => m.kwargs[k] ?? m.args[i];
  // A convolution's weight: (out_channels, in_channels // groups, *kernel_size), as torch
  // allocates it (`self.weight` in a subclass's own forward).
  const conv = /^Conv([123])d$/.exec(m.type);
  if (h && conv && name === 'weight') {
    const k = Number(conv[1]);
    const [cin, cout, ks] = [a(0, 'in_channels'), a(1, 'out_channels'), a(2, 'kernel_size')];
    const groups = a(6, 'groups') ?? intV(D.dconst(1));
    const kernel = ks?.kind === 'int' ? Array.from({ length: k }, () => ks.dim) : ks?.kind === 'tuple' && ks.items.length === k && ks.items.every((x) => x.kind === 'int') ? ks.items.map((x) => (x as IntV).dim) : undefined;
    const per = cin?.kind === 'int' && groups.kind === 'int' ? D.floorDiv(cin.dim, groups.dim) : undefined;
    if (cout?.kind !== 'int' || !kernel || !per) return UNKNOWN;
    return { ...h.tensor([cout.dim, per, ...kernel]), learned: true };
  }
  // Its geometry as torch stores it: stride, padding and dilation as k-tuples (a padding
  // string stays one), groups an int, from the constructor's arguments or their defaults.
  const geometry: Record<string, [number, number]> = { stride: [3, 1], padding: [4, 0], dilation: [5, 1], groups: [6, 1] };
  if (conv && geometry[name]) {
    const [i, def] = geometry[name];
    const v = a(i, name) ?? intV(D.dconst(def));
    if (name === 'groups' || v.kind !== 'int') return v.kind === 'int' || v.kind === 'str' || v.kind === 'tuple' ? v : UNKNOWN;
    return { kind: 'tuple', items: Array.from({ length: Number(conv[1]) }, () => v), written: 'tuple' };
  }
  // The tables of a linear layer and an embedding, as torch allocates them: (out_features,
  // in_features) and (num_embeddings, embedding_dim) (`self.query_embed.weight` in DETR).
  const table = m.type === 'Linear' ? [a(1, 'out_features'), a(0, 'in_features')] : m.type === 'Embedding' ? [a(0, 'num_embeddings'), a(1, 'embedding_dim')] : undefined;
  if (h && table && name === 'weight') {
    const [rows, cols] = table;
    return rows?.kind === 'int' && cols?.kind === 'int' ? { ...h.tensor([rows.dim, cols.dim]), learned: true } : UNKNOWN;
  }
  switch (m.type) {
    case 'Linear':
      if (name === 'in_features') return a(0, 'in_features') ?? UNKNOWN;
      if (name === 'out_features') return a(1, 'out_features') ?? UNKNOWN;
      break;
    case 'MultiheadAttention':
      if (name === 'embed_dim') return a(0, 'embed_dim') ?? UNKNOWN;
      if (name === 'num_heads') return a(1, 'num_heads') ?? UNKNOWN;
      if (name === 'batch_first') return a(8, 'batch_first') ?? { kind: 'bool', value: false };
      break;
  }
  return UNKNOWN;
}

/**
 * `nn.<Layer>(…)` (also `torch.nn.modules.<file>.<Layer>`): the layer value, with its items or
 * entries for containers, and the `module-new` event (`literal` when every argument is a
 * literal, which makes a contradiction an error rather than a warning); `nn.Parameter(t)` and
 * `nn.Buffer(t)` are the tensor t. Undefined for any other path.
 */
export function newModule(h: OpHost, path: string, args: Value[], kwargs: Record<string, Value>, argNodes: Node[], kwargNodes: Record<string, Node>, n: Node, isLiteral: (x: Node) => boolean): Value | undefined {
  const nnMatch = /^torch\.nn\.(?:modules\.\w+\.)?([A-Z]\w*)$/.exec(path);
  if (!nnMatch) return undefined;
  const type = nnMatch[1];
  if (type === 'Module') return UNKNOWN;
  // nn.Parameter(t) and nn.Buffer(t) are the tensor t, for shapes. A parameter is learned
  // (a bias table initialised with torch.zeros), so it is never a mask whatever built it.
  if (type === 'Parameter' || type === 'Buffer') {
    const t = args[0] ?? kwargs.data;
    if (!isTensor(t)) return { kind: 'tensor' };
    return type === 'Parameter' ? { ...t, mask: undefined, positions: undefined, learned: true } : t;
  }
  const m: TorchModuleV = { kind: 'torchmodule', type, args, kwargs, node: n };
  if (type === 'Sequential') m.items = args;
  if (type === 'ModuleDict' || type === 'ParameterDict') {
    const d = args[0] ?? kwargs.modules ?? kwargs.parameters;
    m.entries = d?.kind === 'dict' ? { ...d.items } : {};
  }
  if (type === 'ModuleList') {
    m.items = args[0]?.kind === 'tuple' ? args[0].items : args[0] ? [] : [];
    if (args[0] && (args[0].kind !== 'tuple' || args[0].inexact)) m.inexact = true;
  }
  const literal = [...argNodes, ...Object.values(kwargNodes)].every(isLiteral);
  h.emit({ kind: 'module-new', node: n, module: m, argNodes, kwargNodes, literal });
  return m;
}
