/**
 * `torch.cumsum(x, dim)`: running sums along one dim. Float inputs give float32; int64 and bool
 * give int64, exact while the sums stay within the 2^24 every int64 storage is exact to. The CPU
 * reference accumulates in double precision and rounds each sum to f32, as torch's CPU kernel
 * does (its accumulator for float is a double); the WGSL program runs one invocation per line
 * (every index but `dim`), a sequential scan in f32.
 */

import type { OutputSpec } from '../../backend';
import { normDim } from '../../errors';
import { contiguousStrides, DEFAULT_TOLERANCE, flopsPerInput, numel, stridedOffsets, type Kernel } from '../kernel';
import { perOutputProgram, stridedIndexFn, u32 } from '../wgsl';

export interface CumsumAttrs {
  readonly dim: number;
}

export const cumsum: Kernel<CumsumAttrs> = {
  name: 'cumsum',
  flops: flopsPerInput,
  outputs([x], a): OutputSpec[] {
    normDim(a.dim, x.shape.length);
    return [{ shape: x.shape, dtype: x.dtype === 'float32' ? 'float32' : 'int64' }];
  },
  cpu([x], a, [out]) {
    if (x.shape.length === 0) {
      out[0] = x.data[x.offset];
      return;
    }
    const dim = normDim(a.dim, x.shape.length);
    const n = x.shape[dim];
    const st = x.strides[dim];
    const keep = x.shape.map((_, i) => i).filter((i) => i !== dim);
    const lines = stridedOffsets(keep.map((i) => x.shape[i]), keep.map((i) => x.strides[i]), x.offset);
    const outLines = stridedOffsets(keep.map((i) => x.shape[i]), keep.map((i) => contiguousStrides(x.shape)[i]), 0);
    const os = contiguousStrides(x.shape)[dim];
    const d = x.data;
    for (let l = 0; l < lines.length; l++) {
      let acc = 0;
      const b = lines[l];
      const ob = outLines[l];
      for (let j = 0; j < n; j++) {
        acc += d[b + j * st];
        out[ob + j * os] = acc;
      }
    }
  },
  wgsl([x], a, [out]) {
    if (x.shape.length === 0) return perOutputProgram(1, 1, 1, `  out0[0] = in0[${u32(x.offset)}];`);
    const dim = normDim(a.dim, x.shape.length);
    const n = x.shape[dim];
    const ost = contiguousStrides(out.shape);
    const keep = x.shape.map((_, i) => i).filter((i) => i !== dim);
    const lines = n === 0 ? 0 : numel(x.shape) / n;
    const pre =
      stridedIndexFn('in_base', keep.map((i) => x.shape[i]), keep.map((i) => x.strides[i]), x.offset) +
      stridedIndexFn('out_base', keep.map((i) => x.shape[i]), keep.map((i) => ost[i]), 0);
    const body = `  let b = in_base(o);
  let ob = out_base(o);
  var acc = 0.0;
  for (var j = 0u; j < ${u32(n)}; j++) {
    acc += in0[b + j * ${u32(x.strides[dim])}];
    out0[ob + j * ${u32(ost[dim])}] = acc;
  }`;
    return perOutputProgram(lines, 1, 1, body, pre);
  },
  tolerance: DEFAULT_TOLERANCE,
};
