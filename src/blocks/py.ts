/**
 * Small helpers block files use to write their PyTorch structure: guards that
 * raise the catalog's validation message at construction time, and common
 * fragments. They produce source lines; they know no block.
 */

/** `if cond: raise ValueError(f"...")` as two lines. */
export function guard(cond: string, fstring: string): string[] {
  return [`if ${cond}:`, `    raise ValueError(f"${fstring}")`];
}

/** The divisibility guard every multi-head block opens with. */
export function divisibleGuard(a: string, b: string): string[] {
  return guard(`${a} % ${b} != 0`, `${a} ({${a}}) must be divisible by ${b} ({${b}})`);
}

/** The guard mirroring checks.ts `reducedWidth`: `ch // r` must keep at least one channel. */
export function reducedWidthGuard(ch: string, r: string): string[] {
  return guard(
    `${ch} // ${r} < 1`,
    `${ch} // ${r} = {${ch}} // {${r}} = {${ch} // ${r}} leaves no channels: use ${r} ≤ {${ch}} or ${ch} ≥ {${r}}`,
  );
}
