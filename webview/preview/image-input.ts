/**
 * An image as a module's input, and attention over it (issue "Preview any module", item 4),
 * DOM-free so it is unit-tested: an RGBA buffer (a decoded image's pixels) resized to the
 * input's H×W (`resizeRGBA`: stretched, no crop; area averaging where an axis shrinks, as
 * `F.interpolate(mode='area')`, bilinear with half-pixel centres where it grows, as
 * `mode='bilinear', align_corners=False`; rounded back to bytes, as a resized PIL image is) and
 * then as the normalised `(1, 3, H, W)` float tensor torchvision's `ToTensor` +
 * `Normalize(mean, std)` would give; whether a map's key axis is a square patch grid (ViT style,
 * with or without a leading class token); and one query's attention over that grid.
 */

/** ImageNet's per-channel statistics, as torchvision's pretrained models expect them. */
export const IMAGENET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

/** For each output index along one axis of `n` inputs resized to `m`: the input indices it reads and their weights. */
function axisWeights(n: number, m: number): { idx: number[]; w: number[] }[] {
  const out: { idx: number[]; w: number[] }[] = [];
  for (let i = 0; i < m; i++) {
    if (m <= n) {
      // Area: the adaptive average pool's bin [floor(i·n/m), ceil((i+1)·n/m)).
      const a = Math.floor((i * n) / m);
      const b = Math.ceil(((i + 1) * n) / m);
      const idx = Array.from({ length: b - a }, (_, k) => a + k);
      out.push({ idx, w: idx.map(() => 1 / idx.length) });
    } else {
      const x = Math.max(0, ((i + 0.5) * n) / m - 0.5);
      const x0 = Math.min(n - 1, Math.floor(x));
      const x1 = Math.min(n - 1, x0 + 1);
      const f = x - x0;
      out.push({ idx: [x0, x1], w: [1 - f, f] });
    }
  }
  return out;
}

/** RGBA bytes of a w×h image resized to W×H (see the header for the filters), rounded to bytes. */
export function resizeRGBA(rgba: ArrayLike<number>, w: number, h: number, W: number, H: number): Uint8ClampedArray {
  if (rgba.length !== w * h * 4) throw new RangeError(`expected ${w * h * 4} RGBA bytes for ${w}×${h}, got ${rgba.length}`);
  const xs = axisWeights(w, W);
  const ys = axisWeights(h, H);
  // Separable: rows first (h × W floats), then columns.
  const mid = new Float32Array(h * W * 4);
  for (let y = 0; y < h; y++)
    for (let X = 0; X < W; X++) {
      const { idx, w: wt } = xs[X];
      for (let c = 0; c < 4; c++) {
        let v = 0;
        for (let k = 0; k < idx.length; k++) v += wt[k] * rgba[(y * w + idx[k]) * 4 + c];
        mid[(y * W + X) * 4 + c] = v;
      }
    }
  const out = new Uint8ClampedArray(W * H * 4);
  for (let Y = 0; Y < H; Y++) {
    const { idx, w: wt } = ys[Y];
    for (let X = 0; X < W; X++)
      for (let c = 0; c < 4; c++) {
        let v = 0;
        for (let k = 0; k < idx.length; k++) v += wt[k] * mid[(idx[k] * W + X) * 4 + c];
        out[(Y * W + X) * 4 + c] = Math.round(v);
      }
  }
  return out;
}

/**
 * RGBA bytes of a W×H image (row-major, 4 per pixel, alpha ignored) as CHW floats:
 * `(v / 255 − mean[c]) / std[c]` for the red, green and blue planes in that order.
 */
export function rgbaToCHW(rgba: ArrayLike<number>, W: number, H: number, mean: readonly number[], std: readonly number[]): Float32Array {
  if (rgba.length !== W * H * 4) throw new RangeError(`expected ${W * H * 4} RGBA bytes for ${W}×${H}, got ${rgba.length}`);
  const out = new Float32Array(3 * H * W);
  const plane = H * W;
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[c * plane + p] = (rgba[p * 4 + c] / 255 - mean[c]) / std[c];
  return out;
}

/** `0.485, 0.456, 0.406` (commas or spaces) as three numbers; for std also each > 0. Undefined otherwise. */
export function parseTriple(text: string, positive: boolean): [number, number, number] | undefined {
  const parts = text.trim().split(/[\s,]+/).filter(Boolean);
  if (parts.length !== 3 || parts.some((p) => !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(p))) return undefined;
  const v = parts.map(Number) as [number, number, number];
  return v.every((x) => Number.isFinite(x) && (!positive || x > 0)) ? v : undefined;
}

/** A key axis laid out as a g×g patch grid, `cls` when a class token comes first (S = g² + 1). */
export interface PatchGrid {
  g: number;
  cls: boolean;
}

/** The patch grid of S keys: S = g² (g ≥ 2), else S = g² + 1 with a class token; undefined otherwise. */
export function patchGrid(S: number): PatchGrid | undefined {
  if (!Number.isSafeInteger(S) || S < 4) return undefined;
  const g = Math.round(Math.sqrt(S));
  if (g * g === S) return { g, cls: false };
  const h = Math.round(Math.sqrt(S - 1));
  if (h >= 2 && h * h === S - 1) return { g: h, cls: true };
  return undefined;
}

/** Which query's row is shown: one query index, the mean over queries, or `default`. */
export type QueryChoice = number | 'mean' | 'default';

/** The query `default` means: the class token (query 0) when the grid has one and L = S, else the mean over queries. */
export function resolveQuery(q: QueryChoice, L: number, S: number, grid: PatchGrid): number | 'mean' {
  if (q === 'default') return grid.cls && L === S ? 0 : 'mean';
  return q === 'mean' || (Number.isSafeInteger(q) && q >= 0 && q < L) ? q : 'mean';
}

/**
 * One L×S map's attention over the g×g patches for a query (`default`: the class token's row
 * when the grid has one and L = S, else the mean over the L queries); the class token's own key
 * is dropped.
 */
export function attentionOverPatches(values: ArrayLike<number>, L: number, S: number, grid: PatchGrid, query: QueryChoice = 'default'): Float32Array {
  const off = grid.cls ? 1 : 0;
  const n = grid.g * grid.g;
  const out = new Float32Array(n);
  const q = resolveQuery(query, L, S, grid);
  if (q !== 'mean') {
    for (let j = 0; j < n; j++) out[j] = values[q * S + off + j];
    return out;
  }
  for (let i = 0; i < L; i++) for (let j = 0; j < n; j++) out[j] += values[i * S + off + j] / L;
  return out;
}

/** A query's name: the class token, a patch `(row, column)` (when L = S), or its index. */
export function queryLabel(q: number, L: number, S: number, grid: PatchGrid): string {
  if (L !== S) return `query ${q}`;
  if (grid.cls && q === 0) return 'the class token';
  const p = q - (grid.cls ? 1 : 0);
  return `patch (${Math.floor(p / grid.g)}, ${p % grid.g})`;
}

/** What `attentionOverPatches` shows for a query, in words. */
export function queryName(query: QueryChoice, L: number, S: number, grid: PatchGrid): string {
  const q = resolveQuery(query, L, S, grid);
  return q === 'mean' ? `the mean over ${L} queries` : queryLabel(q, L, S, grid);
}
