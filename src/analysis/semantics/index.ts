/**
 * The registry of fact-carrying op handlers: every family's table (`shape.ts`, `attention.ts`,
 * `linalg.ts`, `reductions.ts`, `creation.ts`, `elementwise.ts`, `modules.ts`) merged by name,
 * and the three entry points the interpreter core calls — `tensorOp` (a tensor method, also what
 * `torch.<op>(t, …)` reaches), `torchFunction` (a `torch.`/`F.` function), `callModule` (a torch
 * layer). Precedence, as before the split: a function path's signature (`ops/`) first, then the
 * function's handler, then the tensor method; for a method, its handler, then the elementwise
 * and binary tails, then its signature (`ops/`), else a tensor of unknown shape.
 *
 * Adding an op that carries a fact is one entry in its family's table; a pure-shape op is one
 * signature in `ops/<family>.ts`. A name is in one family table only (`analysis-semantics.test.ts`).
 */

import type { OpInfo } from '../events';
import type { Node } from '../parse';
import { callSignature } from '../ops';
import type { TensorV, Value } from '../values';
import { UNKNOWN } from '../values';
import { ATTENTION_FUNCTIONS, ATTENTION_METHODS } from './attention';
import { CREATION_FUNCTIONS, CREATION_METHODS } from './creation';
import { ELEMENTWISE_FUNCTIONS, ELEMENTWISE_METHODS, ELEMENTWISE_TAIL } from './elementwise';
import { failed, isTensor, opEvent, type FunctionHandler, type MethodHandler, type OpHost } from './host';
import { LINALG_FUNCTIONS, LINALG_METHODS } from './linalg';
import { MODULE_FUNCTIONS } from './modules';
import { REDUCTION_METHODS } from './reductions';
import { SHAPE_FUNCTIONS, SHAPE_METHODS } from './shape';

export { callModule, moduleAttribute, newModule } from './modules';
export { lastEntries } from './shape';
export { compareTensors } from './attention';
export { einopsFunction } from './einops';
export { permuteTensor, tensorAttribute, transposeTensor } from './shape';
export { tensorArith } from './elementwise';
export type { OpHost } from './host';

/** The families' method tables, by family (for the registry test). */
export const METHOD_FAMILIES: Record<string, Record<string, MethodHandler>> = {
  shape: SHAPE_METHODS, attention: ATTENTION_METHODS, linalg: LINALG_METHODS, reductions: REDUCTION_METHODS,
  creation: CREATION_METHODS, elementwise: ELEMENTWISE_METHODS,
};

/** The families' function tables, by family (for the registry test). */
export const FUNCTION_FAMILIES: Record<string, Record<string, FunctionHandler>> = {
  shape: SHAPE_FUNCTIONS, attention: ATTENTION_FUNCTIONS, linalg: LINALG_FUNCTIONS, creation: CREATION_FUNCTIONS,
  elementwise: ELEMENTWISE_FUNCTIONS, modules: MODULE_FUNCTIONS,
};

// Maps, not objects: an op named `constructor` or `toString` must find nothing.
const METHODS = new Map<string, MethodHandler>(Object.entries({ ...ELEMENTWISE_TAIL, ...Object.assign({}, ...Object.values(METHOD_FAMILIES)) }));
const FUNCTIONS = new Map<string, FunctionHandler>(Object.entries(Object.assign({}, ...Object.values(FUNCTION_FAMILIES))));

/** A tensor method: `args[0]` is the tensor it is called on. */
export function tensorOp(h: OpHost, op: string, args: Value[], kwargs: Record<string, Value>, argNodes: (Node | undefined)[], kwargNodes: Record<string, Node>, n: Node, nameNode: Node): Value {
  const t = args[0] as TensorV;
  const rest = args.slice(1);
  const info: OpInfo = {};
  if (t.failed) return op === 'chunk' || op === 'split' || op === 'unbind' ? UNKNOWN : failed();
  const done = (result: Value) => opEvent(h, op, args, kwargs, argNodes, kwargNodes, n, nameNode, result, info);
  const rank = t.axes?.length;
  const kw = (name: string, i: number) => kwargs[name] ?? rest[i];
  const handler = METHODS.get(op);
  const res = handler?.(h, { op, args, kwargs, argNodes, kwargNodes, n, nameNode, t, rest, rank, info, kw, done });
  if (res) return res;
  // An op without a handler may have a signature (ops/): topk's named tuple, movedim, diag…
  const sig = callSignature(h, `Tensor.${op}`, args, kwargs, info);
  if (sig) return done(sig);
  // An op without a signature may return anything, a tuple included.
  return done({ kind: 'tensor', hypothetical: true });
}

/** A `torch.`/`F.` function; `op` is the last part of its path. */
export function torchFunction(h: OpHost, op: string, path: string, args: Value[], kwargs: Record<string, Value>, argNodes: Node[], kwargNodes: Record<string, Node>, n: Node, nameNode: Node): Value {
  // F., torch.linalg., torch.fft. and list-taking torch. functions: their signatures (ops/) first.
  const sigInfo: OpInfo = {};
  const sig = callSignature(h, path, args, kwargs, sigInfo);
  if (sig) return opEvent(h, op, args, kwargs, argNodes, kwargNodes, n, nameNode, sig, sigInfo);
  const res = FUNCTIONS.get(op)?.(h, { op, path, args, kwargs, argNodes, kwargNodes, n, nameNode });
  if (res) return res;
  if (path.startsWith('torch.') && isTensor(args[0])) return tensorOp(h, op, args, kwargs, argNodes, kwargNodes, n, nameNode);
  return UNKNOWN;
}

/** A torch function that builds a plain tensor from sizes or data (`torch.zeros`, `torch.tensor`), not from tensors (`zeros_like`). */
export function isFactory(op: string, path: string): boolean {
  return path === `torch.${op}` && Object.prototype.hasOwnProperty.call(CREATION_FUNCTIONS, op) && !op.endsWith('_like');
}
