/**
 * Reductions over a set of dims: `sum`, `mean`, `amax`, `amin` (one output),
 * and `max`/`min` over one dim (values and int64 indices, like
 * `torch.max(x, dim)`). Empty reductions follow torch: sum → 0, mean → nan,
 * max/amax raise.
 */

import type { OutputSpec, TensorMeta } from '../../backend';
import { normDim, TorchError } from '../../errors';
import { DEFAULT_TOLERANCE, flopsPerInput, numel, stridedOffsets, type Kernel } from '../kernel';
import { f32, MATH_WGSL, perOutputProgram, stridedIndexFn, u32 } from '../wgsl';

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
export function groupedOffsets(v: TensorMeta, red: readonly number[]): { offs: Int32Array; inner: number } {
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
