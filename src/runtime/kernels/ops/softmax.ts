/**
 * `softmax` / `log_softmax` over any dim, walking the input with the reduced
 * dim moved last (`groupedOffsets`, shared with the reductions).
 *
 * Fast path: a softmax over a contiguous last dim runs WASM `softmaxRows` in
 * chunks of rows that stay in cache; anything else is the reference.
 */

import type { OutputSpec } from '../../backend';
import { normDim, TorchError } from '../../errors';
import type { WasmKernels } from '../../wasm/index';
import { contiguousStrides, DEFAULT_TOLERANCE, numel, type CpuView, type Kernel } from '../kernel';
import { MATH_WGSL, perOutputProgram, stridedIndexFn, u32 } from '../wgsl';
import { groupedOffsets } from './reduce';

export interface SoftmaxAttrs {
  readonly dim: number;
  readonly log: boolean;
}

export const softmax: Kernel<SoftmaxAttrs> = {
  name: 'softmax',
  flops: (_i, _a, [out]) => 5 * numel(out.shape),
  outputs([x], a): OutputSpec[] {
    normDim(a.dim, x.shape.length);
    if (x.dtype !== 'float32') throw new TorchError('RuntimeError', `"softmax_lastdim_kernel_impl" not implemented for '${x.dtype === 'bool' ? 'Bool' : 'Long'}'`);
    return [{ shape: x.shape, dtype: 'float32' }];
  },
  cpu([x]: readonly CpuView[], a, [out]) {
    if (x.shape.length === 0) {
      out[0] = a.log ? 0 : 1;
      return;
    }
    const dim = normDim(a.dim, x.shape.length);
    const { offs, inner } = groupedOffsets(x, [dim]);
    // Output offsets in the same grouped order, over the contiguous output.
    const ostr: number[] = [];
    let s = 1;
    for (let i = x.shape.length - 1; i >= 0; i--) {
      ostr[i] = s;
      s *= x.shape[i];
    }
    const oo = groupedOffsets({ shape: x.shape, strides: ostr, offset: 0, dtype: 'float32' }, [dim]).offs;
    const d = x.data;
    const groups = inner === 0 ? 0 : offs.length / inner;
    const row = new Float64Array(inner);
    for (let g = 0; g < groups; g++) {
      const b = g * inner;
      let m = -Infinity;
      for (let i = 0; i < inner; i++) {
        const v = d[offs[b + i]];
        row[i] = v;
        if (v > m) m = v;
      }
      if (m === -Infinity) m = 0; // a fully masked row gives nan (0/0) as in torch, not -inf - -inf
      let sum = 0;
      for (let i = 0; i < inner; i++) {
        const e = Math.exp(row[i] - m);
        row[i] = e;
        sum += e;
      }
      if (a.log) {
        const ls = Math.log(sum);
        for (let i = 0; i < inner; i++) out[oo[b + i]] = d[offs[b + i]] - m - ls;
      } else {
        for (let i = 0; i < inner; i++) out[oo[b + i]] = row[i] / sum;
      }
    }
  },
  wgsl([x], a, [out]) {
    if (x.shape.length === 0) return perOutputProgram(1, 1, 1, `  out0[0] = ${a.log ? '0.0' : '1.0'};`);
    // One invocation per row along `dim`: max, sum of exp, then the normalised values.
    const dim = normDim(a.dim, x.shape.length);
    const keep = x.shape.map((_, i) => i).filter((i) => i !== dim);
    const ost = contiguousStrides(x.shape);
    const S = x.shape[dim];
    const xs = x.strides[dim];
    const os = ost[dim];
    const rows = S === 0 ? 0 : numel(out.shape) / S;
    const pre =
      MATH_WGSL +
      stridedIndexFn('in_base', keep.map((i) => x.shape[i]), keep.map((i) => x.strides[i]), x.offset) +
      stridedIndexFn('out_base', keep.map((i) => x.shape[i]), keep.map((i) => ost[i]), 0);
    const write = a.log ? 'in0[b + j * XS] - m - log(sum)' : 'exp(in0[b + j * XS] - m) / sum';
    const body = `  let b = in_base(o);
  let ob = out_base(o);
  var m = in0[b];
  for (var j = 1u; j < SN; j++) { m = max(m, in0[b + j * XS]); }
  // A fully masked row (all -inf) gives nan as in torch (0 / 0), not -inf - -inf.
  if (isneginf_f32(m)) { m = 0.0; }
  var sum = 0.0;
  for (var j = 0u; j < SN; j++) { sum += exp(in0[b + j * XS] - m); }
  for (var j = 0u; j < SN; j++) { out0[ob + j * OS] = ${write}; }`
      .replace(/SN/g, u32(S))
      .replace(/XS/g, u32(xs))
      .replace(/OS/g, u32(os));
    return perOutputProgram(rows, 1, 1, body, pre);
  },
  tolerance: DEFAULT_TOLERANCE,
  fast: softmaxFast,
};

/** Floats per chunk of rows of the fast path (as `CHUNK`). */
const SOFTMAX_CHUNK = 1 << 17;

function softmaxFast(inputs: readonly CpuView[], a: SoftmaxAttrs, outs: Float32Array[], w: WasmKernels): void {
  const [x] = inputs;
  const out = outs[0];
  const nd = x.shape.length;
  const dim = nd === 0 ? 0 : a.dim < 0 ? a.dim + nd : a.dim;
  const cols = nd === 0 ? 0 : x.shape[nd - 1];
  let contiguous = true;
  for (let i = nd - 1, s = 1; i >= 0; s *= x.shape[i], i--) if (x.shape[i] !== 1 && x.strides[i] !== s) contiguous = false;
  if (a.log || nd === 0 || dim !== nd - 1 || !contiguous || cols === 0 || out.length === 0) {
    softmax.cpu(inputs, a, outs);
    return;
  }
  const rows = out.length / cols;
  const per = Math.max(1, Math.floor(SOFTMAX_CHUNK / cols));
  const [r] = w.arena([Math.min(rows, per) * cols]);
  for (let i0 = 0; i0 < rows; i0 += per) {
    const n = Math.min(per, rows - i0);
    const from = x.offset + i0 * cols;
    r.f32.set(x.data.subarray(from, from + n * cols));
    w.fn.softmaxRows(r.ptr, n, cols, 1, 0);
    out.set(r.f32.subarray(0, n * cols), i0 * cols);
  }
  w.done();
}
