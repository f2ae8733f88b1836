/**
 * `cat`: concatenation along an existing dim with torch's size checks and
 * messages. `stack`, `split`, `chunk` and slicing are views or compositions in
 * the tensor core.
 */

import type { DType, OutputSpec } from '../../backend';
import { normDim, TorchError } from '../../errors';
import { noFlops, numel, stridedOffsets, type Kernel } from '../kernel';
import { perOutputProgram, stridedIndexFn, u32 } from '../wgsl';

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
