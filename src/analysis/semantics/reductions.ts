/**
 * Reductions over a `dim` (`sum`, `mean`, `max` with its `(values, indices)`, `norm`,
 * `logsumexp`…, `keepdim`) and `item` (only a one-element tensor converts: the fact a rule
 * judges). Reductions without a case here have a signature in `ops/reductions.ts`.
 */

import * as D from '../dims';
import { broadcastValue } from './elementwise';
import { isTensor, normDim, numValue, type MethodHandler } from './host';

const tensorMean: MethodHandler = (h, { op, n, kwargs, t, rest, info, done, rank, kw }) => {
  const dv = op === 'norm' ? kw('dim', 1) : kw('dim', 0);
  // `torch.min(a, b)`, `a.max(b)`: the elementwise minimum or maximum, of the broadcast shape.
  if ((op === 'max' || op === 'min') && dv && isTensor(dv)) return done({ kind: 'tensor', axes: broadcastValue(h, t, dv, n, info) });
  if (!t.axes) return done({ kind: 'tensor' });
  if (!dv || dv.kind === 'none') return done(h.tensor([]));
  if (dv.kind === 'tensor') return done({ kind: 'tensor' });
  const keep = h.truth(kwargs.keepdim ?? (op === 'norm' ? rest[2] : rest[1]) ?? { kind: 'bool', value: false });
  if (keep === undefined) return done({ kind: 'tensor' });
  const ds = dv.kind === 'tuple' ? dv.items.map((x) => numValue(x)) : [numValue(dv)];
  const idx = ds.map((x) => normDim(x, rank!, info));
  if (idx.some((x) => x === undefined)) return done({ kind: 'tensor' });
  // A weighted sum over an axis the weights were not normalised over (SK's softmax over the
  // features, summed over the branches): each output mixes weights that do not sum to one.
  if (op === 'sum' && t.weightedOver && dv.kind !== 'tuple' && idx[0] !== t.weightedOver.axis && D.constValue(h.norm(t.axes[idx[0]!].size)) !== 1) {
    info.softmaxMisused = t.weightedOver.node;
    info.softmaxSummedOver = idx[0];
  }
  const axes = keep ? t.axes.map((a, i) => (idx.includes(i) ? { size: D.dconst(1) } : a)) : t.axes.filter((_, i) => !idx.includes(i));
  const res = h.tensor(axes.map((a) => a.size));
  res.axes = axes;
  // Integer sums stay integers (a relative position index is a sum of offsets); indices are long.
  if (op === 'argmax' || op === 'argmin') res.dtype = 'long';
  else if ((op === 'sum' || op === 'prod') && (t.dtype === 'long' || t.dtype === 'bool')) res.dtype = 'long';
  else if (op === 'amax' || op === 'amin' || op === 'max' || op === 'min') res.dtype = t.dtype;
  if ((op === 'max' || op === 'min') && dv.kind !== 'tuple') return done({ kind: 'tuple', items: [res, { ...res, dtype: 'long' }], names: ['values', 'indices'] });
  return done(res);
};

const tensorItem: MethodHandler = (h, { t, info, done }) => {
  // Only a one-element tensor converts to a Python number.
  if (t.axes) {
    const numel = h.norm(t.axes.reduce((acc, a) => D.mul(acc, a.size), D.dconst(1)));
    const c = D.constValue(numel);
    if (c !== undefined && c !== 1) info.itemOf = numel;
    // One value per sample ((B,) lengths, a per-sample count): one element only in a batch of one.
    const batch = t.axes.find((a) => a.role === 'batch' && !a.read && !a.inferred && D.constValue(h.norm(a.size)) === undefined);
    if (c === undefined && batch) info.itemOfBatch = h.norm(batch.size);
  }
  if (t.countOf?.perRow && !info.itemOf && !info.itemOfBatch) info.itemOfRows = t.countOf.cell.name;
  done({ kind: 'num' });
  return { kind: 'num' };
};

export const REDUCTION_METHODS: Record<string, MethodHandler> = {
  mean: tensorMean,
  sum: tensorMean,
  amax: tensorMean,
  amin: tensorMean,
  max: tensorMean,
  min: tensorMean,
  prod: tensorMean,
  std: tensorMean,
  var: tensorMean,
  norm: tensorMean,
  logsumexp: tensorMean,
  argmax: tensorMean,
  argmin: tensorMean,
  all: tensorMean,
  any: tensorMean,
  item: tensorItem,
};
