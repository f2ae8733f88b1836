/**
 * `binary`: broadcasting arithmetic, comparisons and logic. Broadcasting
 * follows torch (`broadcastShapes`): shapes align from the right, size-1 dims
 * stretch, and a mismatch raises torch's "The size of tensor a (…) must match
 * the size of tensor b (…) at non-singleton dimension …". Type promotion is
 * simplified to the three dtypes the runtime has (`resultType`).
 *
 * Fast path (+ − × ÷): WASM `binary2d` when the operands coalesce to two dims
 * with column strides 0 or 1 (same shapes, bias rows and columns, scalars), in
 * chunks; smaller or other cases walk strides in TypeScript with an odometer
 * over coalesced dims. Either way one f32 operation per element, so the
 * results are the reference's exactly.
 */

import type { DType, OutputSpec, TensorMeta } from '../../backend';
import type { WasmKernels } from '../../wasm/index';
import { CHUNK, SPAN_SLACK, WASM_MIN, coalesce, walk } from '../../wasm/fast';
import { broadcastShapes, broadcastStrides, DEFAULT_TOLERANCE, flopsPerOutput, numel, stridedOffsets, type CpuView, type Kernel } from '../kernel';
import { elementwiseProgram, MATH_WGSL } from '../wgsl';

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'logical_and' | 'logical_or' | 'logical_xor';

export interface BinaryAttrs {
  readonly op: BinaryOp;
}

const BOOL_RESULT: ReadonlySet<BinaryOp> = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logical_and', 'logical_or', 'logical_xor']);

/** The runtime's type promotion: float beats int64 beats bool; `div` is always true division. */
export function resultType(a: DType, b: DType, op: BinaryOp): DType {
  if (BOOL_RESULT.has(op)) return 'bool';
  if (op === 'div') return 'float32';
  if (a === 'float32' || b === 'float32') return 'float32';
  if (a === 'int64' || b === 'int64') return 'int64';
  return op === 'add' || op === 'mul' || op === 'maximum' || op === 'minimum' ? 'bool' : 'int64';
}

function binaryFn(op: BinaryOp): (x: number, y: number) => number {
  switch (op) {
    case 'add': return (x, y) => x + y;
    case 'sub': return (x, y) => x - y;
    case 'mul': return (x, y) => x * y;
    case 'div': return (x, y) => x / y;
    case 'pow': return Math.pow;
    case 'maximum': return (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : x > y ? x : y);
    case 'minimum': return (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : x < y ? x : y);
    case 'eq': return (x, y) => (x === y ? 1 : 0);
    case 'ne': return (x, y) => (x !== y ? 1 : 0);
    case 'lt': return (x, y) => (x < y ? 1 : 0);
    case 'le': return (x, y) => (x <= y ? 1 : 0);
    case 'gt': return (x, y) => (x > y ? 1 : 0);
    case 'ge': return (x, y) => (x >= y ? 1 : 0);
    case 'logical_and': return (x, y) => (x !== 0 && y !== 0 ? 1 : 0);
    case 'logical_or': return (x, y) => (x !== 0 || y !== 0 ? 1 : 0);
    case 'logical_xor': return (x, y) => ((x !== 0) !== (y !== 0) ? 1 : 0);
  }
}

export const binary: Kernel<BinaryAttrs> = {
  name: 'binary',
  flops: flopsPerOutput,
  outputs([a, b], attrs): OutputSpec[] {
    return [{ shape: broadcastShapes(a.shape, b.shape), dtype: resultType(a.dtype, b.dtype, attrs.op) }];
  },
  cpu([a, b], attrs, [out]) {
    const shape = broadcastShapes(a.shape, b.shape);
    const n = out.length;
    const da = a.data;
    const db = b.data;
    const op = attrs.op;
    // Fast path: both contiguous over the same shape (the common residual add).
    const sameShape = a.shape.length === b.shape.length && a.shape.every((s, i) => s === b.shape[i]);
    const contiguous = (m: TensorMeta) => m.strides.every((s, i) => m.shape[i] === 1 || s === m.strides.slice(i + 1).reduce((p, _, j) => p * m.shape[i + 1 + j], 1));
    if (sameShape && contiguous(a) && contiguous(b) && (op === 'add' || op === 'mul' || op === 'sub' || op === 'div')) {
      const ao = a.offset;
      const bo = b.offset;
      if (op === 'add') for (let i = 0; i < n; i++) out[i] = da[ao + i] + db[bo + i];
      else if (op === 'mul') for (let i = 0; i < n; i++) out[i] = da[ao + i] * db[bo + i];
      else if (op === 'sub') for (let i = 0; i < n; i++) out[i] = da[ao + i] - db[bo + i];
      else for (let i = 0; i < n; i++) out[i] = da[ao + i] / db[bo + i];
      return;
    }
    const oa = stridedOffsets(shape, broadcastStrides(a, shape), a.offset);
    const ob = stridedOffsets(shape, broadcastStrides(b, shape), b.offset);
    const f = binaryFn(op);
    for (let i = 0; i < n; i++) out[i] = f(da[oa[i]], db[ob[i]]);
    if (resultType(a.dtype, b.dtype, op) === 'int64' && op === 'pow') for (let i = 0; i < n; i++) out[i] = Math.trunc(out[i]);
  },
  wgsl([a, b], attrs, [out]) {
    const e = BINARY_WGSL[attrs.op];
    const value = resultType(a.dtype, b.dtype, attrs.op) === 'int64' && attrs.op === 'pow' ? `trunc(${e})` : e;
    return elementwiseProgram(out.shape, [a, b], `out0[i] = ${value};`, { prelude: MATH_WGSL });
  },
  tolerance: DEFAULT_TOLERANCE,
  fast: binaryFast,
};

/** WGSL of each binary op over `a0`, `a1`; NaN propagates through maximum/minimum as in torch. */
const BINARY_WGSL: Record<BinaryOp, string> = {
  add: 'a0 + a1',
  sub: 'a0 - a1',
  mul: 'a0 * a1',
  div: 'a0 / a1',
  pow: 'pow_f32(a0, a1)',
  maximum: 'select(select(a1, a0, a0 > a1), a0 + a1, isnan_f32(a0) || isnan_f32(a1))',
  minimum: 'select(select(a1, a0, a0 < a1), a0 + a1, isnan_f32(a0) || isnan_f32(a1))',
  eq: 'select(0.0, 1.0, a0 == a1)',
  ne: 'select(0.0, 1.0, a0 != a1)',
  lt: 'select(0.0, 1.0, a0 < a1)',
  le: 'select(0.0, 1.0, a0 <= a1)',
  gt: 'select(0.0, 1.0, a0 > a1)',
  ge: 'select(0.0, 1.0, a0 >= a1)',
  logical_and: 'select(0.0, 1.0, a0 != 0.0 && a1 != 0.0)',
  logical_or: 'select(0.0, 1.0, a0 != 0.0 || a1 != 0.0)',
  logical_xor: 'select(0.0, 1.0, (a0 != 0.0) != (a1 != 0.0))',
};

/** WASM `binary2d`'s code per operation. */
const BINARY_OPS: Readonly<Record<string, number>> = { add: 0, sub: 1, mul: 2, div: 3 };

/**
 * `binary2d` over an output whose operands coalesce to at most two dims with
 * column strides 0 or 1 (same shapes, a row vector, a column or a scalar
 * broadcast), in blocks of at most `CHUNK` floats; false when the shapes do
 * not fit or an operand's span would exceed `SPAN_SLACK` times its block.
 */
function binaryWasm(w: WasmKernels, a: CpuView, b: CpuView, op: number, shape: readonly number[], out: Float32Array): boolean {
  const c = coalesce(shape, [broadcastStrides(a, shape), broadcastStrides(b, shape), shape.map((_, i) => numel(shape.slice(i + 1)))]);
  const nd = c.shape.length;
  if (nd > 2) return false;
  const cols = c.shape[nd - 1];
  const rows = nd === 2 ? c.shape[0] : 1;
  const [acs, bcs] = [c.strides[0][nd - 1], c.strides[1][nd - 1]];
  const [ars, brs] = nd === 2 ? [c.strides[0][0], c.strides[1][0]] : [0, 0];
  if (!(acs === 0 || acs === 1) || !(bcs === 0 || bcs === 1) || ars < 0 || brs < 0) return false;
  const bw = Math.min(cols, CHUNK);
  const bh = Math.min(rows, Math.max(1, Math.floor(CHUNK / cols)));
  const extent = (rs: number, cs: number, h: number, wd: number) => (h - 1) * rs + (wd - 1) * cs + 1;
  const ea = extent(ars, acs, bh, bw);
  const eb = extent(brs, bcs, bh, bw);
  if (ea > SPAN_SLACK * bh * bw || eb > SPAN_SLACK * bh * bw) return false;
  const [ra, rb, ro] = w.arena([ea, eb, bh * bw]);
  for (let i0 = 0; i0 < rows; i0 += bh) {
    const h = Math.min(bh, rows - i0);
    for (let j0 = 0; j0 < cols; j0 += bw) {
      const wd = Math.min(bw, cols - j0);
      const fa = a.offset + i0 * ars + j0 * acs;
      const fb = b.offset + i0 * brs + j0 * bcs;
      ra.f32.set(a.data.subarray(fa, fa + extent(ars, acs, h, wd)));
      rb.f32.set(b.data.subarray(fb, fb + extent(brs, bcs, h, wd)));
      w.fn.binary2d(op, ra.ptr, ars, acs, rb.ptr, brs, bcs, ro.ptr, h, wd);
      // Blocks narrower than a row only occur one row at a time (bh = 1), so each block is one run of `out`.
      out.set(ro.f32.subarray(0, h * wd), i0 * cols + j0);
    }
  }
  w.done();
  return true;
}

function binaryFast(inputs: readonly CpuView[], attrs: BinaryAttrs, outs: Float32Array[], w: WasmKernels): void {
  const [a, b] = inputs;
  const op = attrs.op;
  const out = outs[0];
  if (!(op === 'add' || op === 'sub' || op === 'mul' || op === 'div') || out.length === 0) {
    binary.cpu(inputs, attrs, outs);
    return;
  }
  const shape = broadcastShapes(a.shape, b.shape);
  if (out.length >= WASM_MIN && binaryWasm(w, a, b, BINARY_OPS[op], shape, out)) return;
  const da = a.data;
  const db = b.data;
  const outStrides = shape.map((_, i) => numel(shape.slice(i + 1)));
  walk(shape, [broadcastStrides(a, shape), broadcastStrides(b, shape), outStrides], [a.offset, b.offset, 0], (offs, n, [sa, sb]) => {
    let ia = offs[0];
    let ib = offs[1];
    const at = offs[2];
    // The reference's arithmetic (JS numbers rounded to f32 on store), specialised per op and per stride.
    if (op === 'add') {
      if (sa === 1 && sb === 1) for (let i = 0; i < n; i++) out[at + i] = da[ia + i] + db[ib + i];
      else if (sa === 1 && sb === 0) { const y = db[ib]; for (let i = 0; i < n; i++) out[at + i] = da[ia + i] + y; }
      else if (sa === 0 && sb === 1) { const x = da[ia]; for (let i = 0; i < n; i++) out[at + i] = x + db[ib + i]; }
      else for (let i = 0; i < n; i++, ia += sa, ib += sb) out[at + i] = da[ia] + db[ib];
    } else if (op === 'mul') {
      if (sa === 1 && sb === 1) for (let i = 0; i < n; i++) out[at + i] = da[ia + i] * db[ib + i];
      else if (sa === 1 && sb === 0) { const y = db[ib]; for (let i = 0; i < n; i++) out[at + i] = da[ia + i] * y; }
      else if (sa === 0 && sb === 1) { const x = da[ia]; for (let i = 0; i < n; i++) out[at + i] = x * db[ib + i]; }
      else for (let i = 0; i < n; i++, ia += sa, ib += sb) out[at + i] = da[ia] * db[ib];
    } else if (op === 'sub') {
      for (let i = 0; i < n; i++, ia += sa, ib += sb) out[at + i] = da[ia] - db[ib];
    } else {
      for (let i = 0; i < n; i++, ia += sa, ib += sb) out[at + i] = da[ia] / db[ib];
    }
  });
}
