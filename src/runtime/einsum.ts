/**
 * `einsum` as torch computes it: operands are contracted pairwise, left to right, each pair
 * with one batched matrix product (`bmm`) after the axes are permuted into batch, kept and
 * contracted groups; axes that appear in one operand only and nowhere after it are summed out
 * first. So einsum runs on the registry's kernels (copy, reduce, matmul) and its numbers are
 * theirs. Both spellings share `einsumNamed`: torch's (`'bhid,bhjd->bhij'`, one letter per axis,
 * `...` for broadcast batch axes, the output implicit when `->` is missing) and einops' (axis
 * names separated by spaces, `'b h i d, b h j d -> b h i j'`).
 */

import { runtimeError } from './errors';
import type { Tensor } from './tensor';

/** Axis names per operand and for the output. */
export interface EinsumSpec {
  readonly inputs: readonly (readonly string[])[];
  readonly output: readonly string[];
}

const ELLIPSIS = '…';

/** Splits torch's equation into letters (`...` kept as one token); implicit output: letters seen once, sorted. */
export function parseTorchEquation(equation: string, ranks: readonly number[]): EinsumSpec {
  const eq = equation.replace(/\s+/g, '');
  const [lhs, rhs] = eq.split('->') as [string, string | undefined];
  const terms = lhs.split(',');
  if (terms.length !== ranks.length) throw runtimeError(`einsum(): more operands were provided than specified in the equation`.replace('more', terms.length < ranks.length ? 'more' : 'fewer'));
  const tokens = (s: string): string[] => {
    const out: string[] = [];
    for (let i = 0; i < s.length; ) {
      if (s.startsWith('...', i)) {
        out.push(ELLIPSIS);
        i += 3;
      } else {
        if (!/[a-zA-Z]/.test(s[i])) throw runtimeError(`einsum(): invalid subscript given at index ${i} in the equation string, subscripts must be in [a-zA-Z]`);
        out.push(s[i++]);
      }
    }
    return out;
  };
  const inputs = terms.map(tokens);
  let output: string[];
  if (rhs !== undefined) output = tokens(rhs);
  else {
    const count = new Map<string, number>();
    for (const t of inputs) for (const l of t) if (l !== ELLIPSIS) count.set(l, (count.get(l) ?? 0) + 1);
    output = [...(inputs.some((t) => t.includes(ELLIPSIS)) ? [ELLIPSIS] : []), ...[...count].filter(([, n]) => n === 1).map(([l]) => l).sort()];
  }
  return expandEllipsis({ inputs, output }, ranks);
}

/** einops' spelling: names separated by spaces, operands by commas. */
export function parseNamedEquation(pattern: string, ranks: readonly number[]): EinsumSpec {
  const [lhs, rhs] = pattern.split('->');
  if (rhs === undefined) throw runtimeError(`einsum(): the pattern '${pattern}' needs '->' and the output axes`);
  const names = (s: string) => s.trim().split(/\s+/).filter(Boolean).map((n) => (n === '...' ? ELLIPSIS : n));
  const inputs = lhs.split(',').map(names);
  if (inputs.length !== ranks.length) throw runtimeError(`einsum(): the pattern has ${inputs.length} operands but ${ranks.length} tensors were given`);
  return expandEllipsis({ inputs, output: names(rhs) }, ranks);
}

/** Replaces `...` by as many anonymous axes as the operand has beyond its named ones, right-aligned across operands (broadcast). */
function expandEllipsis(spec: EinsumSpec, ranks: readonly number[]): EinsumSpec {
  const extra = spec.inputs.map((names, i) => {
    const e = names.indexOf(ELLIPSIS);
    const named = names.length - (e >= 0 ? 1 : 0);
    if (e < 0 ? named !== ranks[i] : named > ranks[i]) throw runtimeError(`einsum(): the number of subscripts in the equation (${named}) does not match the number of dimensions (${ranks[i]}) for operand ${i}${e < 0 ? ' and no ellipsis was given' : ''}`);
    return e < 0 ? 0 : ranks[i] - named;
  });
  const width = Math.max(0, ...extra);
  // Right-aligned: an operand's k-th ellipsis axis is the (width - n + k)-th of the broadcast group.
  const inputs = spec.inputs.map((names, i) => {
    const e = names.indexOf(ELLIPSIS);
    if (e < 0) return [...names];
    const n = extra[i];
    return [...names.slice(0, e), ...Array.from({ length: n }, (_, k) => `${ELLIPSIS}${width - n + k}`), ...names.slice(e + 1)];
  });
  const output: string[] = [];
  for (const o of spec.output) {
    if (o === ELLIPSIS) for (let k = 0; k < width; k++) output.push(`${ELLIPSIS}${k}`);
    else output.push(o);
  }
  return { inputs, output };
}

function product(xs: readonly number[]): number {
  return xs.reduce((a, b) => a * b, 1);
}

/** `t` with axes named `names`; its axes reordered to `order` (each name once). */
function arrange(t: Tensor, names: readonly string[], order: readonly string[]): Tensor {
  const perm = order.map((n) => names.indexOf(n));
  return perm.every((p, i) => p === i) ? t : t.permute(perm);
}

/** Sums out the axes of `t` whose names are not in `keep`; returns the tensor and its remaining names. */
function sumOut(t: Tensor, names: readonly string[], keep: ReadonlySet<string>): [Tensor, string[]] {
  const gone = names.map((n, i) => (keep.has(n) ? -1 : i)).filter((i) => i >= 0);
  if (!gone.length) return [t, [...names]];
  return [t.sum(gone), names.filter((n) => keep.has(n))];
}

/** Contracts two operands over the names they share that `keep` does not need; the result's names are batch, left-only, right-only. */
function contractPair(a: Tensor, an: readonly string[], b: Tensor, bn: readonly string[], keep: ReadonlySet<string>): [Tensor, string[]] {
  const sizes = new Map<string, number>();
  const batch = an.filter((n) => bn.includes(n) && keep.has(n));
  const contracted = an.filter((n) => bn.includes(n) && !keep.has(n));
  const left = an.filter((n) => !bn.includes(n));
  const right = bn.filter((n) => !an.includes(n));
  an.forEach((n, i) => sizes.set(n, a.shape[i]));
  // Shared axes broadcast where one side has size 1.
  const both = (n: string) => {
    const x = a.shape[an.indexOf(n)];
    const y = b.shape[bn.indexOf(n)];
    if (x !== y && x !== 1 && y !== 1) throw runtimeError(`einsum(): operands do not broadcast with remapped shapes (original->remapped): [${a.shape}]->… [${b.shape}]->…`);
    return Math.max(x, y);
  };
  for (const n of [...batch, ...contracted]) sizes.set(n, both(n));
  bn.forEach((n, i) => {
    if (!sizes.has(n)) sizes.set(n, b.shape[i]);
  });
  const sz = (ns: readonly string[]) => ns.map((n) => sizes.get(n)!);
  const A = arrange(a, an, [...batch, ...left, ...contracted]).expand([...sz(batch), ...sz(left), ...sz(contracted)]);
  const B = arrange(b, bn, [...batch, ...contracted, ...right]).expand([...sz(batch), ...sz(contracted), ...sz(right)]);
  const nb = product(sz(batch));
  const out = A.reshape(nb, product(sz(left)), product(sz(contracted))).bmm(B.reshape(nb, product(sz(contracted)), product(sz(right))));
  return [out.reshape([...sz(batch), ...sz(left), ...sz(right)]), [...batch, ...left, ...right]];
}

/** Evaluates an einsum whose axes are already named (see `parseTorchEquation`, `parseNamedEquation`). */
export function einsumNamed(spec: EinsumSpec, operands: readonly Tensor[]): Tensor {
  const { inputs, output } = spec;
  for (const names of inputs) {
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) throw runtimeError(`einsum(): an axis repeated within one operand ('${dup}', a diagonal) is not supported by this runtime`);
  }
  const all = new Set(inputs.flat());
  const outDup = output.find((n, i) => output.indexOf(n) !== i);
  if (outDup !== undefined) throw runtimeError(`einsum(): output subscript ${outDup} appears more than once in the output`);
  for (const o of output) if (!all.has(o)) throw runtimeError(`einsum(): output subscript ${o} does not appear in the equation for any input operand`);
  const needed = (from: number) => new Set([...output, ...inputs.slice(from).flat()]);
  let [acc, names] = sumOut(operands[0], inputs[0], needed(1));
  for (let i = 1; i < operands.length; i++) {
    const keep = needed(i + 1);
    const [b, bn] = sumOut(operands[i], inputs[i], new Set([...keep, ...names]));
    [acc, names] = sumOut(acc, names, new Set([...keep, ...bn]));
    [acc, names] = contractPair(acc, names, b, bn, keep);
  }
  [acc, names] = sumOut(acc, names, new Set(output));
  return arrange(acc, names, output);
}

/** `torch.einsum(equation, *operands)`. */
export function einsum(equation: string, ...operands: Tensor[]): Tensor {
  if (!operands.length) throw runtimeError('einsum(): must provide at least one operand');
  return einsumNamed(parseTorchEquation(equation, operands.map((t) => t.ndim)), operands);
}
