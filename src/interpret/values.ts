/**
 * The concrete value domain of the interpreter: what a Python expression evaluates to when the
 * user's module runs on the runtime. Numbers are JavaScript numbers (Python's int and float
 * alike: `/` is true division and `//` floors, so the distinction only matters where torch
 * would raise a TypeError, which this domain accepts), `True`/`False` are booleans, `None` is
 * null, lists are arrays, tuples (and `torch.Size`) are `PyTuple`, tensors are runtime
 * `Tensor`s and modules are runtime `Module`s (the user's classes are `UserModule`s, so
 * `stateDict`, `loadStateDict` and the tracer see them as any runtime module).
 *
 * This module does not evaluate anything: the interpreter does.
 */

import { Tensor, type Backend } from '../runtime/index';
import { Module, movedTensor } from '../runtime/nn/module';
import type { Node } from '../analysis/parse';
import { pyError } from './errors';

export type PyValue =
  | number
  | boolean
  | string
  | null
  | PyValue[]
  | PyTuple
  | PyDict
  | PySlice
  | PyEllipsis
  | Tensor
  | Module
  | PyCallable
  | PyClass
  | PyInstance
  | PyNamespace
  | PySuper
  | PyToken
  | PyComplex;

/**
 * A complex64 tensor as its real and imaginary parts (two float32 tensors of one shape): what
 * rotary embeddings build with `torch.polar` and `view_as_complex`. Views apply to both parts.
 */
export class PyComplex {
  constructor(
    readonly re: Tensor,
    readonly im: Tensor,
  ) {}
  get shape(): readonly number[] {
    return this.re.shape;
  }
}

export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

export class PyDict {
  constructor(readonly map: Map<string | number, PyValue> = new Map()) {}
}

export class PySlice {
  constructor(
    readonly start: number | null,
    readonly stop: number | null,
    readonly step: number | null,
  ) {}
}

export class PyEllipsis {
  static readonly value = new PyEllipsis();
}

/** An opaque name that only stands for itself: `torch.float32`, a device string's object. */
export class PyToken {
  constructor(readonly name: string) {}
}

/** Positional and keyword arguments of a call. */
export interface Args {
  readonly pos: readonly PyValue[];
  readonly kw: ReadonlyMap<string, PyValue>;
}

/** Keyword arguments passed to a user module's `forward` through the runtime's `Module.forward(...args)`. */
export class Kwargs {
  constructor(readonly map: ReadonlyMap<string, PyValue>) {}
}

export type PyCallable = PyBuiltin | PyFunction | PyBoundMethod;

/** A function of the supported torch/Python surface. `cls` is the runtime class it builds, for `isinstance`. */
export class PyBuiltin {
  constructor(
    readonly name: string,
    readonly call: (args: Args) => PyValue,
    readonly cls?: abstract new (...a: never[]) => unknown,
  ) {}
}

/** A `def` of the user's file, with the scope it closes over and the class it was defined in (for `super()`). */
export class PyFunction {
  constructor(
    readonly name: string,
    readonly node: Node,
    readonly defaults: ReadonlyMap<string, PyValue>,
    readonly closure: Scope,
    readonly owner: PyClass | null,
  ) {}
}

export class PyBoundMethod {
  constructor(
    readonly fn: PyFunction,
    readonly self: PyValue,
  ) {}
}

/** A `class` of the user's file. `bases` are user classes; `module` says whether `nn.Module` is among the ancestors. */
export class PyClass {
  constructor(
    readonly name: string,
    readonly bases: readonly PyClass[],
    readonly module: boolean,
    readonly dict: Map<string, PyValue>,
    readonly line: number,
  ) {}

  /** Names annotated in the class body, in order (`n_embd: int = 768`): a dataclass's fields. */
  readonly annotations: string[] = [];

  /**
   * The torch layer this class derives from, directly or through a base of the same file
   * (`class WeightStandardizedConv2d(nn.Conv2d)`): `super().__init__(...)` builds it, and its
   * parameters, settings and `forward` become the instance's.
   */
  native: PyBuiltin | null = null;

  /** Method resolution order: depth first, left to right, each class once (enough for the single and simple multiple inheritance modules use). */
  mro(): PyClass[] {
    const out: PyClass[] = [];
    const visit = (c: PyClass) => {
      if (out.includes(c)) return;
      out.push(c);
      c.bases.forEach(visit);
    };
    visit(this);
    return out;
  }

  lookup(name: string, after?: PyClass): PyValue | undefined {
    const mro = this.mro();
    const from = after ? mro.indexOf(after) + 1 : 0;
    for (const c of mro.slice(from)) if (c.dict.has(name)) return c.dict.get(name);
    return undefined;
  }
}

/** An instance of a user class that is not a module (a config object). */
export class PyInstance {
  readonly attrs = new Map<string, PyValue>();
  constructor(readonly cls: PyClass) {}
}

/** `super()` inside a method of `cls`, bound to `self`. */
export class PySuper {
  constructor(
    readonly cls: PyClass,
    readonly self: PyValue,
  ) {}
}

/** An imported module (`torch`, `torch.nn`, `F`, `math`): named attributes, anything else is unsupported by name. */
export class PyNamespace {
  constructor(
    readonly name: string,
    readonly attrs: ReadonlyMap<string, PyValue>,
  ) {}
}

/** Variables of one function call (or the file's globals); `parent` is the enclosing scope a nested function or comprehension reads through. */
export class Scope {
  readonly vars = new Map<string, PyValue>();
  constructor(readonly parent: Scope | null) {}
  lookup(name: string): PyValue | undefined {
    if (this.vars.has(name)) return this.vars.get(name);
    return this.parent?.lookup(name);
  }
}

/**
 * An instance of a user's `nn.Module` subclass. Submodules, parameters and buffers are own
 * properties (as the runtime's modules keep them, so `stateDict` finds them in assignment
 * order); every other attribute lives in `attrs`. `forward` runs the class's Python `forward`
 * through the interpreter that built it.
 */
export class UserModule extends Module {
  readonly attrs = new Map<string, PyValue>();
  /** The Python names kept as own properties (submodules, parameters, buffers). */
  readonly slots = new Set<string>();
  constructor(
    readonly cls: PyClass,
    private readonly run: (self: UserModule, args: PyValue[], kw: ReadonlyMap<string, PyValue>) => PyValue,
  ) {
    super();
  }

  override get typeName(): string {
    return this.cls.name;
  }

  /** Parameters and buffers as any module's, then the tensors among the other attributes (`self.freqs_cis`, a list of masks). */
  protected override moveOwn(device: Backend, moved: Map<Tensor, Tensor>): void {
    super.moveOwn(device, moved);
    for (const [k, v] of this.attrs) this.attrs.set(k, moveValue(v, device, moved));
  }

  forward(...args: unknown[]): unknown {
    const last = args[args.length - 1];
    if (last instanceof Kwargs) return this.run(this, args.slice(0, -1) as PyValue[], last.map);
    return this.run(this, args as PyValue[], new Map());
  }
}

/**
 * `v` with every tensor it holds on `device` (`.to(device)` of the user's tensors, modules and
 * containers of them): tensors and complex tensors are copied (each once, through `moved`),
 * lists and dicts updated in place (they are mutable and may be shared), tuples rebuilt, modules
 * and a config object's attributes moved in place; anything else is returned as it is.
 */
export function moveValue(v: PyValue, device: Backend, moved: Map<Tensor, Tensor> = new Map(), seen: Set<object> = new Set()): PyValue {
  if (v instanceof Tensor) return movedTensor(v, device, moved);
  if (v instanceof PyComplex) return new PyComplex(movedTensor(v.re, device, moved), movedTensor(v.im, device, moved));
  if (v === null || typeof v !== 'object' || seen.has(v)) return v;
  seen.add(v);
  if (Array.isArray(v)) {
    v.forEach((x, i) => (v[i] = moveValue(x, device, moved, seen)));
    return v;
  }
  if (v instanceof PyTuple) return new PyTuple(v.items.map((x) => moveValue(x, device, moved, seen)));
  if (v instanceof PyDict) {
    for (const [k, x] of v.map) v.map.set(k, moveValue(x, device, moved, seen));
    return v;
  }
  if (v instanceof Module) return v.to(device, moved);
  if (v instanceof PyInstance) for (const [k, x] of v.attrs) v.attrs.set(k, moveValue(x, device, moved, seen));
  return v;
}

/** Python's name of a value's type, for messages. */
export function typeName(v: PyValue | undefined): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'NoneType';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PyDict) return 'dict';
  if (v instanceof PySlice) return 'slice';
  if (v instanceof Module) return v.typeName;
  if (v instanceof PyClass) return 'type';
  if (v instanceof PyInstance) return v.cls.name;
  if (v instanceof PyNamespace) return 'module';
  if (v instanceof PyBuiltin || v instanceof PyFunction || v instanceof PyBoundMethod) return 'function';
  if (v instanceof PyToken) return v.name;
  if (v instanceof PySuper) return 'super';
  if (v instanceof PyEllipsis) return 'ellipsis';
  return 'Tensor';
}

/** `str(v)` for messages and f-strings. */
export function pyStr(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v > 0 ? 'inf' : v < 0 ? '-inf' : 'nan';
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (v instanceof PyTuple) return v.items.length === 1 ? `(${pyRepr(v.items[0])},)` : `(${v.items.map(pyRepr).join(', ')})`;
  if (v instanceof PyToken) return v.name;
  if (v instanceof Module) return `${v.typeName}()`;
  if (v instanceof PyClass) return `<class '${v.name}'>`;
  const t = v as Tensor;
  if ('shape' in t && Array.isArray(t.shape)) return `tensor of shape (${t.shape.join(', ')})`;
  return `<${typeName(v)}>`;
}

function pyRepr(v: PyValue): string {
  return typeof v === 'string' ? `'${v}'` : pyStr(v);
}

/** An integer argument, or Python's TypeError naming the argument. */
export function asInt(v: PyValue | undefined, what: string): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw pyError('TypeError', `${what} must be an int, not ${typeName(v)}${typeof v === 'number' ? ` (${v})` : ''}`);
  return v;
}

export function asNumber(v: PyValue | undefined, what: string): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'number') throw pyError('TypeError', `${what} must be a number, not ${typeName(v)}`);
  return v;
}

/** The items of a list or tuple argument. */
export function asSequence(v: PyValue | undefined, what: string): readonly PyValue[] {
  if (Array.isArray(v)) return v;
  if (v instanceof PyTuple) return v.items;
  throw pyError('TypeError', `${what} must be a tuple or list, not ${typeName(v)}`);
}
