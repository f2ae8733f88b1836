/**
 * Tensor factories: `torch.randn`/`zeros`/`ones`/`full`… (sizes from arguments, named after
 * the ints they came from), `arange` (positions: a comparison with lengths is a mask),
 * `eye`, `torch.tensor` of a literal, the `*_like` and `new_*` forms. `ones`/`zeros` are 0/1
 * masks of known polarity until arithmetic says otherwise.
 */

import * as D from '../dims';
import type { Dim } from '../dims';
import type { IntV, TensorV, Value } from '../values';
import { dtypeOf } from './facts';
import { isTensor, numValue, type FunctionHandler, type MethodHandler, type OpHost } from './host';

const tensorNewOnes: MethodHandler = (h, { op, kwargs, t, rest, done }) => {
  const dims = sizesOrFresh(h, op === 'new_full' ? rest.slice(0, 1) : rest);
  if (!dims) return done({ kind: 'tensor' });
  const r = h.tensor(dims, namesFromArgs(op === 'new_full' ? rest.slice(0, 1) : rest), { dtype: dtypeOf(kwargs.dtype) ?? t.dtype });
  if (op === 'new_ones' || op === 'new_zeros') r.mask = { polarity: op === 'new_ones' ? 'keep' : 'ignore', values01: true, uniform: op === 'new_ones' };
  if (op === 'new_full') r.mask = fullMask(rest[1] ?? kwargs.fill_value);
  return done(r);
};

export const CREATION_METHODS: Record<string, MethodHandler> = {
  new_ones: tensorNewOnes,
  new_zeros: tensorNewOnes,
  new_empty: tensorNewOnes,
  new_full: tensorNewOnes,
};

const torchRandn: FunctionHandler = (h, { op, args, kwargs }) => {
  let sizeArgs = args;
  if (op === 'randint') sizeArgs = args.slice(args.length >= 3 ? 2 : 1).filter((x) => x.kind === 'tuple');
  if (op === 'full') sizeArgs = args.slice(0, 1);
  // `torch.randn(size=(4, 8))`: the size may come as a keyword; with neither, nothing is known.
  if (kwargs.size) sizeArgs = [kwargs.size];
  if (sizeArgs.length === 0) return { kind: 'tensor' };
  const dims = sizesOrFresh(h, sizeArgs);
  const dtype = dtypeOf(kwargs.dtype) ?? (op === 'randint' ? 'long' : 'float');
  // Sizes nobody knows leave the shape unknown, not the values: ones are still all ones.
  if (!dims && op !== 'ones' && op !== 'full') return { kind: 'tensor' };
  const t: TensorV = dims ? h.tensor(dims, namesFromArgs(sizeArgs), { dtype }) : { kind: 'tensor', dtype };
  if (op === 'ones' || op === 'zeros') t.mask = { polarity: op === 'ones' ? 'keep' : 'ignore', values01: true, uniform: op === 'ones' };
  if (op === 'full') t.mask = fullMask(args[1] ?? kwargs.fill_value);
  return t.axes || t.mask ? t : { kind: 'tensor' };
};

/**
 * `torch.full(size, v)`: True everywhere is a keep mask of one value; -inf (or a large
 * negative number) everywhere is the start of an additive mask, whose cells that stay -inf are
 * hidden once `triu`/`tril` zeroes the rest.
 */
function fullMask(v: Value | undefined): TensorV['mask'] {
  if (v?.kind === 'bool') return v.value ? { polarity: 'keep', values01: true, uniform: true } : { polarity: 'ignore', values01: true };
  const x = v ? numValue(v) : undefined;
  if (x !== undefined && x <= -1e4) return { polarity: 'ignore', additive: true, uniform: true };
  return undefined;
}

const torchArange: FunctionHandler = (h, { args, kwargs }) => {
  const end = args.length === 1 ? args[0] : args[1];
  const dtype = dtypeOf(kwargs.dtype) ?? (args.some((a) => a.kind === 'num') ? 'float' : 'long');
  if (end?.kind !== 'int' || args.length > 2 || (args.length === 2 && args[0].kind !== 'int')) {
    // Whatever its bounds and step, arange gives one axis: ceil((end - start) / step) long when
    // all three are known numbers, a size of its own otherwise.
    const [a, b, c] = args.map((x) => (x.kind === 'int' ? D.constValue(x.dim) : undefined));
    const n = args.length === 3 && a !== undefined && b !== undefined && c ? Math.max(0, Math.ceil((b - a) / c)) : undefined;
    return h.tensor([n !== undefined ? D.dconst(n) : h.fresh('n')], undefined, { dtype });
  }
  const pos = h.tensor([args.length === 1 ? end.dim : D.sub(end.dim, (args[0] as IntV).dim)], [end.name], { dtype: dtypeOf(kwargs.dtype) ?? 'long' });
  // Only 0, 1, 2… are positions: a start other than 0 shifts them.
  if (isTensor(pos) && (args.length === 1 || numValue(args[0]) === 0)) pos.positions = true;
  return pos;
};

/** `linspace(start, end, steps)` / `logspace`: one axis of `steps` points. */
const torchLinspace: FunctionHandler = (h, { args, kwargs }) => {
  const steps = args[2] ?? kwargs.steps;
  return h.tensor([steps?.kind === 'int' ? steps.dim : h.fresh('steps')], steps?.kind === 'int' ? [steps.name] : undefined, { dtype: dtypeOf(kwargs.dtype) ?? 'float' });
};

const torchEye: FunctionHandler = (h, { args, kwargs }) => {
  const dims = dimsFromArgs(args.filter((x) => x.kind === 'int'));
  if (!dims || dims.length === 0) return { kind: 'tensor' };
  return h.tensor(dims.length === 1 ? [dims[0], dims[0]] : dims, undefined, { dtype: dtypeOf(kwargs.dtype) ?? 'float' });
};

const torchTensor: FunctionHandler = (h, { args, kwargs }) => {
  return literalTensor(h, args[0], dtypeOf(kwargs.dtype));
};

const torchFromNumpy: FunctionHandler = (_h) => {
  return { kind: 'tensor' };
};

const torchOnesLike: FunctionHandler = (h, { op, args, kwargs }) => {
  const t = args[0];
  if (!isTensor(t) || !t.axes) return { kind: 'tensor' };
  const r = h.tensor(t.axes.map((a) => a.size), undefined, { dtype: dtypeOf(kwargs.dtype) ?? t.dtype });
  r.axes = t.axes.map((a) => ({ ...a }));
  if (op === 'ones_like' || op === 'zeros_like') r.mask = { polarity: op === 'ones_like' ? 'keep' : 'ignore', values01: true, uniform: op === 'ones_like' };
  if (op === 'full_like') r.mask = fullMask(args[1] ?? kwargs.fill_value);
  return r;
};

export const CREATION_FUNCTIONS: Record<string, FunctionHandler> = {
  randn: torchRandn,
  rand: torchRandn,
  zeros: torchRandn,
  ones: torchRandn,
  empty: torchRandn,
  randint: torchRandn,
  full: torchRandn,
  arange: torchArange,
  linspace: torchLinspace,
  logspace: torchLinspace,
  eye: torchEye,
  tensor: torchTensor,
  as_tensor: torchTensor,
  from_numpy: torchFromNumpy,
  ones_like: torchOnesLike,
  zeros_like: torchOnesLike,
  randn_like: torchOnesLike,
  rand_like: torchOnesLike,
  empty_like: torchOnesLike,
  full_like: torchOnesLike,
};

export function dimsFromArgs(args: Value[]): Dim[] | undefined {
  if (args.length === 1 && args[0].kind === 'tuple' && args[0].shapeOf && !args[0].shapeOf.axes) return undefined;
  const items = args.length === 1 && args[0].kind === 'tuple' ? args[0].items : args;
  const out: Dim[] = [];
  for (const it of items) {
    if (it.kind !== 'int') return undefined;
    out.push(it.dim);
  }
  return out;
}

/**
 * The sizes of a factory call, where each is known or at least counted: `torch.ones(a, b)` and
 * `torch.ones((1, n, n))` have as many axes as sizes written, whatever `n` is (anything but an
 * int or a 0-d tensor would make torch raise); a size not known is a fresh one. A single argument that is not a
 * written tuple may be a whole shape, so it counts only when it is known.
 */
function sizesOrFresh(h: OpHost, args: Value[]): Dim[] | undefined {
  const known = dimsFromArgs(args);
  if (known) return known;
  const one = args.length === 1 && args[0].kind === 'tuple' ? args[0] : undefined;
  if (one && (one.shapeOf || one.inexact || !one.written)) return undefined;
  const items = one ? one.items : args.length >= 2 ? args : undefined;
  // A size nothing is known of: an unknown value, or an unannotated parameter seeded as a
  // tensor of no known rank (a size given as a 0-d tensor is one size too).
  const open = (x: Value) => x.kind === 'unknown' || (isTensor(x) && (!x.axes || x.axes.length === 0));
  if (!items?.every((x) => x.kind === 'int' || open(x))) return undefined;
  // The same value twice is the same size: `(1, size, size)` is square.
  const seen = new Map<Value, Dim>();
  return items.map((x) => {
    if (x.kind === 'int') return x.dim;
    const d = seen.get(x) ?? h.fresh('?');
    seen.set(x, d);
    return d;
  });
}

export function namesFromArgs(args: Value[]): (string | undefined)[] {
  const items = args.length === 1 && args[0].kind === 'tuple' ? args[0].items : args;
  return items.map((x) => (x.kind === 'int' ? x.name : undefined));
}

/**
 * torch.tensor of a (nested) list literal: its shape is the nesting, its dtype bool, long or
 * float from the elements (as torch infers it). Anything not a rectangular literal is unknown.
 */
export function literalTensor(h: OpHost, v: Value | undefined, dtype: TensorV['dtype'] | undefined): TensorV {
  // An int known to be a number: a literal, or a size plus or minus a number
  // (`2 * window_size - 1`, which a tuple or list would have refused).
  const number = (x: IntV): boolean => {
    const d = h.norm(x.dim);
    return D.constValue(d) !== undefined || (d.terms.length > 1 && d.terms.some((t) => t.syms.length === 0 && t.coef !== 0));
  };
  const sizes: Dim[] = [];
  let kinds = new Set<string>();
  const walk = (x: Value, depth: number): boolean => {
    if (x.kind !== 'tuple' || x.shapeOf) {
      if (depth !== sizes.length) return false;
      if (x.kind === 'int' && number(x)) kinds.add('long');
      else if (x.kind === 'num') kinds.add('float');
      else if (x.kind === 'bool') kinds.add('bool');
      else return false;
      return true;
    }
    if (depth === sizes.length) sizes.push(D.dconst(x.items.length));
    else if (depth > sizes.length || D.constValue(sizes[depth]) !== x.items.length) return false;
    return x.items.length > 0 && x.items.every((it) => walk(it, depth + 1));
  };
  // A Python number is a tensor of no axes; a list of numbers of unknown length (a helper's
  // list comprehension) one axis of unknown size. An int is taken only when it is a literal:
  // a seeded size might stand for anything the caller passes.
  const scalar = (x: Value): string | undefined =>
    x.kind === 'num' ? 'float' : x.kind === 'bool' ? 'bool' : x.kind === 'int' && number(x) ? 'long' : undefined;
  const one = v ? scalar(v) : undefined;
  if (one) return h.tensor([], undefined, { dtype: dtype ?? (one as TensorV['dtype']) });
  if (v?.kind === 'tuple' && v.inexact && !v.shapeOf) {
    const ks = new Set(v.items.map(scalar));
    if (v.items.length === 0 || ks.has(undefined)) return { kind: 'tensor', dtype };
    return h.tensor([h.fresh('?')], undefined, { dtype: dtype ?? (ks.has('float') ? 'float' : ks.has('long') ? 'long' : 'bool') });
  }
  if (!v || v.kind !== 'tuple' || v.items.length > 4096 || !walk(v, 0)) return { kind: 'tensor', dtype };
  if (kinds.size === 0) kinds = new Set(['float']);
  const inferred = kinds.has('float') ? 'float' : kinds.has('long') ? 'long' : 'bool';
  return h.tensor(sizes, undefined, { dtype: dtype ?? inferred });
}
