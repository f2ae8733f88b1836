/**
 * `index_select`: x[index] along one dim, int64 indices, negative indices
 * wrapping as in torch's advanced indexing; out-of-range indices raise torch's
 * IndexError on the CPU.
 */

import type { OutputSpec } from '../../backend';
import { normDim, TorchError } from '../../errors';
import { noFlops, numel, stridedOffsets, type Kernel } from '../kernel';
import { perOutputProgram, stridedIndexFn, u32, viewIndexFn } from '../wgsl';

export interface IndexSelectAttrs {
  readonly dim: number;
}

export const indexSelect: Kernel<IndexSelectAttrs> = {
  name: 'index_select',
  flops: noFlops,
  outputs([x, idx], a): OutputSpec[] {
    const dim = normDim(a.dim, x.shape.length);
    if (idx.dtype !== 'int64') throw new TorchError('IndexError', 'tensors used as indices must be long, int, byte or bool tensors');
    if (idx.shape.length > 1) throw new TorchError('IndexError', 'index_select(): Index is supposed to be a vector');
    const shape = [...x.shape];
    shape[dim] = numel(idx.shape);
    return [{ shape, dtype: x.dtype }];
  },
  cpu([x, idx], a, [out]) {
    const dim = normDim(a.dim, x.shape.length);
    const n = x.shape[dim];
    const ids = stridedOffsets(idx.shape, idx.strides, idx.offset);
    const sel: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      let j = idx.data[ids[i]];
      if (j < -n || j >= n) throw new TorchError('IndexError', `index ${j} is out of bounds for dimension ${dim} with size ${n}`);
      if (j < 0) j += n;
      sel.push(j);
    }
    // Walk the output with the selected dim replaced by a gather.
    const shape = [...x.shape];
    shape[dim] = sel.length;
    const outer = numel(x.shape.slice(0, dim));
    const inner = numel(x.shape.slice(dim + 1));
    const innerOffs = stridedOffsets(x.shape.slice(dim + 1), x.strides.slice(dim + 1), 0);
    const outerOffs = stridedOffsets(x.shape.slice(0, dim), x.strides.slice(0, dim), x.offset);
    let o = 0;
    for (let p = 0; p < outer; p++) for (const j of sel) {
      const base = outerOffs[p] + j * x.strides[dim];
      for (let i = 0; i < inner; i++) out[o++] = x.data[base + innerOffs[i]];
    }
  },
  wgsl([x, idx], a, [out]) {
    // FIXME(issue 3): an out-of-range index cannot raise from a shader; it is clamped here
    // (the CPU backend raises torch's IndexError). Checking needs a read-back before dispatch.
    const dim = normDim(a.dim, x.shape.length);
    const n = x.shape[dim];
    const inner = numel(x.shape.slice(dim + 1));
    const k = out.shape[dim];
    const body = `  let i = o % ${u32(inner)};
  let sel = (o / ${u32(inner)}) % ${u32(k)};
  let p = o / ${u32(inner * k)};
  var j = i32(in1[sel_at(sel)]);
  if (j < 0) { j += ${n}i; }
  let jj = u32(clamp(j, 0i, ${n - 1}i));
  out0[o] = in0[outer_at(p) + jj * ${u32(x.strides[dim])} + inner_at(i)];`;
    const pre =
      viewIndexFn('sel_at', [numel(idx.shape)], { ...idx, shape: [numel(idx.shape)], strides: [idx.strides[0] ?? 1] }) +
      stridedIndexFn('outer_at', x.shape.slice(0, dim), x.strides.slice(0, dim), x.offset) +
      stridedIndexFn('inner_at', x.shape.slice(dim + 1), x.strides.slice(dim + 1), 0);
    return perOutputProgram(n === 0 ? 0 : numel(out.shape), 2, 1, body, pre);
  },
  tolerance: { cpu: 0, webgpu: 0 },
};
