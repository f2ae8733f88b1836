/**
 * `torch.topk(x, k, dim, largest, sorted=True)`: the k largest (or smallest) entries along one
 * dim, sorted, and their int64 indices (two outputs, as `reduce`'s max(dim)). NaN ranks above
 * every number, as in torch: first when `largest`, last otherwise.
 *
 * Ties: torch's CPU kernel selects with a partial sort that is not stable, so the order of the
 * indices of equal values is whatever its sort leaves (torch 1.13 and 2.6 give [6, 0] for the
 * two 1s of [1, 3, 3, 2, 3, nan, 1] with largest=False). Both programs here order equal values
 * by ascending index; the golden cases draw tie-free inputs.
 *
 * The CPU reference sorts each line's indices by that order. The WGSL program runs one
 * invocation per input element: it counts the elements of its line ordered before it (O(n) per
 * element, O(n²) per line) and, when that rank is below k, writes itself at the rank.
 */

import type { OutputSpec } from '../../backend';
import { normDim, TorchError } from '../../errors';
import { contiguousStrides, flopsPerInput, numel, stridedOffsets, type Kernel } from '../kernel';
import { MATH_WGSL, perOutputProgram, stridedIndexFn, u32 } from '../wgsl';

export interface TopkAttrs {
  readonly k: number;
  readonly dim: number;
  readonly largest: boolean;
}

export const topk: Kernel<TopkAttrs> = {
  name: 'topk',
  flops: flopsPerInput,
  outputs([x], a): OutputSpec[] {
    const dim = normDim(a.dim, x.shape.length);
    if (x.dtype === 'bool') throw new TorchError('RuntimeError', `"topk_cpu" not implemented for 'Bool'`);
    const n = x.shape.length === 0 ? 1 : x.shape[dim];
    if (!Number.isInteger(a.k) || a.k < 0 || a.k > n) throw new TorchError('RuntimeError', 'selected index k out of range');
    const shape = [...x.shape];
    if (shape.length > 0) shape[dim] = a.k;
    return [
      { shape, dtype: x.dtype },
      { shape, dtype: 'int64' },
    ];
  },
  cpu([x], a, [values, indices]) {
    if (x.shape.length === 0) {
      if (a.k === 1) values[0] = x.data[x.offset];
      return;
    }
    const dim = normDim(a.dim, x.shape.length);
    const n = x.shape[dim];
    const st = x.strides[dim];
    const keep = x.shape.map((_, i) => i).filter((i) => i !== dim);
    const keepShape = keep.map((i) => x.shape[i]);
    const lines = stridedOffsets(keepShape, keep.map((i) => x.strides[i]), x.offset);
    const outShape = [...x.shape];
    outShape[dim] = a.k;
    const ost = contiguousStrides(outShape);
    const outLines = stridedOffsets(keepShape, keep.map((i) => ost[i]), 0);
    const os = ost[dim];
    const d = x.data;
    const line = new Float64Array(n);
    const order = new Array<number>(n);
    // Before: NaN first, then larger (or smaller) values; equal values by ascending index.
    const sign = a.largest ? -1 : 1;
    const before = (i: number, j: number): number => {
      const u = line[i];
      const v = line[j];
      const nu = Number.isNaN(u);
      const nv = Number.isNaN(v);
      if (nu || nv) return nu && nv ? i - j : nu === a.largest ? -1 : 1;
      return u < v ? -sign : u > v ? sign : i - j;
    };
    for (let l = 0; l < lines.length; l++) {
      for (let j = 0; j < n; j++) {
        line[j] = d[lines[l] + j * st];
        order[j] = j;
      }
      order.sort(before);
      for (let r = 0; r < a.k; r++) {
        values[outLines[l] + r * os] = line[order[r]];
        indices[outLines[l] + r * os] = order[r];
      }
    }
  },
  wgsl([x], a, outs) {
    if (x.shape.length === 0) return perOutputProgram(a.k, 1, 2, `  out0[0] = in0[${u32(x.offset)}];\n  out1[0] = 0.0;`);
    const dim = normDim(a.dim, x.shape.length);
    const n = x.shape[dim];
    const keep = x.shape.map((_, i) => i).filter((i) => i !== dim);
    const ost = contiguousStrides(outs[0].shape);
    // `u` before `v` (at positions i < j or i > j), NaN ranking above every number.
    const wins = a.largest ? 'v > u' : 'v < u';
    const nanFirst = a.largest ? 'nv && !nu' : 'nu && !nv';
    const pre =
      MATH_WGSL +
      stridedIndexFn('in_base', keep.map((i) => x.shape[i]), keep.map((i) => x.strides[i]), x.offset) +
      stridedIndexFn('out_base', keep.map((i) => x.shape[i]), keep.map((i) => ost[i]), 0);
    const body = `  let i = o % ${u32(n)};
  let l = o / ${u32(n)};
  let b = in_base(l);
  let u = in0[b + i * ${u32(x.strides[dim])}];
  let nu = isnan_f32(u);
  var rank = 0u;
  for (var j = 0u; j < ${u32(n)}; j++) {
    if (j == i) { continue; }
    let v = in0[b + j * ${u32(x.strides[dim])}];
    let nv = isnan_f32(v);
    var first: bool;
    if (nu || nv) {
      first = select(${nanFirst}, j < i, nu && nv);
    } else {
      first = ${wins} || (v == u && j < i);
    }
    if (first) { rank += 1u; }
  }
  if (rank < ${u32(a.k)}) {
    let at = out_base(l) + rank * ${u32(ost[dim])};
    out0[at] = u;
    out1[at] = f32(i);
  }`;
    return perOutputProgram(a.k === 0 ? 0 : numel(x.shape), 1, 2, body, pre);
  },
  tolerance: { cpu: 0, webgpu: 0 },
};
