/**
 * Shape signatures of the reductions and scans the evaluator's own `switch` does not cover:
 * those returning `(values, indices)` named tuples (`topk`, `sort`, `median(dim)`, `mode`,
 * `kthvalue`, `cummax`, `aminmax`, `var_mean`…), the NaN-aware and counting reductions, scans
 * (`cumprod`, `logcumsumexp`, `diff`) and the ops whose length depends on the data (`unique`,
 * `nonzero`: a known rank, an unknown length). Argument 0 is the input (`x.topk(3)` and
 * `torch.topk(x, 3)` alike). Pure functions of sizes; see `signature.ts`.
 */

import * as D from '../dims';
import type { Dim } from '../dims';
import { c, fail, reduce, same, unknown, val, wrap, type Out, type Signature } from './signature';

const VI = ['values', 'indices'] as const;

function valuesIndices(values: Out): Out[] {
  return [values, { ...values, dtype: 'long' }];
}

/** `k` elements along a dim: torch raises when k exceeds the dim's size. */
function kAlong(size: Dim, k: Dim, what: string): void {
  const n = val(size);
  const kv = val(k);
  if (n !== undefined && kv !== undefined && (kv > n || kv < 0)) fail(`${what}: k (${kv}) is out of range for a dim of size ${n}`);
}

const topk: Signature = {
  fields: VI,
  shape(a) {
    const s = a.input();
    const k = a.dim(1, 'k');
    const d = wrap(a.int(2, 'dim', -1), s.length);
    if (s.length === 0) {
      kAlong(c(1), k, 'topk');
      return { items: valuesIndices(same(s)), names: VI };
    }
    kAlong(s[d], k, 'topk');
    const out = same(s);
    out.sizes[d] = k;
    out.from![d] = undefined;
    return { items: valuesIndices(out), names: VI };
  },
};

const sort: Signature = {
  fields: VI,
  shape(a) {
    const s = a.input();
    wrap(a.int(1, 'dim', -1), s.length);
    return { items: valuesIndices(same(s)), names: VI };
  },
};

/** `op(dim, keepdim)` returning (values, indices); without a dim, the one value of the whole tensor (median). */
function dimTuple(allToScalar: boolean, dimPos = 1): Signature {
  return {
    fields: VI,
    shape(a) {
      const s = a.input();
      if (!a.given(dimPos, 'dim')) {
        if (allToScalar) return { sizes: [], dtype: 'same' };
        const out = reduce(s, [s.length ? -1 : 0], a.bool(dimPos + 1, 'keepdim', false));
        return { items: valuesIndices(out), names: VI };
      }
      const out = reduce(s, [a.int(dimPos, 'dim')], a.bool(dimPos + 1, 'keepdim', false));
      return { items: valuesIndices(out), names: VI };
    },
  };
}

const kthvalue: Signature = {
  fields: VI,
  shape(a) {
    const s = a.input();
    const k = a.dim(1, 'k');
    const d = wrap(a.int(2, 'dim', -1), s.length);
    const size = s.length ? s[d] : c(1);
    const kv = val(k);
    const n = val(size);
    if (kv !== undefined && n !== undefined && (kv < 1 || kv > n)) fail(`kthvalue: k (${kv}) is out of range for a dim of size ${n}`);
    return { items: valuesIndices(reduce(s, [d], a.bool(3, 'keepdim', false))), names: VI };
  },
};

const aminmax: Signature = {
  fields: ['min', 'max'],
  shape(a) {
    const s = a.input();
    const out = a.given(-1, 'dim') ? reduce(s, [a.int(-1, 'dim')], a.bool(-1, 'keepdim', false)) : reduce(s, undefined, a.bool(-1, 'keepdim', false));
    return { items: [out, { ...out }], names: ['min', 'max'] };
  },
};

const cumTuple: Signature = {
  fields: VI,
  shape(a) {
    const s = a.input();
    wrap(a.int(1, 'dim'), s.length);
    return { items: valuesIndices(same(s)), names: VI };
  },
};

/** `op(dim=None, keepdim=False)`: a reduction over the dims given (all of them without). */
function reduction(dtype?: 'long' | 'bool' | 'float', dimPos = 1, keepPos = dimPos + 1): Signature {
  return {
    shape(a) {
      const s = a.input();
      const dims = a.given(dimPos, 'dim') ? a.ints(dimPos, 'dim') : undefined;
      const out = reduce(s, dims, keepPos < 0 ? false : a.bool(keepPos, 'keepdim', false));
      return dtype ? { ...out, dtype } : out;
    },
  };
}

/** var_mean / std_mean: (dim, unbiased | correction, keepdim) → two reductions. */
const statMean: Signature = {
  fields: ['_0', '_1'],
  shape(a) {
    const s = a.input();
    // torch.var_mean(x, 1) and torch.var_mean(x, True) (unbiased) are both valid positional forms.
    const p1 = a.arg(1, 'dim');
    const dims = p1 && p1.kind !== 'none' && p1.kind !== 'bool' ? a.ints(1, 'dim') : undefined;
    const out = reduce(s, dims, a.bool(-1, 'keepdim', false));
    return { items: [out, { ...out }] };
  },
};

/** Scans: the same shape, after checking the dim. */
function scan(dimPos = 1, dtype?: 'long'): Signature {
  return {
    shape(a) {
      const s = a.input();
      wrap(a.int(dimPos, 'dim'), s.length);
      return same(s, dtype ?? 'same');
    },
  };
}

const argsort: Signature = {
  shape(a) {
    const s = a.input();
    wrap(a.int(1, 'dim', -1), s.length);
    return same(s, 'long');
  },
};

const diff: Signature = {
  shape(a) {
    const s = a.input();
    if (s.length === 0) fail('diff expects a tensor with at least one dimension');
    const n = a.int(1, 'n', 1);
    const d = wrap(a.int(2, 'dim', -1), s.length);
    if (a.given(3, 'prepend') || a.given(4, 'append')) unknown();
    const out = same(s);
    const left = D.sub(s[d], c(n));
    const lv = val(left);
    out.sizes[d] = lv !== undefined && lv < 0 ? c(0) : left;
    out.from![d] = undefined;
    return out;
  },
};

const quantile: Signature = {
  shape(a) {
    const s = a.input();
    const q = a.arg(1, 'q');
    const dims = a.given(2, 'dim') ? [a.int(2, 'dim')] : undefined;
    const out = reduce(s, dims, a.bool(3, 'keepdim', false));
    if (q?.kind === 'tensor') {
      if (!q.sizes) unknown();
      if (q.sizes.length > 1) fail('quantile: q must be a scalar or a 1-D tensor');
      if (q.sizes.length === 1) return { sizes: [q.sizes[0], ...out.sizes], dtype: 'same' };
    }
    return out;
  },
};

/** The length depends on the values: a known rank, an unknown size. */
const unique: Signature = {
  shape(a) {
    a.input();
    if (a.bool(-1, 'return_inverse', false) || a.bool(-1, 'return_counts', false) || a.given(-1, 'dim')) unknown();
    return { sizes: [undefined], dtype: 'same' };
  },
};

const nonzero: Signature = {
  shape(a) {
    const s = a.input();
    if (a.bool(-1, 'as_tuple', false)) unknown();
    return { sizes: [undefined, c(s.length)], dtype: 'long' };
  },
};

const maskedSelect: Signature = {
  shape(a) {
    a.input();
    return { sizes: [undefined], dtype: 'same' };
  },
};

const countNonzero: Signature = {
  shape(a) {
    const s = a.input();
    const dims = a.given(1, 'dim') ? a.ints(1, 'dim') : undefined;
    return { ...reduce(s, dims, false), dtype: 'long' };
  },
};

const histc: Signature = {
  shape(a) {
    a.input();
    return { sizes: [a.dim(1, 'bins', c(100))], dtype: 'same' };
  },
};

const bincount: Signature = {
  shape(a) {
    const s = a.input();
    if (s.length !== 1) fail({ kind: 'rank', expected: 'a 1-d tensor', got: s.length });
    return { sizes: [undefined], dtype: a.given(1, 'weights') ? 'float' : 'long' };
  },
};

/** Draws `num_samples` indices per row of a 1-d or 2-d tensor of probabilities. */
const multinomial: Signature = {
  shape(a) {
    const s = a.input();
    if (s.length !== 1 && s.length !== 2) unknown();
    return { sizes: [...s.slice(0, -1), a.dim(1, 'num_samples')], dtype: 'long' };
  },
};

/** Method and `torch.` names of the family. */
export const REDUCTIONS: Record<string, Signature> = {
  topk,
  sort,
  msort: { shape: (a) => same(a.input()) },
  argsort,
  median: dimTuple(true),
  nanmedian: dimTuple(true),
  mode: dimTuple(false),
  kthvalue,
  aminmax,
  cummax: cumTuple,
  cummin: cumTuple,
  var_mean: statMean,
  std_mean: statMean,
  nansum: reduction(),
  nanmean: reduction(),
  count_nonzero: countNonzero,
  cumprod: scan(),
  logcumsumexp: scan(),
  diff,
  quantile,
  nanquantile: quantile,
  unique,
  nonzero,
  argwhere: nonzero,
  masked_select: maskedSelect,
  histc,
  bincount,
  multinomial,
};
