/**
 * `gather`: out[i][j][k] = x[index[i][j][k]][j][k] along `dim` (`torch.gather`, and the core of
 * `take_along_dim`): the output has the index's shape; the index has x's rank and, apart from
 * `dim`, no dim larger than x's. Indices do not wrap: a negative or too large one raises torch's
 * RuntimeError on the CPU.
 */

import type { OutputSpec } from '../../backend';
import { fmtShape, normDim, TorchError } from '../../errors';
import { noFlops, numel, stridedOffsets, type Kernel } from '../kernel';
import { perOutputProgram, stridedIndexFn, u32 } from '../wgsl';

export interface GatherAttrs {
  readonly dim: number;
}

/** x's strides walked over the index's shape, with `dim`'s stride left to the index's values. */
function sourceStrides(strides: readonly number[], dim: number): number[] {
  return strides.map((s, d) => (d === dim ? 0 : s));
}

export const gather: Kernel<GatherAttrs> = {
  name: 'gather',
  flops: noFlops,
  outputs([x, idx], a): OutputSpec[] {
    const dim = normDim(a.dim, x.shape.length);
    if (idx.dtype !== 'int64') throw new TorchError('RuntimeError', 'gather(): Expected dtype int64 for index');
    if (idx.shape.length !== x.shape.length) throw new TorchError('RuntimeError', 'Index tensor must have the same number of dimensions as input tensor');
    for (let d = 0; d < x.shape.length; d++) {
      if (d !== dim && idx.shape[d] > x.shape[d]) {
        throw new TorchError('RuntimeError', `Size does not match at dimension ${d} expected index ${fmtShape(idx.shape)} to be smaller than self ${fmtShape(x.shape)} apart from dimension ${dim}`);
      }
    }
    return [{ shape: [...idx.shape], dtype: x.dtype }];
  },
  cpu([x, idx], a, [out]) {
    const dim = normDim(a.dim, x.shape.length);
    const n = x.shape[dim] ?? 1;
    const step = x.strides[dim] ?? 0;
    const ids = stridedOffsets(idx.shape, idx.strides, idx.offset);
    const base = stridedOffsets(idx.shape, sourceStrides(x.strides, dim), x.offset);
    for (let o = 0; o < out.length; o++) {
      const j = idx.data[ids[o]];
      if (j < 0 || j >= n) throw new TorchError('RuntimeError', `index ${j} is out of bounds for dimension ${dim} with size ${n}`);
      out[o] = x.data[base[o] + j * step];
    }
  },
  wgsl([x, idx], a, [out]) {
    // FIXME(issue 3): an out-of-range index cannot raise from a shader; it is clamped here
    // (the CPU backend raises torch's RuntimeError). Checking needs a read-back before dispatch.
    const dim = normDim(a.dim, x.shape.length);
    const n = x.shape[dim] ?? 1;
    const body = `  let j = u32(clamp(i32(in1[idx_at(o)]), 0i, ${n - 1}i));
  out0[o] = in0[src_at(o) + j * ${u32(x.strides[dim] ?? 0)}];`;
    const pre = stridedIndexFn('idx_at', idx.shape, idx.strides, idx.offset) + stridedIndexFn('src_at', idx.shape, sourceStrides(x.strides, dim), x.offset);
    return perOutputProgram(n === 0 ? 0 : numel(out.shape), 2, 1, body, pre);
  },
  tolerance: { cpu: 0, webgpu: 0 },
};
