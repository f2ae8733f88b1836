/**
 * Views and reshapes, with the layout facts they carry: `view`/`reshape` (torch's stride
 * computation on symbolic sizes: a view of a non-viewable layout is the fact
 * `view-after-permute` judges; a row-major regrouping that moves factors between axes is
 * `head-split-merge-order`'s), `permute`/`transpose` (the permutation and its round trip),
 * `flatten`, `unsqueeze`/`squeeze`, `expand`, `repeat`, `chunk`/`split`/`unbind`, and
 * `torch.cat`/`stack`. Roles follow the axes: a merge remembers its parts, so splitting them
 * back restores them.
 */

import * as D from '../dims';
import type { Dim } from '../dims';
import type { OpInfo } from '../events';
import type { Node } from '../parse';
import type { Axis, IntV, TensorV, Value } from '../values';
import { UNKNOWN } from '../values';
import { TENSOR_ATTRIBUTES } from '../torch-api';
import { contiguousStrides, dtypeOf, mergeRole, noteUnsqueeze, roleClass, roleFromName, shapeText, shapeTuple, unrelatedRoles } from './facts';
import { failed, intV, isTensor, normDim, numValue, raises, type FunctionHandler, type MethodHandler, type OpHost } from './host';

const tensorSize: MethodHandler = (h, { t, info, done, rank, kw }) => {
  const d = kw('dim', 0);
  if (!d) return shapeTuple(t);
  const i = numValue(d);
  if (rank === undefined) return intV(h.fresh('d'));
  const k = normDim(i, rank, info);
  if (k === undefined) return done(i === undefined ? intV(h.fresh('d')) : UNKNOWN);
  return intV(t.axes![k].size);
};

const tensorDim: MethodHandler = (h, { rank }) => {
  return rank === undefined ? intV(h.fresh('r')) : intV(D.dconst(rank));
};

const tensorNumel: MethodHandler = (h, { t }) => {
  return t.axes ? intV(t.axes.reduce((acc, a) => D.mul(acc, a.size), D.dconst(1))) : intV(h.fresh('?'));
};

const tensorView: MethodHandler = (h, { op, kwargs, n, t, rest, info, done }) => {
  let target = op.endsWith('_as') ? (isTensor(rest[0]) && rest[0].axes ? rest[0].axes.map((a) => intV(a.size)) : undefined) : rest.length === 1 && rest[0].kind === 'tuple' ? rest[0].items : rest;
  if (kwargs.shape?.kind === 'tuple') target = kwargs.shape.items;
  // `x.view(orig_shape)` with the shape of a tensor of unknown rank: the target is unknown.
  const whole = rest.length === 1 && rest[0].kind === 'tuple' ? rest[0] : kwargs.shape?.kind === 'tuple' ? kwargs.shape : undefined;
  if (whole?.shapeOf && !whole.shapeOf.axes) return done({ kind: 'tensor', dtype: t.dtype });
  if (!target) return done({ kind: 'tensor' });
  if (op === 'view' && target.length === 1 && target[0].kind === 'qual') return done({ ...t, dtype: dtypeOf(target[0]) });
  return done(reshape(h, t, target, op.startsWith('view'), info, n));
};

const tensorFlatten: MethodHandler = (h, { t, info, done, rank, kw }) => {
  if (!t.axes) {
    // `x.flatten(2)` of a tensor of unknown rank keeps `2` axes and merges the rest into one:
    // start + 1 axes whatever the rank (a rank of `start` or less raises).
    const s = numValue(kw('start_dim', 0) ?? intV(D.dconst(0)));
    const e = numValue(kw('end_dim', 1) ?? intV(D.dconst(-1)));
    if (s === undefined || e !== -1 || s < 0 || s > 7) return done({ kind: 'tensor' });
    return done({ ...h.tensor(Array.from({ length: s + 1 }, () => h.fresh('?'))), strides: undefined, dtype: t.dtype });
  }
  if (rank === 0) return done(h.tensor([D.dconst(1)]));
  const s = normDim(numValue(kw('start_dim', 0) ?? intV(D.dconst(0))), rank!, info);
  const e = normDim(numValue(kw('end_dim', 1) ?? intV(D.dconst(-1))), rank!, info);
  if (s === undefined || e === undefined || e < s) return done({ kind: 'tensor' });
  const merged = t.axes.slice(s, e + 1);
  const size = merged.reduce((acc, a) => D.mul(acc, a.size), D.dconst(1));
  const axis: Axis = { size, role: mergeRole(merged), label: merged.length === 1 ? merged[0].label : undefined };
  // A merge remembers its parts, as a reshape's does: `x.flatten(2)` of (B, C, H, W) is split
  // back by `view(B, C, H, W)`, and a split as (W, H) mixes rows and columns.
  const real = merged.filter((a) => D.constValue(h.norm(a.size)) !== 1);
  if (merged.length === 1 && merged[0].parts) axis.parts = merged[0].parts;
  else if (real.length > 1) axis.parts = real.map((a) => ({ ...a }));
  const axes: Axis[] = [...t.axes.slice(0, s), axis, ...t.axes.slice(e + 1)];
  const strides = viewStrides(h, t, axes.map((a) => a.size));
  return done({ kind: 'tensor', axes, strides: strides ?? contiguousStrides(axes.map((a) => a.size)), dtype: t.dtype, mask: t.mask, positions: t.positions, learned: t.learned, permutes: t.permutes, lastPermute: t.lastPermute });
};

const tensorPermute: MethodHandler = (h, { kwargs, n, t, rest, info, done, rank }) => {
  const items = rest.length === 1 && rest[0].kind === 'tuple' ? rest[0].items : kwargs.dims?.kind === 'tuple' ? kwargs.dims.items : rest;
  const perm = items.map((x) => numValue(x));
  if (perm.some((x) => x === undefined)) return done({ kind: 'tensor' });
  if (rank === undefined) {
    // permute fixes the rank of a tensor of unknown shape: one axis per dim named once.
    const k = perm.length;
    const norm = (perm as number[]).map((x) => (x < 0 ? x + k : x));
    if (k === 0 || k > 8 || norm.some((x) => x < 0 || x >= k) || new Set(norm).size !== k) return done({ kind: 'tensor' });
    return done({ ...h.tensor(norm.map(() => h.fresh('?'))), strides: undefined, dtype: t.dtype });
  }
  const p = perm as number[];
  if (p.length !== rank) {
    info.badPermutation = `permute got ${p.length} dims for a ${rank}-d tensor ${shapeText(h, t)}`;
    return done({ kind: 'tensor' });
  }
  const normd = p.map((x) => (x < 0 ? x + rank : x));
  if (normd.some((x) => x < 0 || x >= rank)) {
    info.badPermutation = `permute dims (${p.join(', ')}) are out of range for a ${rank}-d tensor`;
    return done({ kind: 'tensor' });
  }
  const dup = normd.find((x, i) => normd.indexOf(x) !== i);
  if (dup !== undefined) {
    const missing = t.axes!.map((_, i) => i).filter((i) => !normd.includes(i));
    info.badPermutation = `permute repeats dim ${dup}${missing.length ? ` and leaves out ${missing.join(', ')}` : ''}`;
    return done({ kind: 'tensor' });
  }
  const res = permuteTensor(t, normd, n);
  const trip = partialRoundTrip(t, res);
  if (trip) info.partialRoundTrip = trip;
  return done(res);
};

const tensorTranspose: MethodHandler = (_h, { n, t, info, done, rank, kw }) => {
  if (!t.axes) return done({ kind: 'tensor' });
  const a = normDim(numValue(kw('dim0', 0)), rank!, info);
  const b = normDim(numValue(kw('dim1', 1)), rank!, info);
  if (a === undefined || b === undefined) return done({ kind: 'tensor' });
  return done(transposeTensor(t, a, b, n));
};

const tensorT: MethodHandler = (_h, { n, t, done, rank }) => {
  if (!t.axes || rank! > 2) return done({ kind: 'tensor' });
  return done(rank === 2 ? transposeTensor(t, 0, 1, n) : t);
};

const tensorContiguous: MethodHandler = (_h, { t, done }) => {
  return done({ ...t, strides: t.axes ? contiguousStrides(t.axes.map((a) => a.size)) : undefined });
};

const tensorUnsqueeze: MethodHandler = (_h, { t, info, done, rank, kw }) => {
  if (!t.axes) return done({ kind: 'tensor' });
  const d = normDim(numValue(kw('dim', 0)), rank!, info, 1);
  if (d === undefined) return done({ kind: 'tensor' });
  const axes = [...t.axes];
  axes.splice(d, 0, { size: D.dconst(1) });
  const res: TensorV = { ...t, axes, strides: contiguousStrides(axes.map((a) => a.size)), normAxis: t.normAxis !== undefined && t.normAxis >= d ? t.normAxis + 1 : t.normAxis };
  noteUnsqueeze(res, t, d);
  return done(res);
};

const tensorSqueeze: MethodHandler = (h, { t, info, done, rank, kw }) => {
  if (!t.axes) return done({ kind: 'tensor' });
  const dv = kw('dim', 0);
  if (!dv) {
    if (t.axes.some((a) => D.constValue(h.norm(a.size)) === undefined)) return done({ kind: 'tensor' });
    const axes = t.axes.filter((a) => D.constValue(h.norm(a.size)) !== 1);
    return done({ ...t, axes, strides: contiguousStrides(axes.map((a) => a.size)), normAxis: undefined });
  }
  const d = normDim(numValue(dv), rank!, info);
  if (d === undefined) return done({ kind: 'tensor' });
  const c = D.constValue(h.norm(t.axes[d].size));
  if (c === undefined) return done({ kind: 'tensor' });
  if (c !== 1) return done(t);
  const axes = t.axes.filter((_, i) => i !== d);
  return done({ ...t, axes, strides: contiguousStrides(axes.map((a) => a.size)), normAxis: undefined });
};

const tensorExpand: MethodHandler = (h, { op, t, rest, info, done }) => {
  const items = op === 'expand_as' ? (isTensor(rest[0]) && rest[0].axes ? rest[0].axes.map((a) => intV(a.size)) : undefined) : rest.length === 1 && rest[0].kind === 'tuple' ? rest[0].items : rest;
  if (!items || !t.axes) return done({ kind: 'tensor' });
  const off = items.length - t.axes.length;
  if (off < 0) return done({ kind: 'tensor' });
  const axes: Axis[] = [];
  const strides: Dim[] = [];
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    const src = i >= off ? t.axes[i - off] : undefined;
    const v = numValue(it);
    if (v === -1 && src) {
      axes.push(src);
      strides.push(t.strides ? t.strides[i - off] : D.dconst(0));
    } else if (it.kind === 'int') {
      const target = op === 'expand_as' && isTensor(rest[0]) ? rest[0].axes![i] : undefined;
      if (src && target && unrelatedRoles(src, target) && D.constValue(h.norm(src.size)) !== 1 && h.compare(src.size, it.dim) === 'unknown') {
        // Channels expanded over a spatial axis ((B, 1, 1, C) as (B, C, H, W)): unrelated
        // axes lined up; reported, and their sizes are not equated.
        if (!info.broadcastRoles) info.broadcastRoles = { a: h.norm(src.size), b: h.norm(it.dim), roles: [src.role!, target.role!], axis: i - items.length };
      } else if (src && D.constValue(h.norm(src.size)) !== 1) {
        const c = h.unify(src.size, it.dim);
        if (c === 'ne') info.expectedSize = { axis: i, expected: it.dim, got: src.size, what: 'expand' };
      }
      const copies = (!src || D.constValue(h.norm(src.size)) === 1) && D.constValue(h.norm(it.dim)) !== 1;
      axes.push({ size: it.dim, role: src?.role, label: src?.label, replica: copies || undefined });
      strides.push(src && D.constValue(h.norm(src.size)) !== 1 && t.strides ? t.strides[i - off] : D.dconst(0));
    } else return done({ kind: 'tensor' });
  }
  return done({ ...t, axes, strides: t.strides ? strides : undefined });
};

const tensorRepeat: MethodHandler = (h, { t, rest, n, argNodes, done }) => {
  const items = rest.length === 1 && rest[0].kind === 'tuple' ? rest[0].items : rest;
  if (!t.axes || items.length < t.axes.length || items.some((x) => x.kind !== 'int')) return done({ kind: 'tensor' });
  const off = items.length - t.axes.length;
  const tiled = items.map((it) => D.constValue(h.norm((it as IntV).dim)) !== 1);
  const axes: Axis[] = items.map((it, i) => {
    const src = i >= off ? t.axes![i - off] : undefined;
    const ax: Axis = { size: src ? D.mul(src.size, (it as IntV).dim) : (it as IntV).dim, role: src?.role };
    // `repeat` tiles the whole axis k times: laid out (k, n), the copies outermost.
    if (src && tiled[i] && D.constValue(h.norm(src.size)) !== 1) {
      ax.parts = [{ size: (it as IntV).dim }, { ...src }];
      // The same layout with the copies innermost, where only this axis is tiled.
      const recv = n.childForFieldName('function')?.childForFieldName('object');
      const count = rest.length === 1 && rest[0].kind === 'tuple' ? undefined : argNodes[i + 1];
      if (recv && count && tiled.filter(Boolean).length === 1) ax.tiledBy = { node: n, other: `${recv.text}.repeat_interleave(${count.text}, dim=${i})` };
    }
    return ax;
  });
  return done({ kind: 'tensor', axes, strides: contiguousStrides(axes.map((a) => a.size)), dtype: t.dtype, mask: t.mask, positions: t.positions, learned: t.learned });
};

const tensorRepeatInterleave: MethodHandler = (h, { t, info, done, rank, kw }) => {
  const r = kw('repeats', 0);
  const dv = kw('dim', 1);
  if (!t.axes || r?.kind !== 'int') return done({ kind: 'tensor', dtype: t.dtype });
  if (!dv || dv.kind === 'none') {
    const size = D.mul(t.axes.reduce((acc, a) => D.mul(acc, a.size), D.dconst(1)), r.dim);
    return done(h.tensor([size], undefined, { dtype: t.dtype }));
  }
  const d = normDim(numValue(dv), rank!, info);
  if (d === undefined) return done({ kind: 'tensor', dtype: t.dtype });
  const axes: Axis[] = t.axes.map((a, i) => (i === d ? { size: D.mul(a.size, r.dim), role: a.role } : a));
  // Each element repeated k times in place: laid out (n, k), the copies innermost.
  if (D.constValue(h.norm(r.dim)) !== 1 && D.constValue(h.norm(t.axes[d].size)) !== 1) axes[d].parts = [{ ...t.axes[d] }, { size: r.dim }];
  return done({ kind: 'tensor', axes, strides: contiguousStrides(axes.map((a) => a.size)), dtype: t.dtype, mask: t.mask, positions: t.positions, learned: t.learned });
};

/** Whether `count` provably divides `d`: a number it divides, or every term a multiple of it. */
function countDivides(count: number, d: Dim): boolean {
  const c = D.constValue(d);
  if (c !== undefined) return c % count === 0;
  return d.terms.every((t) => Number.isInteger(t.coef / count));
}

/**
 * `qkv.chunk(3, dim=1)` on (b, n, 3*inner): the axis split is not known to hold 3 equal parts
 * while the last axis provably does (`split(n_embd, dim=1)` on (B, T, 3*n_embd) likewise).
 */
function packedElsewhere(h: OpHost, op: string, axes: readonly { size: Dim }[], d: number, a0: Value | undefined): OpInfo['packedElsewhere'] {
  const lastIndex = axes.length - 1;
  if (d === lastIndex || a0?.kind !== 'int') return undefined;
  const size = h.norm(axes[d].size);
  const last = h.norm(axes[lastIndex].size);
  let count: number | undefined;
  if (op === 'chunk') count = D.constValue(h.norm(a0.dim));
  else {
    const r = D.ratio(last, h.norm(a0.dim));
    const s = D.constValue(h.norm(a0.dim));
    const lv = D.constValue(last);
    count = r ?? (s !== undefined && lv !== undefined && s > 0 && lv % s === 0 ? lv / s : undefined);
    const parts = D.ratio(size, h.norm(a0.dim));
    if (count !== undefined && parts !== undefined && Number.isInteger(parts)) return undefined;
  }
  if (count === undefined || !Number.isInteger(count) || count < 2 || count > 4) return undefined;
  if (countDivides(count, size) || !countDivides(count, last) || D.constValue(last) === count) return undefined;
  return { axis: d, count, size, last };
}

const tensorChunk: MethodHandler = (h, { op, t, rest, info, done, rank, kw }) => {
  if (!t.axes) {
    // chunk(3) and split of a list of sections give that many tensors of unknown shape.
    const a0 = kw('chunks', 0);
    const c = op === 'chunk' && a0 ? numValue(a0) : op === 'split' && rest[0]?.kind === 'tuple' ? rest[0].items.length : undefined;
    if (c !== undefined && Number.isInteger(c) && c > 0 && c <= 16) return done({ kind: 'tuple', items: Array.from({ length: c }, () => ({ kind: 'tensor', dtype: t.dtype }) as TensorV) });
    // As many tensors of unknown shape as the input has parts along the axis.
    return done({ kind: 'tuple', items: [{ kind: 'tensor', dtype: t.dtype, hypothetical: t.hypothetical } as TensorV], inexact: true });
  }
  const dv = op === 'unbind' ? kw('dim', 0) : kw('dim', 1);
  const d = normDim(numValue(dv ?? intV(D.dconst(0))), rank!, info);
  if (d === undefined) return done(UNKNOWN);
  const size = h.norm(t.axes[d].size);
  let parts: Dim[] | undefined;
  const a0 = op === 'split' ? kw('split_size_or_sections', 0) ?? kw('split_size', 0) : kw('chunks', 0);
  const packed = op === 'unbind' ? undefined : packedElsewhere(h, op, t.axes, d, a0);
  if (packed) {
    // What the parts hold is not what the code means by them: nothing is said of them after.
    info.packedElsewhere = packed;
    return done({ kind: 'tuple', items: Array.from({ length: packed.count }, () => ({ kind: 'tensor', dtype: t.dtype }) as TensorV), inexact: true });
  }
  if (op === 'unbind') {
    const c = D.constValue(size);
    const axes = t.axes.filter((_, i) => i !== d);
    // As many tensors as the axis has indices, a size: one representative, and the count.
    if (c === undefined) return done({ kind: 'tuple', items: [{ kind: 'tensor', axes, strides: undefined, dtype: t.dtype, lastPermute: t.lastPermute } as TensorV], inexact: true, count: { size, of: t } });
    if (c > 16) return done(UNKNOWN);
    const count = { size, of: t };
    // Each slice keeps the permute that laid its axes out (where a head/position swap is made).
    return done({ kind: 'tuple', items: Array.from({ length: c }, () => ({ kind: 'tensor', axes, strides: undefined, dtype: t.dtype, lastPermute: t.lastPermute }) as TensorV), count });
  }
  if (op === 'chunk' && a0?.kind === 'int') {
    const k = D.constValue(h.norm(a0.dim));
    if (k === undefined || k > 16 || k < 1) return done(UNKNOWN);
    const c = D.constValue(size);
    if (c !== undefined) {
      const each = Math.ceil(c / k);
      parts = [];
      for (let left = c; left > 0; left -= each) parts.push(D.dconst(Math.min(each, left)));
    } else {
      const q = D.floorDiv(size, a0.dim);
      if (!q) return done(UNKNOWN);
      parts = Array(k).fill(q);
    }
  } else if (op === 'split' && a0?.kind === 'int') {
    const c = D.constValue(size);
    const s = D.constValue(h.norm(a0.dim));
    if (c !== undefined && s !== undefined && s > 0) {
      parts = [];
      for (let left = c; left > 0; left -= s) parts.push(D.dconst(Math.min(s, left)));
      if (parts.length > 16) return done(UNKNOWN);
    } else {
      const r = D.ratio(size, h.norm(a0.dim));
      if (r === undefined || !Number.isInteger(r) || r > 16 || r < 1) return done(UNKNOWN);
      parts = Array(r).fill(h.norm(a0.dim));
    }
  } else if (op === 'split' && a0?.kind === 'tuple' && a0.items.every((x) => x.kind === 'int')) {
    parts = a0.items.map((x) => (x as IntV).dim);
  }
  if (!parts) return done(UNKNOWN);
  return done({
    kind: 'tuple',
    items: parts.map((p) => {
      const axes = t.axes!.map((a, i) => (i === d ? { size: p, role: a.role } : a));
      return { kind: 'tensor', axes, strides: t.strides, dtype: t.dtype } as TensorV;
    }),
  });
};

export const SHAPE_METHODS: Record<string, MethodHandler> = {
  size: tensorSize,
  dim: tensorDim,
  ndimension: tensorDim,
  numel: tensorNumel,
  view: tensorView,
  reshape: tensorView,
  view_as: tensorView,
  reshape_as: tensorView,
  flatten: tensorFlatten,
  permute: tensorPermute,
  transpose: tensorTranspose,
  swapaxes: tensorTranspose,
  swapdims: tensorTranspose,
  t: tensorT,
  contiguous: tensorContiguous,
  unsqueeze: tensorUnsqueeze,
  squeeze: tensorSqueeze,
  expand: tensorExpand,
  expand_as: tensorExpand,
  broadcast_to: tensorExpand,
  repeat: tensorRepeat,
  repeat_interleave: tensorRepeatInterleave,
  chunk: tensorChunk,
  split: tensorChunk,
  tensor_split: tensorChunk,
  unbind: tensorChunk,
};

const torchCat: FunctionHandler = (h, { op, args, kwargs, argNodes, kwargNodes, n, nameNode }) => {
  return catStack(h, op === 'stack' ? 'stack' : 'cat', args, kwargs, argNodes, kwargNodes, n, nameNode);
};

export const SHAPE_FUNCTIONS: Record<string, FunctionHandler> = {
  cat: torchCat,
  concat: torchCat,
  concatenate: torchCat,
  stack: torchCat,
};

// ---------------------------------------------------------------- helpers

export function permuteTensor(t: TensorV, perm: number[], n: Node): TensorV {
  const axes = t.axes!;
  const res: TensorV = {
    kind: 'tensor',
    axes: perm.map((p) => axes[p]),
    strides: t.strides ? perm.map((p) => t.strides![p]) : undefined,
    dtype: t.dtype,
    mask: t.mask,
    positions: t.positions,
    learned: t.learned,
    scale: t.scale,
    scaleNode: t.scaleNode,
    permutes: (t.permutes ?? 0) + 1,
    lastPermute: n,
    preLayout: t.permutes ? t.preLayout : axes.map((a) => a.label),
  };
  if (t.normAxis !== undefined) res.normAxis = perm.indexOf(t.normAxis);
  if (t.softmaxNode) res.softmaxNode = t.softmaxNode;
  return res;
}

/**
 * The second permute of a round trip, x.permute(0, 2, 3, 1) ... .permute(0, 3, 2, 1): it
 * brings back to its place the axis the first permute moved farthest (so it is meant as the
 * way back) yet leaves others elsewhere. Only for explicit permute calls of rank >= 4 with
 * every axis's identity known: a transpose, or a first chain of reshuffles, is often meant to
 * land on a new layout (seq-first for nn.MultiheadAttention, heads before positions).
 */
export function partialRoundTrip(before: TensorV, after: TensorV): { before: string[]; after: string[] } | undefined {
  const origin = before.preLayout;
  const now = after.axes?.map((a) => a.label);
  const mid = before.axes?.map((a) => a.label);
  if (after.permutes !== 2 || !origin || !now || !mid || now.length < 4 || origin.length !== now.length) return undefined;
  if (![origin, now, mid].every((ls) => ls.every((l) => l !== undefined))) return undefined;
  const o = origin as string[];
  const a = now as string[];
  const m = mid as string[];
  if ([...o].sort().join() !== [...a].sort().join() || new Set(o).size !== o.length) return undefined;
  // The axis the first permute carried farthest (channels to the end, say) is the one a way
  // back must restore; when it is back in place but other axes are not, the inverse was
  // meant and missed. When it stays put (axial attention's (B, H, W, C) -> (B, W, H, C)),
  // the second permute is a new layout, not a way back.
  const dist = o.map((l, i) => Math.abs(m.indexOf(l) - i));
  const far = Math.max(...dist);
  const farthest = dist.flatMap((d, i) => (d === far ? [i] : []));
  if (far < 2 || farthest.length !== 1) return undefined;
  const restored = a[farthest[0]] === o[farthest[0]];
  const wrong = o.some((l, i) => a[i] !== l);
  return restored && wrong ? { before: o, after: a } : undefined;
}

export function transposeTensor(t: TensorV, a: number, b: number, n: Node): TensorV {
  const r = t.axes!.length;
  const x = a < 0 ? a + r : a;
  const y = b < 0 ? b + r : b;
  const perm = t.axes!.map((_, i) => (i === x ? y : i === y ? x : i));
  return permuteTensor(t, perm, n);
}

/** torch's view stride computation, on symbolic sizes under the generic assumption. */
export function viewStrides(h: OpHost, t: TensorV, newSizes: Dim[]): Dim[] | undefined | null {
  if (!t.axes || !t.strides) return undefined;
  const sizes = t.axes.map((a) => h.norm(a.size));
  const strides = t.strides.map((s) => h.norm(s));
  const isOne = (d: Dim) => D.constValue(d) === 1;
  if (sizes.length === 0) return contiguousStrides(newSizes);
  // A contiguous tensor views as any shape of its size.
  const cont = contiguousStrides(sizes);
  if (sizes.every((sz, i) => isOne(sz) || D.equal(strides[i], h.norm(cont[i])))) return contiguousStrides(newSizes);
  // Which old axes make up which new ones is only known when the sizes provably agree
  // (C against n_head * head_dim may be anything): otherwise nothing is proved.
  const total = sizes.reduce((acc, d) => D.mul(acc, d), D.dconst(1));
  const wanted = newSizes.reduce((acc, d) => D.mul(acc, h.norm(d)), D.dconst(1));
  if (h.compare(total, wanted) !== 'eq') return undefined;
  // Chunks of old dims that are mutually contiguous.
  const chunks: { numel: Dim; stride: Dim }[] = [];
  let numel = sizes[sizes.length - 1];
  let base = strides[strides.length - 1];
  for (let d = sizes.length - 1; d >= 0; d--) {
    if (d === 0) {
      chunks.unshift({ numel, stride: base });
      break;
    }
    const prevSize = sizes[d - 1];
    const contiguousWithNext = isOne(prevSize) || D.equal(strides[d - 1], D.mul(numel, base));
    if (contiguousWithNext) {
      if (!isOne(prevSize)) numel = D.mul(numel, prevSize);
    } else {
      chunks.unshift({ numel, stride: base });
      numel = prevSize;
      base = strides[d - 1];
    }
  }
  const out: Dim[] = new Array(newSizes.length);
  let vd = newSizes.length - 1;
  for (let c = chunks.length - 1; c >= 0; c--) {
    const chunk = chunks[c];
    let acc = D.dconst(1);
    let matched = D.constValue(chunk.numel) === 1;
    while (vd >= 0) {
      const s = h.norm(newSizes[vd]);
      if (matched && !isOne(s)) break;
      out[vd] = D.mul(acc, chunk.stride);
      acc = D.mul(acc, s);
      vd--;
      if (D.equal(acc, chunk.numel)) matched = true;
    }
    if (!matched) return null;
  }
  while (vd >= 0) {
    if (!isOne(h.norm(newSizes[vd]))) return null;
    out[vd] = D.dconst(1);
    vd--;
  }
  return out;
}

/** Whether the new axes (size-1 axes aside) have exactly the sizes of the merged parts, in order. */
export function restoresParts(h: OpHost, parts: Axis[], news: Axis[]): boolean {
  const real = news.filter((a) => D.constValue(h.norm(a.size)) !== 1);
  return real.length === parts.length && real.every((a, i) => h.compare(a.size, parts[i].size) === 'eq');
}

/**
 * Whether the new axes (size-1 axes aside) are the two merged parts' sizes swapped: a grid
 * flattened to tokens, (h·w), read back as (w, h). Splits into three or more parts are not
 * judged: Swin's windows are merged in one helper and split in another with the grid's sizes
 * passed in, and a swap there is found inside the helper, not where the sizes were swapped.
 */
/** An axis of a size stated to be a product of two (see `OpHost.statedOrder`) split into those two in the other order. */
function statedOutOfOrder(h: OpHost, size: Dim, news: Axis[]): boolean {
  const order = h.statedOrder(size);
  return !!order && splitsPartsOutOfOrder(h, order.map((d) => ({ size: d })), news);
}

export function splitsPartsOutOfOrder(h: OpHost, parts: Axis[], news: Axis[]): boolean {
  const real = news.filter((a) => D.constValue(h.norm(a.size)) !== 1);
  if (real.length !== parts.length || real.length !== 2 || restoresParts(h, parts, news)) return false;
  const used = new Set<number>();
  return real.every((a) => {
    const j = parts.findIndex((p, i) => !used.has(i) && h.compare(a.size, p.size) === 'eq');
    if (j >= 0) used.add(j);
    return j >= 0;
  });
}

export function reshape(h: OpHost, t: TensorV, target: Value[], isView: boolean, info: OpInfo, n: Node): Value {
  const dims: (Dim | undefined)[] = [];
  let infer = -1;
  const names: (string | undefined)[] = [];
  for (let i = 0; i < target.length; i++) {
    const it = target[i];
    if (it.kind !== 'int') return { kind: 'tensor' };
    const c = D.constValue(h.norm(it.dim));
    if (c === -1) {
      if (infer >= 0) {
        info.badShape = 'only one dimension can be inferred, and this shape has two -1s';
        return { kind: 'tensor' };
      }
      infer = i;
      dims.push(undefined);
    } else if (c !== undefined && (c < -1 || !Number.isInteger(c))) {
      info.badShape = `invalid size ${c}: sizes are -1 (inferred) or non-negative`;
      return { kind: 'tensor' };
    } else dims.push(it.dim);
    names.push(it.name);
  }
  if (!t.axes) {
    // An inferred (-1) axis of an unknown input is a size of its own, and the layout is
    // unknown (nothing about viewability follows from it).
    if (infer >= 0) {
      dims[infer] = h.fresh(names[infer] ?? 'n');
      return { ...h.tensor(dims as Dim[], names), strides: undefined, dtype: t.dtype };
    }
    return { ...h.tensor(dims as Dim[], names), dtype: t.dtype };
  }
  const total = t.axes.reduce((acc, a) => D.mul(acc, a.size), D.dconst(1));
  const known = dims.reduce<Dim>((acc, d) => (d ? D.mul(acc, d) : acc), D.dconst(1));
  // The element counts agree without assuming it (an inferred size that is a product of
  // symbols, or equal products): only then may the order of the factors prove a reorder.
  let proven: boolean;
  if (infer >= 0) {
    const q = D.floorDiv(h.norm(total), h.norm(known));
    const tc = D.constValue(h.norm(total));
    const kc = D.constValue(h.norm(known));
    if (tc !== undefined && kc !== undefined && kc !== 0 && tc % kc !== 0) {
      info.numel = { from: total, to: known, inferred: true };
      return { kind: 'tensor' };
    }
    if (!q) {
      // The quotient cannot be written (`view(B, inter, -1)` of (B, C, T, H, W) with `inter` a
      // size of its own): the rank is known and the inferred axis is a size of its own; nothing
      // is claimed about the layout (no viewability, no reordering).
      dims[infer] = h.fresh(names[infer] ?? 'n');
      const axes = dims.map((s, i) => ({ size: s!, role: names[i] ? roleFromName(names[i]!, names.filter((x): x is string => !!x)) : undefined }));
      return { kind: 'tensor', axes, dtype: t.dtype, mask: t.mask, positions: t.positions, learned: t.learned, scale: t.scale, scaleNode: t.scaleNode };
    }
    dims[infer] = q;
    proven = q.terms.length === 1 && (q.terms[0].syms.every(([, e]) => e > 0) || isProductOfRest(h, t.axes, dims.filter((_, i) => i !== infer)));
  } else {
    const c = h.compare(total, known);
    proven = c === 'eq';
    if (c === 'ne') {
      info.numel = { from: total, to: known };
      return { kind: 'tensor' };
    }
    if (c === 'unknown') {
      info.numelUndecided = { from: total, to: known };
      // Element counts that differ at the defaults: reported there, and torch raises there as
      // built with them; nothing after it is judged on a shape the view never produced.
      if (h.compareAtDefaults(total, known).cmp === 'ne') return { kind: 'tensor' };
      h.unify(total, known);
    }
  }
  const sizes = dims as Dim[];
  // Grouping: which old axes make up each new axis (row-major).
  const groups = group(t.axes.map((a) => h.norm(a.size)), sizes.map((s) => h.norm(s)), (d) => h.norm(d));
  const axes: Axis[] = sizes.map((s, i) => {
    const nm = names[i];
    const role = nm ? roleFromName(nm, names.filter((x): x is string => !!x)) : undefined;
    return { size: s, role };
  });
  if (groups && groups.some((g) => scrambles(g.old.map((k) => h.norm(t.axes![k].size)), g.new.map((k) => h.norm(sizes[k]))))) {
    info.reorder = true;
  } else if (groups) {
    for (const g of groups) {
      const olds = g.old.map((i) => t.axes![i]);
      if (g.new.length === 1) {
        const ax = axes[g.new[0]];
        // An axis carried over unchanged keeps the role it had: the name a size was read
        // into (`H`, which alone reads as heads) is weaker evidence than where it came from.
        if (olds.length === 1 && olds[0].role) ax.role = olds[0].role;
        if (!ax.role) ax.role = mergeRole(olds);
        if (olds.length === 1) ax.label = olds[0].label;
        // A merge of several axes remembers them (their identity survives the round trip).
        const real = olds.filter((o) => D.constValue(h.norm(o.size)) !== 1);
        if (olds.length === 1 && olds[0].parts) ax.parts = olds[0].parts;
        else if (real.length > 1) ax.parts = real.map((o) => ({ ...o }));
      } else if (olds.length === 1 && olds[0].parts && restoresParts(h, olds[0].parts, g.new.map((k) => axes[k]))) {
        // Splitting a merged axis back into the sizes it was made of restores those axes.
        const parts = olds[0].parts;
        g.new.filter((k) => D.constValue(h.norm(sizes[k])) !== 1).forEach((k, j) => {
          axes[k].label = parts[j].label;
          if (!axes[k].role) axes[k].role = parts[j].role;
        });
      } else if (olds.length === 1 && olds[0].parts && splitsPartsOutOfOrder(h, olds[0].parts, g.new.map((k) => axes[k]))) {
        // A merged axis split into its parts in another order ((h·w) read as (w, h)): the
        // elements are taken row-major, so rows and columns get mixed.
        info.reorder = true;
        info.partsOrder = true;
      } else if (olds.length === 1 && !olds[0].parts && statedOutOfOrder(h, olds[0].size, g.new.map((k) => axes[k]))) {
        // Tokens stated to be H rows of W (`assert L == H * W`) read as W rows of H.
        info.reorder = true;
        info.partsOrder = true;
      } else if (olds.length === 1 && olds[0].role === 'chan' && g.new.length === 2) {
        const [h, d] = g.new;
        if (!axes[h].role) axes[h].role = 'head';
        if (!axes[d].role) axes[d].role = 'hdim';
      } else if (olds.length === 1) {
        for (const k of g.new) if (!axes[k].role && D.constValue(sizes[k]) !== 1) axes[k].role = olds[0].role === 'batch' ? undefined : undefined;
      }
    }
  } else if (isReorder(t.axes.map((a) => h.norm(a.size)), sizes.map((s) => h.norm(s))) || (proven && prefixesCross(t.axes.map((a) => h.norm(a.size)), sizes.map((s) => h.norm(s))))) {
    info.reorder = true;
  }
  let strides: Dim[] | undefined;
  if (isView) {
    const vs = viewStrides(h, t, sizes);
    if (vs === null) info.notViewable = true;
    strides = vs ?? contiguousStrides(sizes);
  } else strides = contiguousStrides(sizes);
  void n;
  return { kind: 'tensor', axes, strides, dtype: t.dtype, mask: t.mask, positions: t.positions, learned: t.learned, scale: t.scale, scaleNode: t.scaleNode, permutes: t.permutes, lastPermute: t.lastPermute, preLayout: t.preLayout };
}

/**
 * Whether the sizes given (all but the inferred one) are some of the old axes' sizes, so the
 * inferred size is exactly the product of the other old axes: `view(-1, ws, ws, C)` of
 * (B, ws, H // ws, W // ws, ws, C). The element counts then agree without assuming anything,
 * even where the quotient has a divisor (`H // ws`).
 */
function isProductOfRest(h: OpHost, old: Axis[], dims: (Dim | undefined)[]): boolean {
  const rest = old.map((a) => h.norm(a.size));
  for (const d of dims) {
    if (!d) continue;
    const k = rest.findIndex((x) => D.equal(x, h.norm(d)));
    if (k < 0) return false;
    rest.splice(k, 1);
  }
  return true;
}

/**
 * Whether one row-major group (old axes whose product is the product of new axes) moves
 * factors between axes: several old axes and several new ones. One exception is a split of
 * one axis whose leading part joins the axis before it, or the way back — (N, H·D) to
 * (N·H, D) and (N·H, D) to (N, H·D), how sequence-first attention folds heads into the batch.
 * It keeps every element's order, and sizes that are numbers cannot tell it from anything
 * else, so two old and two new axes of different sizes that share such a split are not
 * evidence of a missing transpose.
 */
export function scrambles(old: Dim[], neu: Dim[]): boolean {
  const real = (ds: Dim[]) => ds.filter((d) => D.constValue(d) !== 1);
  const a = real(old);
  const b = real(neu);
  if (a.length < 2 || b.length < 2) return false;
  if (a.length !== 2 || b.length !== 2) return true;
  // The same fold written in symbols: (B, h·d) to (B·h, d) and back. The order of the factors
  // of h·d is not known (the heads may be the outer one), so it is no evidence either.
  const folds = (p: Dim[], q: Dim[]) => {
    const k = divides(p[0], q[0]) ? D.floorDiv(q[0], p[0]) : undefined;
    return !!k && D.equal(p[1], D.mul(k, q[1]));
  };
  if (folds(a, b) || folds(b, a)) return false;
  const [a0, a1, b0, b1] = [a[0], a[1], b[0], b[1]].map((d) => D.constValue(d));
  if (a0 === undefined || a1 === undefined || b0 === undefined || b1 === undefined) return true;
  // The same sizes in another order is a view used as a transpose.
  if ((a0 === b1 && a1 === b0) || (a0 === b0 && a1 === b1)) return true;
  // (p, q·r) to (p·q, r), or (p·q, r) to (p, q·r): the outer sizes divide one another.
  const [small, big] = a0 < b0 ? [a0, b0] : [b0, a0];
  return big % small !== 0;
}

/** Row-major grouping of old sizes into new sizes, under the generic assumption. */
export function group(old: Dim[], neu: Dim[], norm: (d: Dim) => Dim = (d) => d): { old: number[]; new: number[] }[] | undefined {
  const out: { old: number[]; new: number[] }[] = [];
  let i = 0;
  let j = 0;
  const isOne = (d: Dim) => D.constValue(d) === 1;
  while (i < old.length || j < neu.length) {
    if (i < old.length && isOne(old[i])) {
      i++;
      continue;
    }
    if (j < neu.length && isOne(neu[j])) {
      j++;
      continue;
    }
    if (i >= old.length || j >= neu.length) return undefined;
    const g = { old: [i], new: [j] };
    let a = old[i];
    let b = neu[j];
    i++;
    j++;
    let guard = 0;
    while (!D.equal(a, b)) {
      if (++guard > 32) return undefined;
      const av = D.constValue(a);
      const bv = D.constValue(b);
      let growA: boolean;
      if (av !== undefined && bv !== undefined) growA = av < bv;
      else if (divides(a, b)) growA = true;
      else if (divides(b, a)) growA = false;
      // What the sizes are known to be makes the next product the other size (n_kv_heads *
      // (n_heads // n_kv_heads) is n_heads where the heads divide): a group of two old axes
      // and one new one, or the reverse, closes there.
      else if (g.old.length + g.new.length === 2 && i < old.length && D.equal(norm(D.mul(a, old[i])), b)) {
        g.old.push(i++);
        a = b;
        continue;
      } else if (g.old.length + g.new.length === 2 && j < neu.length && D.equal(norm(D.mul(b, neu[j])), a)) {
        g.new.push(j++);
        b = a;
        continue;
      } else return undefined;
      if (growA) {
        if (i >= old.length) return undefined;
        a = D.mul(a, old[i]);
        g.old.push(i++);
      } else {
        if (j >= neu.length) return undefined;
        b = D.mul(b, neu[j]);
        g.new.push(j++);
      }
    }
    out.push(g);
  }
  return out;
}

/** Whether a divides b as monomials (b / a has no negative exponents) or as numbers. */
export function divides(a: Dim, b: Dim): boolean {
  const av = D.constValue(a);
  const bv = D.constValue(b);
  if (av !== undefined && bv !== undefined) return av !== 0 && bv % av === 0 && bv > av;
  const q = D.floorDiv(b, a);
  if (!q || q.terms.length !== 1) return false;
  const t = q.terms[0];
  return t.syms.every(([, e]) => e > 0) && (t.syms.length > 0 || t.coef > 1) && Number.isInteger(t.coef);
}

/** Same numel and same multiset of factors, but no row-major grouping: a transpose is missing. */
export function isReorder(old: Dim[], neu: Dim[]): boolean {
  const factors = (ds: Dim[]) => {
    const out: string[] = [];
    for (const d of ds) {
      if (d.terms.length !== 1) return undefined;
      const t = d.terms[0];
      if (t.coef !== 1 && t.syms.length > 0) return undefined;
      for (const [s, e] of t.syms) {
        if (e < 0) return undefined;
        for (let k = 0; k < e; k++) out.push(s);
      }
      if (t.syms.length === 0 && t.coef !== 1) out.push(String(t.coef));
    }
    return out.sort().join('*');
  };
  const a = factors(old);
  const b = factors(neu);
  if (a !== undefined && b !== undefined && a === b && a.length > 0) return true;
  // Numbers: a grouping exists for any shapes with equal numel only if row-major factors line up;
  // when all sizes are numbers and distinct, the failed grouping above already proves a reorder.
  const allNum = [...old, ...neu].every((d) => D.isConst(d));
  if (allNum) {
    const prod = (ds: Dim[]) => ds.reduce((acc, d) => acc * (D.constValue(d) ?? 1), 1);
    return prod(old) === prod(neu);
  }
  return false;
}

/**
 * Whether two shapes of monomial sizes with the same numel have no common refinement: a prefix
 * product of the old sizes and one of the new neither divides the other, whatever values the
 * symbols take beyond 1. (B, H, L, C // H) to (B, L, C) crosses at B·H against B·L. An exact
 * quotient (`C // H`, C·H⁻¹) is first made a symbol of its own (C = H·q), so the way sequence-
 * first attention folds heads into the batch, (L, B, C) to (L, B·H, C // H), stays a
 * refinement. Coefficients are ignored (a number may divide a symbol's value): only symbols
 * prove a crossing.
 */
export function prefixesCross(old: Dim[], neu: Dim[]): boolean {
  const exps = (d: Dim): Map<string, number> | undefined => {
    if (d.terms.length !== 1 || d.terms[0].coef <= 0) return undefined;
    return new Map(d.terms[0].syms.map(([s, e]) => [s, e]));
  };
  const maps: Map<string, number>[] = [];
  for (const d of [...old, ...neu]) {
    const m = exps(d);
    if (!m) return false;
    maps.push(m);
  }
  // Exact quotients become symbols: a numerator of one symbol `a` over H is rewritten a = H·q.
  for (let k = 0; ; k++) {
    const m = maps.find((x) => [...x.values()].some((e) => e < 0));
    if (!m) break;
    const pos = [...m.entries()].filter(([, e]) => e > 0);
    if (k >= 8 || pos.length !== 1 || pos[0][1] !== 1) return false;
    const a = pos[0][0];
    const den = [...m.entries()].filter(([, e]) => e < 0);
    const q = `\u0000q${k}`;
    for (const x of maps) {
      const e = x.get(a);
      if (e === undefined) continue;
      x.delete(a);
      x.set(q, (x.get(q) ?? 0) + e);
      for (const [s, f] of den) {
        const v = (x.get(s) ?? 0) - f * e;
        if (v === 0) x.delete(s);
        else x.set(s, v);
      }
    }
  }
  const prefixes = (ms: Map<string, number>[]) => {
    const out: Map<string, number>[] = [];
    const acc = new Map<string, number>();
    for (const m of ms) {
      for (const [s, e] of m) acc.set(s, (acc.get(s) ?? 0) + e);
      out.push(new Map(acc));
    }
    return out;
  };
  const po = prefixes(maps.slice(0, old.length));
  const pn = prefixes(maps.slice(old.length));
  for (const a of po) {
    for (const b of pn) {
      let up = false;
      let down = false;
      for (const s of new Set([...a.keys(), ...b.keys()])) {
        const d = (b.get(s) ?? 0) - (a.get(s) ?? 0);
        if (d > 0) up = true;
        if (d < 0) down = true;
      }
      if (up && down) return true;
    }
  }
  return false;
}

export function catStack(h: OpHost, op: 'cat' | 'stack', args: Value[], kwargs: Record<string, Value>, argNodes: Node[], kwargNodes: Record<string, Node>, n: Node, nameNode: Node): Value {
  const info: OpInfo = {};
  const done = (res: Value) => {
    h.emit({ kind: 'op', op, node: n, args, kwargs, argNodes, kwargNodes, nameNode, result: res, info });
    return raises(h, info) ? failed() : res;
  };
  const list = args[0] ?? kwargs.tensors;
  const dv = kwargs.dim ?? args[1] ?? intV(D.dconst(0));
  if (list?.kind === 'tuple' && !list.inexact && list.items.length > 1 && list.items.every((t) => t.kind === 'unknown' || (isTensor(t) && !t.failed)) && list.items.some((t) => isTensor(t) && t.axes) && !list.items.every((t) => isTensor(t) && t.axes)) {
    // Some pieces of unknown shape: every piece has the rank of the known ones (cat skips only
    // empty 1-d pieces), and their sizes off the joined axis; the joined axis is unknown.
    const known = list.items.filter((t): t is TensorV => isTensor(t) && !!t.axes);
    const rank = known[0].axes!.length;
    if (known.some((t) => t.axes!.length !== rank)) return done({ kind: 'tensor' });
    const d = normDim(numValue(dv), rank, {}, op === 'stack' ? 1 : 0);
    if (d === undefined) return done({ kind: 'tensor' });
    for (let i = 0; i < rank; i++) for (const t of known.slice(1)) if ((op === 'stack' || i !== d) && h.unify(known[0].axes![i].size, t.axes![i].size) === 'ne') return done({ kind: 'tensor' });
    const axes: Axis[] = known[0].axes!.map((a, i) => (op === 'cat' && i === d ? { size: h.fresh('n') } : { ...a }));
    if (op === 'stack') axes.splice(d, 0, { size: D.dconst(list.items.length) });
    return done({ kind: 'tensor', axes, strides: contiguousStrides(axes.map((a) => a.size)), dtype: known[0].dtype });
  }
  if (list?.kind !== 'tuple' || list.items.length === 0 || !list.items.every((t) => isTensor(t) && t.axes)) return done({ kind: 'tensor' });
  const ts = list.items as TensorV[];
  const rank = ts[0].axes!.length;
  for (const t of ts) {
    if (t.axes!.length !== rank) {
      info.catMismatch = { rankA: rank, rankB: t.axes!.length };
      return done({ kind: 'tensor' });
    }
  }
  const d = normDim(numValue(dv), rank, info, op === 'stack' ? 1 : 0);
  if (d === undefined) return done({ kind: 'tensor' });
  // One token (B, 1, E) joined to tokens (B, N, E) along another axis than the tokens': they
  // differ only where the token axis is 1 and N a number of tokens (never 1 in a design that
  // prepends a class token), so only dim=1 joins them.
  if (rank === 3 && ts.length === 2 && d !== 1) {
    const one = (t: TensorV) => D.constValue(h.norm(t.axes![1].size)) === 1;
    const tok = ts.find(one);
    const rest = ts.find((t) => t !== tok);
    if (tok && rest && !D.isConst(h.norm(rest.axes![1].size)) && D.symbolsOf(h.norm(rest.axes![2].size)).size > 0 && [0, 2].every((i) => h.same(tok.axes![i].size, rest.axes![i].size))) {
      info.catMismatch = { a: tok.axes![1].size, b: rest.axes![1].size, axis: 1, token: true };
      return done({ kind: 'tensor' });
    }
  }
  let total = D.dconst(0);
  for (let i = 0; i < rank; i++) {
    for (const t of ts.slice(1)) {
      const a = ts[0].axes![i].size;
      const b = t.axes![i].size;
      if (op === 'cat' && i === d) continue;
      // Channels against positions (a (B, C, N) map joined to (B, 1, C) tokens): whatever the
      // sizes, the pieces do not line up; reported, and not unified.
      const ra = ts[0].axes![i].role;
      const rb = t.axes![i].role;
      if (ra && rb && (roleClass(ra) === 'feature') !== (roleClass(rb) === 'feature') && !ts[0].axes![i].read && !t.axes![i].read && h.compare(a, b) === 'unknown') {
        info.catMismatch = { a, b, axis: i, roles: [ra, rb] };
        return done({ kind: 'tensor' });
      }
      if (h.unify(a, b) === 'ne' || h.apart(a, b)) {
        info.catMismatch = { a, b, axis: i };
        return done({ kind: 'tensor' });
      }
    }
  }
  if (op === 'cat') {
    for (const t of ts) total = D.add(total, t.axes![d].size);
    // A list whose length is not known (one entry per module of `range(M)`) joins an unknown count.
    if (list.inexact) total = h.fresh('n');
    // An axis's role is whatever any of the joined tensors says it is.
    const roleAt = (i: number) => ts.map((t) => t.axes![i].role).find((r) => r !== undefined);
    const axes: Axis[] = ts[0].axes!.map((a, i) => (i === d ? { size: total, role: roleAt(i) } : { ...a, role: a.role ?? roleAt(i) }));
    // k pieces of one size f joined end to end are laid out as (k, f): the joined axis remembers
    // those parts, so a view that splits it as (f, k) (branch-major logits read channel-major)
    // mixes the pieces.
    const each = h.norm(ts[0].axes![d].size);
    if (!list.inexact && ts.length >= 2 && D.constValue(each) !== 1 && ts.every((t) => h.same(t.axes![d].size, each))) {
      axes[d].parts = [{ size: D.dconst(ts.length) }, { ...ts[0].axes![d] }];
    }
    // A single token (a class token, a pooled summary) joined to (?, ?, E) tokens along dim 0 or
    // 1 shows the author treats that axis as the sequence, and the other leading axis as the batch.
    const one = (t: TensorV) => D.constValue(h.norm(t.axes![d].size)) === 1;
    if (rank === 3 && d < 2 && ts.length >= 2 && ts.some(one) && ts.some((t) => !one(t)) && !axes[d].role && !axes[1 - d].role && axes[2].role !== 'batch' && axes[2].role !== 'seq') {
      axes[d] = { ...axes[d], role: 'seq', inferred: true };
      axes[1 - d] = { ...axes[1 - d], role: 'batch', inferred: true };
    }
    // One token in front of a sequence of (B, N, E) tokens: position 0 is that token.
    if (rank === 3 && d === 1 && ts.length >= 2 && one(ts[0]) && ts.slice(1).every((t) => !one(t))) axes[d] = { ...axes[d], leadToken: true };
    return done({ kind: 'tensor', axes, strides: contiguousStrides(axes.map((a) => a.size)), dtype: ts[0].dtype });
  }
  const axes = [...ts[0].axes!.map((a) => ({ ...a }))];
  axes.splice(d, 0, { size: list.inexact ? h.fresh('n') : D.dconst(ts.length) });
  return done({ kind: 'tensor', axes, strides: contiguousStrides(axes.map((a) => a.size)), dtype: ts[0].dtype });
}

/** Attributes a tensor shares with modules, arrays or Python objects: reading one proves nothing. */
const SHARED_ATTRIBUTES = new Set([
  'to', 'cuda', 'cpu', 'float', 'double', 'half', 'bfloat16', 'type', 'apply', 'requires_grad_', 'share_memory_',
  'copy', 'dtype', 'device', 'data', 'index', 'count', 'get', 'register_hook', 'names', 'is_sparse', 'is_cuda', 'storage',
  'item', 'tolist', 'split', 'join', 'replace', 'format', 'strip', 'lower', 'upper', 'startswith', 'endswith', 'add', 'update',
  'pop', 'clear', 'extend', 'append', 'insert', 'remove', 'sort', 'reverse', 'values', 'keys', 'items',
]);

/** An attribute of a tensor: `shape`, `ndim`, `T`/`mT`, else a method (the `attribute` event judges the name). */
export function tensorAttribute(h: OpHost, t: TensorV, name: string, n: Node, attrNode: Node): Value {
  // A value taken for a tensor only from how it is used may be a duck-typed object (a
  // sharded tensor, a process group, a config): an attribute tensors lack, or one modules and
  // arrays share, says nothing, and the value never becomes a proven tensor.
  if (t.hypothetical && (!TENSOR_ATTRIBUTES.has(name) || SHARED_ATTRIBUTES.has(name))) return UNKNOWN;
  switch (name) {
    case 'shape':
      return shapeTuple(t);
    case 'ndim':
      return t.axes ? intV(D.dconst(t.axes.length)) : UNKNOWN;
    case 'T':
    case 'mT':
      if (!t.axes) return { kind: 'tensor' };
      if (name === 'T') return permuteTensor(t, t.axes.map((_, i) => t.axes!.length - 1 - i), n);
      return transposeTensor(t, -2, -1, n);
    case 'real':
    case 'imag':
      // The parts of a complex tensor (a real one's `real` is itself): its sizes, a real dtype.
      if (!t.axes) return { kind: 'tensor' };
      return { kind: 'tensor', axes: t.axes.map((a) => ({ size: a.size, role: a.role, label: a.label })), dtype: 'float' };
    case 'dtype':
    case 'device':
      return { kind: 'unknown' };
    case 'is_cuda':
    case 'requires_grad':
      return { kind: 'bool' };
  }
  h.emit({ kind: 'attribute', node: n, nameNode: attrNode, name, self: t });
  return { kind: 'method', self: t, name };
}

/**
 * `c[:, -1:, :]` of a cumulative sum: its last entries along the axis the `-1:` stands on (an
 * index of full slices and that one, no ellipsis or None), which a normalisation divides by.
 */
export function lastEntries(t: TensorV, subs: Node[], r: Value, n: Node): Value {
  if (!t.cumsum || !isTensor(r) || subs.some((s) => s.type !== 'slice')) return r;
  const last = subs.map((s) => s.text.replace(/\s/g, '')).map((x) => (x === '-1:' ? 1 : x === ':' ? 0 : -1));
  if (last.includes(-1) || last.filter((x) => x === 1).length !== 1) return r;
  return { ...r, cumsum: undefined, lastOf: { axis: last.indexOf(1), cumsum: t.cumsum.from, node: n } };
}
