/**
 * `copy`: materialises any strided view (permuted, expanded, sliced) as a
 * contiguous tensor, optionally changing the dtype tag (bool/int64 → float32
 * keeps the values; float32 → bool maps non-zero to 1). Used by
 * `contiguous()`, `reshape` when a view is impossible, `clone()` and `to()`.
 */

import type { DType, OutputSpec, TensorMeta } from '../backend';
import { DEFAULT_TOLERANCE, numel, stridedOffsets, type CpuView, type Kernel, noFlops } from './kernel';
import { elementwiseProgram } from './wgsl';

export interface CopyAttrs {
  readonly dtype?: DType;
}

export const copy: Kernel<CopyAttrs> = {
  name: 'copy',
  flops: noFlops,
  outputs(inputs: readonly TensorMeta[], attrs): OutputSpec[] {
    return [{ shape: inputs[0].shape, dtype: attrs.dtype ?? inputs[0].dtype }];
  },
  cpu(inputs: readonly CpuView[], attrs, [out]) {
    const x = inputs[0];
    const n = numel(x.shape);
    const offs = stridedOffsets(x.shape, x.strides, x.offset);
    const d = x.data;
    if (attrs.dtype === 'bool' && x.dtype !== 'bool') for (let i = 0; i < n; i++) out[i] = d[offs[i]] !== 0 ? 1 : 0;
    else if (attrs.dtype === 'int64' && x.dtype === 'float32') for (let i = 0; i < n; i++) out[i] = Math.trunc(d[offs[i]]);
    else for (let i = 0; i < n; i++) out[i] = d[offs[i]];
  },
  wgsl([x], attrs, [out]) {
    const value = attrs.dtype === 'bool' && x.dtype !== 'bool' ? 'select(0.0, 1.0, a0 != 0.0)' : attrs.dtype === 'int64' && x.dtype === 'float32' ? 'trunc(a0)' : 'a0';
    return elementwiseProgram(out.shape, [x], `out0[i] = ${value};`);
  },
  tolerance: { cpu: 0, webgpu: 0 },
};

export const COPY_TOLERANCE = DEFAULT_TOLERANCE;
