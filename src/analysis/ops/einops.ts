/**
 * Shape signatures of the einops family: `rearrange`, `repeat`, `reduce` (functions and the
 * `einops.layers.torch` modules) and `einops.einsum`, as pure functions of a pattern, the
 * input's sizes and the named axis lengths. The evaluator calls them and turns the result into
 * a tensor value; nothing here knows frames, events or rules.
 *
 * A pattern side is a list of groups; a group is one axis of the tensor: a name (`b`), a
 * literal `1`, a parenthesised composition (`(h d)`, whose size is the product of its
 * members), or `...` (any number of axes). On the left every group must match an input axis;
 * a composition may leave one member unknown, which is then the axis size divided by the
 * others (exactly, as einops requires). The right side is the product of each group's members.
 * An impossible pattern (rank, or a length that does not divide) is reported as `error`,
 * einops' own EinopsError.
 */

import * as D from '../dims';
import type { Dim } from '../dims';

export type EinopsKind = 'rearrange' | 'repeat' | 'reduce';

type Group = { kind: 'names'; names: string[] } | { kind: 'ellipsis' };

export interface EinopsResult {
  sizes: Dim[];
  /** The single name of each output axis, for roles and display (undefined for compositions). */
  names: (string | undefined)[];
}

export type EinopsOutcome = { ok: EinopsResult } | { error: string } | undefined;

/** `b (h d) ...` → groups; undefined when the text is not a pattern side. */
export function parseSide(text: string): Group[] | undefined {
  const groups: Group[] = [];
  const re = /\s*(\.\.\.|…|\(([^()]*)\)|[A-Za-z_][\w]*|\d+)\s*/y;
  let i = 0;
  const s = text.trim();
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) return undefined;
    i = re.lastIndex;
    if (m[1] === '...' || m[1] === '…') groups.push({ kind: 'ellipsis' });
    else if (m[2] !== undefined) groups.push({ kind: 'names', names: m[2].trim() ? m[2].trim().split(/\s+/) : [] });
    else groups.push({ kind: 'names', names: [m[1]] });
  }
  return groups;
}

/**
 * The output of `kind(x, pattern, **lengths)` for an input of the given sizes; `compare` says
 * whether two sizes are provably different ('ne'), `div` divides exactly when it can.
 */
export function einopsShape(
  kind: EinopsKind,
  pattern: string,
  input: Dim[],
  lengths: Record<string, Dim>,
  compare: (a: Dim, b: Dim) => D.Cmp,
): EinopsOutcome {
  const sides = pattern.split('->');
  if (sides.length !== 2) return undefined;
  const left = parseSide(sides[0]);
  const right = parseSide(sides[1]);
  if (!left || !right) return undefined;
  const ell = left.findIndex((g) => g.kind === 'ellipsis');
  const fixed = left.length - (ell >= 0 ? 1 : 0);
  if (ell < 0 ? input.length !== left.length : input.length < fixed) {
    return { error: `${kind} pattern '${sides[0].trim()}' has ${fixed} axes${ell >= 0 ? ' or more' : ''} but the tensor has ${input.length}` };
  }
  const known = new Map<string, Dim>(Object.entries(lengths));
  let ellipsis: Dim[] = [];
  let pos = 0;
  for (const g of left) {
    if (g.kind === 'ellipsis') {
      const n = input.length - fixed;
      ellipsis = input.slice(pos, pos + n);
      pos += n;
      continue;
    }
    const size = input[pos++];
    const members = g.names.filter((x) => x !== '1' && !/^\d+$/.test(x));
    if (members.length === 0) continue;
    const unknown = members.filter((x) => !known.has(x));
    if (unknown.length > 1) return undefined;
    const prod = members.filter((x) => known.has(x)).reduce((acc, x) => D.mul(acc, known.get(x)!), D.dconst(1));
    if (unknown.length === 1) {
      const q = members.length === 1 ? size : D.floorDiv(size, prod);
      if (!q) return undefined;
      const r = D.constValue(prod);
      const sz = D.constValue(size);
      if (r !== undefined && sz !== undefined && (r === 0 || sz % r !== 0)) return { error: `${kind}: an axis of ${sz} cannot be split into (${g.names.join(' ')}) with ${members.filter((x) => known.has(x)).join(', ')} = ${r}` };
      known.set(unknown[0], q);
    } else if (compare(prod, size) === 'ne') {
      return { error: `${kind}: (${g.names.join(' ')}) is ${D.format(prod)} but the axis is ${D.format(size)}` };
    }
  }
  const sizes: Dim[] = [];
  const names: (string | undefined)[] = [];
  for (const g of right) {
    if (g.kind === 'ellipsis') {
      sizes.push(...ellipsis);
      names.push(...ellipsis.map(() => undefined));
      continue;
    }
    let prod = D.dconst(1);
    for (const x of g.names) {
      if (/^\d+$/.test(x)) {
        prod = D.mul(prod, D.dconst(Number(x)));
        continue;
      }
      const d = known.get(x);
      if (!d) {
        // A new axis needs its length: repeat's `b n d -> b r n d` with r=…; otherwise unknown.
        return kind === 'repeat' ? undefined : { error: `${kind}: '${x}' on the right is not on the left` };
      }
      prod = D.mul(prod, d);
    }
    sizes.push(prod);
    names.push(g.names.length === 1 && !/^\d+$/.test(g.names[0]) ? g.names[0] : undefined);
  }
  return { ok: { sizes, names } };
}

/** `einops.einsum(a, b, "b i d, b j d -> b i j")`: the torch.einsum equation with named axes. */
export function einsumEquation(pattern: string): string | undefined {
  const sides = pattern.split('->');
  if (sides.length !== 2) return undefined;
  const letters = new Map<string, string>();
  const pool = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const side = (s: string) =>
    s.trim().split(/\s+/).filter(Boolean).map((n) => {
      if (n === '...') return '...';
      if (!letters.has(n)) letters.set(n, pool[letters.size] ?? '?');
      return letters.get(n)!;
    }).join('');
  const ins = sides[0].split(',').map(side);
  if (letters.size > pool.length) return undefined;
  return `${ins.join(',')}->${side(sides[1])}`;
}
