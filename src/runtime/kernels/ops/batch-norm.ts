/**
 * `batch_norm` in inference form: running statistics and a per-channel
 * affine. Training-mode batch statistics are not implemented: the runtime runs
 * modules in eval mode.
 */

import type { OutputSpec } from '../../backend';
import { TorchError } from '../../errors';
import { contiguousData, DEFAULT_TOLERANCE, numel, type Kernel } from '../kernel';
import { elementwiseProgram, f32 } from '../wgsl';

export interface BatchNormAttrs {
  readonly eps: number;
  readonly hasWeight: boolean;
  readonly hasBias: boolean;
}

/** Inputs: x (N, C, *), running_mean (C), running_var (C), [weight (C)], [bias (C)]. */
export const batchNorm: Kernel<BatchNormAttrs> = {
  name: 'batch_norm',
  flops: (_i, _a, [out]) => 5 * numel(out.shape),
  outputs(inputs): OutputSpec[] {
    const x = inputs[0];
    if (x.shape.length < 2) throw new TorchError('ValueError', `expected 2D or more input (got ${x.shape.length}D input)`);
    const C = x.shape[1];
    const names = ['running_mean', 'running_var', 'weight', 'bias'];
    inputs.slice(1).forEach((t, i) => {
      if (numel(t.shape) !== C) throw new TorchError('RuntimeError', `${names[i]} should contain ${C} elements not ${numel(t.shape)}`);
    });
    return [{ shape: x.shape, dtype: 'float32' }];
  },
  cpu(inputs, a, [out]) {
    const x = contiguousData(inputs[0]);
    const mean = contiguousData(inputs[1]);
    const vr = contiguousData(inputs[2]);
    const w = a.hasWeight ? contiguousData(inputs[3]) : undefined;
    const b = a.hasBias ? contiguousData(inputs[a.hasWeight ? 4 : 3]) : undefined;
    const [N, C] = inputs[0].shape;
    const inner = numel(inputs[0].shape.slice(2));
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        // torch folds to y = x * scale + shift in float32.
        const invstd = Math.fround(1 / Math.sqrt(Math.fround(vr[c] + a.eps)));
        const scale = Math.fround((w ? w[c] : 1) * invstd);
        const shift = Math.fround((b ? b[c] : 0) - mean[c] * scale);
        const s = (n * C + c) * inner;
        for (let i = 0; i < inner; i++) out[s + i] = x[s + i] * scale + shift;
      }
    }
  },
  wgsl(inputs, a, [out]) {
    // Elementwise with the per-channel scale and shift folded as torch does.
    const C = inputs[0].shape[1];
    const w = a.hasWeight ? 'a3' : '1.0';
    const b = a.hasBias ? (a.hasWeight ? 'a4' : 'a3') : '0.0';
    const chan = inputs.slice(1).map((t) => ({ ...t, shape: [1, C, ...new Array<number>(inputs[0].shape.length - 2).fill(1)], strides: [0, t.strides[t.strides.length - 1] ?? 1, ...new Array<number>(inputs[0].shape.length - 2).fill(0)] }));
    const body = `let invstd = 1.0 / sqrt(a2 + ${f32(a.eps)});
  let scale = ${w} * invstd;
  let shift = ${b} - a1 * scale;
  out0[i] = a0 * scale + shift;`;
    return elementwiseProgram(out.shape, [inputs[0], ...chan], body);
  },
  tolerance: DEFAULT_TOLERANCE,
};
