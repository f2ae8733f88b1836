/**
 * Attention's own facts: the softmax axis (`softmax-wrong-axis`), masks and their polarity
 * (`masked_fill`, `tril`/`triu`, comparisons with padding ids and lengths, `logical_not`),
 * `scaled_dot_product_attention`, `nn.MultiheadAttention` and its functional form. Scores and
 * their scale are made where the product is (`linalg.ts`); here they are normalised and masked.
 */

import * as D from '../dims';
import type { OpInfo } from '../events';
import type { Node } from '../parse';
import type { Axis, MaskTriangle, Role, TensorV, TorchModuleV, Value } from '../values';
import { contiguousStrides, elementwiseLayout, flipMask, flipOrigin, flipTri, noteDiagonalComparison, sameShape } from './facts';
import { broadcastValue } from './elementwise';
import { failed, isTensor, margs, normDim, numValue, type FunctionHandler, type MethodHandler, type OpHost } from './host';

const tensorSoftmax: MethodHandler = (h, { n, t, info, done, rank, kw }) => {
  const dv = kw('dim', 0);
  if (!t.axes) return done({ kind: 'tensor' });
  const d = normDim(numValue(dv), rank!, info);
  const res: TensorV = { kind: 'tensor', axes: t.axes, strides: elementwiseLayout(h, t), dtype: 'float' };
  if (d !== undefined) {
    res.normAxis = d;
    res.softmaxNode = n;
    res.normLast = d === rank! - 1;
    if (res.normLast && t.scores?.acrossHeads) info.headsAttended = t.scores.acrossHeads;
    // Scores laid out (keys, queries) normalised over the queries: each query's weights do not sum to one.
    const key = t.axes.findIndex((a) => a.role === 'key');
    if (t.scores?.projected && t.axes[d].role === 'query' && key >= 0 && t.axes.filter((a) => a.role === 'query' || a.role === 'key').length === 2) info.softmaxOverQueries = { keyAxis: key, rank: rank! };
  }
  const out = done(res);
  // Weights over heads are wrong for whatever consumes them: one mistake, one finding.
  return info.headsAttended ? failed() : out;
};

const tensorMaskedFill: MethodHandler = (h, { n, t, info, done, kw }) => {
  const mask = kw('mask', 0);
  if (isTensor(mask) && t.axes && mask.axes) {
    const axes = broadcastValue(h, t, mask, n, info);
    if (axes && axes.length !== t.axes.length) info.broadcast = info.broadcast ?? [D.dconst(t.axes.length), D.dconst(axes.length)];
  }
  return done({ ...t, mask: undefined });
};

const tensorTril: MethodHandler = (h, { op, n, t, done, kw }) => {
  const r: TensorV = { ...t, mask: triangleMask(h, op, t, kw('diagonal', 0), n, true) };
  return done(r);
};

/**
 * The mask `triu`/`tril` makes of t: a bool or 0/1 tensor becomes a mask whose True cells are
 * the future (`triu`: ignore) or the past and present (`tril`: keep); an additive one (-inf)
 * hides its nonzero triangle. The triangle itself is known when t is one constant (ones, True,
 * -inf) and the diagonal a number: then which (i, j) it hides can be judged where it is used.
 */
function triangleMask(h: OpHost, op: string, t: TensorV, diagonal: Value | undefined, n: Node, method: boolean): TensorV['mask'] {
  if (!t.mask?.values01 && t.dtype !== 'bool' && !t.mask?.additive) return undefined;
  const upper = op === 'triu';
  const d = diagonal === undefined || diagonal.kind === 'none' ? 0 : numValue(diagonal);
  // A rectangular (L, S) cut aligns the queries with the last keys (a cache, a memory before
  // them): its causal diagonal is offset by S - L, so only square cuts are judged.
  const square = !t.axes || (t.axes.length >= 2 && h.same(t.axes[t.axes.length - 2].size, t.axes[t.axes.length - 1].size));
  const tri: MaskTriangle | undefined = t.mask?.uniform && square && d !== undefined && Number.isInteger(d) ? { upper, diagonal: d, flipped: false, node: n, method } : undefined;
  if (t.mask?.additive) return t.mask.polarity === 'ignore' ? { polarity: 'ignore', additive: true, tri } : undefined;
  return { polarity: upper ? 'ignore' : 'keep', values01: t.mask?.values01, tri };
}

const tensorLogicalNot: MethodHandler = (_h, { t, done }) => {
  return done(flipMask({ ...t, dtype: 'bool' }));
};

export const ATTENTION_METHODS: Record<string, MethodHandler> = {
  softmax: tensorSoftmax,
  log_softmax: tensorSoftmax,
  masked_fill: tensorMaskedFill,
  masked_fill_: tensorMaskedFill,
  tril: tensorTril,
  triu: tensorTril,
  logical_not: tensorLogicalNot,
};

const torchScaledDotProductAttention: FunctionHandler = (h, { args, kwargs, argNodes, kwargNodes, n, nameNode }) => {
  return sdpa(h, args, kwargs, argNodes, kwargNodes, n, nameNode);
};

const torchGenerateSquareSubsequentMask: FunctionHandler = (h, { args, kwargs }) => {
  // nn.Transformer.generate_square_subsequent_mask(sz): an additive (sz, sz) mask of 0 and -inf.
  const sz = args[0] ?? kwargs.sz;
  return sz?.kind === 'int' ? h.tensor([sz.dim, sz.dim], undefined, { dtype: 'float' }) : { kind: 'tensor' };
};

const torchMultiHeadAttentionForward: FunctionHandler = (h, { op, args, kwargs, argNodes, kwargNodes, n, nameNode }) => {
  // Always sequence-first: query (L, N, E) in, (L, N, E) out, plus the weights.
  const q = args[0] ?? kwargs.query;
  const out: TensorV = isTensor(q) && q.axes ? { ...sameShape(q), axes: q.axes.map((a) => ({ ...a })) } : { kind: 'tensor' };
  const result: Value = { kind: 'tuple', items: [out, { kind: 'tensor' }] };
  h.emit({ kind: 'op', op, node: n, args, kwargs, argNodes, kwargNodes, nameNode, result, info: {} });
  return result;
};

const torchTril: FunctionHandler = (h, { op, args, kwargs, n }) => {
  const t = args[0] ?? kwargs.input;
  if (!isTensor(t)) return { kind: 'tensor' };
  const r = sameShape(t);
  const mask = triangleMask(h, op, t, args[1] ?? kwargs.diagonal, n, false);
  if (mask) r.mask = mask.additive ? mask : { ...mask, values01: t.mask?.values01 ?? false };
  r.dtype = t.dtype;
  return r;
};

const torchLogicalNot: FunctionHandler = (_h, { args }) => {
  return isTensor(args[0]) ? flipMask({ ...args[0], dtype: 'bool' }) : { kind: 'tensor' };
};

export const ATTENTION_FUNCTIONS: Record<string, FunctionHandler> = {
  scaled_dot_product_attention: torchScaledDotProductAttention,
  generate_square_subsequent_mask: torchGenerateSquareSubsequentMask,
  multi_head_attention_forward: torchMultiHeadAttentionForward,
  tril: torchTril,
  triu: torchTril,
  logical_not: torchLogicalNot,
};

export function sdpa(h: OpHost, args: Value[], kwargs: Record<string, Value>, argNodes: Node[], kwargNodes: Record<string, Node>, n: Node, nameNode: Node): Value {
  const info: OpInfo = {};
  const [q, k, v] = [args[0] ?? kwargs.query, args[1] ?? kwargs.key, args[2] ?? kwargs.value];
  let res: Value = { kind: 'tensor' };
  if (isTensor(q) && isTensor(k) && isTensor(v) && q.axes && k.axes && v.axes && q.axes.length >= 2) {
    const e1 = q.axes[q.axes.length - 1].size;
    const e2 = k.axes[k.axes.length - 1].size;
    info.contracted = [e1, e2];
    if (h.unify(e1, e2) !== 'ne') {
      const axes = [...q.axes.slice(0, -1).map((a) => ({ ...a })), { ...v.axes[v.axes.length - 1] }];
      res = { kind: 'tensor', axes, strides: contiguousStrides(axes.map((a) => a.size)), dtype: 'float' };
      // The mask broadcasts to the scores (…, L, S): a size that is not 1 is theirs.
      const mask = kwargs.attn_mask ?? args[3];
      if (isTensor(mask) && mask.axes && k.axes.length >= 2) {
        const scores = [...q.axes.slice(0, -1).map((a) => a.size), k.axes[k.axes.length - 2].size];
        for (let i = 1; i <= Math.min(mask.axes.length, scores.length); i++) {
          const m = mask.axes[mask.axes.length - i].size;
          if (D.constValue(h.norm(m)) !== 1 && D.constValue(h.norm(scores[scores.length - i])) !== 1) h.unify(m, scores[scores.length - i], true);
        }
      }
    }
  }
  h.emit({ kind: 'op', op: 'sdpa', node: n, args, kwargs, argNodes, kwargNodes, nameNode, result: res, info });
  return res;
}

export function mha(h: OpHost, m: TorchModuleV, args: Value[], kwargs: Record<string, Value>, info: OpInfo): Value {
  const a = margs(m, ['embed_dim', 'num_heads', 'dropout', 'bias', 'add_bias_kv', 'add_zero_attn', 'kdim', 'vdim', 'batch_first']);
  const q = args[0] ?? kwargs.query;
  const k = args[1] ?? kwargs.key;
  const v = args[2] ?? kwargs.value;
  const bf = a.batch_first ? h.truth(a.batch_first) : false;
  if (!isTensor(q) || !q.axes || bf === undefined) return { kind: 'tuple', items: [{ kind: 'tensor' }, { kind: 'tensor' }] };
  const rank = q.axes.length;
  if (rank !== 3 && rank !== 2) {
    info.rank = { expected: '3-d (batched) or 2-d (unbatched) query', got: rank };
    return { kind: 'tuple', items: [{ kind: 'tensor' }, { kind: 'tensor' }] };
  }
  const E = a.embed_dim?.kind === 'int' ? a.embed_dim.dim : undefined;
  if (E) {
    const last = q.axes[rank - 1].size;
    if (h.unify(last, E) === 'ne' || h.apart(last, E)) info.expectedSize = { axis: rank - 1, expected: E, got: last, what: 'embed_dim' };
  }
  // The module reads (N, L, E) or (L, N, E) as `batch_first` says: the axes of a query nobody
  // named come out with the roles it gave them (inferred and read, so they only warn, and a
  // residual sum with the unnamed input drops them).
  const read: Role[] = bf ? ['batch', 'seq'] : ['seq', 'batch'];
  const unnamed = rank === 3 && !q.axes[0].role && !q.axes[1].role;
  const out: Axis[] = q.axes.map((ax, i) => (i === rank - 1 ? { size: E ?? ax.size, role: 'chan' as Role, label: ax.label } : unnamed ? { ...ax, role: read[i], inferred: true, read: true } : { ...ax }));
  // The output keeps the query's layout and the permutes that made it, but holds new values:
  // added to the unpermuted input it is a residual in the wrong layout, never a symmetrisation
  // (A + A.mT), so the layout before the permutes is not carried.
  const outT: TensorV = { kind: 'tensor', axes: out, strides: contiguousStrides(out.map((x) => x.size)), dtype: 'float', permutes: q.permutes, lastPermute: q.lastPermute };
  let weights: TensorV = { kind: 'tensor' };
  if (isTensor(k) && k.axes && k.axes.length === rank && rank === 3) {
    const N = bf ? q.axes[0].size : q.axes[1].size;
    const L = bf ? q.axes[1].size : q.axes[0].size;
    const S = bf ? k.axes[1].size : k.axes[0].size;
    weights = h.tensor([N, L, S]);
  }
  void v;
  return { kind: 'tuple', items: [outT, weights] };
}

/** Helpers named for a causal mask: their triangle must be the future or its complement. */
export const CAUSAL_HELPER = /causal|subsequent|future|look_?ahead|autoregressive/i;

/**
 * A comparison with a tensor on either side (`tokens == pad_id`, `arange(S) < lengths`,
 * `mask == 0`): a bool tensor of the broadcast shape, a mask of the polarity it proves.
 */
export function compareTensors(h: OpHost, op: string, a: Value, b: Value, n: Node): TensorV {
  const t = (isTensor(a) ? a : b) as TensorV;
  const other = isTensor(a) ? b : a;
  const shape = isTensor(a) && isTensor(b) ? broadcastValue(h, a, b, n) : t.axes ? t.axes.map((x) => ({ ...x })) : undefined;
  const res: TensorV = { kind: 'tensor', axes: shape ?? undefined, dtype: 'bool' };
  if (res.axes) res.strides = contiguousStrides(res.axes.map((x) => x.size));
  const k = numValue(other);
  noteDiagonalComparison(t, op, k, res);
  if (!t.mask && (op === '==' || op === '!=') && other.kind === 'int' && /pad/i.test(other.name ?? '')) {
    // tokens == pad_id is True at padding (positions to ignore); != is True at real tokens.
    res.mask = { polarity: op === '==' ? 'ignore' : 'keep' };
  }
  const pa = isTensor(a) && a.positions;
  const pb = isTensor(b) && b.positions;
  const lengthLike = (v: Value) => isTensor(v) || (v.kind === 'int' && /len/i.test(v.name ?? ''));
  if (!t.mask && pa !== pb && /^[<>]=?$/.test(op) && lengthLike(pa ? b : a)) {
    // arange(S) < lengths is True at real tokens (keep); arange(S) >= lengths at padding.
    const less = op.startsWith('<');
    res.mask = { polarity: (pa ? less : !less) ? 'keep' : 'ignore' };
    // The axis the positions run along holds tokens, the one the lengths run along samples.
    const pos = (pa ? a : b) as TensorV;
    const len = pa ? b : a;
    if (res.axes && pos.axes && isTensor(len) && len.axes) {
      const n = res.axes.length;
      const varies = (v: TensorV, i: number) => {
        const ax = v.axes![v.axes!.length - n + i];
        return !!ax && D.constValue(h.norm(ax.size)) !== 1;
      };
      res.axes = res.axes.map((ax, i) => (ax.role ? ax : varies(pos, i) && !varies(len, i) ? { ...ax, role: 'seq' } : varies(len, i) && !varies(pos, i) ? { ...ax, role: 'batch' } : ax));
    }
  }
  if (t.mask && k !== undefined && (k === 0 || k === 1)) {
    const flip = (op === '==' && k === 0) || (op === '!=' && k === 1) || (op === '<' && k === 1) || (op === '<=' && k === 0);
    const keep = (op === '==' && k === 1) || (op === '!=' && k === 0) || (op === '>' && k === 0) || (op === '>=' && k === 1);
    // An additive mask holds 0 and -inf: `== 0` is True where it keeps, `!= 0` where it hides;
    // it holds no 1, so a comparison with 1 says nothing of it.
    const additive = !!t.mask.additive;
    if (additive && (k === 1 || (op !== '==' && op !== '!='))) return res;
    if (flip) res.mask = { polarity: t.mask.polarity === 'keep' ? 'ignore' : 'keep', tri: flipTri(t.mask.tri), why: t.mask.why };
    else if (keep) res.mask = { polarity: t.mask.polarity, tri: t.mask.tri, why: t.mask.why };
  }
  // A seeded mask (a 0/1 or bool tensor): `m == 0` is its complement, `m == 1` itself.
  if (t.maskOf && k !== undefined && (k === 0 || k === 1) && (op === '==' || op === '!=')) res.maskOf = (op === '==') === (k === 0) ? flipOrigin(t.maskOf) : t.maskOf;
  return res;
}
