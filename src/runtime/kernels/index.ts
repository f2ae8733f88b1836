/**
 * Kernels that gather or assemble: `index_select` (x[index] along one dim,
 * int64 indices, negative indices wrap as in torch's advanced indexing) and
 * `cat` (concatenate along an existing dim, torch's size checks and
 * messages). `stack`, `split`, `chunk` and slicing are views or compositions
 * in the tensor core.
 */

import type { DType, OutputSpec } from '../backend';
import { normDim, TorchError } from '../errors';
import { numel, stridedOffsets, type Kernel, noFlops } from './kernel';
import { perOutputProgram, stridedIndexFn, u32, viewIndexFn } from './wgsl';

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

export interface CatAttrs {
  readonly dim: number;
}

function promote(ts: readonly DType[]): DType {
  if (ts.includes('float32')) return 'float32';
  if (ts.includes('int64')) return 'int64';
  return 'bool';
}

export const cat: Kernel<CatAttrs> = {
  name: 'cat',
  flops: noFlops,
  outputs(inputs, a): OutputSpec[] {
    if (inputs.length === 0) throw new TorchError('RuntimeError', 'torch.cat(): expected a non-empty list of Tensors');
    const ref = inputs[0];
    const dim = normDim(a.dim, ref.shape.length);
    if (ref.shape.length === 0) throw new TorchError('RuntimeError', 'zero-dimensional tensor (at position 0) cannot be concatenated');
    let total = 0;
    inputs.forEach((t, i) => {
      if (t.shape.length !== ref.shape.length) {
        throw new TorchError('RuntimeError', `Tensors must have same number of dimensions: got ${ref.shape.length} and ${t.shape.length}`);
      }
      t.shape.forEach((s, d) => {
        if (d !== dim && s !== ref.shape[d]) {
          throw new TorchError('RuntimeError', `Sizes of tensors must match except in dimension ${dim}. Expected size ${ref.shape[d]} but got size ${s} for tensor number ${i} in the list.`);
        }
      });
      total += t.shape[dim];
    });
    const shape = [...ref.shape];
    shape[dim] = total;
    return [{ shape, dtype: promote(inputs.map((t) => t.dtype)) }];
  },
  cpu(inputs, a, [out]) {
    const dim = normDim(a.dim, inputs[0].shape.length);
    const outer = numel(inputs[0].shape.slice(0, dim));
    const total = inputs.reduce((s, t) => s + t.shape[dim], 0);
    const inner = numel(inputs[0].shape.slice(dim + 1));
    let start = 0;
    for (const t of inputs) {
      const chunk = t.shape[dim] * inner;
      const offs = stridedOffsets(t.shape, t.strides, t.offset);
      for (let p = 0; p < outer; p++) {
        const ob = (p * total + start) * inner;
        for (let i = 0; i < chunk; i++) out[ob + i] = t.data[offs[p * chunk + i]];
      }
      start += t.shape[dim];
    }
  },
  wgsl(inputs, a, [out]) {
    // One invocation per output element; the input is found by its start along `dim`.
    const dim = normDim(a.dim, inputs[0].shape.length);
    const inner = numel(out.shape.slice(dim + 1));
    const total = out.shape[dim];
    const branches: string[] = [];
    const fns: string[] = [];
    let start = 0;
    inputs.forEach((t, n) => {
      const size = t.shape[dim];
      if (size > 0) {
        fns.push(stridedIndexFn(`at${n}`, t.shape, t.strides, t.offset));
        branches.push(`  if (k < ${u32(start + size)}) { out0[o] = in${n}[at${n}((p * ${u32(size)} + k - ${u32(start)}) * ${u32(inner)} + i)]; return; }`);
      }
      start += size;
    });
    const body = `  let i = o % ${u32(inner)};
  let k = (o / ${u32(inner)}) % ${u32(total)};
  let p = o / ${u32(inner * total)};
${branches.join('\n')}`;
    return perOutputProgram(numel(out.shape), inputs.length, 1, body, fns.join(''));
  },
  tolerance: { cpu: 0, webgpu: 0 },
};
