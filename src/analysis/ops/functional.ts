/**
 * Shape signatures of `torch.nn.functional`'s sliding-window and resampling functions:
 * `conv1d/2d/3d`, `conv_transpose1d/2d/3d`, `max_pool`/`avg_pool`/`lp_pool`, the adaptive
 * pools with indices and in 3-d, `interpolate`/`upsample`, `pad`, `pixel_shuffle`, `unfold`/
 * `fold`, `embedding`, `one_hot`, `grid_sample`/`affine_grid`, and the pairwise and loss
 * functions whose output is a reduction (`cosine_similarity`, `mse_loss`, `cross_entropy`…).
 * Inputs may be batched (N, C, *spatial) or unbatched (C, *spatial), as torch accepts both.
 * Pure functions of sizes; see `signature.ts`.
 */

import * as D from '../dims';
import type { Dim } from '../dims';
import { broadcast, c, fail, numel, one, reduce, same, tupleOf, unknown, val, window, wrap, type Arg, type Call, type Out, type Signature } from './signature';

/** (batched, leading sizes, spatial sizes) of an input to an nd op, or a rank error. */
function split(s: Dim[], nd: number, what: string): { lead: Dim[]; channels: Dim; spatial: Dim[] } {
  if (s.length !== nd + 1 && s.length !== nd + 2) fail({ kind: 'rank', expected: `a ${nd + 1}-d (unbatched) or ${nd + 2}-d (batched) input (${what})`, got: s.length });
  const lead = s.slice(0, s.length - nd - 1);
  return { lead, channels: s[s.length - nd - 1], spatial: s.slice(s.length - nd) };
}

function conv(nd: number): Signature {
  return {
    shape(a) {
      const x = a.input();
      const w = a.sizes(1, 'weight');
      const { lead, channels, spatial } = split(x, nd, `conv${nd}d`);
      if (w.length !== nd + 2) fail({ kind: 'rank', expected: `a ${nd + 2}-d weight (conv${nd}d)`, got: w.length });
      const groups = a.int(6, 'groups', 1);
      const stride = tupleOf(a, 3, 'stride', nd, 1);
      const dil = tupleOf(a, 5, 'dilation', nd, 1);
      // A kernel of unknown size leaves its output length unknown, not the whole shape.
      const k = w.slice(2).map((d) => val(d));
      const inC = D.mul(w[1], c(groups));
      if (D.compare(inC, channels) === 'ne') fail({ kind: 'size', axis: x.length - nd - 1, expected: inC, got: channels, what: `conv${nd}d` });
      const padArg = a.arg(4, 'padding');
      let pad: number[];
      if (padArg?.kind === 'str') {
        if (padArg.value === 'valid') pad = Array(nd).fill(0);
        else if (padArg.value === 'same') {
          if (stride.some((s) => s !== 1)) fail("padding='same' is not supported for strided convolutions");
          return { sizes: [...lead, w[0], ...spatial], dtype: 'float' };
        } else return fail(`invalid padding string '${padArg.value}'`);
      } else pad = tupleOf(a, 4, 'padding', nd, 0);
      const out = spatial.map((sz, i) => (k[i] === undefined ? undefined : window(sz, k[i]!, stride[i], pad[i], dil[i])));
      return { sizes: [...lead, w[0], ...out], dtype: 'float' };
    },
  };
}

function convTranspose(nd: number): Signature {
  return {
    shape(a) {
      const x = a.input();
      const w = a.sizes(1, 'weight');
      const { lead, channels, spatial } = split(x, nd, `conv_transpose${nd}d`);
      if (w.length !== nd + 2) fail({ kind: 'rank', expected: `a ${nd + 2}-d weight (conv_transpose${nd}d)`, got: w.length });
      if (D.compare(w[0], channels) === 'ne') fail({ kind: 'size', axis: x.length - nd - 1, expected: w[0], got: channels, what: `conv_transpose${nd}d` });
      const stride = tupleOf(a, 3, 'stride', nd, 1);
      const pad = tupleOf(a, 4, 'padding', nd, 0);
      const outPad = tupleOf(a, 5, 'output_padding', nd, 0);
      const groups = a.int(6, 'groups', 1);
      const dil = tupleOf(a, 7, 'dilation', nd, 1);
      const k = w.slice(2).map((d) => val(d));
      const out = spatial.map((sz, i) => k[i] === undefined ? undefined : D.add(D.mul(D.sub(sz, one), c(stride[i])), c(-2 * pad[i] + dil[i] * (k[i]! - 1) + outPad[i] + 1)));
      return { sizes: [...lead, D.mul(w[1], c(groups)), ...out], dtype: 'float' };
    },
  };
}

function pool(nd: number, kind: 'max' | 'avg'): Signature {
  const what = `${kind}_pool${nd}d`;
  const sig: Signature = {
    shape(a) {
      const x = a.input();
      const { lead, channels, spatial } = split(x, nd, what);
      // `F.avg_pool2d(x, (x.size(2), x.size(3)))`: a window as large as the map, unpadded and
      // undilated, pools each map to one value whatever the stride (CBAM's channel gate).
      const kArg = a.arg(1, 'kernel_size');
      const whole = kArg?.kind === 'list' && kArg.items.length === nd && kArg.items.every((it, i) => it.kind === 'int' && D.equal(it.dim, spatial[i]));
      if (whole && [a.arg(3, 'padding'), kind === 'max' ? a.arg(4, 'dilation') : undefined].every((p) => p === undefined || p.kind === 'none')) {
        const res: Out = { sizes: [...lead, channels, ...spatial.map(() => one)], dtype: 'same' };
        if (kind === 'max' && a.bool(6, 'return_indices', false)) return { items: [res, { ...res, dtype: 'long' }] };
        return res;
      }
      // The map's own sizes in another order (`(x.size(3), x.size(2))` over (H, W)): a window too
      // large for one axis, unless the sizes the code does not fix are equal.
      if (kArg?.kind === 'list' && kArg.items.length === nd && !whole && a.arg(3, 'padding') === undefined) {
        const order = kArg.items.map((it) => (it.kind === 'int' ? spatial.findIndex((s) => D.equal(it.dim, s)) : -1));
        const i = order.findIndex((j, n) => j !== n);
        if (order.every((j) => j >= 0) && new Set(order).size === nd && i >= 0 && kArg.items[i].kind === 'int' && D.compare(spatial[i], (kArg.items[i] as { dim: Dim }).dim) === 'unknown') {
          fail({ kind: 'swapped-window', what, axis: x.length - nd + i, size: spatial[i], window: (kArg.items[i] as { dim: Dim }).dim, order });
        }
      }
      const k = tupleOf(a, 1, 'kernel_size', nd);
      const strideArg = a.arg(2, 'stride');
      const stride = strideArg === undefined || strideArg.kind === 'none' || (strideArg.kind === 'list' && strideArg.items.length === 0) ? k : tupleOf(a, 2, 'stride', nd);
      const pad = tupleOf(a, 3, 'padding', nd, 0);
      const dil = kind === 'max' ? tupleOf(a, 4, 'dilation', nd, 1) : Array(nd).fill(1);
      const ceil = a.bool(kind === 'max' ? 5 : 4, 'ceil_mode', false);
      if (pad.some((p, i) => p * 2 > k[i])) fail(`${what}: padding should be at most half the kernel size`);
      const out = spatial.map((sz, i) => window(sz, k[i], stride[i], pad[i], dil[i], ceil));
      out.forEach((o) => {
        if (o !== undefined && (val(o) ?? 1) <= 0) fail(`${what}: the output size is too small`);
      });
      const res: Out = { sizes: [...lead, channels, ...out], dtype: 'same' };
      if (kind === 'max' && a.bool(6, 'return_indices', false)) return { items: [res, { ...res, dtype: 'long' }] };
      return res;
    },
  };
  return sig;
}

function lpPool(nd: number): Signature {
  return {
    shape(a) {
      const x = a.input();
      const { lead, channels, spatial } = split(x, nd, `lp_pool${nd}d`);
      const k = tupleOf(a, 2, 'kernel_size', nd);
      const st = a.arg(3, 'stride');
      const stride = st === undefined || st.kind === 'none' ? k : tupleOf(a, 3, 'stride', nd);
      const ceil = a.bool(4, 'ceil_mode', false);
      return { sizes: [...lead, channels, ...spatial.map((sz, i) => window(sz, k[i], stride[i], 0, 1, ceil))], dtype: 'same' };
    },
  };
}

function adaptive(nd: number, kind: 'max' | 'avg'): Signature {
  return {
    shape(a) {
      const x = a.input();
      const { lead, channels, spatial } = split(x, nd, `adaptive_${kind}_pool${nd}d`);
      const o = a.arg(1, 'output_size');
      let sizes: (Dim | undefined)[];
      if (o?.kind === 'int') sizes = Array(nd).fill(o.dim);
      else if (o?.kind === 'list' && o.items.length === nd) sizes = o.items.map((it, i) => (it.kind === 'int' ? it.dim : it.kind === 'none' ? spatial[i] : unknown()));
      else return unknown();
      const res: Out = { sizes: [...lead, channels, ...sizes], dtype: 'same' };
      if (kind === 'max' && a.bool(2, 'return_indices', false)) return { items: [res, { ...res, dtype: 'long' }] };
      return res;
    },
  };
}

const MODE_RANK: Record<string, number> = { linear: 3, bilinear: 4, bicubic: 4, trilinear: 5 };

const interpolate: Signature = {
  shape(a) {
    const x = a.input();
    const mode = a.str(3, 'mode', 'nearest');
    if (x.length < 3 || x.length > 5) fail({ kind: 'rank', expected: `a 3-d, 4-d or 5-d input (interpolate)`, got: x.length });
    if (MODE_RANK[mode] !== undefined && MODE_RANK[mode] !== x.length) fail({ kind: 'rank', expected: `a ${MODE_RANK[mode]}-d input for mode '${mode}' (interpolate)`, got: x.length });
    const nd = x.length - 2;
    const spatial = x.slice(2);
    const size = a.arg(1, 'size');
    const scale = a.arg(2, 'scale_factor');
    const hasSize = size !== undefined && size.kind !== 'none';
    const hasScale = scale !== undefined && scale.kind !== 'none';
    if (hasSize === hasScale) fail('interpolate takes exactly one of size and scale_factor');
    let out: (Dim | undefined)[];
    if (hasSize) {
      if (size.kind === 'int') out = Array(nd).fill(size.dim);
      else if (size.kind === 'list') {
        if (size.items.length !== nd) fail(`interpolate: size has ${size.items.length} entries for ${nd} spatial dims`);
        out = size.items.map((it) => (it.kind === 'int' ? it.dim : unknown()));
      } else return unknown();
    } else {
      const factors = scale!.kind === 'list' ? scale!.items.map(numOf) : Array(nd).fill(a.num(2, 'scale_factor'));
      if (factors.length !== nd) fail(`interpolate: scale_factor has ${factors.length} entries for ${nd} spatial dims`);
      out = spatial.map((sz, i) => {
        const f = factors[i];
        const n = val(sz);
        if (n !== undefined) return c(Math.floor(n * f));
        return Number.isInteger(f) ? D.mul(sz, c(f)) : undefined;
      });
    }
    return { sizes: [x[0], x[1], ...out], dtype: 'same', from: [0, 1, ...out.map(() => undefined)] };
  },
};

function numOf(v: Arg): number {
  if (v.kind === 'num' && v.value !== undefined) return v.value;
  if (v.kind === 'int') return val(v.dim) ?? unknown();
  return unknown();
}

const pad: Signature = {
  shape(a) {
    const x = a.input();
    // Symbolic pads (`(self.padding, self.padding)`) add their sum; checks need their values.
    const ps = a.dims(1, 'pad');
    const p = ps.map((d) => val(d));
    const mode = a.str(2, 'mode', 'constant');
    if (p.length % 2 !== 0) fail('pad: the padding length must be even');
    if (p.length / 2 > x.length) fail(`pad: ${p.length / 2} dims padded on a ${x.length}-d tensor`);
    if (mode !== 'constant') {
      // reflect/replicate/circular pad the last 1-3 dims of a batched or unbatched input.
      const nd = p.length / 2;
      if (x.length !== nd + 1 && x.length !== nd + 2) fail({ kind: 'rank', expected: `a ${nd + 1}-d or ${nd + 2}-d input for ${mode} padding of ${nd} dims`, got: x.length });
    }
    const out: (Dim | undefined)[] = [...x];
    const from: (number | undefined)[] = x.map((_, i) => i);
    for (let i = 0; i < p.length / 2; i++) {
      const d = x.length - 1 - i;
      const [lo, hi] = [p[2 * i], p[2 * i + 1]];
      const sz = D.add(x[d], D.add(ps[2 * i], ps[2 * i + 1]));
      const v = val(sz);
      if (v !== undefined && v < 0) fail(`pad: the padded size of dim ${d} is negative`);
      if (mode === 'reflect') {
        const n = val(x[d]);
        if (n !== undefined && lo !== undefined && hi !== undefined && (lo >= n || hi >= n)) fail(`pad: reflect padding must be smaller than the dim (${n})`);
      }
      if (lo !== 0 || hi !== 0) {
        out[d] = sz;
        from[d] = undefined;
      }
    }
    return { sizes: out, dtype: 'same', from };
  },
};

function pixelShuffle(down: boolean): Signature {
  return {
    shape(a) {
      const x = a.input();
      const r = a.int(1, down ? 'downscale_factor' : 'upscale_factor');
      if (x.length < 3) fail({ kind: 'rank', expected: `at least a 3-d input (pixel_${down ? 'un' : ''}shuffle)`, got: x.length });
      const [ch, h, w] = x.slice(-3);
      const lead = x.slice(0, -3);
      if (!down) {
        const cv = val(ch);
        if (cv !== undefined && cv % (r * r) !== 0) fail(`pixel_shuffle: ${cv} channels are not divisible by ${r * r}`);
        return { sizes: [...lead, D.floorDiv(ch, c(r * r)), D.mul(h, c(r)), D.mul(w, c(r))], dtype: 'same' };
      }
      for (const s of [h, w]) {
        const v = val(s);
        if (v !== undefined && v % r !== 0) fail(`pixel_unshuffle: ${v} is not divisible by ${r}`);
      }
      return { sizes: [...lead, D.mul(ch, c(r * r)), D.floorDiv(h, c(r)), D.floorDiv(w, c(r))], dtype: 'same' };
    },
  };
}

const unfold: Signature = {
  shape(a) {
    const x = a.input();
    if (x.length !== 3 && x.length !== 4) fail({ kind: 'rank', expected: 'a 3-d or 4-d input (unfold)', got: x.length });
    const k = tupleOf(a, 1, 'kernel_size', 2);
    const dil = tupleOf(a, 2, 'dilation', 2, 1);
    const p = tupleOf(a, 3, 'padding', 2, 0);
    const s = tupleOf(a, 4, 'stride', 2, 1);
    const [ch, h, w] = x.slice(-3);
    const blocks = [h, w].map((sz, i) => window(sz, k[i], s[i], p[i], dil[i]));
    const L = blocks.every((b) => b !== undefined) ? D.mul(blocks[0]!, blocks[1]!) : undefined;
    return { sizes: [...x.slice(0, -3), D.mul(ch, c(k[0] * k[1])), L], dtype: 'same' };
  },
};

const fold: Signature = {
  shape(a) {
    const x = a.input();
    if (x.length !== 2 && x.length !== 3) fail({ kind: 'rank', expected: 'a 2-d or 3-d input (fold)', got: x.length });
    const o = tupleOf(a, 1, 'output_size', 2);
    const k = tupleOf(a, 2, 'kernel_size', 2);
    const dil = tupleOf(a, 3, 'dilation', 2, 1);
    const p = tupleOf(a, 4, 'padding', 2, 0);
    const s = tupleOf(a, 5, 'stride', 2, 1);
    const [ck, L] = x.slice(-2);
    const kk = k[0] * k[1];
    const cv = val(ck);
    if (cv !== undefined && cv % kk !== 0) fail(`fold: ${cv} is not divisible by the kernel's ${kk} elements`);
    const blocks = o.map((sz, i) => window(c(sz), k[i], s[i], p[i], dil[i])!);
    const want = D.mul(blocks[0], blocks[1]);
    if (D.compare(want, L) === 'ne') fail({ kind: 'size', axis: x.length - 1, expected: want, got: L, what: 'fold' });
    return { sizes: [...x.slice(0, -2), D.floorDiv(ck, c(kk)), c(o[0]), c(o[1])], dtype: 'same' };
  },
};

const embedding: Signature = {
  shape(a) {
    const idx = a.input();
    const w = a.sizes(1, 'weight');
    if (w.length !== 2) fail({ kind: 'rank', expected: 'a 2-d weight (embedding)', got: w.length });
    return { sizes: [...idx, w[1]], dtype: 'float' };
  },
};

const oneHot: Signature = {
  shape(a) {
    const idx = a.input();
    const n = a.dim(1, 'num_classes', c(-1));
    return { sizes: [...idx, val(n) === -1 ? undefined : n], dtype: 'long' };
  },
};

const gridSample: Signature = {
  shape(a) {
    const x = a.input();
    const g = a.sizes(1, 'grid');
    if (x.length !== 4 && x.length !== 5) fail({ kind: 'rank', expected: 'a 4-d or 5-d input (grid_sample)', got: x.length });
    if (g.length !== x.length) fail({ kind: 'rank', expected: `a ${x.length}-d grid (grid_sample)`, got: g.length });
    if (D.compare(x[0], g[0]) === 'ne') fail({ kind: 'size', axis: 0, expected: x[0], got: g[0], what: 'grid_sample' });
    return { sizes: [x[0], x[1], ...g.slice(1, -1)], dtype: 'same' };
  },
};

const affineGrid: Signature = {
  shape(a) {
    const theta = a.input();
    const size = a.ints(1, 'size');
    if (size.length !== 4 && size.length !== 5) return unknown();
    if (theta.length !== 3) fail({ kind: 'rank', expected: 'a 3-d theta (affine_grid)', got: theta.length });
    return { sizes: [c(size[0]), ...size.slice(2).map(c), c(size.length - 2)], dtype: 'same' };
  },
};

const bilinear: Signature = {
  shape(a) {
    const x1 = a.input();
    const w = a.sizes(2, 'weight');
    if (w.length !== 3) fail({ kind: 'rank', expected: 'a 3-d weight (bilinear)', got: w.length });
    return { sizes: [...x1.slice(0, -1), w[0]], dtype: 'float' };
  },
};

const cosineSimilarity: Signature = {
  shape(a) {
    const b = broadcast(a.input(), a.sizes(1, 'x2'));
    const d = wrap(a.int(2, 'dim', 1), b.length);
    return { sizes: b.filter((_, i) => i !== d), dtype: 'float' };
  },
};

const pairwiseDistance: Signature = {
  shape(a) {
    const b = broadcast(a.input(), a.sizes(1, 'x2'));
    const keep = a.bool(4, 'keepdim', false);
    if (b.length === 0) return { sizes: [], dtype: 'float' };
    return { sizes: keep ? [...b.slice(0, -1), one] : b.slice(0, -1), dtype: 'float' };
  },
};

/** Pointwise losses: a 0-d mean or sum, or the broadcast shape with reduction='none'. */
function pointwiseLoss(targetName = 'target', reductionPos = -1): Signature {
  return {
    shape(a) {
      const b = broadcast(a.input(), a.sizes(1, targetName));
      const r = a.str(reductionPos, 'reduction', 'mean');
      return r === 'none' ? { sizes: b, dtype: 'float' } : { sizes: [], dtype: 'float' };
    },
  };
}

/** cross_entropy / nll_loss: (N, C, *) with class targets (N, *) or probabilities (N, C, *). */
function classLoss(): Signature {
  return {
    shape(a) {
      const x = a.input();
      const t = a.arg(1, 'target');
      const r = a.str(-1, 'reduction', 'mean');
      if (t?.kind !== 'tensor' || !t.sizes) return unknown();
      if (x.length === 0) fail({ kind: 'rank', expected: 'at least a 1-d input (cross_entropy)', got: 0 });
      const probs = t.sizes.length === x.length;
      const want = probs ? x : [...x.slice(0, 1), ...x.slice(2)];
      if (x.length === 1 && !probs && t.sizes.length !== 0) fail({ kind: 'rank', expected: 'a 0-d target for a 1-d input', got: t.sizes.length });
      if (!probs && t.sizes.length !== want.length) fail({ kind: 'rank', expected: `a ${want.length}-d target`, got: t.sizes.length });
      want.forEach((d, i) => {
        if (D.compare(d, t.sizes![i]) === 'ne') fail({ kind: 'size', axis: i, expected: d, got: t.sizes![i], what: 'target' });
      });
      if (r !== 'none') return { sizes: [], dtype: 'float' };
      return { sizes: x.length === 1 ? [] : [x[0], ...x.slice(2)], dtype: 'float' };
    },
  };
}

const normalizeLike: Signature = { shape: (a) => same(a.input(), 'float') };

void numel;
void reduce;
void (undefined as unknown as Call);

/** `F.` names of the family. */
export const FUNCTIONAL: Record<string, Signature> = {
  conv1d: conv(1),
  conv2d: conv(2),
  conv3d: conv(3),
  conv_transpose1d: convTranspose(1),
  conv_transpose2d: convTranspose(2),
  conv_transpose3d: convTranspose(3),
  max_pool1d: pool(1, 'max'),
  max_pool2d: pool(2, 'max'),
  max_pool3d: pool(3, 'max'),
  max_pool1d_with_indices: { ...pool(1, 'max') },
  avg_pool1d: pool(1, 'avg'),
  avg_pool2d: pool(2, 'avg'),
  avg_pool3d: pool(3, 'avg'),
  lp_pool1d: lpPool(1),
  lp_pool2d: lpPool(2),
  adaptive_max_pool1d: adaptive(1, 'max'),
  adaptive_max_pool2d: adaptive(2, 'max'),
  adaptive_max_pool3d: adaptive(3, 'max'),
  adaptive_avg_pool1d: adaptive(1, 'avg'),
  adaptive_avg_pool2d: adaptive(2, 'avg'),
  adaptive_avg_pool3d: adaptive(3, 'avg'),
  interpolate,
  upsample: interpolate,
  pad,
  pixel_shuffle: pixelShuffle(false),
  pixel_unshuffle: pixelShuffle(true),
  unfold,
  fold,
  embedding,
  one_hot: oneHot,
  grid_sample: gridSample,
  affine_grid: affineGrid,
  bilinear,
  cosine_similarity: cosineSimilarity,
  pairwise_distance: pairwiseDistance,
  mse_loss: pointwiseLoss(),
  l1_loss: pointwiseLoss(),
  smooth_l1_loss: pointwiseLoss(),
  huber_loss: pointwiseLoss(),
  binary_cross_entropy: pointwiseLoss(),
  binary_cross_entropy_with_logits: pointwiseLoss(),
  soft_margin_loss: pointwiseLoss(),
  kl_div: pointwiseLoss(),
  cross_entropy: classLoss(),
  nll_loss: classLoss(),
  normalize: normalizeLike,
};
