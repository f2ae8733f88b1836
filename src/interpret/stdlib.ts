/**
 * The Python libraries beside torch that module files import, as data like `surface.ts`:
 * `einops` (and `einops.layers.torch`) on the runtime's einops, `dataclasses` (config classes),
 * `functools.partial`, `copy.deepcopy` (modules cloned for stacks of layers), `typing` and
 * `collections` names, and the context managers and decorators that change nothing on an
 * inference run (`torch.no_grad`, `torch.jit.script`, ...). A name that is not here is
 * unsupported, by name.
 */

import { einops, nn, stack, Tensor } from '../runtime/index';
import { Module, Parameter } from '../runtime/nn/module';
import { pyError, unsupported } from './errors';
import { asTensor, type Host } from './surface';
import { asInt, PyBuiltin, PyClass, PyDict, PyFunction, PyInstance, PyNamespace, PyToken, PyTuple, typeName, UserModule, type Args, type PyValue } from './values';

/** The value of a `with` item or decorator that changes nothing here (`torch.no_grad()`, `torch.autocast(...)`). */
export class PyContext extends PyToken {}

/** `dataclasses.field(default=..., default_factory=...)` as a class attribute. */
export class PyField extends PyToken {
  constructor(
    readonly dflt: PyValue | undefined,
    readonly factory: PyValue | undefined,
  ) {
    super('dataclasses.field');
  }
}

function fn(name: string, call: (a: Args) => PyValue): PyBuiltin {
  return new PyBuiltin(name, call);
}

function ns(name: string, entries: Record<string, PyValue>): PyNamespace {
  return new PyNamespace(name, new Map(Object.entries(entries)));
}

/** A namespace where every name is a token (typing's names, only ever used in annotations). */
class Tokens extends Map<string, PyValue> {
  constructor(private readonly prefix: string) {
    super();
  }
  override get(k: string): PyValue {
    return new PyToken(`${this.prefix}.${k}`);
  }
  override has(): boolean {
    return true;
  }
}

/** A decorator or context manager with no effect on inference: `@torch.no_grad()`, `@torch.no_grad`, `with torch.no_grad():`. */
export function context(name: string): PyBuiltin {
  return fn(name, (a) => (a.pos.length === 1 && a.kw.size === 0 && (a.pos[0] instanceof PyFunction || a.pos[0] instanceof PyBuiltin) ? a.pos[0] : new PyContext(`${name}()`)));
}

/** Identity decorators (`torch.jit.script`, `functools.wraps(f)`, `lru_cache(maxsize=None)`), with or without arguments. */
function identityDecorator(name: string): PyBuiltin {
  return fn(name, (a) => (a.pos.length === 1 && a.kw.size === 0 && (a.pos[0] instanceof PyFunction || a.pos[0] instanceof PyClass) ? a.pos[0] : fn(name, (b) => b.pos[0] ?? null)));
}

/** Positional-or-keyword `axes_lengths` of einops: the keyword arguments, as ints. */
function axesLengths(kw: ReadonlyMap<string, PyValue>, skip: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of kw) if (!skip.includes(k)) out.set(k, asInt(v, k));
  return out;
}

/** einops accepts a list of tensors, stacked on a new first axis. */
function einopsInput(v: PyValue | undefined): Tensor {
  if (Array.isArray(v) || v instanceof PyTuple) return stack((Array.isArray(v) ? v : v.items).map((t) => asTensor(t, 'tensor')), 0);
  return asTensor(v, 'tensor');
}

/** An einops reduction: its name, or a callable that einops calls as `f(x, reduced_axes)`. */
function reduction(v: PyValue | undefined, host: Host): string | einops.ReductionFn {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) throw pyError('TypeError', 'einops.reduce needs a reduction');
  return (x, axes) => asTensor(host.call(v, [x, new PyTuple(axes)]), 'the reduction result');
}

function patternArg(v: PyValue | undefined): string {
  if (typeof v !== 'string') throw pyError('TypeError', `pattern must be a str, not ${typeName(v)}`);
  return v;
}

/** A deep copy of a value as `copy.deepcopy` makes it: tensors cloned, modules and containers rebuilt, classes and functions shared. */
export function deepcopy(v: PyValue, memo = new Map<unknown, unknown>()): PyValue {
  if (v === null || typeof v !== 'object') return v;
  if (memo.has(v)) return memo.get(v) as PyValue;
  if (v instanceof Parameter) {
    const p = new nn.Parameter(v.clone());
    memo.set(v, p);
    return p;
  }
  if (v instanceof Tensor) {
    const t = v.clone();
    memo.set(v, t);
    return t;
  }
  if (Array.isArray(v)) {
    const out: PyValue[] = [];
    memo.set(v, out);
    for (const x of v) out.push(deepcopy(x, memo));
    return out;
  }
  if (v instanceof PyTuple) return new PyTuple(v.items.map((x) => deepcopy(x, memo)));
  if (v instanceof PyDict) {
    const d = new PyDict();
    memo.set(v, d);
    for (const [k, x] of v.map) d.map.set(k, deepcopy(x, memo));
    return d;
  }
  if (v instanceof PyInstance) {
    const o = new PyInstance(v.cls);
    memo.set(v, o);
    for (const [k, x] of v.attrs) o.attrs.set(k, deepcopy(x, memo));
    return o;
  }
  if (v instanceof Module) return copyObject(v, memo) as Module;
  // Classes, functions, namespaces, tokens: shared, as Python's deepcopy shares them.
  return v;
}

/** A module rebuilt field by field: its own properties copied deeply (maps and sets of buffers, children, attributes included). */
function copyObject(o: object, memo: Map<unknown, unknown>): object {
  const c = Object.create(Object.getPrototypeOf(o)) as Record<string, unknown>;
  memo.set(o, c);
  for (const key of Reflect.ownKeys(o)) {
    const d = Object.getOwnPropertyDescriptor(o, key)!;
    if ('value' in d) d.value = copyField(d.value, memo);
    Object.defineProperty(c, key, d);
  }
  return c;
}

function copyField(x: unknown, memo: Map<unknown, unknown>): unknown {
  if (x instanceof Map) {
    if (memo.has(x)) return memo.get(x);
    const m = new Map();
    memo.set(x, m);
    for (const [k, y] of x) m.set(k, copyField(y, memo));
    return m;
  }
  if (x instanceof Set) return new Set(x);
  if (x instanceof Tensor || x instanceof Module || Array.isArray(x) || x instanceof PyTuple || x instanceof PyDict || x instanceof PyInstance) return deepcopy(x as PyValue, memo);
  return x;
}

/** The fields of a dataclass in definition order, base classes first. */
function dataclassFields(cls: PyClass): string[] {
  const out: string[] = [];
  for (const c of cls.mro().reverse()) for (const f of c.annotations) if (!out.includes(f)) out.push(f);
  return out;
}

export function makeStdlib(host: Host): Record<string, PyNamespace> {
  const dataclass = (cls: PyClass): PyClass => {
    const fields = dataclassFields(cls);
    cls.dict.set(
      '__init__',
      fn(`${cls.name}.__init__`, (a) => {
        const [self, ...pos] = a.pos;
        if (!(self instanceof PyInstance || self instanceof UserModule)) throw pyError('TypeError', `${cls.name}.__init__ needs an instance`);
        if (pos.length > fields.length) throw pyError('TypeError', `__init__() takes ${fields.length + 1} positional arguments but ${pos.length + 1} were given`);
        for (const k of a.kw.keys()) if (!fields.includes(k)) throw pyError('TypeError', `__init__() got an unexpected keyword argument '${k}'`);
        fields.forEach((f, i) => {
          let v: PyValue | undefined = i < pos.length ? pos[i] : a.kw.get(f);
          if (v === undefined) {
            const d = cls.lookup(f);
            if (d instanceof PyField) v = d.factory !== undefined ? host.call(d.factory, []) : d.dflt;
            else v = d;
          }
          if (v === undefined) throw pyError('TypeError', `__init__() missing 1 required positional argument: '${f}'`);
          if (self instanceof PyInstance) self.attrs.set(f, v);
          else self.attrs.set(f, v);
        });
        if (cls.lookup('__post_init__') !== undefined) host.call(host.getAttr(self, '__post_init__'), []);
        return null;
      }),
    );
    return cls;
  };

  const einopsNs = ns('einops', {
    rearrange: fn('einops.rearrange', (a) => einops.rearrange(einopsInput(a.pos[0] ?? a.kw.get('tensor')), patternArg(a.pos[1] ?? a.kw.get('pattern')), axesLengths(a.kw, ['tensor', 'pattern']))),
    repeat: fn('einops.repeat', (a) => einops.repeat(einopsInput(a.pos[0] ?? a.kw.get('tensor')), patternArg(a.pos[1] ?? a.kw.get('pattern')), axesLengths(a.kw, ['tensor', 'pattern']))),
    reduce: fn('einops.reduce', (a) => {
      const red = a.pos[2] ?? a.kw.get('reduction');
      return einops.reduce(einopsInput(a.pos[0] ?? a.kw.get('tensor')), patternArg(a.pos[1] ?? a.kw.get('pattern')), reduction(red, host), axesLengths(a.kw, ['tensor', 'pattern', 'reduction']));
    }),
    pack: fn('einops.pack', (a) => {
      const ts = host.iterate(a.pos[0] ?? a.kw.get('tensors') ?? null).map((t) => asTensor(t, 'tensors'));
      const [packed, shapes] = einops.pack(ts, patternArg(a.pos[1] ?? a.kw.get('pattern')));
      return new PyTuple([packed, shapes.map((sh) => new PyTuple(sh))]);
    }),
    unpack: fn('einops.unpack', (a) => {
      const shapes = host.iterate(a.pos[1] ?? a.kw.get('packed_shapes') ?? null).map((sh) => host.iterate(sh).map((d) => asInt(d, 'packed_shapes')));
      return einops.unpack(asTensor(a.pos[0] ?? a.kw.get('tensor'), 'tensor'), shapes, patternArg(a.pos[2] ?? a.kw.get('pattern')));
    }),
    einsum: fn('einops.einsum', (a) => {
      const pattern = patternArg(a.pos[a.pos.length - 1]);
      return einops.einsum(pattern, ...a.pos.slice(0, -1).map((t) => asTensor(t, 'tensor')));
    }),
  });
  const layers = ns('einops.layers.torch', {
    Rearrange: new PyBuiltin('einops.layers.torch.Rearrange', (a) => new einops.Rearrange(patternArg(a.pos[0] ?? a.kw.get('pattern')), axesLengths(a.kw, ['pattern'])), einops.Rearrange),
    Reduce: new PyBuiltin('einops.layers.torch.Reduce', (a) => {
      const red = a.pos[1] ?? a.kw.get('reduction');
      if (typeof red !== 'string') throw unsupported(`Reduce with a ${typeName(red)} reduction (mean, sum, max, min)`);
      return new einops.Reduce(patternArg(a.pos[0] ?? a.kw.get('pattern')), red, axesLengths(a.kw, ['pattern', 'reduction']));
    }, einops.Reduce),
  });

  const dataclasses = ns('dataclasses', {
    dataclass: fn('dataclasses.dataclass', (a) => {
      if (a.pos[0] instanceof PyClass) return dataclass(a.pos[0]);
      // `@dataclass(frozen=True)`: the options change nothing here.
      return fn('dataclasses.dataclass', (b) => {
        if (!(b.pos[0] instanceof PyClass)) throw pyError('TypeError', 'dataclass() should be called on a class');
        return dataclass(b.pos[0]);
      });
    }),
    field: fn('dataclasses.field', (a) => new PyField(a.kw.get('default'), a.kw.get('default_factory'))),
  });

  const functools = ns('functools', {
    partial: fn('functools.partial', (a) => {
      const [f, ...bound] = a.pos;
      if (f === undefined) throw pyError('TypeError', 'partial() takes at least one argument');
      return fn(`functools.partial(${typeName(f)})`, (b) => host.call(f, [...bound, ...b.pos], new Map([...a.kw, ...b.kw])));
    }),
    wraps: identityDecorator('functools.wraps'),
    lru_cache: identityDecorator('functools.lru_cache'),
    cache: identityDecorator('functools.cache'),
  });

  const copy = ns('copy', {
    deepcopy: fn('copy.deepcopy', (a) => deepcopy(a.pos[0] ?? null)),
    copy: fn('copy.copy', (a) => {
      const v = a.pos[0] ?? null;
      if (Array.isArray(v)) return [...v];
      if (v instanceof PyDict) return new PyDict(new Map(v.map));
      if (v instanceof Module || v instanceof PyInstance) throw unsupported('copy.copy of an object (copy.deepcopy is supported)');
      return v;
    }),
  });

  const collections = ns('collections', {
    OrderedDict: fn('collections.OrderedDict', (a) => {
      const d = new PyDict();
      if (a.pos[0] !== undefined) {
        if (a.pos[0] instanceof PyDict) for (const [k, v] of a.pos[0].map) d.map.set(k, v);
        else
          for (const item of host.iterate(a.pos[0])) {
            const [k, v] = item instanceof PyTuple ? item.items : Array.isArray(item) ? item : [];
            if (typeof k !== 'string' && typeof k !== 'number') throw unsupported('OrderedDict with keys that are not str or int');
            d.map.set(k, v);
          }
      }
      for (const [k, v] of a.kw) d.map.set(k, v);
      return d;
    }),
  });

  // `argparse.Namespace(d_model=512, ...)`: the configuration objects of script-style code bases.
  const namespaceClass = new PyClass('Namespace', [], false, new Map(), 0);
  namespaceClass.dict.set(
    '__init__',
    fn('Namespace.__init__', (a) => {
      const self = a.pos[0];
      if (!(self instanceof PyInstance)) throw pyError('TypeError', 'Namespace.__init__ needs an instance');
      if (a.pos.length > 1) throw pyError('TypeError', 'Namespace() takes only keyword arguments');
      for (const [k, v] of a.kw) self.attrs.set(k, v);
      return null;
    }),
  );
  const namespaceOf = (values: ReadonlyMap<string, PyValue>): PyInstance => {
    const n = new PyInstance(namespaceClass);
    for (const [k, v] of values) n.attrs.set(k, v);
    return n;
  };
  // `ArgumentParser`: `add_argument('--name', type=..., default=...)` then `parse_args([...])`, which
  // gives the defaults, overridden by `--name value` pairs in the list (never the process's argv).
  const argumentParser = fn('argparse.ArgumentParser', () => {
    const defaults = new Map<string, PyValue>();
    const types = new Map<string, PyValue>();
    const parse = (a: Args): PyValue => {
      const values = new Map(defaults);
      const argv = a.pos[0] ?? a.kw.get('args');
      if (argv !== undefined && argv !== null) {
        const items = host.iterate(argv).map(String);
        for (let i = 0; i < items.length; i++) {
          const key = items[i].replace(/^--?/, '').replace(/-/g, '_');
          if (!defaults.has(key)) throw pyError('SystemExit', `unrecognized arguments: ${items[i]}`);
          const raw = items[++i];
          const t = types.get(key);
          values.set(key, t === undefined || t === null ? (raw ?? null) : host.call(t, [raw ?? '']));
        }
      }
      return namespaceOf(values);
    };
    return ns('argparse.ArgumentParser', {
      add_argument: fn('ArgumentParser.add_argument', (a) => {
        const flag = [...a.pos].map(String).find((f) => f.startsWith('--')) ?? String(a.pos[0]);
        const dest = typeof a.kw.get('dest') === 'string' ? (a.kw.get('dest') as string) : flag.replace(/^--?/, '').replace(/-/g, '_');
        const action = a.kw.get('action');
        defaults.set(dest, a.kw.has('default') ? a.kw.get('default')! : action === 'store_true' ? false : action === 'store_false' ? true : null);
        types.set(dest, a.kw.get('type') ?? null);
        return null;
      }),
      parse_args: fn('ArgumentParser.parse_args', parse),
      parse_known_args: fn('ArgumentParser.parse_known_args', (a) => new PyTuple([parse(a), []])),
    });
  });
  const argparse = ns('argparse', { Namespace: namespaceClass, ArgumentParser: argumentParser });

  const typing = new PyNamespace('typing', new Tokens('typing'));
  return {
    einops: einopsNs,
    'einops.layers.torch': layers,
    dataclasses,
    functools,
    copy,
    collections,
    argparse,
    typing,
    typing_extensions: new PyNamespace('typing_extensions', new Tokens('typing_extensions')),
    warnings: ns('warnings', { warn: fn('warnings.warn', () => null) }),
  };
}
