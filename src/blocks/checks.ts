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
  return xs.length === 2 ? `${xs[0]} or ${xs[1]}` : xs.join(', ');
}

/**
 * `a (100) must be divisible by b (8): try b 4 or 5, or a 96 or 104`.
 * Suggestions for `b` are divisors of `a` nearest to `b`; for `a`, multiples of `b`.
 */
export function divisible(aName: string, a: number, bName: string, b: number, param = bName): ValidationIssue[] {
  if (b <= 0 || a % b === 0) return [];
  // Prefer fewer heads/groups (the two largest divisors below b), then the next one above.
  const below = divisors(a).filter((d) => d < b).slice(-2);
  const bs = below.length >= 2 ? below : [...below, ...divisors(a).filter((d) => d > b).slice(0, 2 - below.length)];
  const as = [Math.floor(a / b) * b, Math.ceil(a / b) * b].filter((v) => v > 0 && v !== a);
  const parts: string[] = [];
  if (bs.length) parts.push(`${bName} ${orList(bs)}`);
  if (as.length) parts.push(`${aName} ${orList([...new Set(as)])}`);
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
