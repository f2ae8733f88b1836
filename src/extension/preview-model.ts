/**
 * The preview panel's decisions, without `vscode` (unit-tested): which variant of a block the
 * preview runs, and what the webview is told about it (`PreviewBlock`: constructor arguments of
 * the compiled twin, free dims, concrete input/output shapes and how to fill each input).
 *
 * The preview variant: a block's baked parameters decide its forward signature. When the caller
 * does not choose them, the preview derives a choice from the catalog, never listed per block:
 * starting from the defaults, a baked parameter is switched on when doing so only adds an
 * optional mask input (key padding, a causal/boolean attention mask) and leaves the outputs as
 * they were, because an optional mask can be switched off at run time (`null`) while a missing
 * one cannot be added. The webview builds the block with `instantiateBlock` (src/twins/), which
 * has every structural combination compiled. This module does not run blocks or touch the
 * webview.
 */

import { allBlocks, concreteShapes, defaults, getBlock, resolveParams } from '../blocks/catalog';
import type { BlockDef, Params } from '../blocks/catalog';
import type { Contract } from '../blocks/types';
import type { InputFill, PreviewBlock, PreviewInput, PreviewOutput, PreviewResolvedMessage } from '../protocol/preview';

const MASK_FILLS: ReadonlySet<string> = new Set(['padding', 'causal-ignore', 'causal-keep', 'causal-additive']);

function sameOutputs(a: Contract, b: Contract): boolean {
  return JSON.stringify(a.outputs.map((o) => [o.name, o.shape])) === JSON.stringify(b.outputs.map((o) => [o.name, o.shape]));
}

/** Inputs of `next` that `base` lacks, when all of them are optional masks; undefined otherwise. */
function addedMasks(base: Contract, next: Contract): string[] | undefined {
  const have = new Set(base.inputs.map((i) => i.name));
  const added = next.inputs.filter((i) => !have.has(i.name));
  if (!added.length || next.inputs.length !== base.inputs.length + added.length) return undefined;
  return added.every((i) => i.optional && i.fill !== undefined && MASK_FILLS.has(i.fill)) ? added.map((i) => i.name) : undefined;
}

/** The baked values the preview runs for a block: defaults, plus every choice that only adds an optional mask. */
export function previewBakedParams(block: BlockDef): Params {
  const p = defaults(block);
  for (const def of block.params) {
    if (!def.baked) continue;
    const candidates = def.type === 'bool' ? [true] : def.type === 'enum' ? (def.choices ?? []).filter((c) => c !== p[def.name]) : [];
    for (const c of candidates) {
      if (p[def.name] === c) continue;
      const next = { ...p, [def.name]: c };
      const { issues } = resolveParams(block, next);
      if (issues.length) continue;
      if (!sameOutputs(block.contract(p), block.contract(next))) continue;
      if (!addedMasks(block.contract(p), block.contract(next))) continue;
      p[def.name] = c;
      break;
    }
  }
  const baked: Params = {};
  for (const def of block.params) if (def.baked) baked[def.name] = p[def.name];
  return baked;
}

/**
 * The parameters the preview runs: what was given (e.g. the scaffold form's choice, baked values
 * included: every structural combination is compiled), over the preview's mask-enabling baked
 * choices for what was not given, over the defaults.
 */
export function previewParams(block: BlockDef, given: Params = {}): { params: Params; issues: string[] } {
  const { params, issues } = resolveParams(block, { ...previewBakedParams(block), ...given });
  return { params, issues: issues.map((i) => i.message) };
}

/** Concrete inputs and outputs at `dims` (each missing dim at its default). Throws when the contract cannot be evaluated. */
export function previewShapes(block: BlockDef, params: Params, dims: Record<string, number> = {}): { inputs: PreviewInput[]; outputs: PreviewOutput[] } {
  const shapes = concreteShapes(block, params, dims);
  const c = block.contract(params);
  const inputs = c.inputs.map((t): PreviewInput => ({
    name: t.name,
    shape: shapes.inputs[t.name],
    dtype: t.dtype === 'bool' ? 'bool' : 'float',
    fill: (t.fill ?? 'randn') as InputFill,
    optional: t.optional ?? false,
  }));
  const outputs = c.outputs.map((t): PreviewOutput => ({ name: t.name, shape: shapes.outputs[t.name] }));
  return { inputs, outputs };
}

/**
 * The most memory one preview run may be known to need: a webview's renderer reliably
 * allocates about this much in typed arrays (its heap is capped at a few GiB, shared with the
 * page), and WebGPU's default `maxBufferSize` is far below it.
 */
export const PREVIEW_MEMORY_LIMIT = 2 ** 30;

function fmtBytes(n: number): string {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${(n / 2 ** 20).toFixed(0)} MiB`;
}

/**
 * Refuses, in one line, a run whose inputs and outputs alone (float32, from the contract at
 * these dims) exceed `PREVIEW_MEMORY_LIMIT`: a lower bound of what the run allocates, so a
 * refusal is certain to be right; larger intermediates (attention maps) are caught by the
 * webview's dry run before dispatch.
 */
export function previewMemoryIssue(blockId: string, shapes: { inputs: { shape: number[] }[]; outputs: { shape: number[] }[] }): string | undefined {
  const bytes = [...shapes.inputs, ...shapes.outputs].reduce((a, t) => a + 4 * t.shape.reduce((x, y) => x * y, 1), 0);
  if (bytes <= PREVIEW_MEMORY_LIMIT) return undefined;
  return `${blockId} at these sizes needs at least ${fmtBytes(bytes)} for its inputs and outputs alone, more than the ${fmtBytes(PREVIEW_MEMORY_LIMIT)} the preview can allocate; choose smaller sizes or dims`;
}

/** What the webview is told about a block, or an error message when it cannot be previewed. */
export function previewBlock(blockId: string, given: Params = {}): { block: PreviewBlock } | { error: string } {
  const block = getBlock(blockId);
  if (!block) return { error: `no block '${blockId}' in the catalog` };
  if (!block.typescript) return { error: `${block.title} ('${block.id}') has no TypeScript twin yet (issue 3), so it cannot run in the preview.` };
  const { params, issues } = previewParams(block, given);
  if (issues.length) return { error: `${block.id}: ${issues.join('; ')}` };
  const dims = block.dims.map((d) => ({ name: d.name, doc: d.doc, value: d.default }));
  const { inputs, outputs } = previewShapes(block, params);
  const memory = previewMemoryIssue(block.id, { inputs, outputs });
  if (memory) return { error: memory };
  return { block: { id: block.id, title: block.title, layout: block.layout, params: { ...params }, dims, inputs, outputs, notes: [] } };
}

/** The reply to a webview's `resolve` request: shapes at its dims, or the reasons they are invalid. */
export function resolvePreview(blockId: string, given: Params, seq: number, dims: Record<string, number>): PreviewResolvedMessage {
  const block = getBlock(blockId);
  const base = { type: 'resolved' as const, seq, dims, inputs: [], outputs: [] };
  if (!block) return { ...base, issues: [`no block '${blockId}' in the catalog`] };
  const unknown = Object.keys(dims).filter((k) => !block.dims.some((d) => d.name === k));
  if (unknown.length) return { ...base, issues: [`${block.id} has no dim ${unknown.join(', ')}`] };
  const { params, issues } = previewParams(block, given);
  if (issues.length) return { ...base, issues };
  try {
    const { inputs, outputs } = previewShapes(block, params, dims);
    const bad = [...inputs, ...outputs].filter((t) => t.shape.some((d) => !Number.isSafeInteger(d) || d < 1));
    if (bad.length) return { ...base, issues: bad.map((t) => `${t.name} would have shape (${t.shape.join(', ')}): every size must be ≥ 1`) };
    const memory = previewMemoryIssue(block.id, { inputs, outputs });
    if (memory) return { ...base, issues: [memory] };
    return { ...base, inputs, outputs, issues: [] };
  } catch (e) {
    return { ...base, issues: [(e as Error).message] };
  }
}

/** Every catalog block, for the panel's picker. */
export function previewBlockList(): { id: string; title: string }[] {
  return allBlocks().map((b) => ({ id: b.id, title: b.title }));
}
