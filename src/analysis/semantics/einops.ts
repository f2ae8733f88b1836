/**
 * einops: `rearrange`/`repeat`/`reduce` (functions and `einops.layers.torch` modules) and
 * `einops.einsum`, over the pattern signatures of `ops/einops.ts`. A tensor of unknown rank
 * takes the rank the pattern's left side names, with sizes named after its axes.
 */

import * as D from '../dims';
import type { Dim } from '../dims';
import type { OpInfo } from '../events';
import type { Node } from '../parse';
import type { TensorV, TorchModuleV, Value } from '../values';
import { UNKNOWN } from '../values';
import { einopsShape, einsumEquation, parseSide, type EinopsKind } from '../ops/einops';
import { einsum } from './linalg';
import { intV, isTensor, opEvent, type OpHost } from './host';

/**
 * `rearrange`/`repeat`/`reduce` of einops (functions, or the einops.layers.torch modules):
 * the pattern's signature (ops/einops.ts) over the input's sizes; a list of tensors is
 * stacked along a new first axis first, as einops does.
 */
export function einops(h: OpHost, kind: EinopsKind, x: Value | undefined, pattern: Value | undefined, lengthVals: Record<string, Value>, n: Node, nameNode: Node, argNodes: (Node | undefined)[], kwargNodes: Record<string, Node>): Value {
  const info: OpInfo = {};
  const done = (r: Value) => opEvent(h, kind, [x ?? UNKNOWN, pattern ?? UNKNOWN], lengthVals, argNodes, kwargNodes, n, nameNode, r, info);
  let input: Dim[] | undefined;
  let src: TensorV | undefined;
  if (isTensor(x)) {
    src = x;
    input = x.axes?.map((a) => a.size);
  } else if (x?.kind === 'tuple' && x.items.length > 0 && !x.inexact && x.items.every((t) => isTensor(t) && t.axes)) {
    src = x.items[0] as TensorV;
    input = [D.dconst(x.items.length), ...src.axes!.map((a) => a.size)];
  }
  if (!src) return done(x?.kind === 'tuple' || x?.kind === 'unknown' || !x ? UNKNOWN : { kind: 'tensor' });
  if (pattern?.kind !== 'str') return done({ kind: 'tensor', dtype: src.dtype });
  if (!input) {
    // A tensor of unknown rank takes the pattern's: each left axis a size named after it.
    const seeded = seedFromPattern(h, pattern.value, lengthVals);
    if (seeded) {
      input = seeded;
      if (isTensor(x)) {
        const fresh = h.tensor(seeded, undefined);
        x.axes = fresh.axes;
        x.strides = fresh.strides;
      }
    }
  }
  if (!input) {
    const out = outputWithoutInput(h, pattern.value, lengthVals);
    return done(out ? h.tensor(out.sizes, out.names, { dtype: src.dtype }) : { kind: 'tensor', dtype: src.dtype });
  }
  const lengths: Record<string, Dim> = {};
  for (const [k, v] of Object.entries(lengthVals)) {
    if (v.kind !== 'int') return done({ kind: 'tensor', dtype: src.dtype });
    lengths[k] = v.dim;
  }
  const out = einopsShape(kind, pattern.value, input.map((d) => h.norm(d)), lengths, (a, b) => h.compare(a, b));
  if (!out) return done({ kind: 'tensor', dtype: src.dtype });
  if ('error' in out) {
    const groups = pattern.value.split('->')[0].trim().split(/\s+(?![^(]*\))/).filter(Boolean);
    if (!groups.includes('...') && groups.length !== input.length) info.rank = { expected: `a ${groups.length}-d tensor for '${pattern.value.split('->')[0].trim()}'`, got: input.length };
    return done({ kind: 'tensor', dtype: src.dtype });
  }
  const t = h.tensor(out.ok.sizes, out.ok.names, { dtype: src.dtype });
  // rearrange and repeat may return a permuted view: its layout is not known to be contiguous.
  if (kind !== 'reduce') t.strides = undefined;
  if (kind === 'rearrange' && isTensor(x) && x.axes) splitsAndMerges(h, pattern.value, x, t, n, argNodes[1] ?? kwargNodes.pattern, info);
  return done(t);
}

/**
 * The order of composite axes through a rearrange: each axis a composite group of the left side
 * is split into (`b n (h d) -> b h n d`) remembers the split; a right-side group that merges
 * axes one split made (`b h n d -> b n (h d)`) in another order than the split's is recorded.
 */
function splitsAndMerges(h: OpHost, pattern: string, x: TensorV, t: TensorV, n: Node, patternNode: Node | undefined, info: OpInfo): void {
  const [l, r] = pattern.split('->');
  const left = r === undefined ? undefined : parseSide(l);
  const right = r === undefined ? undefined : parseSide(r);
  if (!left || !right || left.length !== x.axes!.length || right.length !== t.axes!.length || [...left, ...right].some((g) => g.kind !== 'names')) return;
  const groupsL = left.map((g) => (g.kind === 'names' ? g.names : []));
  const groupsR = right.map((g) => (g.kind === 'names' ? g.names : []));
  const singleR = new Map(groupsR.flatMap((g, j) => (g.length === 1 ? [[g[0], j] as const] : [])));
  const singleL = new Map(groupsL.flatMap((g, i) => (g.length === 1 ? [[g[0], i] as const] : [])));
  for (const g of groupsL) {
    if (g.length < 2 || !g.every((name) => singleR.has(name))) continue;
    const sizes = g.map((name) => t.axes![singleR.get(name)!].size);
    g.forEach((name, index) => {
      t.axes![singleR.get(name)!].splitFrom = { sizes, index, node: n, pattern: patternNode, names: g };
    });
  }
  for (const g of groupsR) {
    if (g.length < 2 || !g.every((name) => singleL.has(name))) continue;
    const parts = g.map((name) => x.axes![singleL.get(name)!]);
    const split = parts[0].splitFrom;
    if (!split || split.sizes.length !== parts.length) continue;
    const same = parts.every((a) => a.splitFrom && a.splitFrom.sizes.length === split.sizes.length && a.splitFrom.sizes.every((d, k) => h.same(d, split.sizes[k])));
    if (!same) continue;
    const order = parts.map((a) => a.splitFrom!.index);
    if (new Set(order).size !== order.length || order.every((k, i) => k === i)) continue;
    // Sizes that are the same cannot tell the orders apart.
    if (split.sizes.some((d, a) => split.sizes.some((e, b) => a < b && h.same(d, e)))) continue;
    const heads = (a: { role?: string } | undefined) => a?.role === 'head';
    info.mergeOrder = {
      split,
      order,
      names: g,
      pattern: patternNode,
      headsFirst: { split: heads(parts[order.indexOf(0)]), merge: heads(parts[0]) },
    };
    return;
  }
}

/**
 * The output of a pattern whose left side has `...` over an input of unknown rank: known when
 * the right side keeps `...` only inside a group (`b ... -> b (...)`), one axis per group. A
 * name the left side binds is the size it names there (as a seeded input's); a group holding
 * `...` is a size of its own; a name bound nowhere leaves the output unknown.
 */
function outputWithoutInput(h: OpHost, pattern: string, lengths: Record<string, Value>): { sizes: Dim[]; names: (string | undefined)[] } | undefined {
  const sides = pattern.split('->');
  const left = sides.length === 2 ? parseSide(sides[0]) : undefined;
  const right = sides.length === 2 ? parseSide(sides[1]) : undefined;
  if (!left || !right || !left.some((g) => g.kind === 'ellipsis') || right.some((g) => g.kind === 'ellipsis')) return undefined;
  // The right side's `(...)` is parsed as a group whose member is the text `...`.
  const bound = new Set(left.flatMap((g) => (g.kind === 'names' && g.names.length === 1 ? g.names : [])));
  const sizes: Dim[] = [];
  const names: (string | undefined)[] = [];
  for (const g of right) {
    if (g.kind !== 'names') return undefined;
    let size = D.dconst(1);
    for (const x of g.names) {
      const given = lengths[x];
      if (/^\d+$/.test(x)) size = D.mul(size, D.dconst(Number(x)));
      else if (x === '...' || x === '…') size = D.mul(size, h.fresh('?'));
      else if (given?.kind === 'int') size = D.mul(size, given.dim);
      else if (given === undefined && bound.has(x)) size = D.mul(size, h.dimForName(x));
      else return undefined;
    }
    sizes.push(size);
    names.push(g.names.length === 1 && /^[A-Za-z_]/.test(g.names[0]) ? g.names[0] : undefined);
  }
  return { sizes, names };
}

/** The input sizes an einops pattern's left side names (`b n (h d)`), or undefined with `...`. */
export function seedFromPattern(h: OpHost, pattern: string, lengths: Record<string, Value>): Dim[] | undefined {
  const left = parseSide(pattern.split('->')[0] ?? '');
  if (!left || left.some((g) => g.kind === 'ellipsis')) return undefined;
  return left.map((g) => {
    if (g.kind !== 'names') return D.dconst(1);
    return g.names.reduce((acc, name) => {
      if (/^\d+$/.test(name)) return D.mul(acc, D.dconst(Number(name)));
      const given = lengths[name];
      return D.mul(acc, given?.kind === 'int' ? given.dim : h.dimForName(name));
    }, D.dconst(1));
  });
}

/** `einops.rearrange`/`repeat`/`reduce`/`einsum` and the `einops.layers.torch` classes; undefined for any other path. */
export function einopsFunction(h: OpHost, path: string, args: Value[], kwargs: Record<string, Value>, argNodes: Node[], kwargNodes: Record<string, Node>, n: Node, nameNode: Node): Value | undefined {
  if (path === 'einops.pack') return packOne(h, args);
  if (path === 'einops.unpack') return unpackOne(h, args);
  const ein = /^einops\.(?:layers\.torch\.)?(rearrange|repeat|reduce|einsum|Rearrange|Repeat|Reduce)$/.exec(path);
  if (!ein) return undefined;
  const name = ein[1];
  if (/^[A-Z]/.test(name)) {
    const m: TorchModuleV = { kind: 'torchmodule', type: `einops.${name}`, args, kwargs, node: n };
    return m;
  }
  if (name === 'einsum') {
    // einops.einsum(a, b, "b i d, b j d -> b i j"): the pattern comes last.
    const pat = args[args.length - 1];
    const eq = pat?.kind === 'str' ? einsumEquation(pat.value) : undefined;
    if (!eq) return { kind: 'tensor' };
    return einsum(h, [{ kind: 'str', value: eq }, ...args.slice(0, -1)], n, nameNode, [], {}, {});
  }
  const lengths = Object.fromEntries(Object.entries(kwargs).filter(([k]) => k !== 'pattern' && k !== 'reduction'));
  return einops(h, name as EinopsKind, args[0] ?? kwargs.tensor, args[1] ?? kwargs.pattern, lengths, n, nameNode, argNodes, kwargNodes);
}

/**
 * `pack([x], '* c h w')` of one tensor: the axes `*` stands for merged into one, one axis per
 * pattern item whatever the input's rank. The packed shapes are kept where the input's rank is
 * known (a list of one tuple of sizes, what einops returns): `unpack` puts them back.
 */
/** The packed shapes of a `pack` whose input's rank is unknown. */
const UNPACKED_UNKNOWN: Value = { kind: 'unknown' };

function packOne(h: OpHost, args: Value[]): Value {
  const pattern = args[1];
  const items = pattern?.kind === 'str' ? pattern.value.trim().split(/\s+/) : undefined;
  const star = items ? items.indexOf('*') : -1;
  if (!items || star < 0 || items.filter((x) => x === '*').length !== 1 || items.some((x) => x !== '*' && !/^[A-Za-z_]\w*$/.test(x))) return UNKNOWN;
  const k = items.length - 1;
  const list = args[0];
  const x = list?.kind === 'tuple' && !list.inexact && list.items.length === 1 ? list.items[0] : undefined;
  if (!isTensor(x)) return UNKNOWN;
  if (!x.axes) return { kind: 'tuple', items: [h.tensor(items.map(() => h.fresh('?')), undefined, { dtype: x.dtype }), UNPACKED_UNKNOWN] };
  const r = x.axes.length;
  if (r < k) return UNKNOWN;
  const lead = x.axes.slice(star, star + r - k).map((a) => a.size);
  const sizes = [...x.axes.slice(0, star).map((a) => a.size), lead.reduce((acc, d) => D.mul(acc, d), D.dconst(1)), ...x.axes.slice(star + r - k).map((a) => a.size)];
  const ps: Value = { kind: 'tuple', written: 'list', items: [{ kind: 'tuple', items: lead.map((d) => intV(d)) }] };
  return { kind: 'tuple', items: [{ ...h.tensor(sizes, undefined, { dtype: x.dtype }), strides: undefined }, ps] };
}

/**
 * `unpack(y, ps, '* c n')` with the shapes of a `pack` of one tensor: the axis `*` stands for
 * split back into the packed sizes, a list of that one tensor. Anything else is unknown.
 */
function unpackOne(h: OpHost, args: Value[]): Value {
  const [y, ps, pattern] = args;
  const items = pattern?.kind === 'str' ? pattern.value.trim().split(/\s+/) : undefined;
  const star = items ? items.indexOf('*') : -1;
  if (!items || star < 0 || items.filter((x) => x === '*').length !== 1 || items.some((x) => x !== '*' && !/^[A-Za-z_]\w*$/.test(x))) return UNKNOWN;
  // The packed shapes of an input of unknown rank: a tensor of the rank a caller decides.
  if (ps === UNPACKED_UNKNOWN) return { kind: 'tuple', written: 'list', items: [{ kind: 'tensor', dtype: isTensor(y) ? y.dtype : undefined, varies: true }] };
  const shape = ps?.kind === 'tuple' && !ps.inexact && ps.items.length === 1 ? ps.items[0] : undefined;
  if (!isTensor(y) || !y.axes || y.axes.length !== items.length || shape?.kind !== 'tuple' || shape.inexact || !shape.items.every((d) => d.kind === 'int')) return UNKNOWN;
  const lead = shape.items.map((d) => (d.kind === 'int' ? d.dim : D.dconst(1)));
  const sizes = [...y.axes.slice(0, star).map((a) => a.size), ...lead, ...y.axes.slice(star + 1).map((a) => a.size)];
  return { kind: 'tuple', written: 'list', items: [{ ...h.tensor(sizes, undefined, { dtype: y.dtype }), strides: undefined }] };
}
