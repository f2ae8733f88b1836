/**
 * Shape signatures of the elementwise ops the evaluator's own `switch` does not cover: unary
 * math (`tan`, `log1p`, `erfc`…), predicates (`isnan`, `signbit`: bool), binary and ternary ops
 * that broadcast (`atan2`, `hypot`, `fmod`, `lerp`, `addcmul`, `isclose`…), and the functional
 * activations with the input's shape (`F.relu6`, `F.softplus`, `F.glu` halves a dim). A number
 * operand broadcasts as a 0-d tensor. Pure functions of sizes; see `signature.ts`.
 */

import * as D from '../dims';
import type { Dim } from '../dims';
import { broadcast, c, decline, fail, same, unknown, val, wrap, type Arg, type Call, type Out, type Signature } from './signature';

function operand(v: Arg | undefined): Dim[] {
  if (!v) return unknown();
  if (v.kind === 'tensor') return v.sizes ?? unknown();
  if (v.kind === 'int' || v.kind === 'num' || v.kind === 'bool') return [];
  return unknown();
}

const unary: Signature = { shape: (a) => same(a.input()) };
const unaryFloat: Signature = { shape: (a) => same(a.input(), 'float') };
const predicate: Signature = { shape: (a) => same(a.input(), 'bool') };

/** op(input, other, …): the broadcast of the operands named. */
function broadcasting(names: string[], dtype?: Out['dtype']): Signature {
  return {
    shape(a: Call) {
      const shapes = [a.input(), ...names.map((n, i) => operand(a.arg(i + 1, n)))];
      const out = broadcast(...shapes);
      const first = shapes[0];
      const from = out.length === first.length && out.every((d, i) => d !== undefined && D.equal(d, first[i])) ? first.map((_, i) => i) : undefined;
      return { sizes: out, dtype: dtype ?? 'same', from };
    },
  };
}

const glu: Signature = {
  shape(a) {
    const s = a.input();
    if (s.length === 0) fail({ kind: 'rank', expected: 'at least a 1-d tensor (glu)', got: 0 });
    const d = wrap(a.int(1, 'dim', -1), s.length);
    const n = val(s[d]);
    if (n !== undefined && n % 2 !== 0) fail(`glu halves dim ${d}, whose size ${n} is odd`);
    const out = same(s);
    const half = D.floorDiv(s[d], c(2));
    out.sizes[d] = half;
    out.from![d] = undefined;
    return out;
  },
};

/** F.softmax / F.log_softmax / F.softmin without a dim: torch's implicit choice (0 for 0-, 1- and 3-d inputs, else 1), with a warning. */
const implicitSoftmax: Signature = {
  shape(a) {
    if (a.given(1, 'dim')) return decline();
    const s = a.input();
    wrap(s.length === 0 || s.length === 1 || s.length === 3 ? 0 : 1, s.length);
    return same(s, 'float');
  },
};

/** softmax-like with a dim: the same shape after checking the dim. */
const withDim: Signature = {
  shape(a) {
    const s = a.input();
    if (a.given(1, 'dim')) wrap(a.int(1, 'dim'), s.length);
    return same(s, 'float');
  },
};

const UNARY = [
  'tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'asinh', 'acosh', 'atanh', 'arcsin', 'arccos', 'arctan', 'arcsinh', 'arccosh',
  'arctanh', 'expm1', 'log1p', 'log2', 'log10', 'exp2', 'trunc', 'frac', 'fix', 'erfc', 'erfinv', 'lgamma', 'digamma', 'logit',
  'sgn', 'positive', 'negative', 'deg2rad', 'rad2deg', 'i0', 'sinc', 'bitwise_not', 'conj', 'resolve_conj', 'resolve_neg',
  'absolute', 'clamp_min', 'clamp_max', 'clip_', 'clamp_', 'abs_', 'exp_', 'log_', 'neg_', 'sqrt_', 'floor_', 'ceil_', 'round_',
  'uniform_', 'normal_', 'bernoulli', 'bernoulli_', 'random_', 'exponential_', 'geometric_', 'cauchy_', 'log_normal_', 'copy_',
  'fill_diagonal_', 'sigmoid', 'nan_to_num_', 'renorm', 'polygamma', 'mvlgamma', 'signbit_', 'float_power_', 'retain_grad',
  'pin_memory', 'share_memory_', 'coalesce', 'to_dense', 'cdouble', 'cfloat', 'byte', 'char', 'short',
];
const UNARY_F = [
  'relu6', 'selu', 'celu', 'softsign', 'tanhshrink', 'hardsigmoid', 'hardtanh', 'logsigmoid', 'softplus', 'softshrink',
  'hardshrink', 'threshold', 'rrelu', 'alpha_dropout', 'feature_alpha_dropout', 'dropout3d', 'local_response_norm', 'silu',
  'hardswish', 'mish', 'elu', 'leaky_relu', 'gelu', 'relu', 'sigmoid', 'tanh', 'rms_norm', 'prelu',
];
const PREDICATES = ['isnan', 'isinf', 'isfinite', 'isposinf', 'isneginf', 'signbit', 'isreal'];
const BINARY = [
  'atan2', 'arctan2', 'hypot', 'fmod', 'remainder', 'copysign', 'float_power', 'fmax', 'fmin', 'xlogy', 'logaddexp',
  'logaddexp2', 'heaviside', 'nextafter', 'floor_divide', 'true_divide', 'divide', 'multiply', 'subtract', 'bitwise_and',
  'bitwise_or', 'bitwise_xor', 'ldexp', 'rsub', 'bitwise_left_shift', 'bitwise_right_shift', 'igamma', 'igammac',
];
const COMPARISONS = ['logical_xor', 'greater', 'less', 'greater_equal', 'less_equal', 'not_equal', 'isclose'];

export const ELEMENTWISE: Record<string, Signature> = {
  ...Object.fromEntries(UNARY.map((n) => [n, unary])),
  ...Object.fromEntries(PREDICATES.map((n) => [n, predicate])),
  ...Object.fromEntries(BINARY.map((n) => [n, broadcasting(['other'])])),
  ...Object.fromEntries(COMPARISONS.map((n) => [n, broadcasting(['other'], 'bool')])),
  angle: unaryFloat,
  lerp: broadcasting(['end', 'weight']),
  addcmul: broadcasting(['tensor1', 'tensor2']),
  addcdiv: broadcasting(['tensor1', 'tensor2']),
  dist: {
    shape(a) {
      broadcast(a.input(), operand(a.arg(1, 'other')));
      return { sizes: [], dtype: 'same' };
    },
  },
};

/**
 * `torch.` functions of complex numbers that are no tensor method: `polar(abs, angle)`
 * broadcasts, `view_as_complex` reads the last axis (of 2) as the real and imaginary parts,
 * `view_as_real` adds it back.
 */
export const COMPLEX: Record<string, Signature> = {
  polar: broadcasting(['angle'], 'complex'),
  view_as_complex: {
    shape(a) {
      const s = a.input();
      if (s.length === 0 || val(s[s.length - 1]) !== undefined && val(s[s.length - 1]) !== 2) return decline();
      return { sizes: s.slice(0, -1), dtype: 'complex', from: s.slice(0, -1).map((_, i) => i) };
    },
  },
  view_as_real: {
    shape(a) {
      const s = a.input();
      return { sizes: [...s, c(2)], dtype: 'float', from: [...s.map((_, i) => i), undefined] };
    },
  },
};

/** `F.` names of the family (activations with the input's shape, glu, the implicit-dim softmaxes). */
export const ELEMENTWISE_F: Record<string, Signature> = {
  ...Object.fromEntries(UNARY_F.map((n) => [n, unary])),
  glu,
  softmax: implicitSoftmax,
  log_softmax: implicitSoftmax,
  softmin: { shape: (a) => (a.given(1, 'dim') ? withDim.shape(a) : implicitSoftmax.shape(a)) },
  gumbel_softmax: {
    shape(a) {
      const s = a.input();
      wrap(a.int(-1, 'dim', -1), s.length);
      return same(s, 'float');
    },
  },
};
