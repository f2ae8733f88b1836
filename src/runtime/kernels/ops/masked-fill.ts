/**
 * `masked_fill`: `x.masked_fill(mask, value)` out of place, the bool mask
 * and x broadcast together as torch's out-of-place masked_fill does.
 */

import type { OutputSpec } from '../../backend';
import { TorchError } from '../../errors';
import { broadcastShapes, broadcastStrides, DEFAULT_TOLERANCE, flopsPerOutput, numel, stridedOffsets, type Kernel } from '../kernel';
import { elementwiseProgram, f32Uniforms } from '../wgsl';

export interface MaskedFillAttrs {
  readonly value: number;
}

/**
 * `x.masked_fill(mask, value)` (out of place): the mask must be bool; x and the
 * mask broadcast together, as torch's out-of-place masked_fill does.
 */
export const maskedFill: Kernel<MaskedFillAttrs> = {
  name: 'masked_fill',
  flops: flopsPerOutput,
  outputs([x, mask]): OutputSpec[] {
    if (mask.dtype !== 'bool') {
      throw new TorchError('RuntimeError', `masked_fill_ only supports boolean masks, but got mask with dtype ${mask.dtype === 'int64' ? 'long int' : 'float'}`);
    }
    return [{ shape: broadcastShapes(x.shape, mask.shape), dtype: x.dtype }];
  },
  cpu([x, mask], attrs, [out]) {
    const shape = broadcastShapes(x.shape, mask.shape);
    const ox = stridedOffsets(shape, broadcastStrides(x, shape), x.offset);
    const om = stridedOffsets(shape, broadcastStrides(mask, shape), mask.offset);
    const n = numel(shape);
    const v = x.dtype === 'float32' ? Math.fround(attrs.value) : attrs.value;
    for (let i = 0; i < n; i++) out[i] = mask.data[om[i]] !== 0 ? v : x.data[ox[i]];
  },
  wgsl([x, mask], attrs, [out]) {
    // The fill value (often -inf) travels in a uniform: WGSL has no literal for it.
    return elementwiseProgram(out.shape, [x, mask], 'out0[i] = select(a0, u.v, a1 != 0.0);', {
      uniforms: f32Uniforms([attrs.value]),
      uniformStruct: 'U',
      prelude: 'struct U { v: f32 }\n',
    });
  },
  tolerance: DEFAULT_TOLERANCE,
};
