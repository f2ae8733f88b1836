/**
 * `layer_norm` over the trailing `normalized_shape` dims: biased variance,
 * affine weight and bias optional.
 */

import type { OutputSpec } from '../../backend';
import { fmtShape, TorchError } from '../../errors';
import { contiguousData, DEFAULT_TOLERANCE, numel, type Kernel } from '../kernel';
import { f32, perOutputProgram, u32, viewIndexFn } from '../wgsl';

export interface LayerNormAttrs {
  readonly normalizedShape: readonly number[];
  readonly eps: number;
  readonly hasWeight: boolean;
  readonly hasBias: boolean;
}

export const layerNorm: Kernel<LayerNormAttrs> = {
  name: 'layer_norm',
  flops: (_i, _a, [out]) => 5 * numel(out.shape),
  outputs(inputs, a): OutputSpec[] {
    const x = inputs[0];
    const ns = a.normalizedShape;
    const tail = x.shape.slice(x.shape.length - ns.length);
    if (ns.length === 0 || x.shape.length < ns.length || tail.some((s, i) => s !== ns[i])) {
      throw new TorchError('RuntimeError', `Given normalized_shape=${fmtShape(ns)}, expected input with shape [*, ${ns.join(', ')}], but got input of size${fmtShape(x.shape)}`);
    }
    for (const which of ['weight', 'bias'] as const) {
      const has = which === 'weight' ? a.hasWeight : a.hasBias;
      if (!has) continue;
      const t = inputs[which === 'bias' && a.hasWeight ? 2 : 1];
      if (t.shape.length !== ns.length || t.shape.some((s, i) => s !== ns[i])) {
        throw new TorchError('RuntimeError', `Expected ${which} to be of same shape as normalized_shape, but got ${which} of shape ${fmtShape(t.shape)} and normalized_shape = ${fmtShape(ns)}`);
      }
    }
    return [{ shape: x.shape, dtype: 'float32' }];
  },
  cpu(inputs, a, [out]) {
    const x = contiguousData(inputs[0]);
    const w = a.hasWeight ? contiguousData(inputs[1]) : undefined;
    const b = a.hasBias ? contiguousData(inputs[a.hasWeight ? 2 : 1]) : undefined;
    const inner = numel(a.normalizedShape);
    const rows = inner === 0 ? 0 : x.length / inner;
    for (let r = 0; r < rows; r++) {
      const s = r * inner;
      let mean = 0;
      for (let i = 0; i < inner; i++) mean += x[s + i];
      mean /= inner;
      let v = 0;
      for (let i = 0; i < inner; i++) {
        const d = x[s + i] - mean;
        v += d * d;
      }
      const rstd = 1 / Math.sqrt(v / inner + a.eps);
      for (let i = 0; i < inner; i++) {
        let y = (x[s + i] - mean) * rstd;
        if (w) y *= w[i];
        if (b) y += b[i];
        out[s + i] = y;
      }
    }
  },
  wgsl(inputs, a) {
    // One invocation per normalised row: two passes for mean and biased variance, then the affine write.
    const x = inputs[0];
    const ns = a.normalizedShape;
    const inner = numel(ns);
    const rows = inner === 0 ? 0 : numel(x.shape) / inner;
    const wIdx = a.hasWeight ? 1 : -1;
    const bIdx = a.hasBias ? (a.hasWeight ? 2 : 1) : -1;
    const pre =
      viewIndexFn('xi', x.shape, x) +
      (wIdx > 0 ? viewIndexFn('wi', ns, inputs[wIdx]) : '') +
      (bIdx > 0 ? viewIndexFn('bi', ns, inputs[bIdx]) : '');
    let y = '(in0[xi(s + i)] - mean) * rstd';
    if (wIdx > 0) y = `${y} * in${wIdx}[wi(i)]`;
    if (bIdx > 0) y = `${y} + in${bIdx}[bi(i)]`;
    const body = `  let s = o * ${u32(inner)};
  var mean = 0.0;
  for (var i = 0u; i < ${u32(inner)}; i++) { mean += in0[xi(s + i)]; }
  mean = mean / ${f32(inner)};
  var v = 0.0;
  for (var i = 0u; i < ${u32(inner)}; i++) { let d = in0[xi(s + i)] - mean; v += d * d; }
  let rstd = 1.0 / sqrt(v / ${f32(inner)} + ${f32(a.eps)});
  for (var i = 0u; i < ${u32(inner)}; i++) { out0[s + i] = ${y}; }`;
    return perOutputProgram(rows, inputs.length, 1, body, pre);
  },
  tolerance: DEFAULT_TOLERANCE,
};
