/**
 * The facts a tensor value carries beyond its sizes, and how they propagate through the ops
 * every family shares: layout (strides: contiguous, kept by an elementwise op on a dense input,
 * unknown when density cannot be proved), axis roles (from a size's name, from the axes a
 * merge folded), masks (polarity, 0/1 values, flipped by `~` and `1 - m`), score scaling
 * (`/ sqrt(d)` as a power of a size), dtypes. The families (`semantics/<family>.ts`) attach
 * them where an op is evaluated; the rules judge them. Pure functions of values and the host's
 * size algebra: no frames, no events.
 */

import * as D from '../dims';
import type { Dim } from '../dims';
import type { Axis, MaskOrigin, MaskTriangle, Role, ScaleFact, TensorV, TupleV, Value } from '../values';
import { intV, type OpHost } from './host';

// ---------------------------------------------------------------- layout

export function contiguousStrides(sizes: Dim[]): Dim[] {
  const out: Dim[] = new Array(sizes.length);
  let acc = D.dconst(1);
  for (let i = sizes.length - 1; i >= 0; i--) {
    out[i] = acc;
    acc = D.mul(acc, sizes[i]);
  }
  return out;
}

/**
 * The strides of an elementwise op's result on t: torch keeps the layout of a dense input
 * (a permuted contiguous tensor stays permuted) and makes anything else (a strided slice, a
 * selected column) contiguous. Unknown when density cannot be proved.
 */
export function elementwiseLayout(h: OpHost, t: TensorV): Dim[] | undefined {
  if (!t.axes || !t.strides || t.strides.length !== t.axes.length) return undefined;
  const ax = t.axes.map((a, i) => ({ size: h.norm(a.size), stride: h.norm(t.strides![i]) }))
    .filter((a) => D.constValue(a.size) !== 1);
  if (ax.length === 0) return t.strides;
  // Order by stride, innermost first: each stride must be the product of the sizes inside it.
  const left = [...ax];
  let expect = D.dconst(1);
  while (left.length) {
    const k = left.findIndex((a) => D.equal(a.stride, expect));
    if (k < 0) {
      // Proven not dense only when every size and stride is a number: then contiguous.
      const known = ax.every((a) => D.constValue(a.stride) !== undefined && D.constValue(a.size) !== undefined);
      return known ? contiguousStrides(t.axes.map((a) => a.size)) : undefined;
    }
    const [a] = left.splice(k, 1);
    expect = D.mul(expect, a.size);
  }
  return t.strides;
}

export function shapeText(h: OpHost, t: TensorV): string {
  return t.axes ? `(${D.formatAll(t.axes.map((a) => h.norm(a.size))).join(', ')})` : '?';
}

export function shapeTuple(t: TensorV): TupleV {
  if (!t.axes) return { kind: 'tuple', items: [], shapeOf: t };
  return { kind: 'tuple', items: t.axes.map((a) => intV(a.size)), shapeOf: t };
}

// ---------------------------------------------------------------- roles

export function roleFromName(name: string, all: string[]): Role | undefined {
  const n = name.toLowerCase().replace(/^self\./, '');
  // N is the batch in (N, C, L) and the tokens in (B, N, C).
  if (n === 'n' && all.some((a) => a !== name && roleFromName(a, []) === 'batch')) return 'seq';
  if (/^(b|n|bs|nb|batch|batch_size|bsz|num_batches)$/.test(n)) return 'batch';
  if (/^(l|s|t|seq|seq_len|seqlen|length|len|n_tokens|num_tokens|tokens|q_len|k_len|kv_len|src_len|tgt_len|seq_length|n_seq|max_len|num_patches|np|slen|seqlen_kv|kv_seq_len)$/.test(n)) return 'seq';
  if (/^(c|d|e|dim|d_model|embed_dim|channels|in_channels|hidden|hidden_dim|hidden_size|emb|emb_dim|embedding_dim|d_embed|n_embd|model_dim|c_in|in_dim|feat|features|num_channels)$/.test(n)) return 'chan';
  if (/^(heads|num_heads|n_heads|nhead|nh|n_head|n_kv_heads|num_kv_heads|num_key_value_heads|n_local_heads|kv_heads|n_kv_head|num_heads_kv)$/.test(n)) return 'head';
  if (/^(hd|head_dim|dh|d_k|dk|d_head|d_v|dv|head_size|c_head|dim_head)$/.test(n)) return 'hdim';
  if (/^(w|height|width|hh|ww|x_h|x_w)$/.test(n)) return 'space';
  if (n === 'h') return all.some((a) => /^w$/i.test(a)) ? 'space' : 'head';
  return undefined;
}

/** Roles of one class may meet in a broadcast (queries against keys); roles of two classes never do. */
export function roleClass(r: Role): string {
  return r === 'chan' || r === 'hdim' ? 'feature' : r === 'batch' || r === 'head' ? r : 'position';
}

/** Two axes whose stated roles are of different classes (channels against positions, a batch against tokens). */
export function unrelatedRoles(x: Axis, y: Axis): boolean {
  return !!x.role && !!y.role && roleClass(x.role) !== roleClass(y.role) && !x.read && !y.read && !x.inferred && !y.inferred;
}

export function mergeRole(all: Axis[]): Role | undefined {
  // Copies laid next to an axis (repeat_kv's (n_kv_heads, n_rep) heads) keep its role.
  const axes = all.some((a) => !a.replica) ? all.filter((a) => !a.replica) : all;
  const roles = axes.map((a) => a.role).filter((r) => r !== undefined);
  if (axes.length === 1) return axes[0].role;
  if (roles.length === axes.length && roles.every((r) => r === 'space')) return 'seq';
  // The positions of a query or key projection's map, flattened, are still its queries or keys.
  if (roles.length === axes.length && (roles[0] === 'query' || roles[0] === 'key') && roles.every((r) => r === roles[0])) return roles[0];
  if (roles.includes('head') && roles.includes('hdim') && roles.length === 2) return 'chan';
  // Heads, queries or spatial positions folded into the batch (axial and window attention's
  // (B * W, H, C)) leave a batch axis.
  if (roles.includes('batch') && (roles.includes('head') || roles.includes('query') || (roles.includes('space') && roles.every((r) => r === 'batch' || r === 'space')))) return 'batch';
  if (roles.length === 1 && roles[0] === 'seq') return 'seq';
  return undefined;
}

// ---------------------------------------------------------------- masks, dtypes

/** A float copy: a bool mask becomes a mask of 0s and 1s. */
export function asFloat(t: TensorV): TensorV {
  return { ...t, dtype: 'float', mask: t.mask && t.dtype === 'bool' ? { ...t.mask, values01: true } : t.mask, zeroOne: t.dtype === 'bool' || t.zeroOne || undefined };
}

export function flipMask(t: TensorV): TensorV {
  return { ...t, mask: t.mask ? { polarity: t.mask.polarity === 'keep' ? 'ignore' : 'keep', tri: flipTri(t.mask.tri), why: t.mask.why } : undefined, maskOf: flipOrigin(t.maskOf), countOf: undefined };
}

/** The origin of a seeded mask's complement (`~m`, `m == 0`, `1 - m`). */
export function flipOrigin(o: MaskOrigin | undefined): MaskOrigin | undefined {
  return o && { cell: o.cell, flipped: !o.flipped };
}

/** The triangle of a mask made True on its complement (`~m`, `m == 0`, `1 - m`). */
export function flipTri(tri: MaskTriangle | undefined): MaskTriangle | undefined {
  return tri && { ...tri, flipped: !tri.flipped };
}

/**
 * The cells a triangle mask is True (nonzero) on: {j - i >= diagonal} (upper) or
 * {j - i <= diagonal} (lower). The complement of j - i >= d is j - i <= d - 1.
 */
export function triRegion(tri: MaskTriangle, complement = false): { upper: boolean; diagonal: number } {
  if (tri.flipped === complement) return { upper: tri.upper, diagonal: tri.diagonal };
  return tri.upper ? { upper: false, diagonal: tri.diagonal - 1 } : { upper: true, diagonal: tri.diagonal + 1 };
}

export function dtypeOf(v: Value | undefined): TensorV['dtype'] | undefined {
  if (!v || v.kind !== 'qual') return undefined;
  const d = v.path.split('.').pop()!;
  if (d === 'bool') return 'bool';
  if (/^(long|int64|int32|int|int16|int8|uint8|short)$/.test(d)) return 'long';
  if (/float|half|double|bfloat/.test(d)) return 'float';
  return undefined;
}

export function sameShape(t: TensorV): TensorV {
  return { kind: 'tensor', axes: t.axes?.map((a) => ({ ...a })), strides: t.axes ? contiguousStrides(t.axes.map((a) => a.size)) : undefined, dtype: t.dtype === 'long' ? 'float' : t.dtype };
}

export function keep(t: TensorV): TensorV {
  return { ...t, strides: t.axes ? contiguousStrides(t.axes.map((a) => a.size)) : undefined, dtype: 'float', mask: undefined, normAxis: undefined, scores: undefined };
}

// ---------------------------------------------------------------- scale

export function scaleOf(v: Value, op: string): ScaleFact | undefined {
  if (v.kind === 'num') {
    if (v.scale) return op === '/' ? { base: v.scale.base, exp: -v.scale.exp, node: v.scale.node } : v.scale;
    return { exp: 0 };
  }
  // Dividing by an integer scales; multiplying by one (x * 3, x * H) is not an attention scale.
  if (v.kind === 'int') return op === '/' ? { base: v.dim, exp: -1 } : undefined;
  return undefined;
}

export function combineScale(h: OpHost, a: ScaleFact | undefined, b: ScaleFact): ScaleFact {
  if (!a || (a.exp === 0 && a.base === undefined)) return b.exp === 0 && !b.base ? { exp: 0 } : b;
  if (b.exp === 0 && !b.base) return a;
  if (a.base && b.base && h.same(a.base, b.base)) return { base: a.base, exp: a.exp + b.exp };
  return { exp: 0, base: undefined };
}

// ---------------------------------------------------------------- pairwise differences

/**
 * `u.unsqueeze(p) - u.unsqueeze(q)` with adjacent p and q (Swin's shifted-window mask,
 * `m.unsqueeze(1) - m.unsqueeze(2)`) is zero wherever the two new axes' indices are equal: on
 * the diagonal of those axes. Compared with 0, the difference is True there (`== 0`) or False
 * (`!= 0`). Kept in side tables keyed by the values themselves, so only the exact results of
 * these ops carry the fact (a tensor derived from them by any other op does not).
 */
const unsqueezedFrom = new WeakMap<TensorV, { from: TensorV; at: number }>();
const zeroDiagonal = new WeakSet<TensorV>();
const diagonalTruth = new WeakMap<TensorV, boolean>();

/** Notes that `result` is `from.unsqueeze(at)` (at normalised). */
export function noteUnsqueeze(result: TensorV, from: TensorV, at: number): void {
  unsqueezedFrom.set(result, { from, at });
}

/** Notes `l - r` as a pairwise difference when both are adjacent unsqueezes of one tensor. */
export function notePairDifference(l: TensorV, r: TensorV, result: TensorV): void {
  const a = unsqueezedFrom.get(l);
  const b = unsqueezedFrom.get(r);
  if (a && b && a.from === b.from && Math.abs(a.at - b.at) === 1 && l.axes?.length === r.axes?.length) zeroDiagonal.add(result);
}

/** Notes `t == 0` / `t != 0` of a pairwise difference: True, or False, on its diagonal. */
export function noteDiagonalComparison(t: TensorV, op: string, k: number | undefined, result: TensorV): void {
  if (k === 0 && (op === '==' || op === '!=') && zeroDiagonal.has(t)) diagonalTruth.set(result, op === '==');
}

/** Whether a bool tensor is True on the diagonal of a pairwise difference (undefined: not known). */
export function trueOnDiagonal(v: Value | undefined): boolean | undefined {
  return v?.kind === 'tensor' ? diagonalTruth.get(v) : undefined;
}
