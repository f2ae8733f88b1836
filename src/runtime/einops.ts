/**
 * einops on the runtime: `rearrange`, `repeat`, `reduce`, `einsum` and the layers
 * `Rearrange`/`Reduce` of `einops.layers.torch`, with einops' pattern language (names,
 * parenthesised groups, `1`/`()` for unit axes, `...`, and sizes as keyword arguments). Each is
 * what einops itself does on torch: one reshape to the elementary axes, one permute, a reduce
 * or an expand, one reshape to the output groups, so the work is the registry's kernels (copy,
 * reduce) and the numbers are theirs. Errors use einops' wording and class (`EinopsError`).
 */

import { TorchError } from './errors';
import { einsumNamed, parseNamedEquation } from './einsum';
import { Module } from './nn/module';
import { cat, type Tensor } from './tensor';

function einopsError(message: string): TorchError {
  return new TorchError('EinopsError', message);
}

/** One axis of a pattern side: a name, or an anonymous axis of a fixed size (`1`, `3`). */
interface Axis {
  readonly name: string;
  readonly size?: number;
}
/** One dimension of a side: its axes (none for `()` and `1`), or the ellipsis. */
type Group = { readonly axes: Axis[]; readonly ellipsis?: boolean };

const ELLIPSIS_AXIS = (k: number): Axis => ({ name: `…${k}` });

function parseSide(side: string, pattern: string): Group[] {
  const tokens = side.match(/\.\.\.|\(|\)|[A-Za-z_][A-Za-z0-9_]*|\d+|\S/g) ?? [];
  const groups: Group[] = [];
  let open: Axis[] | null = null;
  let anon = 0;
  let openHasEllipsis = false;
  for (const tok of tokens) {
    if (tok === '(') {
      if (open) throw einopsError(`Axis composition is one-level (brackets inside brackets not allowed) in '${pattern}'`);
      open = [];
      openHasEllipsis = false;
    } else if (tok === ')') {
      if (!open) throw einopsError(`Brackets are not balanced in '${pattern}'`);
      groups.push({ axes: open, ellipsis: openHasEllipsis || undefined });
      open = null;
    } else if (tok === '...') {
      if (open) {
        open.push({ name: '…' });
        openHasEllipsis = true;
      } else groups.push({ axes: [], ellipsis: true });
    } else if (/^\d+$/.test(tok)) {
      const size = parseInt(tok, 10);
      const axis = size === 1 ? null : { name: `#${anon++}:${side}`, size };
      if (open) {
        if (axis) open.push(axis);
      } else groups.push({ axes: axis ? [axis] : [] });
    } else if (/^[A-Za-z_]/.test(tok)) {
      if (open) open.push({ name: tok });
      else groups.push({ axes: [{ name: tok }] });
    } else throw einopsError(`Unknown character '${tok}' in '${pattern}'`);
  }
  if (open) throw einopsError(`Brackets are not balanced in '${pattern}'`);
  return groups;
}

/** Replaces the ellipsis (a group, or inside a group) by `n` elementary axes. */
function expandEllipsis(groups: Group[], n: number): Group[] {
  const out: Group[] = [];
  for (const g of groups) {
    if (g.ellipsis && !g.axes.length) for (let k = 0; k < n; k++) out.push({ axes: [ELLIPSIS_AXIS(k)] });
    else if (g.ellipsis) out.push({ axes: g.axes.flatMap((a) => (a.name === '…' ? Array.from({ length: n }, (_, k) => ELLIPSIS_AXIS(k)) : [a])) });
    else out.push(g);
  }
  return out;
}

interface Plan {
  /** Elementary axes of the input, in order, with their sizes. */
  readonly leftAxes: Axis[];
  readonly rightGroups: Group[];
  readonly sizes: Map<string, number>;
}

function plan(t: Tensor, pattern: string, lengths: ReadonlyMap<string, number>): Plan {
  const parts = pattern.split('->');
  if (parts.length !== 2) throw einopsError(`Pattern '${pattern}' should have exactly one '->'`);
  let left = parseSide(parts[0], pattern);
  let right = parseSide(parts[1], pattern);
  const hasEllipsis = left.some((g) => g.ellipsis);
  if (right.some((g) => g.ellipsis) && !hasEllipsis) throw einopsError(`Ellipsis found in right side, but not left side of a pattern ${pattern}`);
  const named = left.filter((g) => !(g.ellipsis && !g.axes.length)).length;
  if (hasEllipsis ? named > t.ndim : named !== t.ndim) throw einopsError(`Wrong shape: expected ${named} dims. Received ${t.ndim}-dim tensor.`);
  const nEllipsis = hasEllipsis ? t.ndim - named : 0;
  left = expandEllipsis(left, nEllipsis);
  right = expandEllipsis(right, nEllipsis);
  const sizes = new Map<string, number>();
  const seen = new Set<string>();
  for (const g of [...left]) {
    for (const a of g.axes) {
      if (seen.has(a.name)) throw einopsError(`Indexing expression contains duplicate dimension "${a.name}"`);
      seen.add(a.name);
    }
  }
  for (const [k, v] of lengths) sizes.set(k, v);
  left.forEach((g, d) => {
    const dim = t.shape[d];
    const unknown = g.axes.filter((a) => a.size === undefined && !sizes.has(a.name));
    const known = g.axes.filter((a) => !unknown.includes(a)).reduce((p, a) => p * (a.size ?? sizes.get(a.name)!), 1);
    if (unknown.length > 1) throw einopsError(`Could not infer sizes for {${unknown.map((a) => `'${a.name}'`).join(', ')}}`);
    if (unknown.length === 1) {
      if (known === 0 || dim % known !== 0) throw einopsError(`Shape mismatch, can't divide axis of length ${dim} in chunks of ${known}`);
      sizes.set(unknown[0].name, dim / known);
    } else if (known !== dim) throw einopsError(`Shape mismatch, ${dim} != ${known}`);
    for (const a of g.axes) if (a.size !== undefined) sizes.set(a.name, a.size);
  });
  for (const g of right) for (const a of g.axes) if (a.size !== undefined) sizes.set(a.name, a.size);
  return { leftAxes: left.flatMap((g) => g.axes), rightGroups: right, sizes };
}

function sizeOf(p: Plan, a: Axis): number {
  const s = p.sizes.get(a.name);
  if (s === undefined) throw einopsError(`Could not infer size for '${a.name}'`);
  return s;
}

function groupSizes(p: Plan): number[] {
  return p.rightGroups.map((g) => g.axes.reduce((n, a) => n * sizeOf(p, a), 1));
}

function lengthsOf(axes?: ReadonlyMap<string, number> | Record<string, number>): ReadonlyMap<string, number> {
  if (!axes) return new Map();
  return axes instanceof Map ? axes : new Map(Object.entries(axes));
}

export type Reduction = 'mean' | 'sum' | 'max' | 'min';

/** A callable reduction, called as einops calls it: with the tensor and the reduced axes. */
export type ReductionFn = (x: Tensor, axes: number[]) => Tensor;

function apply(kind: 'rearrange' | 'repeat' | Reduction | ReductionFn, t: Tensor, pattern: string, axes?: ReadonlyMap<string, number> | Record<string, number>): Tensor {
  const p = plan(t, pattern, lengthsOf(axes));
  const leftNames = p.leftAxes.map((a) => a.name);
  const rightAxes = p.rightGroups.flatMap((g) => g.axes);
  const rightNames = rightAxes.map((a) => a.name);
  const dupRight = rightNames.find((n, i) => rightNames.indexOf(n) !== i);
  if (dupRight !== undefined) throw einopsError(`Indexing expression contains duplicate dimension "${dupRight}"`);
  let x = t.reshape(p.leftAxes.map((a) => sizeOf(p, a)));
  const gone = leftNames.filter((n) => !rightNames.includes(n));
  const added = rightNames.filter((n) => !leftNames.includes(n));
  if (kind === 'rearrange' && (gone.length || added.length)) throw einopsError(`Identifiers only on one side of expression (should be on both): {${[...gone, ...added].map((n) => `'${n}'`).join(', ')}}`);
  if (kind === 'repeat' && gone.length) throw einopsError(`Unexpected identifiers on the left side of repeat: {${gone.map((n) => `'${n}'`).join(', ')}}`);
  if (kind !== 'rearrange' && kind !== 'repeat' && added.length) throw einopsError(`Unexpected identifiers on the right side of reduce ${typeof kind === 'string' ? kind : '<callable>'}: {${added.map((n) => `'${n}'`).join(', ')}}`);
  let names = leftNames;
  if (gone.length) {
    const dims = gone.map((n) => leftNames.indexOf(n));
    x = typeof kind === 'function' ? reduced(kind(x, dims), x, dims) : kind === 'sum' ? x.sum(dims) : kind === 'mean' ? x.mean(dims) : kind === 'max' ? x.amax(dims) : x.amin(dims);
    names = leftNames.filter((n) => !gone.includes(n));
  }
  const order = rightNames.filter((n) => names.includes(n));
  const perm = order.map((n) => names.indexOf(n));
  if (!perm.every((q, i) => q === i)) x = x.permute(perm);
  if (added.length) {
    // New axes of `repeat`: unit axes where the output has them, then one expand.
    rightNames.forEach((n, i) => {
      if (added.includes(n)) x = x.unsqueeze(i);
    });
    x = x.expand(rightAxes.map((a) => sizeOf(p, a)));
  }
  return x.reshape(groupSizes(p));
}

/** `einops.rearrange(tensor, pattern, **axes_lengths)`. */
export function rearrange(t: Tensor, pattern: string, axes?: ReadonlyMap<string, number> | Record<string, number>): Tensor {
  return apply('rearrange', t, pattern, axes);
}

/** `einops.repeat(tensor, pattern, **axes_lengths)`. */
export function repeat(t: Tensor, pattern: string, axes?: ReadonlyMap<string, number> | Record<string, number>): Tensor {
  return apply('repeat', t, pattern, axes);
}

/** A callable reduction's result must drop exactly the reduced axes, as einops requires. */
function reduced(r: Tensor, x: Tensor, dims: number[]): Tensor {
  const want = x.shape.filter((_, i) => !dims.includes(i));
  if (r.shape.join() !== want.join()) throw einopsError(`the reduction function returned shape (${r.shape.join(', ')}), expected (${want.join(', ')})`);
  return r;
}

/** `einops.reduce(tensor, pattern, reduction, **axes_lengths)`: mean, sum, max, min, or a callable `f(x, axes)`; not `prod`. */
export function reduce(t: Tensor, pattern: string, reduction: string | ReductionFn, axes?: ReadonlyMap<string, number> | Record<string, number>): Tensor {
  if (typeof reduction === 'string' && !['mean', 'sum', 'max', 'min'].includes(reduction)) throw einopsError(`reduction '${reduction}' is not supported by this runtime (mean, sum, max, min or a callable)`);
  return apply(reduction as Reduction | ReductionFn, t, pattern, axes);
}

/** The axes before and after the one `*` of a pack pattern (`'b * d'`). */
function packAxes(pattern: string): [number, number] {
  const names = pattern.trim().split(/\s+/).filter(Boolean);
  const star = names.indexOf('*');
  if (star < 0 || names.lastIndexOf('*') !== star) throw einopsError(`pack/unpack pattern should have exactly one '*': '${pattern}'`);
  return [star, names.length - star - 1];
}

/** `einops.pack(tensors, pattern)`: each tensor's `*` axes flattened, then concatenated along them; also the `*` shapes for `unpack`. */
export function pack(tensors: readonly Tensor[], pattern: string): [Tensor, number[][]] {
  const [before, after] = packAxes(pattern);
  const shapes: number[][] = [];
  const flat = tensors.map((t) => {
    if (t.ndim < before + after) throw einopsError(`packed tensor #${shapes.length} (enumeration starts with 0) has shape [${t.shape.join(', ')}], while pattern ${pattern} assumes at least ${before + after} axes`);
    const mid = t.shape.slice(before, t.ndim - after);
    shapes.push(mid);
    return t.reshape([...t.shape.slice(0, before), -1, ...t.shape.slice(t.ndim - after)]);
  });
  return [flat.length === 1 ? flat[0] : cat(flat, before), shapes];
}

/** `einops.unpack(tensor, packed_shapes, pattern)`: the inverse of `pack`. */
export function unpack(t: Tensor, shapes: readonly (readonly number[])[], pattern: string): Tensor[] {
  const [before, after] = packAxes(pattern);
  if (t.ndim !== before + after + 1) throw einopsError(`unpack(..., ${pattern}) received input of wrong dim with shape [${t.shape.join(', ')}]`);
  const sizes = shapes.map((sh) => sh.reduce((p, x) => p * x, 1));
  const total = sizes.reduce((p, x) => p + x, 0);
  if (total !== t.shape[before]) throw einopsError(`Error during unpack(..., "${pattern}"): could not split axis of size ${t.shape[before]} into requested ${JSON.stringify(shapes)}`);
  const parts = shapes.length === 1 ? [t] : t.split(sizes, before);
  return parts.map((p, i) => p.reshape([...t.shape.slice(0, before), ...shapes[i], ...t.shape.slice(before + 1)]));
}

/** `einops.einsum(*tensors, pattern)`: axis names separated by spaces. */
export function einsum(pattern: string, ...tensors: Tensor[]): Tensor {
  return einsumNamed(parseNamedEquation(pattern, tensors.map((t) => t.ndim)), tensors);
}

/** `einops.layers.torch.Rearrange`. */
export class Rearrange extends Module {
  constructor(
    readonly pattern: string,
    readonly axesLengths: ReadonlyMap<string, number> = new Map(),
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return rearrange(x, this.pattern, this.axesLengths);
  }
}

/** `einops.layers.torch.Reduce`. */
export class Reduce extends Module {
  constructor(
    readonly pattern: string,
    readonly reduction: string,
    readonly axesLengths: ReadonlyMap<string, number> = new Map(),
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return reduce(x, this.pattern, this.reduction, this.axesLengths);
  }
}
