/**
 * The torch surface the interpreter knows, as data: `torch.*`, `torch.nn.*` (layers built as the
 * runtime's `nn` classes, so their state_dict keys are torch's), `torch.nn.functional.*`,
 * `torch.nn.init.*`, `math.*`, the Python builtins a module uses, and the `Tensor` methods and
 * attributes. Every entry binds Python's arguments (positional and keyword, with torch's
 * parameter names and defaults) and calls the runtime: no op is computed here, so the kernels,
 * their errors and their tolerances are the runtime's. A name that is not in these tables is
 * unsupported, by name.
 *
 * This module does not walk syntax; the interpreter calls it with evaluated values.
 */

import { arange, cat, einsum, F, full, Generator, linspace, meshgrid, nn, ones, rand, randn, stack, Tensor, tensor, tril, triu, where, zeros, type Backend, type DType } from '../runtime/index';
import type { Node } from '../analysis/parse';
import { Module } from '../runtime/nn/module';
import { pyError, PyRaise, unsupported } from './errors';
import { context } from './stdlib';
import { polar, viewAsComplex, viewAsReal } from './complex';
import { asInt, asNumber, asSequence, PyBoundMethod, PyBuiltin, PyClass, PyComplex, PyDict, PyEllipsis, PyFunction, PyInstance, PyNamespace, PySlice, PyToken, PyTuple, pyStr, typeName, UserModule, type Args, type PyValue } from './values';

/** What the surface needs from the interpreter. */
export interface Host {
  readonly generator: Generator;
  readonly device: Backend;
  call(f: PyValue, pos: PyValue[], kw?: ReadonlyMap<string, PyValue>): PyValue;
  iterate(v: PyValue): PyValue[];
  getAttr(v: PyValue, name: string): PyValue;
  hasAttr(v: PyValue, name: string): boolean;
  /** `setattr(v, name, value)` at the statement being run. */
  setAttribute(v: PyValue, name: string, value: PyValue): void;
  /** The call expression being evaluated, when the builtin was called from one. */
  currentCall?(): Node | null;
}

/**
 * Whether the expression can produce a Python float where the value is a whole number (`2.0`,
 * `4 / 2`, `float(n)`, `math.sqrt(4)`): values are JavaScript numbers, so a whole number's
 * Python type is read from how it was written.
 */
function floatSyntax(n: Node): boolean {
  if (n.type === 'float') return true;
  if (n.type === 'binary_operator' && ['/', '**'].includes(n.childForFieldName('operator')?.text ?? '')) return true;
  if (n.type === 'call' && /^(float|math\.|np\.)/.test(n.childForFieldName('function')?.text ?? '')) return true;
  return n.namedChildren.some(floatSyntax);
}

/**
 * Binds a call's arguments to parameter names: `name` (required), `name=` (optional), `*name`
 * (the remaining positional ones, as an array). Unknown keywords and surplus or missing
 * arguments are Python's TypeError.
 */
export function bind(fname: string, params: readonly string[], a: Args): Map<string, PyValue | undefined> {
  const out = new Map<string, PyValue | undefined>();
  let i = 0;
  for (const p of params) {
    if (p.startsWith('*')) {
      out.set(p.slice(1), a.pos.slice(i) as PyValue[]);
      i = a.pos.length;
      continue;
    }
    const name = p.endsWith('=') ? p.slice(0, -1) : p;
    if (i < a.pos.length) {
      if (a.kw.has(name)) throw pyError('TypeError', `${fname}() got multiple values for argument '${name}'`);
      out.set(name, a.pos[i++]);
    } else if (a.kw.has(name)) out.set(name, a.kw.get(name));
    else if (!p.endsWith('=')) throw pyError('TypeError', `${fname}() missing required argument '${name}'`);
  }
  if (i < a.pos.length) throw pyError('TypeError', `${fname}() takes ${params.length} positional arguments but ${a.pos.length} were given`);
  for (const k of a.kw.keys()) if (!out.has(k) && !params.some((p) => p === k || p === `${k}=`)) throw pyError('TypeError', `${fname}() got an unexpected keyword argument '${k}'`);
  return out;
}

function isTensor(v: PyValue | undefined): v is Tensor {
  return v instanceof Tensor;
}

export function asTensor(v: PyValue | undefined, what: string): Tensor {
  if (!isTensor(v)) throw pyError('TypeError', `${what} must be a Tensor, not ${typeName(v)}`);
  return v;
}

function optTensor(v: PyValue | undefined, what: string): Tensor | null {
  return v === undefined || v === null ? null : asTensor(v, what);
}

function optNumber(v: PyValue | undefined, what: string): number | undefined {
  return v === undefined || v === null ? undefined : asNumber(v, what);
}

function asBool(v: PyValue | undefined, def: boolean): boolean {
  return v === undefined || v === null ? def : Boolean(v);
}

/** An int or a tuple of ints (kernel sizes, strides, output sizes). */
function intOrTuple(v: PyValue | undefined, what: string): number | number[] {
  if (typeof v === 'number') return asInt(v, what);
  return asSequence(v, what).map((x) => asInt(x, what));
}

/** `view(2, 3)`, `view((2, 3))`, `view([2, 3])`: the sizes of a shape-taking method. */
function sizes(v: readonly PyValue[], what: string): number[] {
  if (v.length === 1 && (Array.isArray(v[0]) || v[0] instanceof PyTuple)) return asSequence(v[0], what).map((x) => asInt(x, what));
  return v.map((x) => asInt(x, what));
}

/** A `dim` that may be one int or a tuple of ints (reductions). */
function dims(v: PyValue | undefined): number | number[] | undefined {
  if (v === undefined || v === null) return undefined;
  return intOrTuple(v, 'dim');
}

// int32, int16 and uint8 compute as int64 (the same values; the runtime's one integer dtype).
const DTYPES: Record<string, DType> = { float32: 'float32', float: 'float32', int64: 'int64', long: 'int64', int32: 'int64', int: 'int64', int16: 'int64', uint8: 'int64', bool: 'bool' };

function dtypeOf(v: PyValue | undefined): DType | undefined {
  if (v === undefined || v === null) return undefined;
  if (v instanceof PyToken && v.name.startsWith('torch.')) {
    const d = DTYPES[v.name.slice(6)];
    if (d) return d;
  }
  throw unsupported(`dtype ${v instanceof PyToken ? v.name : typeName(v)} (the runtime computes in float32, int64 and bool)`);
}

function tuple(ts: readonly PyValue[]): PyTuple {
  return new PyTuple(ts);
}

type Fn = (a: Args) => PyValue;

function ns(name: string, entries: Record<string, PyValue>): PyNamespace {
  return new PyNamespace(name, new Map(Object.entries(entries)));
}

function fn(name: string, call: Fn, cls?: abstract new (...a: never[]) => unknown): PyBuiltin {
  return new PyBuiltin(name, call, cls);
}

/** A runtime `nn` layer class: Python's arguments bound by torch's names, built with the run's generator and device. */
function layer(name: string, params: readonly string[], build: (b: Map<string, PyValue | undefined>) => Module, cls: abstract new (...a: never[]) => unknown): PyBuiltin {
  return fn(`nn.${name}`, (a) => build(bind(`nn.${name}`, params, a)), cls);
}

/**
 * `torch.multinomial`: draws from the run's generator (the shape is torch's, the draws are not
 * torch's), reading the probabilities on the host.
 */
function multinomial(p: Tensor, n: number, replacement: boolean, g: Generator): Tensor {
  if (p.ndim < 1 || p.ndim > 2) throw pyError('RuntimeError', 'prob_dist must be 1 or 2 dim');
  const rows = p.ndim === 1 ? 1 : p.shape[0];
  const k = p.shape[p.ndim - 1];
  if (!replacement && n > k) throw pyError('RuntimeError', 'cannot sample n_sample > prob_dist.size(-1) samples without replacement');
  const data = p.contiguous().dataSync();
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    const w = Array.from(data.subarray(r * k, (r + 1) * k));
    if (w.some((x) => x < 0 || !Number.isFinite(x))) throw pyError('RuntimeError', 'probability tensor contains either `inf`, `nan` or element < 0');
    for (let i = 0; i < n; i++) {
      const total = w.reduce((s, x) => s + x, 0);
      if (total <= 0) throw pyError('RuntimeError', 'invalid multinomial distribution (sum of probabilities <= 0)');
      let u = g.uniform(0, 1) * total;
      let j = 0;
      while (j < k - 1 && (u -= w[j]) >= 0) j++;
      out.push(j);
      if (!replacement) w[j] = 0;
    }
  }
  return tensor(out, { dtype: 'int64', device: p.device }).reshape(p.ndim === 1 ? [n] : [rows, n]);
}

/** `kw` without one key. */
function without(kw: ReadonlyMap<string, PyValue>, key: string): Map<string, PyValue> {
  return new Map([...kw].filter(([k]) => k !== key));
}

/** `kw` minus the keys whose value was not given, for the runtime's option objects. */
function opts<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The namespaces a Python file can import: `torch` (with `nn`, `nn.functional`, `nn.init`) and `math`. */
export function makeSurface(host: Host): { torch: PyNamespace; nn: PyNamespace; F: PyNamespace; init: PyNamespace; jit: PyNamespace; utils: PyNamespace; math: PyNamespace; builtins: Map<string, PyValue> } {
  const g = host.generator;
  // The device is read at each call, not captured: `Interpreter.to(device)` moves a run after
  // its modules were built (on the CPU, where in-place initialisation reads synchronously).
  const fo = {
    generator: g,
    get device(): Backend {
      return host.device;
    },
  };
  const t1 = (name: string, f: (t: Tensor) => Tensor) => fn(name, (a) => f(asTensor(bind(name, ['input', 'inplace='], a).get('input'), 'input')));

  const functional = ns('torch.nn.functional', {
    softmax: fn('F.softmax', (a) => {
      const b = bind('softmax', ['input', 'dim=', '_stacklevel=', 'dtype='], a);
      if (b.get('dim') === undefined || b.get('dim') === null) throw unsupported('F.softmax without dim (implicit dim choice is deprecated in torch)');
      return asTensor(b.get('input'), 'input').softmax(asInt(b.get('dim'), 'dim'));
    }),
    cross_entropy: fn('F.cross_entropy', (a) => {
      const b = bind('cross_entropy', ['input', 'target', 'weight=', 'size_average=', 'ignore_index=', 'reduce=', 'reduction=', 'label_smoothing='], a);
      if (b.get('weight') !== undefined && b.get('weight') !== null) throw unsupported('F.cross_entropy with class weights');
      if ((optNumber(b.get('label_smoothing'), 'label_smoothing') ?? 0) !== 0) throw unsupported('F.cross_entropy with label_smoothing');
      const reduction = b.get('reduction') ?? 'mean';
      if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') throw pyError('ValueError', `${String(reduction)} is not a valid value for reduction`);
      return F.crossEntropy(asTensor(b.get('input'), 'input'), asTensor(b.get('target'), 'target'), optNumber(b.get('ignore_index'), 'ignore_index') ?? -100, reduction as 'mean' | 'sum' | 'none');
    }),
    log_softmax: fn('F.log_softmax', (a) => {
      const b = bind('log_softmax', ['input', 'dim=', '_stacklevel=', 'dtype='], a);
      return asTensor(b.get('input'), 'input').logSoftmax(asInt(b.get('dim'), 'dim'));
    }),
    relu: t1('F.relu', (t) => t.relu()),
    sigmoid: t1('F.sigmoid', (t) => t.sigmoid()),
    tanh: t1('F.tanh', (t) => t.tanh()),
    silu: t1('F.silu', (t) => t.silu()),
    hardswish: t1('F.hardswish', (t) => t.hardswish()),
    gelu: fn('F.gelu', (a) => {
      const b = bind('gelu', ['input', 'approximate='], a);
      return asTensor(b.get('input'), 'input').gelu((b.get('approximate') as 'none' | 'tanh' | undefined) ?? 'none');
    }),
    linear: fn('F.linear', (a) => {
      const b = bind('linear', ['input', 'weight', 'bias='], a);
      return F.linear(asTensor(b.get('input'), 'input'), asTensor(b.get('weight'), 'weight'), optTensor(b.get('bias'), 'bias'));
    }),
    dropout: fn('F.dropout', (a) => {
      const b = bind('dropout', ['input', 'p=', 'training=', 'inplace='], a);
      return F.dropout(asTensor(b.get('input'), 'input'), optNumber(b.get('p'), 'p') ?? 0.5, asBool(b.get('training'), true));
    }),
    layer_norm: fn('F.layer_norm', (a) => {
      const b = bind('layer_norm', ['input', 'normalized_shape', 'weight=', 'bias=', 'eps='], a);
      return F.layerNorm(asTensor(b.get('input'), 'input'), intOrTuple(b.get('normalized_shape'), 'normalized_shape'), optTensor(b.get('weight'), 'weight'), optTensor(b.get('bias'), 'bias'), optNumber(b.get('eps'), 'eps') ?? 1e-5);
    }),
    scaled_dot_product_attention: fn('F.scaled_dot_product_attention', (a) => {
      const b = bind('scaled_dot_product_attention', ['query', 'key', 'value', 'attn_mask=', 'dropout_p=', 'is_causal=', 'scale='], a);
      return F.scaledDotProductAttention(asTensor(b.get('query'), 'query'), asTensor(b.get('key'), 'key'), asTensor(b.get('value'), 'value'), {
        attnMask: optTensor(b.get('attn_mask'), 'attn_mask'),
        dropoutP: optNumber(b.get('dropout_p'), 'dropout_p') ?? 0,
        isCausal: asBool(b.get('is_causal'), false),
        scale: optNumber(b.get('scale'), 'scale') ?? null,
      });
    }),
    pad: fn('F.pad', (a) => {
      const b = bind('pad', ['input', 'pad', 'mode=', 'value='], a);
      const mode = b.get('mode') ?? 'constant';
      if (mode === 'reflect' || mode === 'replicate' || mode === 'circular') return F.padMode(asTensor(b.get('input'), 'input'), asSequence(b.get('pad'), 'pad').map((x) => asInt(x, 'pad')), mode as 'reflect' | 'replicate' | 'circular');
      if (mode !== 'constant') throw pyError('NotImplementedError', `Unrecognised padding mode ${String(mode)}`);
      return F.pad(asTensor(b.get('input'), 'input'), asSequence(b.get('pad'), 'pad').map((x) => asInt(x, 'pad')), optNumber(b.get('value'), 'value') ?? 0);
    }),
    adaptive_avg_pool1d: fn('F.adaptive_avg_pool1d', (a) => F.adaptiveAvgPool1d(asTensor(a.pos[0], 'input'), intOrTuple(a.pos[1] ?? a.kw.get('output_size'), 'output_size'))),
    adaptive_avg_pool2d: fn('F.adaptive_avg_pool2d', (a) => F.adaptiveAvgPool2d(asTensor(a.pos[0], 'input'), intOrTuple(a.pos[1] ?? a.kw.get('output_size'), 'output_size'))),
    adaptive_max_pool2d: fn('F.adaptive_max_pool2d', (a) => F.adaptiveMaxPool2d(asTensor(a.pos[0], 'input'), intOrTuple(a.pos[1] ?? a.kw.get('output_size'), 'output_size'))),
    conv1d: fn('F.conv1d', (a) => conv(F.conv1d, 'conv1d', a)),
    relu6: t1('F.relu6', (t) => t.clampMin(0).clampMax(6)),
    elu: fn('F.elu', (a) => {
      const b = bind('elu', ['input', 'alpha=', 'inplace='], a);
      const x = asTensor(b.get('input'), 'input');
      const alpha = optNumber(b.get('alpha'), 'alpha') ?? 1;
      return where(x.gt(0), x, x.exp().sub(1).mul(alpha));
    }),
    avg_pool2d: fn('F.avg_pool2d', (a) => {
      const b = bind('avg_pool2d', ['input', 'kernel_size', 'stride=', 'padding=', 'ceil_mode=', 'count_include_pad=', 'divisor_override='], a);
      return F.avgPool2d(asTensor(b.get('input'), 'input'), intOrTuple(b.get('kernel_size'), 'kernel_size'), opts({ stride: b.get('stride') === undefined || b.get('stride') === null ? undefined : intOrTuple(b.get('stride'), 'stride'), padding: b.get('padding') === undefined ? undefined : intOrTuple(b.get('padding'), 'padding'), ceil_mode: b.get('ceil_mode') === undefined ? undefined : Boolean(b.get('ceil_mode')) }));
    }),
    max_pool2d: fn('F.max_pool2d', (a) => {
      const b = bind('max_pool2d', ['input', 'kernel_size', 'stride=', 'padding=', 'dilation=', 'ceil_mode=', 'return_indices='], a);
      return F.maxPool2d(asTensor(b.get('input'), 'input'), intOrTuple(b.get('kernel_size'), 'kernel_size'), opts({ stride: b.get('stride') === undefined || b.get('stride') === null ? undefined : intOrTuple(b.get('stride'), 'stride'), padding: b.get('padding') === undefined ? undefined : intOrTuple(b.get('padding'), 'padding'), ceil_mode: b.get('ceil_mode') === undefined ? undefined : Boolean(b.get('ceil_mode')) }));
    }),
    group_norm: fn('F.group_norm', (a) => {
      const b = bind('group_norm', ['input', 'num_groups', 'weight=', 'bias=', 'eps='], a);
      return F.groupNorm(asTensor(b.get('input'), 'input'), asInt(b.get('num_groups'), 'num_groups'), optTensor(b.get('weight'), 'weight'), optTensor(b.get('bias'), 'bias'), optNumber(b.get('eps'), 'eps') ?? 1e-5);
    }),
    embedding: fn('F.embedding', (a) => {
      const b = bind('embedding', ['input', 'weight', 'padding_idx=', 'max_norm=', 'norm_type=', 'scale_grad_by_freq=', 'sparse='], a);
      if (b.get('max_norm') !== undefined && b.get('max_norm') !== null) throw unsupported('F.embedding with max_norm');
      return F.embedding(asTensor(b.get('input'), 'input'), asTensor(b.get('weight'), 'weight'));
    }),
    conv2d: fn('F.conv2d', (a) => conv(F.conv2d, 'conv2d', a)),
    unfold: fn('F.unfold', (a) => {
      const b = bind('unfold', ['input', 'kernel_size', 'dilation=', 'padding=', 'stride='], a);
      const opt = (k: string) => (b.get(k) === undefined ? undefined : intOrTuple(b.get(k), k));
      return F.unfold(asTensor(b.get('input'), 'input'), intOrTuple(b.get('kernel_size'), 'kernel_size'), { dilation: opt('dilation'), padding: opt('padding'), stride: opt('stride') });
    }),
    interpolate: fn('F.interpolate', (a) => {
      const b = bind('interpolate', ['input', 'size=', 'scale_factor=', 'mode=', 'align_corners=', 'recompute_scale_factor=', 'antialias='], a);
      if (b.get('antialias') === true) throw unsupported('F.interpolate with antialias=True');
      if (b.get('recompute_scale_factor') === true) throw unsupported('F.interpolate with recompute_scale_factor=True');
      const seq = (v: PyValue | undefined, what: string) => (v === undefined || v === null ? null : typeof v === 'number' ? v : asSequence(v, what).map((x) => asNumber(x, what)));
      const mode = b.get('mode') ?? 'nearest';
      if (typeof mode !== 'string' || !['nearest', 'nearest-exact', 'linear', 'bilinear', 'bicubic', 'trilinear', 'area'].includes(mode)) throw unsupported(`F.interpolate mode '${String(mode)}'`);
      const ac = b.get('align_corners');
      return F.interpolate(asTensor(b.get('input'), 'input'), { size: seq(b.get('size'), 'size'), scaleFactor: seq(b.get('scale_factor'), 'scale_factor'), mode: mode as F.InterpolateMode, alignCorners: ac === undefined || ac === null ? null : Boolean(ac) });
    }),
    normalize: fn('F.normalize', (a) => {
      const b = bind('normalize', ['input', 'p=', 'dim=', 'eps=', 'out='], a);
      const x = asTensor(b.get('input'), 'input');
      const p = optNumber(b.get('p'), 'p') ?? 2;
      const dim = optNumber(b.get('dim'), 'dim') ?? 1;
      if (p !== 2 && p !== 1) throw unsupported(`F.normalize with p=${p} (only 1 and 2)`);
      const norm = p === 2 ? x.mul(x).sum(dim, true).sqrt() : x.abs().sum(dim, true);
      return x.div(norm.clampMin(optNumber(b.get('eps'), 'eps') ?? 1e-12));
    }),
  });

  const conv = (f: typeof F.conv2d, name: string, a: Args): Tensor => {
    const b = bind(name, ['input', 'weight', 'bias=', 'stride=', 'padding=', 'dilation=', 'groups='], a);
    const padding = b.get('padding');
    return f(asTensor(b.get('input'), 'input'), asTensor(b.get('weight'), 'weight'), optTensor(b.get('bias'), 'bias'), {
      stride: b.get('stride') === undefined ? undefined : intOrTuple(b.get('stride'), 'stride'),
      padding: padding === undefined ? undefined : typeof padding === 'string' ? (padding as 'same' | 'valid') : intOrTuple(padding, 'padding'),
      dilation: b.get('dilation') === undefined ? undefined : intOrTuple(b.get('dilation'), 'dilation'),
      groups: optNumber(b.get('groups'), 'groups'),
    });
  };

  const convLayer = (name: string, C: typeof nn.Conv2d) =>
    layer(
      name,
      ['in_channels', 'out_channels', 'kernel_size', 'stride=', 'padding=', 'dilation=', 'groups=', 'bias=', 'padding_mode=', 'device=', 'dtype='],
      (b) => {
        const padding = b.get('padding');
        return new C(asInt(b.get('in_channels'), 'in_channels'), asInt(b.get('out_channels'), 'out_channels'), intOrTuple(b.get('kernel_size'), 'kernel_size'), opts({
          ...fo,
          stride: b.get('stride') === undefined ? undefined : intOrTuple(b.get('stride'), 'stride'),
          padding: padding === undefined ? undefined : typeof padding === 'string' ? (padding as 'same' | 'valid') : intOrTuple(padding, 'padding'),
          dilation: b.get('dilation') === undefined ? undefined : intOrTuple(b.get('dilation'), 'dilation'),
          groups: optNumber(b.get('groups'), 'groups'),
          bias: b.get('bias') === undefined ? undefined : Boolean(b.get('bias')),
          padding_mode: b.get('padding_mode') as 'zeros' | undefined,
        }));
      },
      C,
    );
  const bnLayer = (name: string, C: typeof nn.BatchNorm2d) =>
    layer(name, ['num_features', 'eps=', 'momentum=', 'affine=', 'track_running_stats=', 'device=', 'dtype='], (b) => new C(asInt(b.get('num_features'), 'num_features'), opts({ ...fo, eps: optNumber(b.get('eps'), 'eps'), affine: b.get('affine') === undefined ? undefined : Boolean(b.get('affine')), track_running_stats: b.get('track_running_stats') === undefined ? undefined : Boolean(b.get('track_running_stats')) })), C);
  const simple = (name: string, C: new () => Module, params: readonly string[] = []) => layer(name, params, () => new C(), C);
  const adaptive = (name: string, C: typeof nn.AdaptiveAvgPool2d) =>
    layer(name, ['output_size'], (b) => {
      const v = b.get('output_size');
      // `(None, 1)`: None keeps that axis's input size.
      return new C(typeof v === 'number' ? asInt(v, 'output_size') : asSequence(v, 'output_size').map((x) => (x === null ? null : asInt(x, 'output_size'))));
    }, C);
  const pool = (name: string, C: typeof nn.MaxPool2d, params: readonly string[]) =>
    layer(name, ['kernel_size', ...params], (b) => new C(intOrTuple(b.get('kernel_size'), 'kernel_size'), opts({ stride: b.get('stride') === undefined || b.get('stride') === null ? undefined : intOrTuple(b.get('stride'), 'stride'), padding: b.get('padding') === undefined ? undefined : intOrTuple(b.get('padding'), 'padding'), ceil_mode: b.get('ceil_mode') === undefined ? undefined : Boolean(b.get('ceil_mode')) })), C);

  const modules = (v: readonly PyValue[], what: string): Module[] =>
    v.map((m) => {
      if (!(m instanceof Module)) throw pyError('TypeError', `${what}: ${typeName(m)} is not a Module subclass`);
      return m;
    });

  const initFn = (name: string, params: readonly string[], f: (t: Tensor, b: Map<string, PyValue | undefined>) => void) =>
    fn(`nn.init.${name}`, (a) => {
      const b = bind(name, ['tensor', ...params], a);
      const t = asTensor(b.get('tensor'), 'tensor');
      f(t, b);
      return t;
    });
  const init = ns('torch.nn.init', {
    zeros_: initFn('zeros_', [], (t) => nn.init.zeros_(t)),
    ones_: initFn('ones_', [], (t) => nn.init.ones_(t)),
    constant_: initFn('constant_', ['val'], (t, b) => nn.init.constant_(t, asNumber(b.get('val'), 'val'))),
    uniform_: initFn('uniform_', ['a=', 'b='], (t, b) => nn.init.uniform_(t, optNumber(b.get('a'), 'a') ?? 0, optNumber(b.get('b'), 'b') ?? 1, g)),
    normal_: initFn('normal_', ['mean=', 'std='], (t, b) => nn.init.normal_(t, optNumber(b.get('mean'), 'mean') ?? 0, optNumber(b.get('std'), 'std') ?? 1, g)),
    trunc_normal_: initFn('trunc_normal_', ['mean=', 'std=', 'a=', 'b='], (t, b) => nn.init.truncNormal_(t, opts({ mean: optNumber(b.get('mean'), 'mean'), std: optNumber(b.get('std'), 'std'), a: optNumber(b.get('a'), 'a'), b: optNumber(b.get('b'), 'b'), generator: g }))),
    xavier_uniform_: initFn('xavier_uniform_', ['gain='], (t, b) => nn.init.xavierUniform_(t, optNumber(b.get('gain'), 'gain') ?? 1, g)),
    kaiming_uniform_: initFn('kaiming_uniform_', ['a=', 'mode=', 'nonlinearity='], (t, b) => nn.init.kaimingUniform_(t, opts({ a: optNumber(b.get('a'), 'a'), generator: g }))),
  });

  const nnNs = ns('torch.nn', {
    Module: MODULE_BASE,
    Parameter: fn('nn.Parameter', (a) => new nn.Parameter(asTensor(bind('Parameter', ['data', 'requires_grad='], a).get('data'), 'data')), nn.Parameter),
    Linear: layer('Linear', ['in_features', 'out_features', 'bias=', 'device=', 'dtype='], (b) => new nn.Linear(asInt(b.get('in_features'), 'in_features'), asInt(b.get('out_features'), 'out_features'), opts({ ...fo, bias: b.get('bias') === undefined ? undefined : Boolean(b.get('bias')) })), nn.Linear),
    Conv1d: convLayer('Conv1d', nn.Conv1d),
    Conv2d: convLayer('Conv2d', nn.Conv2d),
    BatchNorm1d: bnLayer('BatchNorm1d', nn.BatchNorm1d),
    BatchNorm2d: bnLayer('BatchNorm2d', nn.BatchNorm2d),
    BatchNorm3d: bnLayer('BatchNorm3d', nn.BatchNorm3d),
    ReLU6: simple('ReLU6', nn.ReLU6, ['inplace=']),
    GroupNorm: layer('GroupNorm', ['num_groups', 'num_channels', 'eps=', 'affine=', 'device=', 'dtype='], (b) => new nn.GroupNorm(asInt(b.get('num_groups'), 'num_groups'), asInt(b.get('num_channels'), 'num_channels'), opts({ ...fo, eps: optNumber(b.get('eps'), 'eps'), affine: b.get('affine') === undefined ? undefined : Boolean(b.get('affine')) })), nn.GroupNorm),
    ModuleDict: fn('nn.ModuleDict', (a) => {
      const m = bind('ModuleDict', ['modules='], a).get('modules');
      const d = new nn.ModuleDict();
      if (m instanceof PyDict) for (const [k, v] of m.map) d.set(String(k), modules([v], 'nn.ModuleDict')[0]);
      else if (m !== undefined && m !== null)
        for (const item of host.iterate(m)) {
          const [k, v] = asSequence(item, 'nn.ModuleDict item');
          d.set(String(k), modules([v], 'nn.ModuleDict')[0]);
        }
      return d;
    }, nn.ModuleDict),
    Conv3d: convLayer('Conv3d', nn.Conv3d as unknown as typeof nn.Conv2d),
    Embedding: layer('Embedding', ['num_embeddings', 'embedding_dim', 'padding_idx=', 'max_norm=', 'norm_type=', 'scale_grad_by_freq=', 'sparse=', '_weight=', '_freeze=', 'device=', 'dtype='], (b) => {
      if (b.get('max_norm') !== undefined && b.get('max_norm') !== null) throw unsupported('nn.Embedding with max_norm');
      if (b.get('_weight') !== undefined && b.get('_weight') !== null) throw unsupported('nn.Embedding with _weight');
      const p = b.get('padding_idx');
      return new nn.Embedding(asInt(b.get('num_embeddings'), 'num_embeddings'), asInt(b.get('embedding_dim'), 'embedding_dim'), { ...fo, padding_idx: p === undefined || p === null ? null : asInt(p, 'padding_idx') });
    }, nn.Embedding),
    MaxPool1d: pool('MaxPool1d', nn.MaxPool1d as unknown as typeof nn.MaxPool2d, ['stride=', 'padding=', 'dilation=', 'return_indices=', 'ceil_mode=']),
    MaxPool3d: pool('MaxPool3d', nn.MaxPool3d as unknown as typeof nn.MaxPool2d, ['stride=', 'padding=', 'dilation=', 'return_indices=', 'ceil_mode=']),
    AvgPool1d: pool('AvgPool1d', nn.AvgPool1d as unknown as typeof nn.MaxPool2d, ['stride=', 'padding=', 'ceil_mode=', 'count_include_pad=']),
    AdaptiveAvgPool3d: adaptive('AdaptiveAvgPool3d', nn.AdaptiveAvgPool3d as unknown as typeof nn.AdaptiveAvgPool2d),
    LayerNorm: layer('LayerNorm', ['normalized_shape', 'eps=', 'elementwise_affine=', 'device=', 'dtype='], (b) => new nn.LayerNorm(intOrTuple(b.get('normalized_shape'), 'normalized_shape'), opts({ ...fo, eps: optNumber(b.get('eps'), 'eps'), elementwise_affine: b.get('elementwise_affine') === undefined ? undefined : Boolean(b.get('elementwise_affine')) })), nn.LayerNorm),
    Dropout: layer('Dropout', ['p=', 'inplace='], (b) => new nn.Dropout(optNumber(b.get('p'), 'p') ?? 0.5), nn.Dropout),
    Softmax: layer('Softmax', ['dim='], (b) => {
      if (b.get('dim') === undefined || b.get('dim') === null) throw unsupported('nn.Softmax without dim (implicit dim choice is deprecated in torch)');
      return new nn.Softmax(asInt(b.get('dim'), 'dim'));
    }, nn.Softmax),
    Identity: fn('nn.Identity', () => new nn.Identity(), nn.Identity),
    ReLU: simple('ReLU', nn.ReLU, ['inplace=']),
    Sigmoid: simple('Sigmoid', nn.Sigmoid),
    Tanh: simple('Tanh', nn.Tanh),
    SiLU: simple('SiLU', nn.SiLU, ['inplace=']),
    Hardswish: simple('Hardswish', nn.Hardswish, ['inplace=']),
    GELU: layer('GELU', ['approximate='], (b) => new nn.GELU((b.get('approximate') as 'none' | 'tanh' | undefined) ?? 'none'), nn.GELU),
    Unfold: layer('Unfold', ['kernel_size', 'dilation=', 'padding=', 'stride='], (b) => {
      const opt = (k: string) => (b.get(k) === undefined ? undefined : intOrTuple(b.get(k), k));
      return new nn.Unfold(intOrTuple(b.get('kernel_size'), 'kernel_size'), { dilation: opt('dilation'), padding: opt('padding'), stride: opt('stride') });
    }, nn.Unfold),
    Flatten: layer('Flatten', ['start_dim=', 'end_dim='], (b) => new nn.Flatten(optNumber(b.get('start_dim'), 'start_dim') ?? 1, optNumber(b.get('end_dim'), 'end_dim') ?? -1), nn.Flatten),
    AdaptiveAvgPool1d: adaptive('AdaptiveAvgPool1d', nn.AdaptiveAvgPool1d),
    AdaptiveAvgPool2d: adaptive('AdaptiveAvgPool2d', nn.AdaptiveAvgPool2d),
    AdaptiveMaxPool2d: adaptive('AdaptiveMaxPool2d', nn.AdaptiveMaxPool2d),
    MaxPool2d: pool('MaxPool2d', nn.MaxPool2d, ['stride=', 'padding=', 'dilation=', 'return_indices=', 'ceil_mode=']),
    AvgPool2d: pool('AvgPool2d', nn.AvgPool2d, ['stride=', 'padding=', 'ceil_mode=', 'count_include_pad=', 'divisor_override=']),
    Sequential: fn('nn.Sequential', (a) => {
      if (a.kw.size) throw pyError('TypeError', 'Sequential() takes no keyword arguments');
      if (a.pos.length === 1 && a.pos[0] instanceof PyDict) {
        // `nn.Sequential(OrderedDict(...))`: the children keep their names.
        const seq = new nn.Sequential();
        for (const [k, v] of a.pos[0].map) (seq as unknown as Record<string, Module>)[String(k)] = modules([v], 'nn.Sequential')[0];
        return seq;
      }
      return new nn.Sequential(...modules(a.pos, 'nn.Sequential'));
    }, nn.Sequential),
    ModuleList: fn('nn.ModuleList', (a) => {
      const b = bind('ModuleList', ['modules='], a);
      const m = b.get('modules');
      return new nn.ModuleList(m === undefined || m === null ? [] : modules(host.iterate(m), 'nn.ModuleList'));
    }, nn.ModuleList),
    MultiheadAttention: layer('MultiheadAttention', ['embed_dim', 'num_heads', 'dropout=', 'bias=', 'add_bias_kv=', 'add_zero_attn=', 'kdim=', 'vdim=', 'batch_first=', 'device=', 'dtype='], (b) => new nn.MultiheadAttention(asInt(b.get('embed_dim'), 'embed_dim'), asInt(b.get('num_heads'), 'num_heads'), opts({ ...fo, dropout: optNumber(b.get('dropout'), 'dropout'), bias: b.get('bias') === undefined ? undefined : Boolean(b.get('bias')), add_bias_kv: b.get('add_bias_kv') === undefined ? undefined : Boolean(b.get('add_bias_kv')), add_zero_attn: b.get('add_zero_attn') === undefined ? undefined : Boolean(b.get('add_zero_attn')), kdim: optNumber(b.get('kdim'), 'kdim'), vdim: optNumber(b.get('vdim'), 'vdim'), batch_first: b.get('batch_first') === undefined ? undefined : Boolean(b.get('batch_first')) })), nn.MultiheadAttention),
    functional,
    init,
  });

  const factory = (name: string, make: (shape: number[], dtype: DType | undefined) => Tensor) =>
    fn(`torch.${name}`, (a) => {
      const b = bind(name, ['*size', 'dtype=', 'device=', 'requires_grad=', 'generator='], a);
      return make(sizes(b.get('size') as PyValue[], 'size'), dtypeOf(b.get('dtype')));
    });
  const like = (name: string, value: number) => fn(`torch.${name}`, (a) => {
    const b = bind(name, ['input', 'dtype=', 'device=', 'requires_grad='], a);
    const t = asTensor(b.get('input'), 'input');
    return full(t.shape, value, { device: t.device, dtype: dtypeOf(b.get('dtype')) ?? t.dtype });
  });
  const tensors = (v: PyValue | undefined, what: string) => asSequence(v, what).map((t) => asTensor(t, what));

  const torchNs = ns('torch', {
    nn: nnNs,
    Tensor: fn('torch.Tensor', () => {
      throw unsupported('torch.Tensor(...) as a constructor');
    }, Tensor),
    float32: new PyToken('torch.float32'),
    float: new PyToken('torch.float'),
    int64: new PyToken('torch.int64'),
    int32: new PyToken('torch.int32'),
    uint8: new PyToken('torch.uint8'),
    int: new PyToken('torch.int'),
    long: new PyToken('torch.long'),
    bool: new PyToken('torch.bool'),
    matmul: fn('torch.matmul', (a) => {
      const b = bind('matmul', ['input', 'other'], a);
      return asTensor(b.get('input'), 'input').matmul(asTensor(b.get('other'), 'other'));
    }),
    multinomial: fn('torch.multinomial', (a) => {
      const b = bind('multinomial', ['input', 'num_samples', 'replacement=', 'generator='], a);
      return multinomial(asTensor(b.get('input'), 'input'), asInt(b.get('num_samples'), 'num_samples'), Boolean(b.get('replacement') ?? false), g);
    }),
    topk: fn('torch.topk', (a) => tensorMethod(asTensor(a.pos[0] ?? a.kw.get('input'), 'input'), 'topk', host)!.call({ pos: a.pos.slice(1), kw: without(a.kw, 'input') })),
    argmax: fn('torch.argmax', (a) => tensorMethod(asTensor(a.pos[0] ?? a.kw.get('input'), 'input'), 'argmax', host)!.call({ pos: a.pos.slice(1), kw: without(a.kw, 'input') })),
    argmin: fn('torch.argmin', (a) => tensorMethod(asTensor(a.pos[0] ?? a.kw.get('input'), 'input'), 'argmin', host)!.call({ pos: a.pos.slice(1), kw: without(a.kw, 'input') })),
    masked_fill: fn('torch.masked_fill', (a) => tensorMethod(asTensor(a.pos[0] ?? a.kw.get('input'), 'input'), 'masked_fill', host)!.call({ pos: a.pos.slice(1), kw: without(a.kw, 'input') })),
    bernoulli: fn('torch.bernoulli', (a) => tensorMethod(asTensor(a.pos[0] ?? a.kw.get('input'), 'input'), 'bernoulli', host)!.call({ pos: a.pos.slice(1), kw: without(a.kw, 'input') })),
    baddbmm: fn('torch.baddbmm', (a) => tensorMethod(asTensor(a.pos[0] ?? a.kw.get('input'), 'input'), 'baddbmm', host)!.call({ pos: a.pos.slice(1), kw: without(a.kw, 'input') })),
    bmm: fn('torch.bmm', (a) => {
      const b = bind('bmm', ['input', 'mat2'], a);
      return asTensor(b.get('input'), 'input').bmm(asTensor(b.get('mat2'), 'mat2'));
    }),
    cat: fn('torch.cat', (a) => {
      const b = bind('cat', ['tensors', 'dim='], a);
      return cat(tensors(b.get('tensors'), 'tensors'), optNumber(b.get('dim'), 'dim') ?? 0);
    }),
    stack: fn('torch.stack', (a) => {
      const b = bind('stack', ['tensors', 'dim='], a);
      return stack(tensors(b.get('tensors'), 'tensors'), optNumber(b.get('dim'), 'dim') ?? 0);
    }),
    softmax: functional.attrs.get('softmax')!,
    einsum: fn('torch.einsum', (a) => {
      const [eq, ...rest] = a.pos;
      if (typeof eq !== 'string') throw pyError('TypeError', `einsum(): the equation must be a str, not ${typeName(eq)}`);
      const ops = rest.length === 1 && (Array.isArray(rest[0]) || rest[0] instanceof PyTuple) ? asSequence(rest[0], 'operands') : rest;
      return einsum(eq, ...ops.map((t) => asTensor(t, 'operand')));
    }),
    sin: t1('torch.sin', (t) => t.sin()),
    polar: fn('torch.polar', (a) => {
      const b = bind('polar', ['abs', 'angle'], a);
      return polar(asTensor(b.get('abs'), 'abs'), asTensor(b.get('angle'), 'angle'));
    }),
    view_as_complex: fn('torch.view_as_complex', (a) => viewAsComplex(asTensor(a.pos[0], 'input'))),
    view_as_real: fn('torch.view_as_real', (a) => {
      if (!(a.pos[0] instanceof PyComplex)) throw pyError('RuntimeError', 'view_as_real is only supported for complex tensors');
      return viewAsReal(a.pos[0]);
    }),
    complex64: new PyToken('torch.complex64'),
    cfloat: new PyToken('torch.complex64'),
    linspace: fn('torch.linspace', (a) => {
      const b = bind('linspace', ['start', 'end', 'steps', 'dtype=', 'device=', 'requires_grad='], a);
      return linspace(asNumber(b.get('start'), 'start'), asNumber(b.get('end'), 'end'), asInt(b.get('steps'), 'steps'), { device: host.device, dtype: dtypeOf(b.get('dtype')) });
    }),
    floor: t1('torch.floor', (t) => t.floor()),
    pow: fn('torch.pow', (a) => {
      const b = bind('pow', ['input', 'exponent'], a);
      const x = b.get('input');
      const e = b.get('exponent');
      if (x instanceof Tensor) return x.pow(e instanceof Tensor ? e : asNumber(e, 'exponent'));
      return full([], asNumber(x, 'input'), { device: host.device }).pow(asTensor(e, 'exponent'));
    }),
    erf: t1('torch.erf', (t) => t.erf()),
    min: fn('torch.min', (a) => (a.pos[1] instanceof Tensor ? asTensor(a.pos[0], 'input').minimum(a.pos[1]) : tensorMethod(asTensor(a.pos[0], 'input'), 'min', host)!.call({ pos: a.pos.slice(1), kw: a.kw }))),
    max: fn('torch.max', (a) => (a.pos[1] instanceof Tensor ? asTensor(a.pos[0], 'input').maximum(a.pos[1]) : tensorMethod(asTensor(a.pos[0], 'input'), 'max', host)!.call({ pos: a.pos.slice(1), kw: a.kw }))),
    div: fn('torch.div', (a) => tensorMethod(asTensor(a.pos[0], 'input'), 'div', host)!.call({ pos: a.pos.slice(1), kw: a.kw })),
    amax: fn('torch.amax', (a) => tensorMethod(asTensor(a.pos[0], 'input'), 'amax', host)!.call({ pos: a.pos.slice(1), kw: a.kw })),
    hstack: fn('torch.hstack', (a) => {
      const ts = tensors(a.pos[0] ?? a.kw.get('tensors'), 'tensors');
      return cat(ts, ts[0]?.ndim === 1 ? 0 : 1);
    }),
    vstack: fn('torch.vstack', (a) => {
      const ts = tensors(a.pos[0] ?? a.kw.get('tensors'), 'tensors').map((t) => (t.ndim === 1 ? t.unsqueeze(0) : t));
      return cat(ts, 0);
    }),
    outer: fn('torch.outer', (a) => {
      const b = bind('outer', ['input', 'vec2'], a);
      const x = asTensor(b.get('input'), 'input');
      const y = asTensor(b.get('vec2'), 'vec2');
      if (x.ndim !== 1 || y.ndim !== 1) throw pyError('RuntimeError', `outer: expected 1-D tensors, got ${x.ndim}-D and ${y.ndim}-D`);
      return x.unsqueeze(1).mul(y.unsqueeze(0));
    }),
    cumsum: fn('torch.cumsum', (a) => {
      const b = bind('cumsum', ['input', 'dim', 'dtype='], a);
      return F.cumsum(asTensor(b.get('input'), 'input'), asInt(b.get('dim'), 'dim'));
    }),
    randint: fn('torch.randint', (a) => {
      // randint(high, size) or randint(low, high, size).
      const nums = a.pos.filter((v) => typeof v === 'number');
      const size = a.pos.find((v) => Array.isArray(v) || v instanceof PyTuple) ?? a.kw.get('size');
      const [lo, hi] = nums.length >= 2 ? [nums[0] as number, nums[1] as number] : [asInt(a.kw.get('low') ?? 0, 'low'), (nums[0] as number | undefined) ?? asInt(a.kw.get('high'), 'high')];
      if (hi <= lo) throw pyError('RuntimeError', `random_ expects 'from' to be less than 'to', but got from=${lo} >= to=${hi}`);
      const shape = asSequence(size, 'size').map((x) => asInt(x, 'size'));
      const n = shape.reduce((p, x) => p * x, 1);
      const vals = Array.from({ length: n }, () => lo + Math.min(hi - lo - 1, Math.floor(g.uniform(0, 1) * (hi - lo))));
      return tensor(vals, { device: host.device, dtype: 'int64' }).reshape(shape);
    }),
    device: fn('torch.device', (a) => new PyToken(typeof a.pos[0] === 'string' ? a.pos[0] : 'cpu')),
    cos: t1('torch.cos', (t) => t.cos()),
    meshgrid: fn('torch.meshgrid', (a) => {
      const b = bind('meshgrid', ['*tensors', 'indexing='], a);
      let ts = b.get('tensors') as PyValue[];
      if (ts.length === 1 && (Array.isArray(ts[0]) || ts[0] instanceof PyTuple)) ts = [...asSequence(ts[0], 'tensors')];
      const xs = ts.map((t) => asTensor(t, 'tensors'));
      const indexing = b.get('indexing') ?? 'ij';
      if (indexing !== 'ij' && indexing !== 'xy') throw pyError('RuntimeError', `torch.meshgrid: indexing must be one of "xy" or "ij", but received: ${String(indexing)}`);
      return tuple(meshgrid(xs, indexing as 'ij' | 'xy'));
    }),
    clamp: fn('torch.clamp', (a) => tensorMethod(asTensor(a.pos[0], 'input'), 'clamp', host)!.call({ pos: a.pos.slice(1), kw: a.kw })),
    roll: fn('torch.roll', (a) => tensorMethod(asTensor(a.pos[0], 'input'), 'roll', host)!.call({ pos: a.pos.slice(1), kw: a.kw })),
    split: fn('torch.split', (a) => tensorMethod(asTensor(a.pos[0], 'tensor'), 'split', host)!.call({ pos: a.pos.slice(1), kw: a.kw })),
    repeat_interleave: fn('torch.repeat_interleave', (a) => tensorMethod(asTensor(a.pos[0], 'input'), 'repeat_interleave', host)!.call({ pos: a.pos.slice(1), kw: a.kw })),
    index_select: fn('torch.index_select', (a) => tensorMethod(asTensor(a.pos[0], 'input'), 'index_select', host)!.call({ pos: a.pos.slice(1), kw: a.kw })),
    gather: fn('torch.gather', (a) => tensorMethod(asTensor(a.pos[0], 'input'), 'gather', host)!.call({ pos: a.pos.slice(1), kw: a.kw })),
    full_like: fn('torch.full_like', (a) => {
      const b = bind('full_like', ['input', 'fill_value', 'dtype=', 'device=', 'requires_grad='], a);
      const t = asTensor(b.get('input'), 'input');
      const v = b.get('fill_value');
      return full(t.shape, typeof v === 'boolean' ? v : asNumber(v, 'fill_value'), { device: t.device, dtype: dtypeOf(b.get('dtype')) ?? t.dtype });
    }),
    manual_seed: fn('torch.manual_seed', () => null),
    is_tensor: fn('torch.is_tensor', (a) => a.pos[0] instanceof Tensor),
    no_grad: context('torch.no_grad'),
    inference_mode: context('torch.inference_mode'),
    enable_grad: context('torch.enable_grad'),
    autocast: context('torch.autocast'),
    finfo: fn('torch.finfo', (a) => {
      const d = a.pos[0] === undefined ? 'float32' : dtypeOf(a.pos[0]);
      if (d !== 'float32') throw pyError('TypeError', 'torch.finfo() requires a floating point input type');
      return ns('torch.finfo', { max: 3.4028234663852886e38, min: -3.4028234663852886e38, eps: 1.1920928955078125e-7, tiny: 1.1754943508222875e-38, bits: 32 });
    }),
    sigmoid: t1('torch.sigmoid', (t) => t.sigmoid()),
    relu: t1('torch.relu', (t) => t.relu()),
    tanh: t1('torch.tanh', (t) => t.tanh()),
    exp: t1('torch.exp', (t) => t.exp()),
    log: t1('torch.log', (t) => t.log()),
    sqrt: t1('torch.sqrt', (t) => t.sqrt()),
    rsqrt: t1('torch.rsqrt', (t) => t.rsqrt()),
    abs: t1('torch.abs', (t) => t.abs()),
    zeros: factory('zeros', (s, dtype) => zeros(s, { device: host.device, dtype })),
    ones: factory('ones', (s, dtype) => ones(s, { device: host.device, dtype })),
    empty: factory('empty', (s, dtype) => zeros(s, { device: host.device, dtype })),
    randn: fn('torch.randn', (a) => {
      const b = bind('randn', ['*size', 'dtype=', 'device=', 'requires_grad=', 'generator='], a);
      const shape = sizes(b.get('size') as PyValue[], 'size');
      const d = b.get('dtype');
      // complex64: real and imaginary parts each N(0, 1/2), as torch draws them.
      if (d instanceof PyToken && d.name === 'torch.complex64') return new PyComplex(randn(shape, g, host.device).mul(Math.SQRT1_2), randn(shape, g, host.device).mul(Math.SQRT1_2));
      return randn(shape, g, host.device);
    }),
    rand: factory('rand', (s) => rand(s, g, host.device)),
    zeros_like: like('zeros_like', 0),
    ones_like: like('ones_like', 1),
    full: fn('torch.full', (a) => {
      const b = bind('full', ['size', 'fill_value', 'dtype=', 'device=', 'requires_grad='], a);
      const v = b.get('fill_value');
      return full(sizes([b.get('size') ?? null], 'size'), typeof v === 'boolean' ? v : asNumber(v, 'fill_value'), { device: host.device, dtype: dtypeOf(b.get('dtype')) });
    }),
    arange: fn('torch.arange', (a) => {
      const b = bind('arange', ['start', 'end=', 'step=', 'dtype=', 'device=', 'requires_grad='], a);
      return arange(asNumber(b.get('start'), 'start'), optNumber(b.get('end'), 'end'), optNumber(b.get('step'), 'step') ?? 1, { device: host.device, dtype: dtypeOf(b.get('dtype')) });
    }),
    tril: fn('torch.tril', (a) => {
      const b = bind('tril', ['input', 'diagonal='], a);
      return tril(asTensor(b.get('input'), 'input'), optNumber(b.get('diagonal'), 'diagonal') ?? 0);
    }),
    triu: fn('torch.triu', (a) => {
      const b = bind('triu', ['input', 'diagonal='], a);
      return triu(asTensor(b.get('input'), 'input'), optNumber(b.get('diagonal'), 'diagonal') ?? 0);
    }),
    where: fn('torch.where', (a) => {
      const b = bind('where', ['condition', 'input', 'other'], a);
      const cond = asTensor(b.get('condition'), 'condition');
      const scalar = (v: PyValue | undefined) => (isTensor(v) ? v : full([], asNumber(v, 'input'), { device: cond.device }));
      return where(cond, scalar(b.get('input')), scalar(b.get('other')));
    }),
    tensor: fn('torch.tensor', (a) => {
      const b = bind('tensor', ['data', 'dtype=', 'device=', 'requires_grad='], a);
      const plain = (v: PyValue | undefined): number | boolean | (number | boolean)[] | unknown[] => (Array.isArray(v) || v instanceof PyTuple ? asSequence(v, 'data').map(plain) : typeof v === 'boolean' ? v : asNumber(v, 'data'));
      const data = plain(b.get('data'));
      let dtype = dtypeOf(b.get('dtype'));
      if (dtype === undefined) {
        // torch infers the dtype from the Python values: all bools -> bool, ints (and bools) -> int64, any float -> float32.
        const leaves = [data].flat(Infinity as 1) as (number | boolean)[];
        const call = host.currentCall?.();
        const arg = call?.childForFieldName('arguments')?.namedChildren[0];
        const written = arg && arg.type !== 'keyword_argument' ? floatSyntax(arg) : true;
        if (leaves.length && leaves.every((x) => typeof x === 'boolean')) dtype = 'bool';
        else if (leaves.length && !written && leaves.every((x) => typeof x === 'boolean' || Number.isInteger(x))) dtype = 'int64';
      }
      return tensor(data as number, { device: host.device, dtype });
    }),
    flatten: fn('torch.flatten', (a) => {
      const b = bind('flatten', ['input', 'start_dim=', 'end_dim='], a);
      return asTensor(b.get('input'), 'input').flatten(optNumber(b.get('start_dim'), 'start_dim') ?? 0, optNumber(b.get('end_dim'), 'end_dim') ?? -1);
    }),
    transpose: fn('torch.transpose', (a) => {
      const b = bind('transpose', ['input', 'dim0', 'dim1'], a);
      return asTensor(b.get('input'), 'input').transpose(asInt(b.get('dim0'), 'dim0'), asInt(b.get('dim1'), 'dim1'));
    }),
    sum: fn('torch.sum', (a) => tensorMethod(asTensor(a.pos[0], 'input'), 'sum', host)!.call({ pos: a.pos.slice(1), kw: a.kw })),
    mean: fn('torch.mean', (a) => tensorMethod(asTensor(a.pos[0], 'input'), 'mean', host)!.call({ pos: a.pos.slice(1), kw: a.kw })),
    var: fn('torch.var', (a) => tensorMethod(asTensor(a.pos[0] ?? a.kw.get('input'), 'input'), 'var', host)!.call({ pos: a.pos.slice(1), kw: without(a.kw, 'input') })),
    std: fn('torch.std', (a) => tensorMethod(asTensor(a.pos[0] ?? a.kw.get('input'), 'input'), 'std', host)!.call({ pos: a.pos.slice(1), kw: without(a.kw, 'input') })),
    chunk: fn('torch.chunk', (a) => tensorMethod(asTensor(a.pos[0], 'input'), 'chunk', host)!.call({ pos: a.pos.slice(1), kw: a.kw })),
    unbind: fn('torch.unbind', (a) => tensorMethod(asTensor(a.pos[0], 'input'), 'unbind', host)!.call({ pos: a.pos.slice(1), kw: a.kw })),
  });

  const jit = ns('torch.jit', {
    script: fn('torch.jit.script', (a) => a.pos[0] ?? null),
    ignore: fn('torch.jit.ignore', (a) => (a.pos[0] !== undefined && !a.kw.size ? a.pos[0] : fn('torch.jit.ignore', (b) => b.pos[0] ?? null))),
    unused: fn('torch.jit.unused', (a) => a.pos[0] ?? null),
    export: fn('torch.jit.export', (a) => a.pos[0] ?? null),
    is_scripting: fn('torch.jit.is_scripting', () => false),
    is_tracing: fn('torch.jit.is_tracing', () => false),
    Final: new PyToken('torch.jit.Final'),
  });
  (torchNs.attrs as Map<string, PyValue>).set('jit', jit);
  // torch internals library code calls on the way: API-usage logging (a no-op unless a logger is installed) and `torch._assert`.
  (torchNs.attrs as Map<string, PyValue>).set('_C', ns('torch._C', { _log_api_usage_once: fn('torch._C._log_api_usage_once', () => null) }));
  (torchNs.attrs as Map<string, PyValue>).set(
    '_assert',
    fn('torch._assert', (a) => {
      const b = bind('_assert', ['condition', 'message'], a);
      const c = b.get('condition');
      if (c instanceof Tensor ? !c.item() : !c) throw pyError('AssertionError', String(b.get('message')));
      return null;
    }),
  );

  const normed = (name: string, wrap: typeof nn.utils.spectralNorm) =>
    fn(name, (a) => {
      const b = bind('spectral_norm', ['module', 'name=', 'n_power_iterations=', 'eps=', 'dim='], a);
      const m = b.get('module');
      if (!(m instanceof Module)) throw pyError('TypeError', `${name}: ${typeName(m)} is not a Module`);
      if ((b.get('name') ?? 'weight') !== 'weight') throw unsupported(`${name} of a parameter other than 'weight'`);
      if (b.get('dim') !== undefined && b.get('dim') !== null && b.get('dim') !== 0) throw unsupported(`${name} with dim=${String(b.get('dim'))}`);
      return wrap(m as Module & { weight: Tensor | null }, { generator: g, ...(b.get('eps') === undefined ? {} : { eps: asNumber(b.get('eps'), 'eps') }) });
    });
  const utils = ns('torch.nn.utils', {
    spectral_norm: normed('torch.nn.utils.spectral_norm', nn.utils.spectralNormHooked),
    parametrizations: ns('torch.nn.utils.parametrizations', { spectral_norm: normed('torch.nn.utils.parametrizations.spectral_norm', nn.utils.spectralNorm) }),
  });
  (nnNs.attrs as Map<string, PyValue>).set('utils', utils);

  const math = ns('math', {
    pi: Math.PI,
    e: Math.E,
    inf: Infinity,
    sqrt: fn('math.sqrt', (a) => Math.sqrt(asNumber(a.pos[0], 'x'))),
    log2: fn('math.log2', (a) => Math.log2(asNumber(a.pos[0], 'x'))),
    log10: fn('math.log10', (a) => Math.log10(asNumber(a.pos[0], 'x'))),
    isqrt: fn('math.isqrt', (a) => Math.floor(Math.sqrt(asInt(a.pos[0], 'n')))),
    prod: fn('math.prod', (a) => host.iterate(a.pos[0]).reduce<number>((p, x) => p * asNumber(x, 'math.prod item'), 1)),
    gcd: fn('math.gcd', (a) => {
      let [x, y] = [Math.abs(asInt(a.pos[0], 'a')), Math.abs(asInt(a.pos[1], 'b'))];
      while (y) [x, y] = [y, x % y];
      return x;
    }),
    log: fn('math.log', (a) => (a.pos.length > 1 ? Math.log(asNumber(a.pos[0], 'x')) / Math.log(asNumber(a.pos[1], 'base')) : Math.log(asNumber(a.pos[0], 'x')))),
    exp: fn('math.exp', (a) => Math.exp(asNumber(a.pos[0], 'x'))),
    ceil: fn('math.ceil', (a) => Math.ceil(asNumber(a.pos[0], 'x'))),
    floor: fn('math.floor', (a) => Math.floor(asNumber(a.pos[0], 'x'))),
    pow: fn('math.pow', (a) => Math.pow(asNumber(a.pos[0], 'x'), asNumber(a.pos[1], 'y'))),
    cos: fn('math.cos', (a) => Math.cos(asNumber(a.pos[0], 'x'))),
    sin: fn('math.sin', (a) => Math.sin(asNumber(a.pos[0], 'x'))),
  });

  const builtins = new Map<string, PyValue>(
    Object.entries({
      map: fn('map', (a) => {
        const [f, ...its] = a.pos;
        const lists = its.map((v) => host.iterate(v));
        const n = Math.min(...lists.map((x) => x.length));
        return Array.from({ length: n }, (_, i) => host.call(f, lists.map((x) => x[i])));
      }),
      filter: fn('filter', (a) => host.iterate(a.pos[1]).filter((x) => (a.pos[0] === null ? Boolean(x) : Boolean(host.call(a.pos[0], [x]))))),
      any: fn('any', (a) => host.iterate(a.pos[0]).some((x) => (x instanceof Tensor ? x.item() !== 0 : Boolean(x)))),
      all: fn('all', (a) => host.iterate(a.pos[0]).every((x) => (x instanceof Tensor ? x.item() !== 0 : Boolean(x)))),
      sorted: fn('sorted', (a) => {
        const items = [...host.iterate(a.pos[0])];
        if (items.every((x) => typeof x === 'number')) items.sort((x, y) => (x as number) - (y as number));
        else if (items.every((x) => typeof x === 'string')) items.sort();
        else throw unsupported('sorted() of values that are not all numbers or all strings');
        return a.kw.get('reverse') ? items.reverse() : items;
      }),
      str: fn('str', (a) => (a.pos[0] === undefined ? '' : pyStr(a.pos[0]))),
      dict: fn('dict', (a) => {
        const d = new PyDict();
        if (a.pos[0] instanceof PyDict) for (const [k, v] of a.pos[0].map) d.map.set(k, v);
        else if (a.pos[0] !== undefined)
          for (const item of host.iterate(a.pos[0])) {
            const [k, v] = asSequence(item, 'dict item');
            d.map.set(typeof k === 'number' ? k : String(k), v);
          }
        for (const [k, v] of a.kw) d.map.set(k, v);
        return d;
      }),
      slice: fn('slice', (a) => {
        const n = (v: PyValue | undefined) => (v === undefined || v === null ? null : asInt(v, 'slice index'));
        return a.pos.length === 1 ? new PySlice(null, n(a.pos[0]), null) : new PySlice(n(a.pos[0]), n(a.pos[1]), n(a.pos[2]));
      }),
      setattr: fn('setattr', (a) => {
        if (typeof a.pos[1] !== 'string') throw pyError('TypeError', "setattr(): attribute name must be string");
        host.setAttribute(a.pos[0], a.pos[1], a.pos[2]);
        return null;
      }),
      len: fn('len', (a) => {
        const v = a.pos[0];
        if (typeof v === 'string') return v.length;
        if (Array.isArray(v)) return v.length;
        if (v instanceof PyTuple) return v.items.length;
        if (v instanceof PyDict) return v.map.size;
        if (v instanceof Tensor) {
          if (v.ndim === 0) throw pyError('TypeError', 'len() of a 0-d tensor');
          return v.shape[0];
        }
        if (v instanceof nn.Sequential || v instanceof nn.ModuleList || v instanceof nn.ModuleDict) return v.length;
        throw pyError('TypeError', `object of type '${typeName(v)}' has no len()`);
      }),
      range: fn('range', (a) => {
        const n = a.pos.map((x) => asInt(x, 'range argument'));
        const [s, e, st] = n.length === 1 ? [0, n[0], 1] : [n[0], n[1], n[2] ?? 1];
        if (st === 0) throw pyError('ValueError', 'range() arg 3 must not be zero');
        const out: number[] = [];
        for (let i = s; st > 0 ? i < e : i > e; i += st) {
          if (out.length >= 1_000_000) throw new PyRaise('limit', 'range() of more than 1,000,000 items');
          out.push(i);
        }
        return out;
      }),
      int: fn('int', (a) => {
        const v = a.pos[0] ?? 0;
        if (typeof v === 'string') return parseInt(v, 10);
        if (v instanceof Tensor) return Math.trunc(v.item());
        return Math.trunc(asNumber(v, 'int() argument'));
      }),
      float: fn('float', (a) => {
        const v = a.pos[0] ?? 0;
        if (typeof v === 'string') {
          const s = v.trim().toLowerCase();
          if (s === 'inf' || s === '+inf' || s === 'infinity') return Infinity;
          if (s === '-inf' || s === '-infinity') return -Infinity;
          if (s === 'nan') return NaN;
          const x = Number(s);
          if (Number.isNaN(x)) throw pyError('ValueError', `could not convert string to float: '${v}'`);
          return x;
        }
        if (v instanceof Tensor) return v.item();
        return asNumber(v, 'float() argument');
      }),
      bool: fn('bool', (a) => Boolean(a.pos[0])),
      abs: fn('abs', (a) => (a.pos[0] instanceof Tensor ? a.pos[0].abs() : Math.abs(asNumber(a.pos[0], 'abs() argument')))),
      round: fn('round', (a) => Math.round(asNumber(a.pos[0], 'round() argument'))),
      min: fn('min', (a) => Math.min(...(a.pos.length === 1 ? host.iterate(a.pos[0]) : a.pos).map((x) => asNumber(x, 'min() argument')))),
      max: fn('max', (a) => Math.max(...(a.pos.length === 1 ? host.iterate(a.pos[0]) : a.pos).map((x) => asNumber(x, 'max() argument')))),
      sum: fn('sum', (a) => host.iterate(a.pos[0]).reduce<number>((s, x) => s + asNumber(x, 'sum() item'), 0)),
      tuple: fn('tuple', (a) => tuple(a.pos.length ? host.iterate(a.pos[0]) : [])),
      list: fn('list', (a) => (a.pos.length ? [...host.iterate(a.pos[0])] : [])),
      zip: fn('zip', (a) => {
        const its = a.pos.map((v) => host.iterate(v));
        const n = Math.min(...its.map((x) => x.length));
        return Array.from({ length: n }, (_, i) => tuple(its.map((x) => x[i])));
      }),
      enumerate: fn('enumerate', (a) => host.iterate(a.pos[0]).map((v, i) => tuple([i + (a.pos[1] === undefined ? 0 : asInt(a.pos[1], 'start')), v]))),
      reversed: fn('reversed', (a) => [...host.iterate(a.pos[0])].reverse()),
      print: fn('print', () => null),
      getattr: fn('getattr', (a) => {
        const name = a.pos[1];
        if (typeof name !== 'string') throw pyError('TypeError', 'getattr(): attribute name must be string');
        if (a.pos.length > 2 && !host.hasAttr(a.pos[0], name)) return a.pos[2];
        return host.getAttr(a.pos[0], name);
      }),
      hasattr: fn('hasattr', (a) => typeof a.pos[1] === 'string' && host.hasAttr(a.pos[0], a.pos[1])),
      isinstance: fn('isinstance', (a) => isInstance(a.pos[0], a.pos[1])),
      callable: fn('callable', (a) => {
        const v = a.pos[0];
        return v instanceof PyBuiltin || v instanceof PyFunction || v instanceof PyBoundMethod || v instanceof PyClass || v instanceof Module || (v instanceof PyInstance && v.cls.lookup('__call__') !== undefined);
      }),
      int_: null,
    }).filter(([k]) => k !== 'int_'),
  );
  builtins.set('object', OBJECT_BASE);
  builtins.set('Ellipsis', PyEllipsis.value);
  return { torch: torchNs, nn: nnNs, F: functional, init, jit, utils, math, builtins };
}

/** The base `nn.Module`: a class statement's base, `isinstance(m, nn.Module)`; building it directly is unsupported. */
export const MODULE_BASE = new PyBuiltin(
  'nn.Module',
  () => {
    throw unsupported('nn.Module() instantiated directly');
  },
  Module,
);

/** `object` as a base class. */
export const OBJECT_BASE = new PyBuiltin('object', () => {
  throw unsupported('object() instantiated directly');
});

function isInstance(v: PyValue | undefined, cls: PyValue | undefined): boolean {
  if (cls instanceof PyTuple) return cls.items.some((c) => isInstance(v, c));
  if (cls instanceof PyClass) return (v instanceof UserModule && v.cls.mro().includes(cls)) || (v instanceof PyInstance && v.cls.mro().includes(cls));
  if (cls instanceof PyBuiltin) {
    if (cls.cls) return v instanceof cls.cls;
    switch (cls.name) {
      case 'int':
        return typeof v === 'number' && Number.isInteger(v);
      case 'float':
        return typeof v === 'number';
      case 'bool':
        return typeof v === 'boolean';
      case 'tuple':
        return v instanceof PyTuple;
      case 'list':
        return Array.isArray(v);
      case 'object':
        return true;
    }
  }
  // `types.FunctionType` and the like: a user function is a PyFunction.
  if (cls instanceof PyToken && /^types\.(FunctionType|LambdaType|MethodType)$/.test(cls.name)) return v instanceof PyFunction || v instanceof PyBoundMethod;
  throw unsupported(`isinstance() with ${typeName(cls)} as the class`);
}

/** `Tensor.<name>` attributes that are values rather than methods; undefined when `name` is not one. */
export function tensorAttribute(t: Tensor, name: string): PyValue | undefined {
  switch (name) {
    case 'shape':
      return tuple(t.shape);
    case 'ndim':
      return t.ndim;
    case 'T':
      return t.permute([...t.shape.keys()].reverse());
    case 'dtype':
      return new PyToken(`torch.${t.dtype}`);
    case 'device':
      return new PyToken(t.device.name);
    case 'is_cuda':
      return false;
    case 'requires_grad':
      return false;
    case 'data':
      return t;
  }
  return undefined;
}

/** `t.<name>` as a bound method, or undefined when the runtime has no such method. */
export function tensorMethod(t: Tensor, name: string, _host: Host): PyBuiltin | undefined {
  const m = (params: readonly string[], f: (b: Map<string, PyValue | undefined>) => PyValue) => fn(`Tensor.${name}`, (a) => f(bind(name, params, a)));
  const int = (b: Map<string, PyValue | undefined>, k: string) => asInt(b.get(k), k);
  const other = (b: Map<string, PyValue | undefined>, k = 'other'): Tensor | number => {
    const v = b.get(k);
    return isTensor(v) ? v : asNumber(v, k);
  };
  switch (name) {
    case 'view':
    case 'reshape':
      return m(['*shape'], (b) => (name === 'view' ? t.view(sizes(b.get('shape') as PyValue[], 'shape')) : t.reshape(sizes(b.get('shape') as PyValue[], 'shape'))));
    case 'permute':
      return m(['*dims'], (b) => t.permute(sizes(b.get('dims') as PyValue[], 'dims')));
    case 'expand':
      return m(['*size'], (b) => t.expand(sizes(b.get('size') as PyValue[], 'size')));
    case 'expand_as':
      return m(['other'], (b) => t.expandAs(asTensor(b.get('other'), 'other')));
    case 'transpose':
      return m(['dim0', 'dim1'], (b) => t.transpose(int(b, 'dim0'), int(b, 'dim1')));
    case 't':
      return m([], () => t.t());
    case 'contiguous':
    case 'clone':
    case 'detach':
      return m(['memory_format='], () => (name === 'clone' ? t.clone() : name === 'contiguous' ? t.contiguous() : t));
    case 'softmax':
    case 'log_softmax':
      return m(['dim', 'dtype='], (b) => (name === 'softmax' ? t.softmax(int(b, 'dim')) : t.logSoftmax(int(b, 'dim'))));
    case 'chunk':
      return m(['chunks', 'dim='], (b) => tuple(t.chunk(int(b, 'chunks'), optNumber(b.get('dim'), 'dim') ?? 0)));
    case 'split':
      return m(['split_size', 'dim='], (b) => tuple(t.split(intOrTuple(b.get('split_size'), 'split_size'), optNumber(b.get('dim'), 'dim') ?? 0)));
    case 'unbind':
      return m(['dim='], (b) => tuple(t.unbind(optNumber(b.get('dim'), 'dim') ?? 0)));
    case 'size':
      return m(['dim='], (b) => (b.get('dim') === undefined || b.get('dim') === null ? tuple(t.shape) : (t.size(int(b, 'dim')) as number)));
    case 'dim':
      return m([], () => t.ndim);
    case 'numel':
      return m([], () => t.numel());
    case 'item':
      return m([], () => t.item());
    case 'flatten':
      return m(['start_dim=', 'end_dim='], (b) => t.flatten(optNumber(b.get('start_dim'), 'start_dim') ?? 0, optNumber(b.get('end_dim'), 'end_dim') ?? -1));
    case 'unflatten':
      return m(['dim', 'sizes'], (b) => t.unflatten(int(b, 'dim'), sizes([b.get('sizes') ?? null], 'sizes')));
    case 'unsqueeze':
      return m(['dim'], (b) => t.unsqueeze(int(b, 'dim')));
    case 'squeeze':
      return m(['dim='], (b) => t.squeeze(dims(b.get('dim'))));
    case 'select':
      return m(['dim', 'index'], (b) => t.select(int(b, 'dim'), int(b, 'index')));
    case 'narrow':
      return m(['dim', 'start', 'length'], (b) => t.narrow(int(b, 'dim'), int(b, 'start'), int(b, 'length')));
    case 'sum':
    case 'mean':
    case 'amax':
    case 'amin':
      return m(['dim=', 'keepdim=', 'dtype='], (b) => t[name](dims(b.get('dim')), asBool(b.get('keepdim'), false)));
    case 'max':
    case 'min':
      return m(['dim=', 'keepdim='], (b) => {
        if (b.get('dim') === undefined || b.get('dim') === null) return name === 'max' ? t.amax() : t.amin();
        const r = name === 'max' ? t.max(int(b, 'dim'), asBool(b.get('keepdim'), false)) : t.min(int(b, 'dim'), asBool(b.get('keepdim'), false));
        const { values, indices } = r as { values: Tensor; indices: Tensor };
        return tuple([values, indices]);
      });
    case 'argmax':
    case 'argmin':
      return m(['dim=', 'keepdim='], (b) => {
        const all = b.get('dim') === undefined || b.get('dim') === null;
        const x = all ? t.reshape(-1) : t;
        const r = name === 'argmax' ? x.max(all ? 0 : int(b, 'dim'), all ? false : asBool(b.get('keepdim'), false)) : x.min(all ? 0 : int(b, 'dim'), all ? false : asBool(b.get('keepdim'), false));
        return r.indices;
      });
    case 'topk':
      return m(['k', 'dim=', 'largest=', 'sorted='], (b) => {
        const r = F.topk(t, int(b, 'k'), b.get('dim') === undefined ? -1 : int(b, 'dim'), asBool(b.get('largest'), true));
        return tuple([r.values, r.indices]);
      });
    case 'matmul':
      return m(['other'], (b) => t.matmul(asTensor(b.get('other'), 'other')));
    case 'bmm':
      return m(['mat2'], (b) => t.bmm(asTensor(b.get('mat2'), 'mat2')));
    case 'baddbmm':
      return m(['batch1', 'batch2', 'beta=', 'alpha='], (b) => {
        // beta * self + alpha * (batch1 @ batch2); with beta = 0, self is not read (as torch: its NaNs do not propagate).
        const beta = optNumber(b.get('beta'), 'beta') ?? 1;
        const alpha = optNumber(b.get('alpha'), 'alpha') ?? 1;
        const prod = asTensor(b.get('batch1'), 'batch1').bmm(asTensor(b.get('batch2'), 'batch2'));
        const scaled = alpha === 1 ? prod : prod.mul(alpha);
        if (beta === 0) return scaled;
        return (beta === 1 ? t : t.mul(beta)).add(scaled);
      });
    case 'masked_fill':
      return m(['mask', 'value'], (b) => t.maskedFill(asTensor(b.get('mask'), 'mask'), asNumber(b.get('value'), 'value')));
    case 'add':
      return m(['other', 'alpha='], (b) => t.add(other(b), optNumber(b.get('alpha'), 'alpha') ?? 1));
    case 'sub':
      return m(['other'], (b) => t.sub(other(b)));
    case 'mul':
      return m(['other'], (b) => t.mul(other(b)));
    case 'div':
      return m(['other', 'rounding_mode='], (b) => {
        const mode = b.get('rounding_mode');
        const q = t.div(other(b));
        if (mode === undefined || mode === null) return q;
        if (mode !== 'floor' && mode !== 'trunc') throw pyError('RuntimeError', `div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '${String(mode)}'`);
        const r = mode === 'floor' ? q.floor() : where(q.lt(0), q.neg().floor().neg(), q.floor());
        return t.dtype === 'int64' && (!(b.get('other') instanceof Tensor) || (b.get('other') as Tensor).dtype === 'int64') ? r.to('int64') : r;
      });
    case 'floor':
      return m([], () => t.floor());
    case 'erf':
      return m([], () => t.erf());
    case 'bernoulli':
      // Draws from the run's generator: the shape is torch's, the values are not torch's draws.
      return m(['p=', 'generator='], (b) => {
        const p = b.get('p');
        const probs = p === undefined || p === null ? t : full(t.shape, asNumber(p, 'p'), { device: t.device });
        return rand(t.shape, _host.generator, t.device).lt(probs).to(t.dtype);
      });
    case 'normal_':
    case 'uniform_':
    case 'zero_':
    case 'fill_':
      // In-place initialisation of parameters and fresh buffers (later overwritten by weights, if any).
      return m(name === 'normal_' ? ['mean=', 'std=', 'generator='] : name === 'uniform_' ? ['from=', 'to=', 'generator='] : name === 'fill_' ? ['value'] : [], (b) => {
        if (name === 'normal_') return nn.init.normal_(t, optNumber(b.get('mean'), 'mean') ?? 0, optNumber(b.get('std'), 'std') ?? 1, _host.generator);
        if (name === 'uniform_') return nn.init.uniform_(t, optNumber(b.get('from'), 'from') ?? 0, optNumber(b.get('to'), 'to') ?? 1, _host.generator);
        return name === 'zero_' ? nn.init.zeros_(t) : nn.init.constant_(t, asNumber(b.get('value'), 'value'));
      });
    case 'pow':
      return m(['exponent'], (b) => t.pow(other(b, 'exponent')));
    case 'exp':
    case 'log':
    case 'sqrt':
    case 'rsqrt':
    case 'sigmoid':
    case 'relu':
    case 'tanh':
    case 'abs':
    case 'neg':
    case 'silu':
    case 'float':
    case 'long':
    case 'bool':
      return m([], () => t[name]());
    case 'sin':
    case 'cos':
      return m([], () => t[name]());
    case 'cumsum':
      return m(['dim', 'dtype='], (b) => F.cumsum(t, int(b, 'dim')));
    case 'eq':
    case 'ne':
    case 'lt':
    case 'le':
    case 'gt':
    case 'ge':
      return m(['other'], (b) => t[name](other(b)));
    case 'clamp':
    case 'clip':
      return m(['min=', 'max='], (b) => {
        let r = t;
        const lo = optNumber(b.get('min'), 'min');
        const hi = optNumber(b.get('max'), 'max');
        if (lo === undefined && hi === undefined) throw pyError('RuntimeError', "torch.clamp: At least one of 'min' or 'max' must not be None");
        if (lo !== undefined) r = r.clampMin(lo);
        if (hi !== undefined) r = r.clampMax(hi);
        return r;
      });
    case 'roll':
      return m(['shifts', 'dims='], (b) => t.roll(intOrTuple(b.get('shifts'), 'shifts'), b.get('dims') === undefined || b.get('dims') === null ? [] : intOrTuple(b.get('dims'), 'dims')));
    case 'gather':
      return m(['dim', 'index', 'sparse_grad='], (b) => t.gather(int(b, 'dim'), asTensor(b.get('index'), 'index')));
    case 'unfold':
      return m(['dimension', 'size', 'step'], (b) => t.unfold(int(b, 'dimension'), int(b, 'size'), int(b, 'step')));
    case 'index_copy':
      return m(['dim', 'index', 'source'], (b) => t.indexCopy(int(b, 'dim'), asTensor(b.get('index'), 'index'), asTensor(b.get('source'), 'source')));
    case 'index_select':
      return m(['dim', 'index'], (b) => t.indexSelect(int(b, 'dim'), asTensor(b.get('index'), 'index')));
    case 'repeat_interleave':
      return m(['repeats', 'dim='], (b) => {
        if (b.get('dim') === undefined || b.get('dim') === null) return t.flatten().repeatInterleave(int(b, 'repeats'), 0);
        return t.repeatInterleave(int(b, 'repeats'), int(b, 'dim'));
      });
    case 'repeat':
      return m(['*sizes'], (b) => {
        const reps = sizes(b.get('sizes') as PyValue[], 'sizes');
        if (reps.length < t.ndim) throw pyError('RuntimeError', 'Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor');
        // Tile: a unit axis before each, expanded to the count, then merged.
        const shape = [...Array(reps.length - t.ndim).fill(1), ...t.shape];
        const x = t.reshape(shape.flatMap((s) => [1, s]));
        return x.expand(shape.flatMap((s, i) => [reps[i], s])).reshape(shape.map((s, i) => s * reps[i]));
      });
    case 'tril':
    case 'triu':
      return m(['diagonal='], (b) => (name === 'tril' ? tril : triu)(t, optNumber(b.get('diagonal'), 'diagonal') ?? 0));
    case 'new_full':
      return m(['size', 'fill_value', 'dtype=', 'device=', 'requires_grad='], (b) => full(sizes([b.get('size') ?? null], 'size'), asNumber(b.get('fill_value'), 'fill_value'), { device: t.device, dtype: dtypeOf(b.get('dtype')) ?? t.dtype }));
    case 'new_empty':
    case 'new_zeros':
    case 'new_ones':
      return m(['*size', 'dtype=', 'device=', 'requires_grad='], (b) => full(sizes(b.get('size') as PyValue[], 'size'), name === 'new_ones' ? 1 : 0, { device: t.device, dtype: dtypeOf(b.get('dtype')) ?? t.dtype }));
    case 'gelu':
      return m(['approximate='], (b) => t.gelu((b.get('approximate') as 'none' | 'tanh' | undefined) ?? 'none'));
    case 'type':
      return m(['dtype='], (b) => (b.get('dtype') === undefined || b.get('dtype') === null ? `torch.${t.dtype === 'float32' ? 'FloatTensor' : t.dtype === 'int64' ? 'LongTensor' : 'BoolTensor'}` : t.to(dtypeOf(b.get('dtype'))!)));
    case 'requires_grad_':
      return m(['requires_grad='], () => t);
    case 'std':
    case 'var':
      return m(['dim=', 'unbiased=', 'keepdim=', 'correction='], (b) => {
        const d = dims(b.get('dim'));
        const keep = asBool(b.get('keepdim'), false);
        const n = d === undefined ? t.numel() : (Array.isArray(d) ? d : [d as number]).reduce((p, i) => p * t.shape[i < 0 ? i + t.ndim : i], 1);
        const correction = b.get('correction') !== undefined && b.get('correction') !== null ? asNumber(b.get('correction'), 'correction') : asBool(b.get('unbiased'), true) ? 1 : 0;
        const diff = t.sub(t.mean(d, true));
        const v = diff.mul(diff).sum(d, keep).div(Math.max(0, n - correction));
        return name === 'var' ? v : v.sqrt();
      });
    case 'type_as':
      return m(['other'], (b) => t.to(asTensor(b.get('other'), 'other').dtype));
    case 'to':
      return fn('Tensor.to', (a) => {
        for (const v of [...a.pos, ...a.kw.values()]) {
          if (v instanceof PyToken && v.name.startsWith('torch.')) return t.to(dtypeOf(v)!);
          if (v instanceof Tensor) return t.to(v.dtype);
        }
        // Devices (`x.device`, 'cpu', 'cuda') have one meaning here: the run's backend.
        return t;
      });
  }
  return undefined;
}
