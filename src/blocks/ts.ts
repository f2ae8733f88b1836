/**
 * Helpers block files use to write their TypeScript structure (`TsClassSpec`):
 * constructor guards that throw the catalog's validation message as a
 * `TorchError('ValueError', …)`, mirroring the Python guards in `py.ts`.
 * They produce source lines; they know no block.
 */

/** `if (cond) throw new TorchError('ValueError', \`...\`);` */
export function tsGuard(cond: string, template: string): string[] {
  return [`if (${cond}) throw new TorchError('ValueError', \`${template}\`);`];
}

export function tsDivisibleGuard(a: string, b: string): string[] {
  return tsGuard(`${a} % ${b} !== 0`, `${a} (\${${a}}) must be divisible by ${b} (\${${b}})`);
}

export function tsReducedWidthGuard(ch: string, r: string): string[] {
  return tsGuard(
    `Math.floor(${ch} / ${r}) < 1`,
    `${ch} // ${r} = \${${ch}} // \${${r}} = \${Math.floor(${ch} / ${r})} leaves no channels: use ${r} ≤ \${${ch}} or ${ch} ≥ \${${r}}`,
  );
}
