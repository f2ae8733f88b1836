/**
 * The catalog's vocabulary: what a block declares about itself.
 *
 * A block is declared once, in one file under `src/blocks/`, as a `BlockDef`:
 * typed parameters with defaults, ranges and docs; a validation function whose
 * messages say how to fix the value; a symbolic shape contract; and its
 * structure in PyTorch terms (`PyClassSpec`: submodules built in `__init__`
 * and the statements of `forward`). Everything else about a block (generated
 * code, CLI listings, docs, snippets, tests) is derived from that declaration.
 *
 * This module holds types only, plus nothing that knows about any one block.
 */

export type ParamValue = number | boolean | string | null;
export type Params = Record<string, ParamValue>;

export interface ParamDef {
  readonly name: string;
  readonly type: 'int' | 'float' | 'bool' | 'enum';
  readonly default: ParamValue;
  readonly doc: string;
  /** Inclusive bounds for int and float parameters. */
  readonly min?: number;
  readonly max?: number;
  /** Allowed values of an enum parameter. */
  readonly choices?: readonly string[];
  /** `null` is allowed (rendered as Python `None`), e.g. `kdim` meaning "same as embed_dim". */
  readonly nullable?: boolean;
  /**
   * A structural choice made at generation time (which layers exist, which
   * forward arguments are taken) rather than a constructor argument.
   */
  readonly baked?: boolean;
  /** Shown as a placeholder in snippets. */
  readonly main?: boolean;
}

/** A free symbolic input dimension (batch, length, height...), with values used by tests and previews. */
export interface DimDef {
  readonly name: string;
  readonly doc: string;
  readonly default: number;
  /** A deliberately odd size that tests also run with. */
  readonly odd: number;
}

/** How a test or a preview synthesises an input tensor. */
export type Fill =
  | 'randn'
  /** Bool (N, S), True marks padded keys (the last few of every other batch item). */
  | 'padding'
  /** Bool (L, S), True above the diagonal: positions that may not be attended (nn.MultiheadAttention polarity). */
  | 'causal-ignore'
  /** Bool (L, S), True on and below the diagonal: positions that may be attended (SDPA polarity). */
  | 'causal-keep'
  /** Float (L, S), 0 on and below the diagonal and -inf above: an additive mask. */
  | 'causal-additive';

export interface TensorSpec {
  /** The forward argument name (inputs) or the returned value's name (outputs: `output`, `attn`). */
  readonly name: string;
  /** One expression per dimension over the block's dims and parameters (see expr.ts). */
  readonly shape: readonly string[];
  readonly dtype?: 'float' | 'bool';
  readonly fill?: Fill;
  readonly doc: string;
  /** The forward argument defaults to None. */
  readonly optional?: boolean;
}

export interface Contract {
  readonly inputs: readonly TensorSpec[];
  /** In the order `forward` returns them; a single output is returned bare, several as a tuple. */
  readonly outputs: readonly TensorSpec[];
}

export interface ValidationIssue {
  readonly param: string;
  readonly message: string;
}

export interface Citation {
  readonly title: string;
  readonly authors: string;
  readonly year: number;
  readonly url: string;
}

/** One argument of a generated Python function. */
export interface PyArg {
  readonly name: string;
  readonly annotation: string;
  /** Python source of the default value, when there is one. */
  readonly default?: string;
}

/**
 * A generated `nn.Module` subclass in PyTorch terms. Lines are Python source
 * without indentation for the body of `__init__` (after `super().__init__()`)
 * and of `forward`; nested blocks indent with four spaces inside a line.
 */
export interface PyClassSpec {
  readonly name: string;
  /** One-line summary for the docstring. */
  readonly summary: string;
  /** Constructor arguments; omitted on a block's main class, whose arguments are its non-baked parameters. */
  readonly initArgs?: readonly PyArg[];
  readonly init: readonly string[];
  readonly forwardArgs: readonly PyArg[];
  readonly returns: string;
  readonly forward: readonly string[];
  /** Classes this one uses, emitted before it (deduplicated by name). */
  readonly helpers?: readonly PyClassSpec[];
  /** Extra docstring paragraphs (shape notes of helpers). */
  readonly doc?: readonly string[];
}

/** One argument of a generated TypeScript function or constructor. */
export interface TsArg {
  readonly name: string;
  readonly type: string;
  /** TypeScript source of the default value, when there is one. */
  readonly default?: string;
}

/**
 * A generated TypeScript module class against the runtime's `nn` API (see
 * `src/runtime/`), mirroring the block's `PyClassSpec` statement by
 * statement with the same attribute names, so the state_dict keys are
 * identical. Lines are TypeScript source without indentation (nested blocks
 * indent by two spaces inside a line). In `init`, `generator` and `device`
 * (the constructor's factory options) are in scope and are passed to every
 * submodule that has parameters.
 */
export interface TsClassSpec {
  readonly name: string;
  readonly summary: string;
  /** Constructor arguments; omitted on a block's main class, whose arguments are its non-baked parameters. */
  readonly ctorArgs?: readonly TsArg[];
  /** Field declarations (`mha: nn.MultiheadAttention`), in assignment order. */
  readonly fields: readonly string[];
  readonly init: readonly string[];
  readonly forwardArgs: readonly TsArg[];
  readonly returns: string;
  readonly forward: readonly string[];
  /** Classes this one uses, emitted before it (deduplicated by name). */
  readonly helpers?: readonly TsClassSpec[];
}

/** An invalid parameter combination the catalog must reject, with what torch does with it. */
export interface InvalidExample {
  readonly params: Params;
  /** A fragment of the validation message. */
  readonly message: string;
  /**
   * `raises`: torch itself fails on the generated code without our guard.
   * `degenerate`: torch accepts it but builds something useless (e.g. zero channels).
   */
  readonly torch: 'raises' | 'degenerate';
}

export interface BlockDef {
  readonly id: string;
  readonly title: string;
  /** One line, shown in pickers. */
  readonly summary: string;
  /** Markdown paragraphs: what it does, when to use it. */
  readonly docs: string;
  /** Where this block deliberately differs from the reference posts it came from, if any. */
  readonly differences?: string;
  readonly citation?: Citation;
  /** Human-readable input layout, e.g. `(N, C, L)`. */
  readonly layout: string;
  readonly params: readonly ParamDef[];
  readonly dims: readonly DimDef[];
  /** Cross-parameter checks; per-parameter type and range checks are done by the catalog. */
  validate(p: Params): ValidationIssue[];
  contract(p: Params): Contract;
  /** The structure of the generated module at these (valid) parameters. */
  pytorch(p: Params): PyClassSpec;
  /**
   * The same structure for the TypeScript runtime (`attention-forge new --lang ts`,
   * `attention-forge run`); absent while a block has no TypeScript twin yet.
   */
  typescript?(p: Params): TsClassSpec;
  /**
   * Why these parameters need torch >= 2.0 (a `use_sdpa` parameter selecting
   * `F.scaled_dot_product_attention`, the `is_causal` hint), or undefined.
   */
  torch2Only?(p: Params): string | undefined;
  /** Parameter combinations the tests run in addition to the generated grid. */
  readonly examples: readonly Params[];
  readonly invalid: readonly InvalidExample[];
}
