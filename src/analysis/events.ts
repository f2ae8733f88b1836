/**
 * The events the shape evaluator emits while it walks code once: building a torch module,
 * calling one, a tensor operation, a binary operator, reading a tensor attribute, returning
 * from `forward`, an `assert` of divisibility that fails. Rules subscribe to event kinds; they read the evaluated values attached and
 * never walk the tree themselves.
 */

import type { Dim } from './dims';
import type { Node } from './parse';
import type { EinopsSplit, Role, TensorV, TorchModuleV, Value } from './values';

export interface ModuleNewEvent {
  kind: 'module-new';
  node: Node;
  module: TorchModuleV;
  /** Argument nodes by position and by keyword, for messages and fixes. */
  argNodes: Node[];
  kwargNodes: Record<string, Node>;
  /** Where the constructor arguments' values come from: true when every one is a literal or constant. */
  literal: boolean;
}

/** Facts the evaluator establishes about an operation, for the rules to judge. */
export interface OpInfo {
  /** view/reshape: element counts before and after. */
  numel?: { from: Dim; to: Dim; inferred?: boolean };
  /** The element counts of a view/reshape that nothing decided: the rule judges them at the defaults. */
  numelUndecided?: { from: Dim; to: Dim; inferred?: boolean };
  /** view/reshape sizes no tensor can take: two -1s, a negative size other than -1. */
  badShape?: string;
  /** `.item()` on a tensor whose element count is provably not one. */
  itemOf?: Dim;
  /** A cumulative sum along `summed` divided by its last entries along `last`, taken at `index`. */
  cumsumTotal?: { summed: number; last: number; index: Node };
  /** A softmax over the query axis of scores that have a key axis (at `keyAxis` of `rank`). */
  softmaxOverQueries?: { keyAxis: number; rank: number };
  /** `.item()` of a tensor with a batch axis of this size: it has one element only in a batch of one. */
  itemOfBatch?: Dim;
  /** `.item()` of one count per row of this mask (`mask.sum(dim=1)`): one element only where the mask has one row. */
  itemOfRows?: string;
  /** view on a tensor whose strides cannot express the new shape. */
  notViewable?: boolean;
  /** view/reshape that would need a transpose first (factors present, order wrong). */
  reorder?: boolean;
  /** The reorder splits an axis a reshape merged into the same parts in another order ((h·w) as (w, h)). */
  partsOrder?: boolean;
  /**
   * chunk/split into `count` parts along an axis that `count` does not divide, while the last
   * axis is provably made of `count` equal parts (a fused q/k/v projection split across the
   * sequence): the axis split, and the last axis's size.
   */
  packedElsewhere?: { axis: number; count: number; size: Dim; last: Dim };
  /** A dim argument outside the tensor's rank. */
  dimOutOfRange?: { dim: number; rank: number };
  /** permute arguments that are not a permutation of the axes. */
  badPermutation?: string;
  /** Inner dimensions of a product (matmul, bmm, @, einsum, Linear). */
  contracted?: [Dim, Dim];
  /**
   * Sizes not known to differ, but the axes contracted play different parts: a feature axis
   * (head dim, channels) against a positional one (heads, sequence, batch, space), or a batch
   * or heads axis (which products carry through) against another.
   */
  contractedRoles?: [Role | undefined, Role | undefined];
  /** A softmax output contracted over an axis other than the one it normalised. */
  softmaxMisused?: Node;
  /** The axis the misused weights are summed over (`(feats * weights).sum(dim=1)`) over an axis their softmax did not normalise. */
  softmaxSummedOver?: number;
  /**
   * The weights were normalised over their last axis (the keys, by attention's convention) and
   * reach the product unpermuted: the product, not the softmax, contracts the wrong axis.
   */
  softmaxContractedWrong?: boolean;
  /** Broadcasting failure: the two sizes that cannot broadcast. */
  broadcast?: [Dim, Dim];
  /**
   * Two axes of unrelated roles met in a broadcast (a sequence axis against a batch axis,
   * channels against positions) whose sizes are not known to be equal: the sizes, the roles and
   * the axis (negative, from the right).
   */
  broadcastRoles?: { a: Dim; b: Dim; roles: [Role, Role]; axis: number };
  /** A softmax over scores whose queries and keys are the heads axis: where the heads were put there. */
  headsAttended?: Node;
  /** Two operands whose axes are the same axes in a different order. */
  permutedOperands?: Node;
  /**
   * Two operands met on an axis each merged from the same two parts in the opposite order (a
   * mask tiled per head as (h, b) against scores folded as (b, h)): the axis of each, as
   * written, and the `repeat` that made one of them, with the call that orders it the other way.
   */
  partsSwapped?: { axis: number; parts: [Dim, Dim]; tiled?: { node: Node; other: string } };
  /**
   * An einops merge of axes that one split made, in another order than the split's: `order[k]`
   * is the split's place of the k-th merged axis; `names` the merge group's members.
   */
  mergeOrder?: { split: EinopsSplit; order: number[]; names: string[]; pattern?: Node; headsFirst: { split: boolean; merge: boolean } };
  /**
   * A second permute that puts some of the axes the first one moved back where they were, but
   * not all: the way back is not the inverse (the labels before the round trip, and after).
   */
  partialRoundTrip?: { before: string[]; after: string[] };
  /**
   * `a // b` of sizes whose numbers (a caller's, or the defaults) leave a remainder: the code
   * reads it as exact division (`dim // num_heads`), and the remainder is dropped.
   */
  floorRemainder?: { values: [number, number]; dims: [Dim, Dim]; dividend: Node; divisor: Node };
  /** cat/stack: the sizes that disagree, or ranks that disagree (or a token joined along another axis than the tokens'). */
  catMismatch?: { a: Dim; b: Dim; axis: number; token?: boolean; roles?: [Role, Role] } | { rankA: number; rankB: number };
  /** Why torch raises for the call's argument values (a pooling window larger than its input, an odd padding length): torch's own message, in words. */
  raised?: string;
  /** A rank an operation or module requires and the rank it got. */
  rank?: { expected: string; got: number };
  /** A size an operation or module requires on an axis and the size it got. */
  /** A layer's input with the wrong size on `axis`: `arg` names which input when it is not the first (`tgt`). */
  expectedSize?: { axis: number; expected: Dim; got: Dim; what: string; arg?: { name: string; value: Value } };
  /** A pooling window made of the input's own sizes in another order (see `OpError`). */
  swappedWindow?: { what: string; axis: number; size: Dim; window: Dim; order: number[] };
}

export interface ModuleCallEvent {
  kind: 'module-call';
  info: OpInfo;
  node: Node;
  module: TorchModuleV;
  args: Value[];
  kwargs: Record<string, Value>;
  argNodes: Node[];
  kwargNodes: Record<string, Node>;
}

export interface OpEvent {
  kind: 'op';
  /** Canonical op name: 'matmul', 'softmax', 'permute', 'view', 'cat', 'sdpa', 'masked_fill'… */
  op: string;
  node: Node;
  /** Positional arguments; for a tensor method the tensor comes first. */
  args: Value[];
  kwargs: Record<string, Value>;
  argNodes: (Node | undefined)[];
  kwargNodes: Record<string, Node>;
  /** The node naming the function or method (the attribute identifier for x.view). */
  nameNode: Node;
  result: Value;
  info: OpInfo;
}

export interface BinaryEvent {
  kind: 'binary';
  op: string;
  node: Node;
  left: Value;
  right: Value;
  result: Value;
  info: OpInfo;
}

export interface AttributeEvent {
  kind: 'attribute';
  node: Node;
  nameNode: Node;
  name: string;
  self: TensorV;
}

/** A return from `forward`, or of a mask cut as a triangle from any function. */
export interface ReturnEvent {
  kind: 'return';
  node: Node;
  value: Value;
  params: Value[];
  forward: boolean;
  /** The returning function's name. */
  function?: string;
}

/**
 * An `assert a % b == 0` that fails for the numbers at hand (a config's defaults, a call's
 * arguments): the constructor raises there, and nothing after it runs.
 */
export interface AssertEvent {
  kind: 'assert';
  node: Node;
  /** The dividend and divisor as written, and their values. */
  dividend: Node;
  divisor: Node;
  values: [number, number];
  /** The sizes the values were found from (symbolic where they are a default's). */
  dims: [Dim, Dim];
}

/**
 * `q, k, v = value`: names bound by unpacking a tensor (one item per index of its first axis) or
 * the tensors of an `unbind` (one per index of the axis), whose count is a size.
 */
export interface UnpackEvent {
  kind: 'unpack';
  /** The pattern of names. */
  node: Node;
  /** How many names the pattern binds. */
  names: number;
  /** How many items the value gives. */
  count: Dim;
  /** What is unpacked: a tensor's first axis, or the tensors an op gave. */
  source: TensorV;
  from: 'tensor' | 'unbind';
}

/**
 * A module whose constructor takes the input's width (`in_channels`) and never reads it, while
 * the layer its forward applies to the input is built with another width (`d_model`).
 */
export interface UnusedWidthEvent {
  kind: 'unused-width';
  /** The layer's constructor call. */
  node: Node;
  /** The unused parameter. */
  param: string;
  /** The layer's input-width argument as written, and its name (in_channels, in_features). */
  widthArg: Node;
  widthName: string;
  /** The attribute the layer is stored in, and the input it is applied to. */
  layer: string;
  input: string;
  /** The parameter's default, where it has one. */
  def?: string;
}

/** A call of a function, method or module class of the file, with its parameters' names. */
export interface CallEvent {
  kind: 'call';
  node: Node;
  /** The name called, as written (`window_reverse`, `self.attn`). */
  callee: string;
  /** The positional parameters' names, in order, `self` left out. */
  params: string[];
  /** The positional arguments as written, and their values. */
  argNodes: Node[];
  args: Value[];
}

export type Event = ModuleNewEvent | ModuleCallEvent | OpEvent | BinaryEvent | AttributeEvent | ReturnEvent | AssertEvent | UnpackEvent | UnusedWidthEvent | CallEvent;
