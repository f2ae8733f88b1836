/**
 * Validation helpers shared by block files: the checks that recur across
 * blocks, each producing an actionable message that names the values and
 * suggests the nearest valid ones. Pure functions over numbers; they know no
 * block.
 */

import type { ValidationIssue } from './types';

/** Divisors of n, ascending. */
export function divisors(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= n; d++) if (n % d === 0) out.push(d);
  return out;
}

/** The nearest values to `around` satisfying `ok`, at most two (one below, one above). */
export function nearest(around: number, ok: (v: number) => boolean, lo = 1, hi = around * 2 + 64): number[] {
  let below: number | undefined;
  let above: number | undefined;
  for (let v = around - 1; v >= lo; v--) if (ok(v)) { below = v; break; }
  for (let v = around + 1; v <= hi; v++) if (ok(v)) { above = v; break; }
  return [below, above].filter((v): v is number => v !== undefined);
}

function orList(xs: number[]): string {
  return xs.length > 1 ? `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}` : xs.join(', ');
}

/**
 * The repairs of `a % b != 0`, nearest first: for `b`, the two largest divisors of `a` below it
 * and the smallest above it (heads 8 of a width 100: 10, 5, 4); for `a`, the multiples of `b`
 * on either side (96, 104). Empty lists when `a` is already divisible. The analyzer's
 * `embed-dim-not-divisible` fixes offer the same values as these messages.
 */
export function divisibleRepairs(a: number, b: number): { b: number[]; a: number[] } {
  if (b <= 0 || a <= 0 || a % b === 0) return { b: [], a: [] };
  const ds = divisors(a);
  const bs = [...ds.filter((d) => d < b).slice(-2), ...ds.filter((d) => d > b).slice(0, 1)].sort((x, y) => Math.abs(x - b) - Math.abs(y - b) || x - y);
  const as = [...new Set([Math.floor(a / b) * b, Math.ceil(a / b) * b])].filter((v) => v > 0 && v !== a).sort((x, y) => Math.abs(x - a) - Math.abs(y - a) || x - y);
  return { b: bs, a: as };
}

/**
 * `a (100) must be divisible by b (8): try b 10, 5 or 4, or a 96 or 104` (`divisibleRepairs`).
 */
export function divisible(aName: string, a: number, bName: string, b: number, param = bName): ValidationIssue[] {
  if (b <= 0 || a % b === 0) return [];
  const r = divisibleRepairs(a, b);
  const parts: string[] = [];
  if (r.b.length) parts.push(`${bName} ${orList(r.b)}`);
  if (r.a.length) parts.push(`${aName} ${orList(r.a)}`);
  return [{ param, message: `${aName} (${a}) must be divisible by ${bName} (${b})${parts.length ? `: try ${parts.join(', or ')}` : ''}` }];
}

/** A reduced width `channels // reduction` must keep at least `min` channels. */
export function reducedWidth(chName: string, channels: number, rName: string, reduction: number, param = rName, min = 1): ValidationIssue[] {
  if (reduction <= 0 || Math.floor(channels / reduction) >= min) return [];
  const maxR = Math.floor(channels / min);
  return [{
    param,
    message: `${chName} // ${rName} = ${channels} // ${reduction} = ${Math.floor(channels / reduction)} leaves ${min === 1 ? 'no channels' : `fewer than ${min} channels`}: use ${rName} ≤ ${maxR} or ${chName} ≥ ${reduction * min}`,
  }];
}
