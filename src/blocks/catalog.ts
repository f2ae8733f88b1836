/**
 * The catalog: the registry of every block and the operations all consumers
 * share — looking a block up, resolving user-supplied values against its
 * parameter definitions, validating, and evaluating its shape contract.
 *
 * Invariant: this file and the block files it imports are the only place a
 * block is defined. It never emits code and never imports `vscode`.
 */

import { evalShape, type Env } from './expr';
import type { BlockDef, Contract, ParamDef, ParamValue, Params, ValidationIssue } from './types';
import { BLOCKS } from './registry';

export type { BlockDef, Params, ParamDef, ParamValue, ValidationIssue, Contract } from './types';

export function allBlocks(): readonly BlockDef[] {
  return BLOCKS;
}

export function getBlock(id: string): BlockDef | undefined {
  return BLOCKS.find((b) => b.id === id);
}

/** The block's default parameter values. */
export function defaults(block: BlockDef): Params {
  const p: Params = {};
  for (const d of block.params) p[d.name] = d.default;
  return p;
}

/**
 * The ceiling of every size parameter (`int`) that declares no `max` of its own. Sizes are
 * multiplied together into weight shapes (`embed_dim × embed_dim`, `channels × channels /
 * reduction`): above 2^16 a single weight matrix has more than 2^32 elements (16 GiB of
 * float32), more than a typed array, a WebGPU buffer or the preview can hold, and the product
 * of two such sizes stops being an exact float64 integer in shape arithmetic.
 */
export const SIZE_CEILING = 65536;
const SIZE_CEILING_WHY = 'a larger size makes one weight matrix exceed 2^32 elements (16 GiB of float32), more than any backend can allocate';

/** A parameter's inclusive upper bound and why it exists, when it has one. */
export function upperBound(def: ParamDef): { max: number; why?: string } | undefined {
  if (def.max !== undefined) return { max: def.max };
  if (def.type === 'int') return { max: SIZE_CEILING, why: SIZE_CEILING_WHY };
  return undefined;
}

/**
 * Parses a textual value (CLI `--set k=v`, a form field) for a parameter.
 * Returns the value or a message explaining what was expected.
 */
export function parseParamValue(def: ParamDef, text: string): { value: ParamValue } | { error: string } {
  const t = text.trim();
  if (def.nullable && (t === '' || t === 'None' || t === 'null')) return { value: null };
  switch (def.type) {
    case 'int': {
      if (!/^[+-]?\d+$/.test(t)) return { error: `${def.name} must be an integer, got ${JSON.stringify(text)}` };
      // Beyond 2^53 a number is no longer an exact integer (`99999999999999999999999` reads as 1e+23).
      if (!Number.isSafeInteger(Number(t))) return { error: `${def.name} (${t.length > 24 ? `${t.slice(0, 20)}…` : t}) is too large to be an exact integer${upperBound(def) ? `; it must be ≤ ${upperBound(def)!.max}` : ''}` };
      return { value: Number(t) };
    }
    case 'float': {
      const v = Number(t);
      if (t === '' || !Number.isFinite(v)) return { error: `${def.name} must be a number, got ${JSON.stringify(text)}` };
      return { value: v };
    }
    case 'bool': {
      const l = t.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(l)) return { value: true };
      if (['false', '0', 'no', 'off'].includes(l)) return { value: false };
      return { error: `${def.name} must be true or false, got ${JSON.stringify(text)}` };
    }
    case 'enum': {
      if (def.choices?.includes(t)) return { value: t };
      return { error: `${def.name} must be one of ${def.choices?.join(', ')}, got ${JSON.stringify(text)}` };
    }
  }
}

/** Type and range checks for one parameter value. */
export function checkParam(def: ParamDef, v: ParamValue): string | undefined {
  if (v === null) return def.nullable ? undefined : `${def.name} cannot be None`;
  switch (def.type) {
    case 'int':
    case 'float':
      if (typeof v !== 'number' || !Number.isFinite(v)) return `${def.name} must be a number`;
      if (def.type === 'int' && !Number.isInteger(v)) return `${def.name} must be an integer, got ${v}`;
      if (def.min !== undefined && v < def.min) return `${def.name} (${v}) must be ≥ ${def.min}`;
      {
        const ub = upperBound(def);
        if (ub && v > ub.max) return `${def.name} (${v}) must be ≤ ${ub.max}${ub.why ? `: ${ub.why}` : ''}`;
      }
      return undefined;
    case 'bool':
      return typeof v === 'boolean' ? undefined : `${def.name} must be true or false`;
    case 'enum':
      return typeof v === 'string' && def.choices?.includes(v) ? undefined : `${def.name} must be one of ${def.choices?.join(', ')}`;
  }
}

/**
 * Fills in defaults for missing values and reports unknown names, per-parameter
 * type/range errors and the block's cross-parameter checks. Cross-parameter
 * checks run only when every value is individually valid.
 */
export function resolveParams(block: BlockDef, given: Params): { params: Params; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const params = defaults(block);
  for (const [k, v] of Object.entries(given)) {
    const def = block.params.find((d) => d.name === k);
    if (!def) {
      issues.push({ param: k, message: `${block.id} has no parameter '${k}' (parameters: ${block.params.map((d) => d.name).join(', ')})` });
      continue;
    }
    params[k] = v;
  }
  for (const def of block.params) {
    const msg = checkParam(def, params[def.name]);
    if (msg) issues.push({ param: def.name, message: msg });
  }
  if (issues.length === 0) issues.push(...block.validate(params));
  return { params, issues };
}

/** The environment a contract is evaluated in: numeric parameters plus input dims. */
export function contractEnv(block: BlockDef, params: Params, dims: Record<string, number>): Env {
  const env: Record<string, number> = {};
  for (const def of block.params) {
    const v = params[def.name];
    if (typeof v === 'number') env[def.name] = v;
    else if (typeof v === 'boolean') env[def.name] = v ? 1 : 0;
  }
  return { ...env, ...dims };
}

export interface ConcreteShapes {
  inputs: Record<string, number[]>;
  outputs: Record<string, number[]>;
}

/** Evaluates the contract at concrete dims (defaults when not given). */
export function concreteShapes(block: BlockDef, params: Params, dims?: Record<string, number>): ConcreteShapes {
  const d: Record<string, number> = {};
  for (const dim of block.dims) d[dim.name] = dims?.[dim.name] ?? dim.default;
  const env = contractEnv(block, params, d);
  const c: Contract = block.contract(params);
  const inputs: Record<string, number[]> = {};
  const outputs: Record<string, number[]> = {};
  for (const t of c.inputs) inputs[t.name] = evalShape(t.shape, env);
  for (const t of c.outputs) outputs[t.name] = evalShape(t.shape, env);
  return { inputs, outputs };
}

/** `(N, C, L)` from a shape given as expressions. */
export function formatShape(shape: readonly string[]): string {
  return `(${shape.join(', ')})`;
}
