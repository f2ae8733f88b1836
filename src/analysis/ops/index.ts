/**
 * The registry of torch op signatures (`ops/<family>.ts`) and the one bridge between them and
 * the evaluator's values. Names: `Tensor.<method>` (also what `torch.<name>(t, …)` reaches when
 * the evaluator forwards it to the tensor op), `torch.<name>` for functions that are no tensor
 * method (`torch.meshgrid`, `torch.hstack`), `F.<name>`, `torch.linalg.<name>`, `torch.fft.<name>`.
 *
 * Precedence: the op registry (`semantics/index.ts`) asks for a method signature only when no
 * fact-carrying handler (softmax axes, masks, scores) describes the op; it asks for a function
 * path (`F.`, `torch.linalg.`, `torch.fft.`, and `torch.` functions that are no tensor method)
 * before the function handlers, which for these paths know no shapes. A signature that
 * declines (`F.softmax` with a dim) leaves the call to the handlers.
 *
 * `callSignature` turns arguments into sizes (the evaluator's substitutions applied), runs the
 * signature, and turns its result into a value: a tensor, a tuple (named, as
 * `torch.return_types` are: `x.topk(3).values`), a failed tensor for a call torch rejects (with
 * the fact a rule judges put into the op's info), or a tensor of unknown shape. Never throws.
 */

import * as D from '../dims';
import type { Dim } from '../dims';
import type { OpInfo } from '../events';
import type { TensorV, TupleV, Value } from '../values';
import { COMPLEX, ELEMENTWISE, ELEMENTWISE_F } from './elementwise';
import { FUNCTIONAL } from './functional';
import { FFT, LINALG, LINALG_METHODS } from './linalg';
import { REDUCTIONS } from './reductions';
import { SHAPE } from './shape';
import { Call, OpDeclined, OpFailure, OpUnknown, type Arg, type Dtype, type Out, type Result, type Signature } from './signature';

export type { Signature } from './signature';

function prefixed(prefix: string, table: Record<string, Signature>): [string, Signature][] {
  return Object.entries(table).map(([k, v]) => [`${prefix}${k}`, v]);
}

/** Functions of `torch.` that take no tensor first (a list, sizes) or are no tensor method. */
const TORCH_FUNCTIONS = [
  'meshgrid', 'broadcast_tensors', 'block_diag', 'cartesian_prod', 'hstack', 'vstack', 'row_stack', 'dstack', 'column_stack',
  'tril_indices', 'triu_indices', 'cdist', 'tensordot', 'atleast_1d', 'atleast_2d', 'atleast_3d', 'searchsorted', 'bucketize',
];

/** Every signature by name. */
export const OPS: ReadonlyMap<string, Signature> = new Map<string, Signature>([
  ...prefixed('Tensor.', { ...ELEMENTWISE, ...SHAPE, ...REDUCTIONS, ...LINALG_METHODS }),
  ...TORCH_FUNCTIONS.map((n): [string, Signature] => [`torch.${n}`, SHAPE[n]]),
  ...prefixed('torch.', COMPLEX),
  ...prefixed('F.', { ...ELEMENTWISE_F, ...FUNCTIONAL }),
  ...prefixed('torch.linalg.', LINALG),
  ...prefixed('torch.fft.', FFT),
]);

/** The signature a call path names (`torch.nn.functional.pad` is `F.pad`). */
export function signatureFor(path: string): Signature | undefined {
  const key = path.replace(/^torch\.nn\.functional\./, 'F.');
  return OPS.get(key);
}

/** What the bridge needs of the evaluator. */
export interface SizeContext {
  norm(d: Dim): Dim;
  fresh(name: string): Dim;
}

function dtypeOfPath(path: string): Dtype | undefined {
  const d = path.split('.').pop()!;
  if (d === 'bool') return 'bool';
  if (/^(long|int64|int32|int|int16|int8|uint8|short)$/.test(d)) return 'long';
  if (/float|half|double|bfloat/.test(d)) return 'float';
  return undefined;
}

function toArg(v: Value, ctx: SizeContext): Arg {
  switch (v.kind) {
    case 'tensor':
      return { kind: 'tensor', sizes: v.axes?.map((a) => ctx.norm(a.size)), dtype: v.dtype };
    case 'int':
      return { kind: 'int', dim: ctx.norm(v.dim) };
    case 'num':
      return { kind: 'num', value: v.value };
    case 'bool':
      return { kind: 'bool', value: v.value };
    case 'str':
      return { kind: 'str', value: v.value };
    case 'none':
      return { kind: 'none' };
    case 'tuple':
      // A list grown an unknown number of times has representatives, not its items.
      if (v.inexact || (v.shapeOf && !v.shapeOf.axes)) return { kind: 'unknown' };
      return { kind: 'list', items: v.items.map((x) => toArg(x, ctx)) };
    case 'qual':
      return { kind: 'dtype', dtype: dtypeOfPath(v.path) };
    default:
      return { kind: 'unknown' };
  }
}

function contiguous(sizes: Dim[]): Dim[] {
  const out: Dim[] = new Array(sizes.length);
  let acc = D.dconst(1);
  for (let i = sizes.length - 1; i >= 0; i--) {
    out[i] = acc;
    acc = D.mul(acc, sizes[i]);
  }
  return out;
}

function toTensor(o: Out, input: TensorV | undefined, ctx: SizeContext): TensorV {
  const sizes = o.sizes.map((s) => s ?? ctx.fresh('d'));
  const axes = sizes.map((size, i) => {
    const k = o.from?.[i];
    const src = k !== undefined ? input?.axes?.[k] : undefined;
    return src && D.equal(ctx.norm(src.size), ctx.norm(size)) ? { ...src, parts: undefined } : { size };
  });
  const dtype = o.dtype === 'same' ? (input?.dtype === 'bool' ? 'bool' : input?.dtype) : o.dtype === 'complex' ? undefined : o.dtype;
  const t: TensorV = { kind: 'tensor', axes, strides: contiguous(sizes), dtype };
  if (input?.hypothetical) t.hypothetical = true;
  return t;
}

function isTuple(r: Result): r is Extract<Result, { items: Out[] }> {
  return 'items' in r;
}

/** Puts the fact behind a rejected call where the rules look for it. */
function record(info: OpInfo, e: OpFailure['error']): void {
  switch (e.kind) {
    case 'dim':
      info.dimOutOfRange = { dim: e.dim, rank: e.rank };
      return;
    case 'rank':
      info.rank = { expected: e.expected, got: e.got };
      return;
    case 'size':
      info.expectedSize = { axis: e.axis, expected: e.expected, got: e.got, what: e.what };
      return;
    case 'broadcast':
      info.broadcast = [e.a, e.b];
      return;
    case 'swapped-window':
      info.swappedWindow = { what: e.what, axis: e.axis, size: e.size, window: e.window, order: e.order };
      return;
    case 'raise':
      info.raised = e.message;
      return;
  }
}

/**
 * The value of a call to the op `path` names, with the facts of a rejected call put into
 * `info`; undefined when no signature describes the call (the evaluator's own handling applies).
 */
export function callSignature(ctx: SizeContext, path: string, args: Value[], kwargs: Record<string, Value>, info: OpInfo): Value | undefined {
  const sig = signatureFor(path);
  if (!sig) return undefined;
  // What is computed from a failed operation stays silent.
  if ([...args, ...Object.values(kwargs)].some((v) => v.kind === 'tensor' && v.failed)) return { kind: 'tensor', failed: true };
  const input = args[0]?.kind === 'tensor' ? args[0] : undefined;
  const unknownResult = (): Value =>
    sig.fields ? ({ kind: 'tuple', items: sig.fields.map(() => ({ kind: 'tensor' }) as TensorV), names: named(sig.fields) } as TupleV) : { kind: 'tensor', hypothetical: input?.hypothetical || undefined };
  let result: Result;
  try {
    const call = new Call(
      args.map((v) => toArg(v, ctx)),
      Object.fromEntries(Object.entries(kwargs).map(([k, v]) => [k, toArg(v, ctx)])),
    );
    result = sig.shape(call);
  } catch (e) {
    if (e instanceof OpDeclined) return undefined;
    if (e instanceof OpFailure) {
      record(info, e.error);
      return { kind: 'tensor', failed: true };
    }
    // OpUnknown, and anything a signature did not foresee: nothing is known.
    void OpUnknown;
    return unknownResult();
  }
  if (isTuple(result)) {
    const t: TupleV = { kind: 'tuple', items: result.items.map((o) => toTensor(o, input, ctx)) };
    const names = named(result.names);
    if (names) t.names = names;
    return t;
  }
  return toTensor(result, input, ctx);
}

/** Field names of a named tuple; a plain tuple's `_0`, `_1` are no names. */
function named(fields: readonly string[] | undefined): string[] | undefined {
  return fields && !fields.every((f) => /^_\d+$/.test(f)) ? [...fields] : undefined;
}
