/**
 * Reductions over a set of dims: `sum`, `mean`, `amax`, `amin` (one output),
 * and `max`/`min` over one dim (values and int64 indices, like
 * `torch.max(x, dim)`). Also `softmax`/`log_softmax` over any dim, which
 * shares the "move the reduced dims last" walk. Empty reductions follow torch:
 * sum → 0, mean → nan, max/amax raise.
 */

import type { OutputSpec, TensorMeta } from '../backend';
import { normDim, TorchError } from '../errors';
import { contiguousStrides, DEFAULT_TOLERANCE, numel, stridedOffsets, type CpuView, type Kernel, flopsPerInput } from './kernel';
import { f32, MATH_WGSL, perOutputProgram, stridedIndexFn, u32 } from './wgsl';

export interface ReduceAttrs {
  readonly op: 'sum' | 'mean' | 'amax' | 'amin' | 'max' | 'min';
  /** Dims to reduce (possibly negative); empty = all dims. */
  readonly dims: readonly number[];
  readonly keepdim: boolean;
}

function reducedDims(m: TensorMeta, dims: readonly number[]): number[] {
  if (dims.length === 0) return m.shape.map((_, i) => i);
  const out = dims.map((d) => normDim(d, m.shape.length));
  const seen = new Set<number>();
  for (const d of out) {
    if (seen.has(d)) throw new TorchError('RuntimeError', `dim ${d} appears multiple times in the list of dims`);
    seen.add(d);
  }
  return out.filter((d) => d < m.shape.length);
}

/** Offsets of every element with the reduced dims moved last: consecutive runs of `inner` belong to one output. */
function groupedOffsets(v: TensorMeta, red: readonly number[]): { offs: Int32Array; inner: number } {
  const keep = v.shape.map((_, i) => i).filter((i) => !red.includes(i));
  const order = [...keep, ...red];
  const shape = order.map((i) => v.shape[i]);
  const strides = order.map((i) => v.strides[i]);
  return { offs: stridedOffsets(shape, strides, v.offset), inner: numel(red.map((i) => v.shape[i])) };
}

export const reduce: Kernel<ReduceAttrs> = {
  name: 'reduce',
  flops: flopsPerInput,
  outputs([x], a): OutputSpec[] {
    if ((a.op === 'max' || a.op === 'min') && a.dims.length !== 1) throw new TorchError('RuntimeError', `${a.op} with indices reduces exactly one dim`);
    const red = reducedDims(x, a.dims);
    const shape: number[] = [];
    x.shape.forEach((s, i) => {
      if (!red.includes(i)) shape.push(s);
      else if (a.keepdim) shape.push(1);
    });
    if ((a.op !== 'sum' && a.op !== 'mean') && red.some((d) => x.shape[d] === 0)) {
      throw new TorchError('IndexError', `${a.op}(): Expected reduction dim ${red[0]} to have non-zero size.`);
    }
    const dtype = a.op === 'mean' ? 'float32' : a.op === 'sum' && x.dtype === 'bool' ? 'int64' : x.dtype;
    if (a.op === 'mean' && x.dtype !== 'float32') {
      throw new TorchError('RuntimeError', `mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: ${x.dtype === 'bool' ? 'Bool' : 'Long'}`);
    }
    const out: OutputSpec[] = [{ shape, dtype }];
    if (a.op === 'max' || a.op === 'min') out.push({ shape, dtype: 'int64' });
    return out;
  },
  cpu([x], a, outs) {
    const red = reducedDims(x, a.dims);
    const { offs, inner } = groupedOffsets(x, red);
    const d = x.data;
    const out = outs[0];
    const n = out.length;
    for (let o = 0; o < n; o++) {
      const s = o * inner;
      switch (a.op) {
        case 'sum':
        case 'mean': {
          let acc = 0;
          for (let i = 0; i < inner; i++) acc += d[offs[s + i]];
          out[o] = a.op === 'mean' ? acc / inner : acc;
          break;
        }
        default: {
          const isMax = a.op === 'amax' || a.op === 'max';
          let best = d[offs[s]];
          let bi = 0;
          for (let i = 1; i < inner; i++) {
            const v = d[offs[s + i]];
            if (Number.isNaN(best)) break;
            if (Number.isNaN(v) || (isMax ? v > best : v < best)) {
              best = v;
              bi = i;
            }
          }
          out[o] = best;
          if (outs[1]) outs[1][o] = bi;
        }
      }
    }
  },
  wgsl([x], a, outs) {
    // One invocation per output, walking its reduced elements; sums in blocks of 64 to keep f32 error low.
    const red = reducedDims(x, a.dims);
    const keep = x.shape.map((_, i) => i).filter((i) => !red.includes(i));
    const inner = numel(red.map((i) => x.shape[i]));
    const n = numel(outs[0].shape);
    const pre =
      MATH_WGSL +
      stridedIndexFn('base_of', keep.map((i) => x.shape[i]), keep.map((i) => x.strides[i]), x.offset) +
      stridedIndexFn('red_of', red.map((i) => x.shape[i]), red.map((i) => x.strides[i]), 0);
    let body: string;
    if (a.op === 'sum' || a.op === 'mean') {
      body = `  let b = base_of(o);
  var acc = 0.0;
  for (var s = 0u; s < ${u32(inner)}; s += 64u) {
    var part = 0.0;
    for (var r = s; r < min(s + 64u, ${u32(inner)}); r++) { part += in0[b + red_of(r)]; }
    acc += part;
  }
  out0[o] = ${a.op === 'mean' ? `acc / ${f32(inner)}` : 'acc'};`;
    } else {
      const better = a.op === 'amax' || a.op === 'max' ? 'v > best' : 'v < best';
      body = `  let b = base_of(o);
  var best = in0[b];
  var bi = 0u;
  for (var r = 1u; r < ${u32(inner)}; r++) {
    if (isnan_f32(best)) { break; }
    let v = in0[b + red_of(r)];
    if (isnan_f32(v) || ${better}) { best = v; bi = r; }
  }
  out0[o] = best;${outs.length > 1 ? '\n  out1[o] = f32(bi);' : ''}`;
    }
    return perOutputProgram(n, 1, outs.length, body, pre);
  },
  tolerance: DEFAULT_TOLERANCE,
};

export interface SoftmaxAttrs {
  readonly dim: number;
  readonly log: boolean;
}

export const softmax: Kernel<SoftmaxAttrs> = {
  name: 'softmax',
  flops: (_i, _a, [out]) => 5 * numel(out.shape),
  outputs([x], a): OutputSpec[] {
    normDim(a.dim, x.shape.length);
    if (x.dtype !== 'float32') throw new TorchError('RuntimeError', `"softmax_lastdim_kernel_impl" not implemented for '${x.dtype === 'bool' ? 'Bool' : 'Long'}'`);
    return [{ shape: x.shape, dtype: 'float32' }];
  },
  cpu([x]: readonly CpuView[], a, [out]) {
    if (x.shape.length === 0) {
      out[0] = a.log ? 0 : 1;
      return;
    }
    const dim = normDim(a.dim, x.shape.length);
    const { offs, inner } = groupedOffsets(x, [dim]);
    // Output offsets in the same grouped order, over the contiguous output.
    const ostr: number[] = [];
    let s = 1;
    for (let i = x.shape.length - 1; i >= 0; i--) {
      ostr[i] = s;
      s *= x.shape[i];
    }
    const oo = groupedOffsets({ shape: x.shape, strides: ostr, offset: 0, dtype: 'float32' }, [dim]).offs;
    const d = x.data;
    const groups = inner === 0 ? 0 : offs.length / inner;
    const row = new Float64Array(inner);
    for (let g = 0; g < groups; g++) {
      const b = g * inner;
      let m = -Infinity;
      for (let i = 0; i < inner; i++) {
        const v = d[offs[b + i]];
        row[i] = v;
        if (v > m) m = v;
      }
      if (m === -Infinity) m = 0; // a fully masked row gives nan (0/0) as in torch, not -inf - -inf
      let sum = 0;
      for (let i = 0; i < inner; i++) {
        const e = Math.exp(row[i] - m);
        row[i] = e;
        sum += e;
      }
      if (a.log) {
        const ls = Math.log(sum);
        for (let i = 0; i < inner; i++) out[oo[b + i]] = d[offs[b + i]] - m - ls;
      } else {
        for (let i = 0; i < inner; i++) out[oo[b + i]] = row[i] / sum;
      }
    }
  },
  wgsl([x], a, [out]) {
    if (x.shape.length === 0) return perOutputProgram(1, 1, 1, `  out0[0] = ${a.log ? '0.0' : '1.0'};`);
    // One invocation per row along `dim`: max, sum of exp, then the normalised values.
    const dim = normDim(a.dim, x.shape.length);
    const keep = x.shape.map((_, i) => i).filter((i) => i !== dim);
    const ost = contiguousStrides(x.shape);
    const S = x.shape[dim];
    const xs = x.strides[dim];
    const os = ost[dim];
    const rows = S === 0 ? 0 : numel(out.shape) / S;
    const pre =
      MATH_WGSL +
      stridedIndexFn('in_base', keep.map((i) => x.shape[i]), keep.map((i) => x.strides[i]), x.offset) +
      stridedIndexFn('out_base', keep.map((i) => x.shape[i]), keep.map((i) => ost[i]), 0);
    const write = a.log ? 'in0[b + j * XS] - m - log(sum)' : 'exp(in0[b + j * XS] - m) / sum';
    const body = `  let b = in_base(o);
  let ob = out_base(o);
  var m = in0[b];
  for (var j = 1u; j < SN; j++) { m = max(m, in0[b + j * XS]); }
  // A fully masked row (all -inf) gives nan as in torch (0 / 0), not -inf - -inf.
  if (isneginf_f32(m)) { m = 0.0; }
  var sum = 0.0;
  for (var j = 0u; j < SN; j++) { sum += exp(in0[b + j * XS] - m); }
  for (var j = 0u; j < SN; j++) { out0[ob + j * OS] = ${write}; }`
      .replace(/SN/g, u32(S))
      .replace(/XS/g, u32(xs))
      .replace(/OS/g, u32(os));
    return perOutputProgram(rows, 1, 1, body, pre);
  },
  tolerance: DEFAULT_TOLERANCE,
};
