/**
 * The abstract values the shape evaluator computes for Python expressions: tensors with
 * symbolic axes (size, role, origin label), strides when known, and the facts the rules ask
 * about (softmax axis, attention-score scaling, mask polarity); integers as symbolic
 * dimensions; floats with the square-root scales attention code builds; torch modules with
 * their constructor arguments; instances of the user's own `nn.Module` classes.
 *
 * Nothing here evaluates anything; `unknown` is the value of whatever cannot be known.
 */

import type { Node } from './parse';
import type { Dim } from './dims';

export type Role = 'batch' | 'seq' | 'chan' | 'head' | 'hdim' | 'space' | 'query' | 'key';

export interface Axis {
  size: Dim;
  role?: Role;
  /** Identity of the original axis this one carries, kept through permutes. */
  label?: string;
  /** The axes a reshape merged into this one (B*W from B and W), so a later split restores them. */
  parts?: Axis[];
  /**
   * The `repeat` that tiled this axis (copies outermost), and the `repeat_interleave` call that
   * lays the same copies out innermost.
   */
  tiledBy?: { node: Node; other: string };
  /**
   * Position 0 along this axis holds one token joined in front of the others by `cat` (a class
   * token): `x[:, 0]` reads it for every sample.
   */
  leadToken?: boolean;
  /** Every entry along this axis is a copy of one (an `expand` of a size-1 axis): merged with another axis, it adds no role. */
  replica?: boolean;
  /** The role was read from how the code treats the axis (a token concatenated along it), not declared. */
  inferred?: boolean;
  /**
   * The role is how a module read the axis (an `nn.MultiheadAttention`'s `batch_first`), not
   * what the code says it is: a sum with a tensor whose axis has no role (a residual) drops it,
   * so one module's reading does not become every later module's evidence.
   */
  read?: boolean;
  /**
   * This axis is one member of a composite axis an einops pattern split (`(h d)` into `h`, `d`):
   * the members' sizes in the pattern's order, this one's place among them, and where the split
   * is written (the call and its pattern).
   */
  splitFrom?: EinopsSplit;
}

/** Where an einops pattern split a composite axis into separate ones (see `Axis.splitFrom`). */
export interface EinopsSplit {
  sizes: Dim[];
  index: number;
  node: Node;
  pattern?: Node;
  names: string[];
}

export type MaskPolarity = 'ignore' | 'keep';

/**
 * What True means in a mask parameter nobody passes, learned from the code instead of a caller:
 * from how the code counts it (`(~mask).cumsum(1)` numbers the real tokens; `mask.sum(1)`
 * used as a length counts them), else from the file's own causal-mask helper (masks in the
 * Annotated Transformer are True where attended, as its `subsequent_mask` returns them). One
 * cell per seeded mask, shared by every value derived from it, so what one use shows holds for
 * every use after it.
 */
export interface MaskCell {
  /** The parameter's name. */
  name: string;
  evidence?: { polarity: MaskPolarity; why: string };
  convention?: { polarity: MaskPolarity; why: string };
}

/** A value derived from a seeded mask: its cell, and whether it is the mask's complement. */
export interface MaskOrigin {
  cell: MaskCell;
  flipped: boolean;
  /** Of a count (`TensorV.countOf`): one count per row (`mask.sum(dim=1)`), not one in all. */
  perRow?: boolean;
}

/**
 * A mask made by one `triu`/`tril` of a constant (ones, True, -inf): its nonzero cells are
 * {(i, j) : j - i >= diagonal} (upper) or {j - i <= diagonal} (lower); `flipped` when `~`,
 * `== 0`… made the tensor True on the complement. A causal mask hides exactly j > i (upper, 1).
 */
export interface MaskTriangle {
  upper: boolean;
  diagonal: number;
  flipped: boolean;
  /** The `triu`/`tril` call, and whether it is the method form (`x.triu(1)`). */
  node: Node;
  method: boolean;
}

export interface TensorV {
  kind: 'tensor';
  /** undefined: rank unknown. */
  axes?: Axis[];
  /**
   * None on some path (`nn.Parameter(...) if class_token else None`): where code uses it, it is
   * the tensor; whether it `is None` is not known.
   */
  optional?: boolean;
  /** Element strides when known (contiguous tensors have their row-major strides). */
  strides?: Dim[];
  dtype?: 'bool' | 'float' | 'long';
  /** The axis a softmax normalised, kept through transposes. */
  normAxis?: number;
  /**
   * `x[0]` of (B, 1 + N, E) tokens led by a class token (the subscript): the first sample's
   * tokens, where every sample's class token is `x[:, 0]`.
   */
  batchRow?: Node;
  softmaxNode?: Node;
  /**
   * Values times softmax weights of the same rank (SK's `feats * attention_vectors`): the axis
   * the weights were normalised over, which a weighted sum must sum over.
   */
  weightedOver?: { axis: number; node: Node };
  /** The softmax normalised the last axis (attention's own convention: the keys of (…, L, S) scores). */
  normLast?: boolean;
  /** Raw attention scores q @ k^T: the contracted (head) dimension and the scaling seen. */
  scores?: {
    contraction: Dim;
    scale?: ScaleFact;
    node: Node;
    multiHead: boolean;
    scaleNode?: Node;
    /** A learned bias was added (T5-style relative position bias, whose models fold the scale into the weights). */
    learnedBias?: boolean;
    /** Both operands came from projections named for queries and keys, so which axis holds the keys is known, not assumed. */
    projected?: boolean;
    /** Where a float mask of 0s and 1s (1 = keep) was added to the scores instead of masking them. */
    added01?: Node;
    /**
     * The queries' and keys' axes of the product are the heads axis (a (…, L, H, D) layout: the
     * permute that put the heads there, else the product): normalised, they attend across heads.
     */
    acrossHeads?: Node;
  };
  /** A scale factor applied before the product (q * scale). */
  scale?: ScaleFact;
  /** Where that factor was applied (`q = q * self.scale`). */
  scaleNode?: Node;
  /**
   * A mask: what True (nonzero) means, whether it holds 0s and 1s, whether it is additive (0 and
   * -inf: the -inf cells are hidden), every cell the same value (ones, full: a triangle cut of
   * it is a causal mask), the triangle it was cut to.
   */
  mask?: {
    polarity: MaskPolarity;
    values01?: boolean;
    additive?: boolean;
    uniform?: boolean;
    tri?: MaskTriangle;
    /** The argument that handed this mask, unchanged, to a file's module or function as its `key_padding_mask` (the outermost call). */
    via?: Node;
    /** How a mask nobody passes got its meaning (see `MaskCell`), for the message. */
    why?: string;
  };
  /** A mask a caller passes (a parameter nobody passes): what the code shows True means in it, once it does. */
  maskOf?: MaskOrigin;
  /** How many True cells such a mask has along an axis (`mask.sum(dim=1)`, its `.max()`). */
  countOf?: MaskOrigin;
  /** A cumulative sum along `axis` (`from` identifies it): its total is its last entry along that axis. */
  cumsum?: { axis: number; from: object };
  /** The last entries of a cumulative sum along `axis` (`x[:, -1:, :]`, written at `node`). */
  lastOf?: { axis: number; cumsum: object; node: Node };
  /** Holds 0s and 1s: a bool tensor cast to a number, whatever its polarity. */
  zeroOne?: boolean;
  /** Holds position indices 0, 1, 2… (torch.arange): compared with lengths, it makes a padding mask. */
  positions?: boolean;
  /** Holds learned values (an nn.Embedding lookup, an nn.Parameter): a bias table, never a mask. */
  learned?: boolean;
  /** Permutes and transposes applied since the origin, and the last one. */
  permutes?: number;
  lastPermute?: Node;
  /** The axis labels before the first of those permutes (the layout a way back should restore). */
  preLayout?: (string | undefined)[];
  /**
   * Seeded without evidence that it is a tensor (an unannotated parameter of code nobody calls):
   * tensor methods apply to it, but an attribute `torch.Tensor` lacks says the value is
   * something else (a module, a dict, a config), not that the code is wrong.
   */
  hypothetical?: boolean;
  /** The rank was read from a shape comment on a statement (`y = f(x)  # (N, M)`), not derived. */
  rankFromComment?: boolean;
  /**
   * Of a shape that depends on what a caller passes even in code run without one (`unpack` of
   * what `pack` took from an input of unknown rank): no line shape holds for every caller.
   */
  varies?: boolean;
  /** The result of an operation shown to raise (or weights shown to attend across heads): everything computed from it is silent (one mistake, one finding). */
  failed?: boolean;
}

export interface ScaleFact {
  /** The scores are multiplied by base ** exp (exp -0.5 for 1/sqrt(base)); undefined base = other factor. */
  base?: Dim;
  exp: number;
  /** Where the factor was written (`head_dim ** -0.5`, `math.sqrt(d_k)`), when it was one expression. */
  node?: Node;
}

export interface IntV {
  kind: 'int';
  dim: Dim;
  /** The Python name the value was read from, for roles. */
  name?: string;
  /** A count of a seeded mask's True cells (see `TensorV.countOf`). */
  countOf?: MaskOrigin;
}

export interface NumV {
  kind: 'num';
  value?: number;
  scale?: ScaleFact;
  /** A float known to be a whole size (`dim * mlp_ratio` with a whole ratio): what `int()` of it is. */
  size?: Dim;
  /** A quotient of sizes (`2 * hidden_dim / 3`): its value once the defaults are taken, and the sizes. */
  atDefaults?: { value: number; from: Dim[] };
  /** A count of a seeded mask's True cells (see `TensorV.countOf`). */
  countOf?: MaskOrigin;
}

export interface BoolV {
  kind: 'bool';
  value?: boolean;
  /** Sizes the value, when true, states equal (`inp == oup`, `stride == 1 and inp == oup`). */
  implies?: [Dim, Dim][];
}

export interface StrV {
  kind: 'str';
  value: string;
}

export interface NoneV {
  kind: 'none';
}

export interface TupleV {
  kind: 'tuple';
  items: Value[];
  /** x.shape / x.size(): the tensor it came from. */
  shapeOf?: TensorV;
  /** A list grown or shrunk an unknown number of times: the items are representatives, the length unknown. */
  inexact?: boolean;
  /** A named tuple's field names by position (`torch.return_types.topk`: values, indices). */
  names?: string[];
  /** Written as a tuple or a list literal: what `isinstance(v, tuple)` answers from. */
  written?: 'tuple' | 'list';
  /**
   * The tensors of an `unbind`: how many (the axis's size, `num_heads`; with `inexact` the items
   * are one representative), and the tensor they were taken from.
   */
  count?: { size: Dim; of: TensorV };
}

export interface TorchModuleV {
  kind: 'torchmodule';
  type: string;
  args: Value[];
  kwargs: Record<string, Value>;
  node: Node;
  /** Items of nn.Sequential / nn.ModuleList. */
  items?: Value[];
  /** Built from a list of unknown length: the items are representatives. */
  inexact?: boolean;
  /** Entries of nn.ModuleDict / nn.ParameterDict by name. */
  entries?: Record<string, Value>;
}

export interface InstanceV {
  kind: 'instance';
  cls: ClassInfo;
  attrs: Map<string, Value>;
  /** For a subclass of a torch layer: that layer as built by `super().__init__(...)` (or the class call). */
  torch?: TorchModuleV;
  called: boolean;
  node?: Node;
  /** Its constructor provably raises (a failing `assert`): calling it runs nothing. */
  failed?: boolean;
}

export interface ClassRefV {
  kind: 'class';
  cls: ClassInfo;
}

export interface FunctionRefV {
  kind: 'function';
  /** A function_definition or a lambda. */
  node: Node;
  self?: InstanceV;
  /**
   * For a function or lambda defined inside another function: the enclosing frames' variables,
   * innermost first, read live (Python closures see later assignments).
   */
  closure?: Map<string, Value>[];
}

/** A dotted name that resolves into an imported library (torch.nn.Linear, math.sqrt). */
export interface QualV {
  kind: 'qual';
  path: string;
}

/** A method of a tensor, read but not yet called. */
export interface BoundMethodV {
  kind: 'method';
  self: TensorV;
  name: string;
}

/** A dict with string keys, all known: `**kwargs` as bound, a `{"dim": 64}` literal, `dict(dim=64)`. */
export interface DictV {
  kind: 'dict';
  items: Record<string, Value>;
}

/**
 * An object of unknown type whose attributes are read as named sizes: a constructor's `config`
 * (`config.n_embd`, `config.n_head`) in code nobody instantiates. Each attribute read once is one
 * symbol named after it, so every use of `config.n_embd` is the same size. `fields` are the
 * annotated fields of the class it was declared as (a dataclass), when known.
 */
export interface SymObjV {
  kind: 'symobj';
  name: string;
  attrs: Map<string, Value>;
  fields?: Map<string, string | undefined>;
  /** The fields' default values as written (`n_head: int = 4`). */
  defaults?: Map<string, Node>;
}

export interface UnknownV {
  kind: 'unknown';
}

export type Value =
  | TensorV
  | IntV
  | NumV
  | BoolV
  | StrV
  | NoneV
  | TupleV
  | TorchModuleV
  | InstanceV
  | ClassRefV
  | FunctionRefV
  | QualV
  | BoundMethodV
  | DictV
  | SymObjV
  | AltV
  | PartialV
  | UnknownV;

/**
 * One of several modules (or None), chosen by a condition that is not known:
 * `norm_layer(dim) if qk_norm else nn.Identity()`. Calling it calls each and joins the results.
 */
export interface AltV {
  kind: 'alt';
  items: Value[];
}

/**
 * `functools.partial(f, *args, **kwargs)`: calling it calls `f` with these arguments first and
 * the call's own after (`norm_layer = partial(nn.LayerNorm, eps=1e-6)`; `norm_layer(dim)`).
 */
export interface PartialV {
  kind: 'partial';
  fn: Value;
  args: Value[];
  kwargs: Record<string, Value>;
  argNodes: Node[];
  kwargNodes: Record<string, Node>;
}

export interface ClassInfo {
  name: string;
  node: Node;
  /** Decorator expressions (`dataclass`, `dataclasses.dataclass(frozen=True)`), as written. */
  decorators?: string[];
  isModule: boolean;
  base?: ClassInfo;
  /** The torch layer the class (or its nearest base in the file) subclasses: `Embedding`. */
  torchBase?: string;
  methods: Map<string, Node>;
}

export const UNKNOWN: UnknownV = { kind: 'unknown' };
