/**
 * Elementwise kernels: `unary` (activations, math functions, tensor-scalar
 * arithmetic), `binary` (broadcasting arithmetic, comparisons, logic) and
 * `where` (broadcasting select, behind `masked_fill`). Broadcasting follows
 * torch: shapes align from the right, size-1 dims stretch, and a mismatch
 * raises torch's "The size of tensor a (…) must match the size of tensor b
 * (…) at non-singleton dimension …". Type promotion is simplified to the
 * three dtypes the runtime has (see `resultType`).
 */

import type { DType, OutputSpec, TensorMeta } from '../backend';
import { TorchError } from '../errors';
import { broadcastStrides, DEFAULT_TOLERANCE, numel, stridedOffsets, type Kernel, flopsPerOutput } from './kernel';
import { elementwiseProgram, f32Uniforms, MATH_WGSL } from './wgsl';

export type UnaryOp =
  | 'neg' | 'abs' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'sigmoid' | 'relu' | 'tanh' | 'gelu' | 'gelu_tanh' | 'hardswish' | 'silu'
  | 'logical_not'
  /** x + s, x * s, x - s, s - x, x / s, s / x, x ** s, max(x, s), min(x, s) */
  | 'add_s' | 'mul_s' | 'sub_s' | 'rsub_s' | 'div_s' | 'rdiv_s' | 'pow_s' | 'max_s' | 'min_s'
  /** comparisons with a scalar: bool results */
  | 'eq_s' | 'ne_s' | 'lt_s' | 'le_s' | 'gt_s' | 'ge_s';

export interface UnaryAttrs {
  readonly op: UnaryOp;
  readonly scalar?: number;
}

const UNARY_BOOL: ReadonlySet<UnaryOp> = new Set(['logical_not', 'eq_s', 'ne_s', 'lt_s', 'le_s', 'gt_s', 'ge_s']);
const UNARY_FLOAT: ReadonlySet<UnaryOp> = new Set(['exp', 'log', 'sqrt', 'rsqrt', 'sigmoid', 'tanh', 'gelu', 'gelu_tanh', 'hardswish', 'silu', 'div_s', 'rdiv_s']);

function unaryType(x: DType, a: UnaryAttrs): DType {
  if (UNARY_BOOL.has(a.op)) return 'bool';
  if (UNARY_FLOAT.has(a.op)) return 'float32';
  if (x === 'float32') return 'float32';
  // Integer and bool tensors stay integral with integral scalars, as in torch.
  if (a.scalar !== undefined && !Number.isInteger(a.scalar)) return 'float32';
  return x === 'bool' && a.op !== 'neg' && a.op !== 'abs' && a.op !== 'relu' ? 'int64' : x;
}

/**
 * erf in double precision: the Maclaurin series below 2.5 (terms stay under
 * e^6.25, so little cancellation) and the continued fraction of erfc above.
 * Both are accurate to ~1e-14, far inside the 1e-5 budget against torch.
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(z) = exp(-z^2)/sqrt(pi) / (z + (1/2)/(z + 1/(z + (3/2)/(z + 2/(z + ...))))), evaluated bottom-up.
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return x < 0 ? erfc - 1 : 1 - erfc;
}

function unaryFn(a: UnaryAttrs): (x: number) => number {
  const s = a.scalar ?? 0;
  switch (a.op) {
    case 'neg': return (x) => -x;
    case 'abs': return Math.abs;
    case 'exp': return Math.exp;
    case 'log': return Math.log;
    case 'sqrt': return Math.sqrt;
    case 'rsqrt': return (x) => 1 / Math.sqrt(x);
    case 'sigmoid': return (x) => 1 / (1 + Math.exp(-x));
    case 'relu': return (x) => (x > 0 ? x : Number.isNaN(x) ? x : 0);
    case 'tanh': return Math.tanh;
    case 'gelu': return (x) => 0.5 * x * (1 + erf(x * Math.SQRT1_2));
    case 'gelu_tanh': return (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    case 'hardswish': return (x) => (x <= -3 ? 0 : x >= 3 ? x : (x * (x + 3)) / 6);
    case 'silu': return (x) => x / (1 + Math.exp(-x));
    case 'logical_not': return (x) => (x === 0 ? 1 : 0);
    case 'add_s': return (x) => x + s;
    case 'mul_s': return (x) => x * s;
    case 'sub_s': return (x) => x - s;
    case 'rsub_s': return (x) => s - x;
    case 'div_s': return (x) => x / s;
    case 'rdiv_s': return (x) => s / x;
    case 'pow_s': return (x) => Math.pow(x, s);
    case 'max_s': return (x) => (x > s || Number.isNaN(x) ? x : s);
    case 'min_s': return (x) => (x < s || Number.isNaN(x) ? x : s);
    case 'eq_s': return (x) => (x === s ? 1 : 0);
    case 'ne_s': return (x) => (x !== s ? 1 : 0);
    case 'lt_s': return (x) => (x < s ? 1 : 0);
    case 'le_s': return (x) => (x <= s ? 1 : 0);
    case 'gt_s': return (x) => (x > s ? 1 : 0);
    case 'ge_s': return (x) => (x >= s ? 1 : 0);
  }
}

export const unary: Kernel<UnaryAttrs> = {
  name: 'unary',
  flops: flopsPerOutput,
  outputs(inputs: readonly TensorMeta[], attrs): OutputSpec[] {
    return [{ shape: inputs[0].shape, dtype: unaryType(inputs[0].dtype, attrs) }];
  },
  cpu([x], attrs, [out]) {
    const f = unaryFn(attrs);
    const n = out.length;
    const offs = stridedOffsets(x.shape, x.strides, x.offset);
    const d = x.data;
    const intOut = unaryType(x.dtype, attrs) === 'int64' && attrs.op === 'div_s';
    for (let i = 0; i < n; i++) out[i] = f(d[offs[i]]);
    if (intOut) for (let i = 0; i < n; i++) out[i] = Math.trunc(out[i]);
  },
  wgsl([x], attrs, [out]) {
    // The scalar travels in a uniform so one pipeline serves every value (and ±inf).
    return elementwiseProgram(out.shape, [x], `let s = u.s;\n  out0[i] = ${UNARY_WGSL[attrs.op]};`, {
      uniforms: f32Uniforms([attrs.scalar ?? 0]),
      uniformStruct: 'U',
      prelude: `struct U { s: f32 }\n${MATH_WGSL}`,
    });
  },
  tolerance: { ...DEFAULT_TOLERANCE, why: undefined },
};

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

/** torch's broadcasting rule, with torch's error message. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new TorchError('RuntimeError', `The size of tensor a (${da}) must match the size of tensor b (${db}) at non-singleton dimension ${i}`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
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
};

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

/** WGSL of each unary op over `a0` (the element) and `s` (the scalar); helpers from `MATH_WGSL`. */
const UNARY_WGSL: Record<UnaryOp, string> = {
  neg: '-a0',
  abs: 'abs(a0)',
  exp: 'exp(a0)',
  log: 'log(a0)',
  sqrt: 'sqrt(a0)',
  rsqrt: '1.0 / sqrt(a0)',
  sigmoid: '1.0 / (1.0 + exp(-a0))',
  relu: 'select(0.0, a0, a0 > 0.0 || isnan_f32(a0))',
  tanh: 'tanh_f32(a0)',
  gelu: '0.5 * a0 * (1.0 + erf_f32(a0 * 0.7071067811865476))',
  gelu_tanh: '0.5 * a0 * (1.0 + tanh_f32(0.7978845608028654 * (a0 + 0.044715 * a0 * a0 * a0)))',
  hardswish: 'select(select(a0 * (a0 + 3.0) / 6.0, a0, a0 >= 3.0), 0.0, a0 <= -3.0)',
  silu: 'a0 / (1.0 + exp(-a0))',
  logical_not: 'select(0.0, 1.0, a0 == 0.0)',
  add_s: 'a0 + s',
  mul_s: 'a0 * s',
  sub_s: 'a0 - s',
  rsub_s: 's - a0',
  div_s: 'a0 / s',
  rdiv_s: 's / a0',
  pow_s: 'pow_f32(a0, s)',
  max_s: 'select(s, a0, a0 > s || isnan_f32(a0))',
  min_s: 'select(s, a0, a0 < s || isnan_f32(a0))',
  eq_s: 'select(0.0, 1.0, a0 == s)',
  ne_s: 'select(0.0, 1.0, a0 != s)',
  lt_s: 'select(0.0, 1.0, a0 < s)',
  le_s: 'select(0.0, 1.0, a0 <= s)',
  gt_s: 'select(0.0, 1.0, a0 > s)',
  ge_s: 'select(0.0, 1.0, a0 >= s)',
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
