/**
 * The interface between the interpreter core (`evaluate.ts`: statements, expressions, frames,
 * calls, classes, seeding, joins) and the torch semantics (`semantics/<family>.ts`): what an
 * op handler may ask of the interpreter that runs it, the shape of one op call as a handler
 * receives it, and the small vocabulary every family shares (value predicates, dim arguments,
 * the op event and whether its facts prove a raise).
 *
 * Handlers are free functions `(host, call) => Value`, grouped by family in tables keyed by op
 * name (`semantics/index.ts` merges them): adding a fact-carrying op is one table entry. They
 * never see frames or syntax beyond the nodes an event names, never walk the tree, and never
 * throw on user code (an op they cannot describe is a tensor of unknown shape).
 *
 * The value domain is `values.ts` (abstract: symbolic sizes, layout, mask, scale and role
 * facts). A host running the same handlers over concrete tensors (previewing a user's module on
 * the runtime) would provide: `norm`/`compare`/`same`/`unify` as plain integer equality (sizes
 * are numbers there, so `unify` only compares), `fresh` never (every size is known), `tensor`
 * building the value for given sizes, `emit` as a sink for the facts (or nothing), `truth` of
 * its own values, and `tensorOp`/`callModule`/`callInstance`/`binaryValues` reaching its own
 * interpreter. Nothing else of the evaluator leaks into the handlers.
 */

import * as D from '../dims';
import type { Dim } from '../dims';
import type { Event, OpInfo } from '../events';
import type { Node } from '../parse';
import type { InstanceV, IntV, TensorV, TorchModuleV, Value } from '../values';
import { UNKNOWN } from '../values';

/** What an op handler may ask of the interpreter running it. */
export interface OpHost {
  /** A size with every unification applied. */
  norm(d: Dim): Dim;
  /** 'eq' or 'ne' only when provable; 'unknown' otherwise. */
  compare(a: Dim, b: Dim): D.Cmp;
  same(a: Dim, b: Dim): boolean;
  /**
   * Records a == b when nothing proves otherwise; returns the comparison before unifying.
   * `broadcast`: the sizes meet in a broadcast, where they need not be equal (one may be 1).
   */
  unify(a: Dim, b: Dim, broadcast?: boolean): D.Cmp;
  /** `compare` once the sizes named after defaulted parameters take their defaults. */
  compareAtDefaults(a: Dim, b: Dim): { cmp: D.Cmp };
  /**
   * Two different expressions of sizes a constructor's caller chooses (`dim` and `hidden_dim`):
   * equal only for some choices. Never true of numbers.
   */
  apart(a: Dim, b: Dim): boolean;
  /** A new symbolic size named after `name`. */
  fresh(name: string): Dim;
  /** A new axis identity (what permutations and merges track). */
  label(): string;
  /** A contiguous tensor of these sizes, axes taking roles from the names. */
  tensor(sizes: Dim[], names?: (string | undefined)[], extra?: Partial<TensorV>): TensorV;
  /** Reports facts to the rules (the host may drop them, as in a branch a known flag skips). */
  emit(e: Event): void;
  /** A value's truth when known (`keepdim=True`, `batch_first`). */
  truth(v: Value): boolean | undefined;
  /** A size named in a pattern or comment, shared within the exercised class or function. */
  dimForName(name: string): Dim;
  /**
   * The two factors a size was stated to be, in the order written (`assert L == H * W`: L is H
   * rows of W): the order tokens of that many positions are laid out in.
   */
  statedOrder(d: Dim): [Dim, Dim] | undefined;
  /** Python's binary operators on values (`x.add(y)` is `x + y`). */
  binaryValues(op: string, l: Value, r: Value, n: Node): Value;
  /** A tensor method (`args[0]` is the tensor): what `x.op(...)` and `torch.op(x, ...)` reach. */
  tensorOp(op: string, args: Value[], kwargs: Record<string, Value>, argNodes: (Node | undefined)[], kwargNodes: Record<string, Node>, n: Node, nameNode: Node): Value;
  /** A call of a torch layer (`nn.Sequential` calls its items). */
  callModule(m: TorchModuleV, args: Value[], kwargs: Record<string, Value>, argNodes: Node[], kwargNodes: Record<string, Node>, n: Node): Value;
  /** A call of an instance of a class of the file (an item of `nn.Sequential`). */
  callInstance(inst: InstanceV, args: Value[], kwargs: Record<string, Value>, node: Node | undefined, seed: boolean): Value;
}

/** One op call as the handlers receive it. */
export interface OpCall {
  op: string;
  args: Value[];
  kwargs: Record<string, Value>;
  argNodes: (Node | undefined)[];
  kwargNodes: Record<string, Node>;
  /** The call expression. */
  n: Node;
  /** The op's name in the call, where a finding about the op points. */
  nameNode: Node;
}

/** A tensor method call: `t` is the tensor (`args[0]`), `rest` the other positional arguments. */
export interface MethodCall extends OpCall {
  t: TensorV;
  rest: Value[];
  rank: number | undefined;
  /** The facts found, attached to the op event by `done`. */
  info: OpInfo;
  /** An argument by keyword, else by position among `rest`. */
  kw(name: string, i: number): Value;
  /** Emits the op event with `info` and returns the result (a failed tensor when info proves a raise). */
  done(result: Value): Value;
}

/** A `torch.`/`F.` function call; `path` is the qualified name (`torch.nn.functional.pad`). */
export interface FunctionCall extends OpCall {
  path: string;
  argNodes: Node[];
}

/** A call of a torch layer: `x` its input, `t` that input when it is a tensor. */
export interface ModuleCall {
  m: TorchModuleV;
  args: Value[];
  kwargs: Record<string, Value>;
  argNodes: Node[];
  kwargNodes: Record<string, Node>;
  n: Node;
  info: OpInfo;
  x: Value | undefined;
  t: TensorV | undefined;
  rank: number | undefined;
}

/** A handler returns the op's value, or undefined to leave the call to the next rule (a signature). */
export type MethodHandler = (h: OpHost, c: MethodCall) => Value | undefined;
export type FunctionHandler = (h: OpHost, c: FunctionCall) => Value | undefined;
export type ModuleHandler = (h: OpHost, c: ModuleCall) => Value;

// ---------------------------------------------------------------- shared vocabulary

export function numValue(v: Value): number | undefined {
  if (v.kind === 'int') return D.constValue(v.dim);
  if (v.kind === 'num') return v.value;
  if (v.kind === 'bool') return v.value === undefined ? undefined : v.value ? 1 : 0;
  return undefined;
}

export function isTensor(v: Value | undefined): v is TensorV {
  return v?.kind === 'tensor';
}

export function intV(dim: Dim, name?: string): IntV {
  return name ? { kind: 'int', dim, name } : { kind: 'int', dim };
}

/** What an operation shown to raise returns (a new object: values are sometimes refined in place). */
export function failed(): TensorV {
  return { kind: 'tensor', failed: true };
}


export function normDim(d: number | undefined, rank: number, info: OpInfo, extra = 0): number | undefined {
  if (d === undefined || !Number.isInteger(d)) return undefined;
  const r = rank + extra;
  if (d < -r || d >= r) {
    info.dimOutOfRange = { dim: d, rank };
    return undefined;
  }
  return d < 0 ? d + r : d;
}

export function opEvent(h: OpHost, op: string, args: Value[], kwargs: Record<string, Value>, argNodes: (Node | undefined)[], kwargNodes: Record<string, Node>, n: Node, nameNode: Node, result: Value, info: OpInfo): Value {
  // A rank read from a comment in the middle of code describes, it does not prove.
  if ((info.dimOutOfRange || info.rank) && [...args, ...Object.values(kwargs)].some((v) => isTensor(v) && v.rankFromComment)) {
    delete info.dimOutOfRange;
    delete info.rank;
  }
  h.emit({ kind: 'op', op, node: n, args, kwargs, argNodes, kwargNodes, nameNode, result, info });
  return raises(h, info) ? failed() : result;
}

/** Whether the facts found prove that torch raises here. */
export function raises(h: OpHost, info: OpInfo): boolean {
  if (info.badShape || info.itemOf || info.dimOutOfRange || info.badPermutation || info.broadcast || info.catMismatch || info.rank || info.expectedSize) return true;
  return !!info.contracted && h.compare(info.contracted[0], info.contracted[1]) === 'ne';
}

export function margs(m: TorchModuleV, names: string[]): Record<string, Value | undefined> {
  const out: Record<string, Value | undefined> = {};
  names.forEach((nm, i) => {
    out[nm] = m.kwargs[nm] ?? m.args[i];
  });
  return out;
}

export function nth(h: OpHost, v: Value | undefined, i: number): number | undefined {
  if (!v) return undefined;
  if (v.kind === 'int') return D.constValue(h.norm(v.dim));
  if (v.kind === 'tuple') return numValue(v.items[i] ?? UNKNOWN);
  return undefined;
}
