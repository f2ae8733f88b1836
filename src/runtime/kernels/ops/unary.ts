/**
 * `unary`: activations, math functions and tensor-scalar arithmetic and
 * comparisons, elementwise over any strided view. Type promotion is the
 * runtime's three dtypes (`unaryType`): comparisons and `logical_not` give
 * bool, transcendental functions float, integral inputs with integral scalars
 * stay integral.
 */

import type { DType, OutputSpec, TensorMeta } from '../../backend';
import { DEFAULT_TOLERANCE, flopsPerOutput, isContiguous, stridedOffsets, type Kernel } from '../kernel';
import { elementwiseProgram, f32Uniforms, MATH_WGSL } from '../wgsl';

export type UnaryOp =
  | 'neg' | 'abs' | 'floor' | 'erf' | 'exp' | 'log' | 'sin' | 'cos' | 'sqrt' | 'rsqrt' | 'sigmoid' | 'relu' | 'tanh' | 'gelu' | 'gelu_tanh' | 'hardswish' | 'silu'
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
const UNARY_FLOAT: ReadonlySet<UnaryOp> = new Set(['erf', 'exp', 'log', 'sin', 'cos', 'sqrt', 'rsqrt', 'sigmoid', 'tanh', 'gelu', 'gelu_tanh', 'hardswish', 'silu', 'div_s', 'rdiv_s']);

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
    case 'floor': return Math.floor;
    case 'erf': return erf;
    case 'exp': return Math.exp;
    case 'log': return Math.log;
    case 'sin': return Math.sin;
    case 'cos': return Math.cos;
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
    const d = x.data;
    const intOut = unaryType(x.dtype, attrs) === 'int64' && attrs.op === 'div_s';
    if (isContiguous(x)) {
      // Contiguous: read in order, without a table of offsets. The commonest ops are written out:
      // the call through `f` is megamorphic across ops (measured ×2–×5 slower for relu and mul_s).
      const o = x.offset;
      const s = attrs.scalar ?? 0;
      switch (attrs.op) {
        case 'relu':
          for (let i = 0; i < n; i++) {
            const v = d[o + i];
            out[i] = v > 0 ? v : Number.isNaN(v) ? v : 0;
          }
          break;
        case 'mul_s':
          for (let i = 0; i < n; i++) out[i] = d[o + i] * s;
          break;
        case 'div_s':
          for (let i = 0; i < n; i++) out[i] = d[o + i] / s;
          break;
        case 'add_s':
          for (let i = 0; i < n; i++) out[i] = d[o + i] + s;
          break;
        default:
          for (let i = 0; i < n; i++) out[i] = f(d[o + i]);
      }
    } else {
      const offs = stridedOffsets(x.shape, x.strides, x.offset);
      for (let i = 0; i < n; i++) out[i] = f(d[offs[i]]);
    }
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
  tolerance: DEFAULT_TOLERANCE,
};

/** WGSL of each unary op over `a0` (the element) and `s` (the scalar); helpers from `MATH_WGSL`. */
const UNARY_WGSL: Record<UnaryOp, string> = {
  neg: '-a0',
  abs: 'abs(a0)',
  floor: 'floor(a0)',
  erf: 'erf_f32(a0)',
  exp: 'exp(a0)',
  log: 'log(a0)',
  sin: 'sin(a0)',
  cos: 'cos(a0)',
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
