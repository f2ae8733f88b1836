/**
 * `where`: `torch.where(cond, a, b)` with three-way broadcasting; the result
 * type is the promotion of a and b.
 */

import type { OutputSpec } from '../../backend';
import { TorchError } from '../../errors';
import { broadcastShapes, broadcastStrides, DEFAULT_TOLERANCE, flopsPerOutput, stridedOffsets, type Kernel } from '../kernel';
import { elementwiseProgram } from '../wgsl';
import { resultType } from './binary';

/** `torch.where(cond, a, b)` with three-way broadcasting. */
export const where: Kernel<Record<string, never>> = {
  name: 'where',
  flops: flopsPerOutput,
  outputs([c, a, b]): OutputSpec[] {
    if (c.dtype !== 'bool') throw new TorchError('RuntimeError', `where expected condition to be a boolean tensor, but got a tensor with dtype ${c.dtype}`);
    return [{ shape: broadcastShapes(c.shape, broadcastShapes(a.shape, b.shape)), dtype: resultType(a.dtype, b.dtype, 'add') }];
  },
  cpu([c, a, b], _attrs, [out]) {
    const shape = broadcastShapes(c.shape, broadcastShapes(a.shape, b.shape));
    const oc = stridedOffsets(shape, broadcastStrides(c, shape), c.offset);
    const oa = stridedOffsets(shape, broadcastStrides(a, shape), a.offset);
    const ob = stridedOffsets(shape, broadcastStrides(b, shape), b.offset);
    for (let i = 0; i < out.length; i++) out[i] = c.data[oc[i]] !== 0 ? a.data[oa[i]] : b.data[ob[i]];
  },
  wgsl(inputs, _attrs, [out]) {
    return elementwiseProgram(out.shape, inputs, 'out0[i] = select(a2, a1, a0 != 0.0);');
  },
  tolerance: DEFAULT_TOLERANCE,
};
