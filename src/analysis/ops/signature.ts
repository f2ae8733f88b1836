/**
 * The vocabulary of the op-family signature files (`ops/<family>.ts`): what a signature
 * receives (the call's arguments reduced to sizes, numbers, strings and lists), what it returns
 * (the output sizes, a tuple of them, optionally named like torch's `torch.return_types`), and
 * the two ways it stops: `fail` for a call torch rejects (with the fact a rule can judge) and
 * `unknown` for one whose result cannot be known from what is known. Plus the size arithmetic
 * the families share (dims, reductions, broadcasting, conv-like windows).
 *
 * Nothing here knows frames, events, rules or the evaluator's values; sizes arrive already
 * normalised (the evaluator's substitutions applied), so `D.compare` decides equality.
 */

import * as D from '../dims';
import type { Dim } from '../dims';

export type Dtype = 'float' | 'long' | 'bool';

/** One argument of a call, as a signature sees it. */
export type Arg =
  | { kind: 'tensor'; sizes?: Dim[]; dtype?: Dtype }
  | { kind: 'int'; dim: Dim }
  | { kind: 'num'; value?: number }
  | { kind: 'bool'; value?: boolean }
  | { kind: 'str'; value: string }
  | { kind: 'none' }
  | { kind: 'list'; items: Arg[] }
  | { kind: 'dtype'; dtype?: Dtype }
  | { kind: 'unknown' };

/** One output tensor: its sizes (undefined: an axis of unknown size) and dtype ('same': the input's). */
export interface Out {
  sizes: (Dim | undefined)[];
  dtype?: Dtype | 'same' | 'complex';
  /** For each output axis, the input axis it carries (its role and identity), when one does. */
  from?: (number | undefined)[];
}

export interface TupleOut {
  items: Out[];
  /** Field names of a named tuple (`values`, `indices`), by position. */
  names?: readonly string[];
}

export type Result = Out | TupleOut;

/** Why torch rejects a call, as the facts a rule judges. */
export type OpError =
  | { kind: 'dim'; dim: number; rank: number }
  | { kind: 'rank'; expected: string; got: number }
  | { kind: 'size'; axis: number; expected: Dim; got: Dim; what: string }
  | { kind: 'broadcast'; a: Dim; b: Dim }
  /**
   * A window sized by the input's own axes taken in another order (`(x.size(3), x.size(2))` over
   * (H, W)): axis `axis` of size `size` gets a window of `window`, another axis's size; it runs
   * only where they are equal. `order[i]`: the spatial axis whose size item i is.
   */
  | { kind: 'swapped-window'; what: string; axis: number; size: Dim; window: Dim; order: number[] }
  | { kind: 'raise'; message: string };

export interface Signature {
  /** The result for a call; throws through `fail` or `unknown`. */
  shape(c: Call): Result;
  /** A tuple result's field names (or `_0`, `_1`… for a plain tuple): an unknown result still unpacks. */
  fields?: readonly string[];
}

export class OpFailure {
  constructor(readonly error: OpError) {}
}

export class OpUnknown {}

export class OpDeclined {}

/** Stops a signature: this call is not its to describe (the evaluator's own handling applies). */
export function decline(): never {
  throw new OpDeclined();
}

/** Stops a signature: torch raises for this call. */
export function fail(error: OpError | string): never {
  throw new OpFailure(typeof error === 'string' ? { kind: 'raise', message: error } : error);
}

/** Stops a signature: the result cannot be known. */
export function unknown(): never {
  throw new OpUnknown();
}

/** A call's arguments (for a tensor method the tensor is argument 0, as for `torch.f(t, …)`). */
export class Call {
  constructor(
    readonly args: Arg[],
    readonly kwargs: Record<string, Arg>,
  ) {}

  arg(i: number, name?: string): Arg | undefined {
    const v = (name !== undefined ? this.kwargs[name] : undefined) ?? (i >= 0 ? this.args[i] : undefined);
    return v;
  }

  /** Whether the argument is given and not None. */
  given(i: number, name?: string): boolean {
    const v = this.arg(i, name);
    return v !== undefined && v.kind !== 'none';
  }

  /** The sizes of a tensor argument; unknown when its rank is not known or it is not a tensor. */
  sizes(i: number, name?: string): Dim[] {
    const v = this.arg(i, name);
    if (v?.kind !== 'tensor' || !v.sizes) unknown();
    return v.sizes;
  }

  /** The input tensor's sizes (argument 0, or `input=`). */
  input(): Dim[] {
    return this.sizes(0, 'input');
  }

  dtype(i: number, name?: string): Dtype | undefined {
    const v = this.arg(i, name);
    return v?.kind === 'tensor' ? v.dtype : undefined;
  }

  /** A size argument (symbolic allowed); `def` when absent or None. */
  dim(i: number, name: string | undefined, def?: Dim): Dim {
    const v = this.arg(i, name);
    if (v === undefined || v.kind === 'none') return def ?? unknown();
    if (v.kind === 'int') return v.dim;
    if (v.kind === 'bool' && v.value !== undefined) return D.dconst(v.value ? 1 : 0);
    return unknown();
  }

  /** A constant integer argument; `def` when absent or None. */
  int(i: number, name: string | undefined, def?: number): number {
    const v = this.arg(i, name);
    if (v === undefined || v.kind === 'none') return def ?? unknown();
    return intOf(v);
  }

  /** An int or a list of ints (`dim=1`, `dim=(1, 2)`); `def` when absent or None. */
  ints(i: number, name: string | undefined, def?: number[]): number[] {
    const v = this.arg(i, name);
    if (v === undefined || v.kind === 'none') return def ?? unknown();
    if (v.kind === 'list') return v.items.map(intOf);
    return [intOf(v)];
  }

  /** A size or a list of sizes, symbolic allowed (`F.pad(x, (p, p))`); `def` when absent or None. */
  dims(i: number, name: string | undefined, def?: Dim[]): Dim[] {
    const v = this.arg(i, name);
    if (v === undefined || v.kind === 'none') return def ?? unknown();
    const one = (x: Arg): Dim => (x.kind === 'int' ? x.dim : unknown());
    return v.kind === 'list' ? v.items.map(one) : [one(v)];
  }

  /** The remaining positional ints from i on, as `x.flip(0, 1)` or `x.flip((0, 1))` gives them. */
  varInts(i: number, name: string | undefined, def?: number[]): number[] {
    const kw = name !== undefined ? this.kwargs[name] : undefined;
    if (kw) return this.ints(-1, name, def);
    const rest = this.args.slice(i);
    if (rest.length === 0) return def ?? unknown();
    if (rest.length === 1) return this.ints(i, undefined, def);
    return rest.map(intOf);
  }

  num(i: number, name: string | undefined, def?: number): number {
    const v = this.arg(i, name);
    if (v === undefined || v.kind === 'none') return def ?? unknown();
    if (v.kind === 'num' && v.value !== undefined) return v.value;
    return intOf(v);
  }

  bool(i: number, name: string | undefined, def: boolean): boolean {
    const v = this.arg(i, name);
    if (v === undefined || v.kind === 'none') return def;
    if (v.kind === 'bool' && v.value !== undefined) return v.value;
    if (v.kind === 'int') return intOf(v) !== 0;
    return unknown();
  }

  str(i: number, name: string | undefined, def?: string): string {
    const v = this.arg(i, name);
    if (v === undefined || v.kind === 'none') return def ?? unknown();
    if (v.kind === 'str') return v.value;
    return unknown();
  }

  /** The tensors of a list argument (`torch.hstack([a, b])`) or of the positional arguments from i on. */
  tensorList(i: number, name?: string): Dim[][] {
    const v = this.arg(i, name);
    const items = v?.kind === 'list' ? v.items : this.args.slice(i);
    if (items.length === 0) unknown();
    return items.map((x) => (x.kind === 'tensor' && x.sizes ? x.sizes : unknown()));
  }
}

export function intOf(v: Arg): number {
  if (v.kind === 'int') {
    const c = D.constValue(v.dim);
    if (c !== undefined && Number.isInteger(c)) return c;
  }
  if (v.kind === 'bool' && v.value !== undefined) return v.value ? 1 : 0;
  return unknown();
}

export const one = D.dconst(1);
export const zero = D.dconst(0);

export function c(n: number): Dim {
  return D.dconst(n);
}

export function val(d: Dim | undefined): number | undefined {
  return d === undefined ? undefined : D.constValue(d);
}

/** A dim argument wrapped into [0, rank) as torch wraps it (a 0-d tensor takes -1 and 0). */
export function wrap(d: number, rank: number): number {
  const r = Math.max(rank, 1);
  if (d < -r || d >= r) fail({ kind: 'dim', dim: d, rank });
  return d < 0 ? d + r : d;
}

/** Distinct wrapped dims (torch rejects a dim that appears twice). */
export function wrapAll(ds: number[], rank: number): number[] {
  const out = ds.map((d) => wrap(d, rank));
  if (new Set(out).size !== out.length) fail(`dim ${ds.join(', ')} appears multiple times`);
  return out;
}

/** The sizes without the reduced dims, or with them set to 1 (keepdim); all dims when `dims` is undefined or empty. */
export function reduce(sizes: Dim[], dims: number[] | undefined, keepdim: boolean): Out {
  const all = dims === undefined || dims.length === 0;
  const ds = all ? sizes.map((_, i) => i) : wrapAll(dims!, sizes.length);
  if (keepdim) return { sizes: sizes.map((s, i) => (ds.includes(i) ? one : s)), dtype: 'same', from: sizes.map((_, i) => (ds.includes(i) ? undefined : i)) };
  const keep = sizes.map((_, i) => i).filter((i) => !ds.includes(i));
  return { sizes: keep.map((i) => sizes[i]), dtype: 'same', from: keep };
}

/** The same sizes, each output axis carrying its input axis. */
export function same(sizes: Dim[], dtype: Out['dtype'] = 'same'): Out {
  return { sizes: [...sizes], dtype, from: sizes.map((_, i) => i) };
}

/** Whether a size is provably 1. */
export function isOne(d: Dim): boolean {
  return D.constValue(d) === 1;
}

/** One axis of a broadcast: undefined when the result is not known (two different symbols). */
function broadcastDim(a: Dim, b: Dim): Dim | undefined {
  if (isOne(a)) return b;
  if (isOne(b)) return a;
  const cmp = D.compare(a, b);
  if (cmp === 'eq') return a;
  const av = D.constValue(a);
  const bv = D.constValue(b);
  if (av !== undefined && bv !== undefined) fail({ kind: 'broadcast', a, b });
  // A symbol against a number other than 1: the code runs only if the symbol is 1 or that number.
  if (av !== undefined) return a;
  if (bv !== undefined) return b;
  return undefined;
}

/** torch's broadcasting of several shapes. */
export function broadcast(...shapes: Dim[][]): (Dim | undefined)[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: (Dim | undefined)[] = [];
  for (let i = 0; i < rank; i++) {
    let acc: Dim | undefined = one;
    for (const s of shapes) {
      const d = s[s.length - rank + i];
      if (d === undefined) continue;
      if (acc === undefined) {
        if (!isOne(d) && D.constValue(d) === undefined) acc = undefined;
        continue;
      }
      acc = broadcastDim(acc, d);
    }
    out.push(acc);
  }
  return out;
}

/** The product of sizes. */
export function numel(sizes: Dim[]): Dim {
  return sizes.reduce((acc, s) => D.mul(acc, s), one);
}

/**
 * A sliding window's output length: floor((size + 2 * pad - dil * (k - 1) - 1) / stride) + 1
 * (ceil with `ceilMode`, where the last window must start inside the input or its left
 * padding, as pooling does). Undefined when the size is symbolic and the division not exact.
 */
export function window(size: Dim, k: number, stride: number, pad: number, dil: number, ceilMode = false): Dim | undefined {
  const num = D.add(size, c(2 * pad - dil * (k - 1) - 1));
  const n = D.constValue(num);
  if (n !== undefined) {
    if (n < 0) fail(`the input (${D.format(size)}) is smaller than the kernel (${dil * (k - 1) + 1})`);
    let out = (ceilMode ? Math.ceil(n / stride) : Math.floor(n / stride)) + 1;
    if (ceilMode && (out - 1) * stride >= D.constValue(size)! + pad) out--;
    return c(out);
  }
  if (stride === 1) return D.add(num, one);
  return undefined;
}

/** An int or a tuple of nd ints (kernel sizes, strides), as the conv and pool functions take them. */
export function tupleOf(a: Call, i: number, name: string, nd: number, def?: number): number[] {
  const v = a.arg(i, name);
  if (v === undefined || v.kind === 'none') {
    if (def === undefined) unknown();
    return Array(nd).fill(def);
  }
  const xs = a.ints(i, name);
  if (xs.length === 1) return Array(nd).fill(xs[0]);
  if (xs.length !== nd) fail(`expected ${nd} values, got ${xs.length}`);
  return xs;
}
