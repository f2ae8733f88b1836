/**
 * `index_copy`: `dst.index_copy(dim, index, source)` — dst with its slices at `index` along
 * `dim` replaced by source's slices in order (source has dst's shape with `dim` sized like the
 * index). Where an index repeats, the last slice wins (as the CPU loop writes them). Negative
 * or out-of-range indices raise torch's IndexError on the CPU. The interpreter writes
 * `t[:, :, idx] = v` on a device with it, without reading the index back.
 */

import type { OutputSpec } from '../../backend';
import { normDim, TorchError } from '../../errors';
import { noFlops, numel, stridedOffsets, type Kernel } from '../kernel';
import { perOutputProgram, stridedIndexFn, u32 } from '../wgsl';

export interface IndexCopyAttrs {
  readonly dim: number;
}

export const indexCopy: Kernel<IndexCopyAttrs> = {
  name: 'index_copy',
  flops: noFlops,
  outputs([dst, idx, src], a): OutputSpec[] {
    const dim = normDim(a.dim, dst.shape.length);
    if (idx.dtype !== 'int64') throw new TorchError('IndexError', 'index_copy_(): Expected a long tensor for index');
    if (idx.shape.length > 1) throw new TorchError('IndexError', 'index_copy_(): Index should have dimension 1 or 0');
    const k = numel(idx.shape);
    const want = dst.shape.map((s, d) => (d === dim ? k : s));
    if (src.shape.length !== dst.shape.length || src.shape.some((s, d) => s !== want[d])) {
      throw new TorchError('RuntimeError', `index_copy_(): Source/destination tensor must have same slice shapes. Destination slice shape: [${dst.shape.filter((_, d) => d !== dim).join(', ')}] at dimension ${dim} and source slice shape: [${src.shape.filter((_, d) => d !== dim).join(', ')}] at dimension 0.`);
    }
    if (src.dtype !== dst.dtype) throw new TorchError('RuntimeError', `index_copy_(): self and source expected to have the same dtype, but got (self) ${dst.dtype} and (source) ${src.dtype}`);
    return [{ shape: [...dst.shape], dtype: dst.dtype }];
  },
  cpu([dst, idx, src], a, [out]) {
    const dim = normDim(a.dim, dst.shape.length);
    const n = dst.shape[dim];
    const d = stridedOffsets(dst.shape, dst.strides, dst.offset);
    for (let o = 0; o < out.length; o++) out[o] = dst.data[d[o]];
    const ids = stridedOffsets(idx.shape, idx.strides, idx.offset);
    const outer = numel(dst.shape.slice(0, dim));
    const inner = numel(dst.shape.slice(dim + 1));
    const s = stridedOffsets(src.shape, src.strides, src.offset);
    const k = ids.length;
    for (let j = 0; j < k; j++) {
      const p = idx.data[ids[j]];
      if (p < 0 || p >= n) throw new TorchError('IndexError', `index_copy_(): index ${p} is out of bounds for dimension ${dim} with size ${n}`);
      for (let q = 0; q < outer; q++) for (let i = 0; i < inner; i++) out[(q * n + p) * inner + i] = src.data[s[(q * k + j) * inner + i]];
    }
  },
  wgsl([dst, idx, src], a, [out]) {
    // FIXME(issue 3): an out-of-range index cannot raise from a shader; it selects nothing here
    // (the CPU backend raises torch's IndexError). Checking needs a read-back before dispatch.
    const dim = normDim(a.dim, dst.shape.length);
    const n = dst.shape[dim];
    const inner = numel(dst.shape.slice(dim + 1));
    const k = numel(idx.shape);
    const body = `  let i = o % ${u32(inner)};
  let p = (o / ${u32(inner)}) % ${u32(n)};
  let q = o / ${u32(inner * n)};
  var v = in0[dst_at(o)];
  for (var j = ${k}i - 1i; j >= 0i; j--) {
    if (i32(in1[idx_at(u32(j))]) == i32(p)) {
      v = in2[src_at((q * ${u32(k)} + u32(j)) * ${u32(inner)} + i)];
      break;
    }
  }
  out0[o] = v;`;
    const pre =
      stridedIndexFn('dst_at', dst.shape, dst.strides, dst.offset) +
      stridedIndexFn('idx_at', [k], [idx.strides[0] ?? 1], idx.offset) +
      stridedIndexFn('src_at', src.shape, src.strides, src.offset);
    return perOutputProgram(numel(out.shape), 3, 1, body, pre);
  },
  tolerance: { cpu: 0, webgpu: 0 },
};
