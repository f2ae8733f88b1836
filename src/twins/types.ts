/**
 * Types shared by the compiled-twins table (generated under
 * `src/generated/twins/`) and its lookup (`registry.ts`). Types only: this
 * module has no code, so the generated table can import it without a cycle.
 */

import type { nn, Tensor } from '../runtime/index';

/** A block's module once built: its `forward` takes the contract's inputs in order. */
export type BlockModule = nn.Module & { forward(...inputs: (Tensor | null)[]): Tensor | Tensor[] };

/** A compiled twin's constructor: the block's constructor arguments in order, then the factory options. */
export type TwinCtor = new (...args: unknown[]) => BlockModule;

export interface TwinEntry {
  readonly ctor: TwinCtor;
  /** Names of the constructor arguments, in order (the block's non-structural parameters). */
  readonly args: readonly string[];
}

export interface TwinBlock {
  /** The block's structural (`baked`) parameter names, in declaration order. */
  readonly structural: readonly string[];
  /** `name=value,…` over `structural` → the class compiled for those values. */
  readonly combos: Readonly<Record<string, TwinEntry>>;
}

export type TwinTable = Readonly<Record<string, TwinBlock>>;
