/**
 * `instantiateBlock`: builds a catalog block as a runtime module from the
 * compiled twins (one class per block per combination of its structural
 * parameters, generated from the catalog by `scripts/gen-twins.ts` into
 * `src/generated/twins/`). It picks the class for the structural values and
 * passes the other values as constructor arguments, so a block runs without
 * evaluating any source text — the CLI, and the preview under a CSP without
 * `unsafe-eval`, import ordinary classes. It imports only the runtime and the
 * generated table (never the catalog, so the webview may use it): parameters
 * must already be resolved and validated (`resolveParams` in
 * `src/blocks/catalog.ts`); what it checks is that every value it needs is
 * there and that the structural combination was compiled.
 */

import { TWINS } from '../generated/twins/table';
import type { Backend, Generator } from '../runtime/index';
import type { BlockModule, TwinBlock, TwinEntry } from './types';

export type { BlockModule, TwinCtor, TwinEntry, TwinBlock, TwinTable } from './types';

export type TwinParams = Readonly<Record<string, number | boolean | string | null>>;

export interface InstantiateOptions {
  /** Source of the random initial values (seeded; `new Generator(0)` when omitted). */
  readonly generator?: Generator;
  /** Where parameters live (the CPU backend when omitted). */
  readonly device?: Backend;
}

/** A block id without a twin, a structural combination that was not compiled, or a missing value. */
export class TwinLookupError extends Error {}

/** The ids of every block in the table. */
export function twinBlockIds(): string[] {
  return Object.keys(TWINS);
}

function blockOf(blockId: string): TwinBlock {
  const b = Object.prototype.hasOwnProperty.call(TWINS, blockId) ? TWINS[blockId] : undefined;
  if (!b) throw new TwinLookupError(`no compiled block '${blockId}' (blocks: ${twinBlockIds().join(', ')})`);
  return b;
}

/** The compiled class and its argument names for resolved parameters. */
export function lookupTwin(blockId: string, params: TwinParams): TwinEntry {
  const b = blockOf(blockId);
  const missing = b.structural.filter((n) => !(n in params));
  if (missing.length) throw new TwinLookupError(`${blockId}: missing structural parameter(s) ${missing.join(', ')}`);
  const key = b.structural.map((n) => `${n}=${String(params[n])}`).join(',');
  const entry = Object.prototype.hasOwnProperty.call(b.combos, key) ? b.combos[key] : undefined;
  if (!entry) throw new TwinLookupError(`${blockId}: no compiled class for ${key} (compiled: ${Object.keys(b.combos).join(' | ')})`);
  return entry;
}

/**
 * Builds `blockId` with resolved `params` (every parameter of the block; the
 * structural ones select the class), initialised from `generator`, on
 * `device`, in eval mode. Throws `TwinLookupError` for an unknown block, a
 * combination that was not compiled, or a missing value; the block's own
 * guards throw `TorchError('ValueError', …)` for invalid values.
 */
export function instantiateBlock(blockId: string, params: TwinParams, opts: InstantiateOptions = {}): BlockModule {
  const entry = lookupTwin(blockId, params);
  const missing = entry.args.filter((n) => !(n in params));
  if (missing.length) throw new TwinLookupError(`${blockId}: missing parameter(s) ${missing.join(', ')}`);
  const module = new entry.ctor(...entry.args.map((n) => params[n]), { generator: opts.generator, device: opts.device });
  return module.eval();
}
