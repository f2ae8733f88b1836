/**
 * `copy`: materialises any strided view (permuted, expanded, sliced) as a
 * contiguous tensor, optionally changing the dtype tag (bool/int64 → float32
 * keeps the values; float32 → bool maps non-zero to 1). Used by
 * `contiguous()`, `reshape` when a view is impossible, `clone()` and `to()`.
 *
 * Fast path: WASM `gather3d` for views that coalesce to up to three dims, in
 * blocks of about `CHUNK` floats; smaller or other views walk coalesced dims
 * in TypeScript. No arithmetic, so exactly the reference's values.
 */

import type { DType, OutputSpec, TensorMeta } from '../../backend';
import type { WasmKernels } from '../../wasm/index';
import { CHUNK, SPAN_SLACK, WASM_MIN, coalesce, walk } from '../../wasm/fast';
import { noFlops, numel, stridedOffsets, type CpuView, type Kernel } from '../kernel';
import { elementwiseProgram } from '../wgsl';

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
  fast: copyFast,
};

/**
 * `gather3d` for a view that coalesces to at most three dims with
 * non-negative strides and a span at most `SPAN_SLACK` times its size: the
 * span goes in, the gathered elements come out, in blocks of whole
 * outer-dim slices of about `CHUNK` floats; false otherwise.
 */
function copyWasm(w: WasmKernels, x: CpuView, out: Float32Array): boolean {
  const c = coalesce(x.shape, [x.strides]);
  if (c.shape.length > 3) return false;
  const shape = [...new Array<number>(3 - c.shape.length).fill(1), ...c.shape];
  const st = [...new Array<number>(3 - c.shape.length).fill(0), ...c.strides[0]];
  if (st.some((t) => t < 0)) return false;
  const [n0, n1, n2] = shape;
  const [s0, s1, s2] = st;
  const per = n1 * n2;
  // Blocks of whole slices of the outer dim; a slice larger than a chunk is one block.
  const bh = Math.min(n0, Math.max(1, Math.floor(CHUNK / per)));
  const extent = (h: number) => (h - 1) * s0 + (n1 - 1) * s1 + (n2 - 1) * s2 + 1;
  const e = extent(bh);
  if (e > SPAN_SLACK * bh * per) return false;
  const [rs, rd] = w.arena([e, bh * per]);
  for (let i0 = 0; i0 < n0; i0 += bh) {
    const h = Math.min(bh, n0 - i0);
    const from = x.offset + i0 * s0;
    rs.f32.set(x.data.subarray(from, from + extent(h)));
    w.fn.gather3d(rs.ptr, s0, s1, s2, rd.ptr, h, n1, n2);
    out.set(rd.f32.subarray(0, h * per), i0 * per);
  }
  w.done();
  return true;
}

function copyFast(inputs: readonly CpuView[], attrs: CopyAttrs, outs: Float32Array[], w: WasmKernels): void {
  const [x] = inputs;
  const out = outs[0];
  const convert = (attrs.dtype === 'bool' && x.dtype !== 'bool') || (attrs.dtype === 'int64' && x.dtype === 'float32');
  if (convert || out.length === 0) {
    copy.cpu(inputs, attrs, outs);
    return;
  }
  if (out.length >= WASM_MIN && copyWasm(w, x, out)) return;
  const d = x.data;
  const outStrides = x.shape.map((_, i) => numel(x.shape.slice(i + 1)));
  walk(x.shape, [x.strides, outStrides], [x.offset, 0], (offs, n, [sx]) => {
    const ix = offs[0];
    const at = offs[1];
    if (sx === 1) out.set(d.subarray(ix, ix + n), at);
    else for (let i = 0, j = ix; i < n; i++, j += sx) out[at + i] = d[j];
  });
}
