/**
 * The preview's colour scale, DOM-free so the browser tests can compute the colour a value must
 * be drawn in: viridis (perceptually uniform, readable by most colour-blind users), or black→
 * white for high-contrast themes, and the value range a map is scaled over.
 */

/** Viridis, 9 stops. */
const VIRIDIS: readonly [number, number, number][] = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

/** The colour of `t` in [0, 1] (clamped; NaN is drawn as the lowest colour). */
export function colour(t: number, grey = false): [number, number, number] {
  const x = Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
  if (grey) {
    const g = Math.round(x * 255);
    return [g, g, g];
  }
  const p = x * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(p));
  const f = p - i;
  const a = VIRIDIS[i];
  const b = VIRIDIS[i + 1];
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)];
}

/** The range a map is drawn over: [0, max] for weights, [min, max] when values go negative. */
export function valueRange(values: Float32Array): { lo: number; hi: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo)) return { lo: 0, hi: 1 };
  if (lo >= 0) lo = 0;
  if (hi <= lo) hi = lo + 1;
  return { lo, hi };
}
