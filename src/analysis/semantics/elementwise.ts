/**
 * Elementwise ops and Python's operators on tensors: broadcasting (a failure is the fact
 * `broadcast-mismatch` judges; a tensor met with its own permutation is
 * `permute-order-mismatch`'s), dtype conversions, activations, and how each moves the facts:
 * layout by torch's elementwise rule, a scale through `*` and `/`, a mask through `1 - m`, a
 * learned bias added to scores.
 */

import * as D from '../dims';
import type { OpInfo } from '../events';
import type { Node } from '../parse';
import type { Axis, TensorV, Value } from '../values';
import { UNKNOWN } from '../values';
import { asFloat, combineScale, contiguousStrides, dtypeOf, elementwiseLayout, flipOrigin, flipTri, notePairDifference, scaleOf, unrelatedRoles } from './facts';
import { failed, isTensor, numValue, type FunctionHandler, type MethodHandler, type OpHost } from './host';
import { matmul } from './linalg';

/** Tensor methods (and `torch.` functions reaching them) that keep their input's shape. */
export const ELEMENTWISE_FUNCS = new Set([
  'relu', 'gelu', 'silu', 'sigmoid', 'tanh', 'dropout', 'leaky_relu', 'elu', 'exp', 'log', 'abs', 'sqrt', 'rsqrt', 'neg',
  'clone', 'detach', 'float', 'half', 'double', 'bfloat16', 'contiguous', 'mish', 'hardswish', 'sin', 'cos', 'sign',
  'normalize', 'clamp', 'clip', 'relu_', 'sigmoid_', 'mul_', 'add_', 'sub_', 'div_', 'tanh_', 'dropout1d', 'dropout2d', 'square', 'pow',
  'type_as', 'to', 'cpu', 'cuda', 'requires_grad_', 'zero_', 'fill_', 'nan_to_num', 'reciprocal', 'log_softmax', 'bool',
  'long', 'int', 'masked_fill', 'masked_fill_', 'softmax', 'erf', 'floor', 'ceil', 'round', 'logical_not', 'cumsum',
]);

/** The elementwise tail: a method of `ELEMENTWISE_FUNCS` without a handler of its own. */
const tensorElementwise: MethodHandler = (h, { op, n, t, rest, info, done }) => {
  const other = rest[0];
  if (isTensor(other) && ['pow', 'mul_', 'add_', 'sub_', 'div_'].includes(op)) {
    const axes = broadcastValue(h, t, other, n, info);
    return done({ kind: 'tensor', axes: axes ?? undefined, dtype: 'float' });
  }
  // Conversions to what the tensor already is return it (same strides); computations
  // follow the elementwise layout rule.
  const strides = /^(to|float|half|double|bfloat16|type_as|cpu|cuda|detach|requires_grad_|contiguous|relu_|sigmoid_|mul_|add_|sub_|div_|tanh_|zero_|fill_|masked_fill_)$/.test(op) ? t.strides : elementwiseLayout(h, t);
  return done({ ...t, strides, mask: op === 'float' || op === 'half' ? t.mask : undefined, scores: t.scores, dtype: op === 'bool' ? 'bool' : t.dtype === 'long' && /^(exp|log|sqrt|sigmoid|tanh|relu|gelu)$/.test(op) ? 'float' : t.dtype });
};

/** `x.cumsum(dim)`: the shape of x; the result remembers the axis it summed along. */
const tensorCumsum: MethodHandler = (h, { t, rank, kw, kwargs, done }) => {
  const d = numValue(kw('dim', 0));
  const axis = d === undefined ? undefined : d >= 0 ? d : rank !== undefined ? rank + d : undefined;
  const dtype = dtypeOf(kwargs.dtype) ?? (t.dtype === 'bool' ? 'long' : t.dtype);
  return done({ ...t, strides: elementwiseLayout(h, t), mask: undefined, scores: undefined, lastOf: undefined, dtype, cumsum: axis === undefined || (rank !== undefined && axis >= rank) ? undefined : { axis, from: {} } });
};

/** `x.add(y)` and friends: Python's operator where there is one; without an operand, the op's signature. */
const tensorBinary: MethodHandler = (h, { op, n, t, rest, info, done }) => {
  if (!rest[0]) return undefined;
  const sym: Record<string, string> = { add: '+', sub: '-', mul: '*', div: '/', eq: '==', ne: '!=', logical_and: '&', logical_or: '|' };
  if (sym[op] && !['eq', 'ne'].includes(op)) return h.binaryValues(sym[op], t, rest[0], n);
  if (isTensor(rest[0])) {
    const axes = broadcastValue(h, t, rest[0], n, info);
    return done({ kind: 'tensor', axes: axes ?? undefined });
  }
  return done({ ...t, dtype: 'bool', mask: undefined });
};

const BINARY_METHODS = ['add', 'sub', 'mul', 'div', 'matmul', 'eq', 'ne', 'lt', 'gt', 'le', 'ge', 'logical_and', 'logical_or', 'maximum', 'minimum'];

/**
 * The elementwise and binary tails, as tables: the registry puts every family's own handlers
 * over them (`softmax` is in `ELEMENTWISE_FUNCS` but carries the softmax axis; `matmul` is a
 * binary method but a product).
 */
export const ELEMENTWISE_TAIL: Record<string, MethodHandler> = {
  ...Object.fromEntries([...ELEMENTWISE_FUNCS].map((op) => [op, tensorElementwise])),
  ...Object.fromEntries(BINARY_METHODS.map((op) => [op, tensorBinary])),
};

const tensorBool: MethodHandler = (_h, { t, done }) => {
  return done({ ...t, dtype: 'bool' });
};

const tensorLong: MethodHandler = (_h, { t, done }) => {
  return done({ ...t, dtype: 'long' });
};

const tensorFloat: MethodHandler = (_h, { t, done }) => {
  return done(asFloat(t));
};

const tensorTo: MethodHandler = (_h, { kwargs, t, rest, done }) => {
  const d = dtypeOf(kwargs.dtype ?? rest.find((x) => x.kind === 'qual'));
  return done(d === 'float' ? asFloat(t) : d ? { ...t, dtype: d } : t);
};

const tensorTypeAs: MethodHandler = (_h, { t, rest, done }) => {
  return done({ ...t, dtype: isTensor(rest[0]) ? rest[0].dtype : undefined });
};

const tensorTolist: MethodHandler = (_h, { op, t, done }) => {
  return done(op === 'tolist' || op === 'numpy' ? UNKNOWN : t);
};

const tensorDropout: MethodHandler = (_h, { t, done }) => {
  return done(t);
};

export const ELEMENTWISE_METHODS: Record<string, MethodHandler> = {
  cumsum: tensorCumsum,
  bool: tensorBool,
  long: tensorLong,
  int: tensorLong,
  float: tensorFloat,
  half: tensorFloat,
  double: tensorFloat,
  bfloat16: tensorFloat,
  to: tensorTo,
  type: tensorTo,
  type_as: tensorTypeAs,
  tolist: tensorTolist,
  numpy: tensorTolist,
  detach: tensorTolist,
  clone: tensorTolist,
  cpu: tensorTolist,
  cuda: tensorTolist,
  requires_grad_: tensorTolist,
  dropout: tensorDropout,
};

const torchWhere: FunctionHandler = (h, { args, n }) => {
  const [c, x, y] = args;
  // torch.where(cond) alone is nonzero(as_tuple=True).
  if (args.length === 1) return { kind: 'tensor', hypothetical: true };
  const ts = [c, x, y].filter(isTensor);
  if (ts.length === 0) return UNKNOWN;
  // An operand of unknown kind may be a tensor that broadcasts the result larger.
  if ([c, x, y].some((v) => !v || (!isTensor(v) && v.kind !== 'int' && v.kind !== 'num' && v.kind !== 'bool'))) return { kind: 'tensor' };
  let acc: TensorV = { kind: 'tensor', axes: ts[0].axes, strides: elementwiseLayout(h, ts[0]) };
  for (const t of ts.slice(1)) {
    const info: OpInfo = {};
    const axes = broadcastValue(h, acc, t, n, info);
    acc = { kind: 'tensor', axes: axes ?? undefined, strides: axes ? contiguousStrides(axes.map((a) => a.size)) : undefined };
  }
  return acc;
};

const torchSigmoid: FunctionHandler = (h, { op, args, kwargs, argNodes, kwargNodes, n, nameNode }) => {
  if (isTensor(args[0])) {
    if (op === 'dropout') return args[0];
    return h.tensorOp(op, args, kwargs, argNodes, kwargNodes, n, nameNode);
  }
  return UNKNOWN;
};

export const ELEMENTWISE_FUNCTIONS: Record<string, FunctionHandler> = {
  where: torchWhere,
  sigmoid: torchSigmoid,
  tanh: torchSigmoid,
  relu: torchSigmoid,
  gelu: torchSigmoid,
  silu: torchSigmoid,
  exp: torchSigmoid,
  dropout: torchSigmoid,
  normalize: torchSigmoid,
  sqrt: torchSigmoid,
  abs: torchSigmoid,
  clamp: torchSigmoid,
  log: torchSigmoid,
  leaky_relu: torchSigmoid,
  elu: torchSigmoid,
  mish: torchSigmoid,
  hardswish: torchSigmoid,
  log_softmax: torchSigmoid,
};

export function tensorArith(h: OpHost, op: string, l: Value, r: Value, n: Node): Value {
  if ((isTensor(l) && l.failed) || (isTensor(r) && r.failed)) return failed();
  if (op === '@') return matmul(h, l, r, n, n, 'matmul');
  const info: OpInfo = {};
  let result: Value;
  if (isTensor(l) && isTensor(r)) {
    const axes = broadcastValue(h, l, r, n, info);
    const base = l.axes && (!r.axes || l.axes.length >= r.axes.length) ? l : r;
    result = { kind: 'tensor', axes: axes ?? undefined, strides: axes ? (base.strides && base.axes && base.axes.length === axes.length && base.axes.every((a, i) => h.same(a.size, axes[i].size)) ? elementwiseLayout(h, base) : contiguousStrides(axes.map((a) => a.size))) : undefined, dtype: arithDtype(op, l.dtype, r.dtype) };
    if (op === '+' || op === '-') {
      const carrier = l.scores ? l : r.scores ? r : undefined;
      if (carrier?.scores) {
        // T5 and its descendants add a learned relative position bias to unscaled scores and
        // fold 1/sqrt(d) into the weights' initialisation: the missing scale is then a convention.
        const other = carrier === l ? r : l;
        // A term of unknown shape and provenance (a position_bias handed in by the caller) may be such a bias too.
        const mayBeLearned = other.learned || (!other.axes && !other.mask && !other.scores);
        (result as TensorV).scores = op === '+' && mayBeLearned && !carrier.scores.scale ? { ...carrier.scores, learnedBias: true } : carrier.scores;
        // Adding a float mask of 1s (keep) and 0s shifts the kept scores by one and masks nothing.
        if (op === '+' && other.dtype === 'float' && other.mask?.polarity === 'keep' && other.mask.values01) (result as TensorV).scores = { ...(result as TensorV).scores!, added01: n };
      }
      if (l.normAxis !== undefined && r.normAxis === undefined) (result as TensorV).normAxis = l.normAxis;
    }
    if (op === '*' && (l.mask || r.mask) && (l.normAxis !== undefined || r.normAxis !== undefined)) (result as TensorV).normAxis = l.normAxis ?? r.normAxis;
    // Weights (one operand normalised by a softmax, the other not) times values, same rank.
    const w = l.softmaxNode && l.normAxis !== undefined && r.normAxis === undefined ? l : r.softmaxNode && r.normAxis !== undefined && l.normAxis === undefined ? r : undefined;
    if (op === '*' && w && axes && l.axes?.length === axes.length && r.axes?.length === axes.length) (result as TensorV).weightedOver = { axis: w.normAxis!, node: w.softmaxNode! };
    if (op === '&' || op === '|') (result as TensorV).dtype = 'bool';
    if (op === '-') notePairDifference(l, r, result as TensorV);
    // A cumulative sum over its total: the total is its last entry along the summed axis.
    if (op === '/' && l.cumsum && r.lastOf && r.lastOf.cumsum === l.cumsum.from && r.lastOf.axis !== l.cumsum.axis) info.cumsumTotal = { summed: l.cumsum.axis, last: r.lastOf.axis, index: r.lastOf.node };
    if (l.learned && r.learned) (result as TensorV).learned = true;
  } else {
    const t = (isTensor(l) ? l : r) as TensorV;
    const other = isTensor(l) ? r : l;
    // Arithmetic with a number makes something other than a seeded mask (`1 - m` aside).
    const res: TensorV = { ...t, strides: elementwiseLayout(h, t), maskOf: op === '-' && t === r && numValue(l) === 1 ? flipOrigin(t.maskOf) : undefined, countOf: undefined };
    // An operand of unknown kind may be a tensor: broadcasting could widen any size-1 axis
    // (emb(ids) + torch.randn(1, 128, 16) is (4, 128, 16)) or add leading axes to a vector
    // or a matrix, so those shapes are not kept. A residual on a batch of sequences or maps
    // (rank 3 or more, no size-1 axis) keeps its shape.
    if (!['int', 'num', 'bool', 'none', 'str'].includes(other.kind) && t.axes && (t.axes.length < 3 || t.axes.some((a) => D.constValue(h.norm(a.size)) === 1))) {
      res.axes = undefined;
      res.strides = undefined;
      res.normAxis = undefined;
    }
    if (op === '*' || op === '/') {
      // A factor of unknown value (an attribute never assigned, an opaque call) may be the
      // scale: the scores' scale becomes unknown, which silences the scale rule.
      const s = other.kind === 'unknown' ? { exp: 0 } : scaleOf(other, isTensor(l) ? op : '*');
      if (s && !(isTensor(r) && op === '/')) {
        if (t.scores) res.scores = { ...t.scores, scale: combineScale(h, t.scores.scale, s), scaleNode: n };
        else {
          res.scale = combineScale(h, t.scale, s);
          res.scaleNode = n;
        }
      }
      if (t.mask && t.mask.values01 && numValue(other) !== undefined && numValue(other) !== 1) res.mask = undefined;
    } else if (op === '-' && isTensor(r) && numValue(l) === 1 && r.mask && !r.mask.additive) {
      res.mask = { polarity: r.mask.polarity === 'keep' ? 'ignore' : 'keep', values01: r.mask.values01, tri: flipTri(r.mask.tri), why: r.mask.why };
    } else if (op === '+' || op === '-') {
      res.mask = undefined;
      // A term of unknown value added to raw scores may be a learned bias (T5's position_bias
      // handed down the stack): the scale convention is then the model's.
      if (op === '+' && other.kind === 'unknown' && t.scores && !t.scores.scale) res.scores = { ...t.scores, learnedBias: true };
    }
    if (other.kind === 'num' && (other.value === undefined || !Number.isInteger(other.value)) && res.dtype === 'long') res.dtype = 'float';
    result = res;
  }
  h.emit({ kind: 'binary', op, node: n, left: l, right: r, result, info });
  // Operands that do not broadcast raise in torch: nothing after it runs, so nothing follows.
  return info.broadcast ? failed() : result;
}

/**
 * The dtype of `l op r` for two tensors: bool with bool stays bool, integers (long, or long with
 * bool) stay long except under true division (relative position indices are differences of
 * `arange`s); anything else, or an operand of unknown dtype, is taken as float.
 */
function arithDtype(op: string, l: TensorV['dtype'], r: TensorV['dtype']): TensorV['dtype'] {
  if (l === 'bool' && r === 'bool') return 'bool';
  const integral = (d: TensorV['dtype']) => d === 'long' || d === 'bool';
  if (op !== '/' && integral(l) && integral(r)) return 'long';
  return 'float';
}

/** Broadcast shape of two tensors; records a failure in info. */
export function broadcastValue(h: OpHost, a: TensorV, b: TensorV, _n: Node, info?: OpInfo): Axis[] | undefined {
  if (!a.axes || !b.axes) return undefined;
  const la = a.axes.length;
  const lb = b.axes.length;
  const len = Math.max(la, lb);
  const out: Axis[] = [];
  let permuted = la === lb && la > 1;
  for (let i = 0; i < len; i++) {
    const x = a.axes[la - len + i];
    const y = b.axes[lb - len + i];
    if (!x || !y) {
      out.push(x ?? y);
      continue;
    }
    if (x.label !== y.label) {
      if (!x.label || !y.label) permuted = false;
    }
    const xs = h.norm(x.size);
    const ys = h.norm(y.size);
    // A size-1 axis broadcast against a longer one is an outer combination ((N, 1) + (1, N)),
    // not the same axes met in another order.
    if ((D.constValue(xs) === 1) !== (D.constValue(ys) === 1)) permuted = false;
    if (D.constValue(xs) === 1) out.push({ ...y });
    else if (D.constValue(ys) === 1) out.push({ ...x });
    else {
      if (info && !info.broadcastRoles && unrelatedRoles(x, y) && h.compare(xs, ys) === 'unknown') {
        // Unrelated axes lined up: reported, and their sizes are not equated.
        info.broadcastRoles = { a: xs, b: ys, roles: [x.role!, y.role!], axis: i - len };
        out.push({ ...x });
        continue;
      }
      const c = h.unify(xs, ys, true);
      // Sizes the constructor's caller chooses apart broadcast only where they are chosen equal (or 1).
      if ((c === 'ne' || (c === 'unknown' && h.apart(x.size, y.size))) && info && !info.broadcast) info.broadcast = [xs, ys];
      const ax: Axis = { ...x, role: x.role ?? y.role };
      // A module's reading of one operand's axis is not evidence for the sum with an unnamed one.
      if ((x.role ? x.read : y.read) && (!x.role || !y.role)) {
        delete ax.role;
        delete ax.inferred;
        delete ax.read;
      }
      out.push(ax);
      if (info && !info.partsSwapped && x.parts && y.parts && swappedParts(h, x.parts, y.parts)) {
        info.partsSwapped = { axis: i - len, parts: [x.parts[0].size, x.parts[1].size], tiled: x.tiledBy ?? y.tiledBy };
      }
    }
  }
  if (info && permuted) {
    const la2 = a.axes.map((x) => x.label);
    const lb2 = b.axes.map((x) => x.label);
    if (la2.every(Boolean) && lb2.every(Boolean) && la2.join() !== lb2.join() && [...la2].sort().join() === [...lb2].sort().join()) {
      const culprit = (a.permutes ?? 0) >= (b.permutes ?? 0) ? a : b;
      const other = culprit === a ? lb2 : la2;
      // A tensor met with its own single transpose (A + A.mT) is a symmetrisation, not a way back.
      const symmetrised = culprit.permutes === 1 && culprit.preLayout?.join() === other.join();
      if (culprit.lastPermute && !symmetrised) info.permutedOperands = culprit.lastPermute;
    }
  }
  return out;
}

/**
 * Whether two axes were merged from the same two parts in opposite orders, (p, q) against
 * (q, p), matched by size: sizes that are the same cannot tell the orders apart.
 */
function swappedParts(h: OpHost, a: Axis[], b: Axis[]): boolean {
  if (a.length !== 2 || b.length !== 2) return false;
  const eq = (x: Axis, y: Axis) => h.compare(x.size, y.size) === 'eq';
  return eq(a[0], b[1]) && eq(a[1], b[0]) && !(eq(a[0], b[0]) && eq(a[1], b[1]));
}
