/**
 * Attention drawn over an image input (issue "Preview any module", item 4), in the DOM: the image
 * the module ran on (already resized to its H×W), scaled up, with one g×g patch grid of weights
 * laid over it in the preview's colour scale — low weights nearly transparent, high ones nearly
 * opaque, scaled to the grid's own [min, max] so that each overlay shows where its attention goes.
 * Also the decoding of a picked file (its pixels at their own size, resized by `resizeRGBA`).
 */

import { colour } from './colour';
import { highContrast } from './heatmap';
import { resizeRGBA } from './image-input';

/** A decoded image at the module input's size: RGBA bytes, W×H. */
export interface InputImage {
  name: string;
  W: number;
  H: number;
  rgba: Uint8ClampedArray;
}

/** Images with more pixels than this are refused (about 40 megapixels: a 4 × 160 MiB canvas read). */
const MAX_PIXELS = 40_000_000;

/** Decodes PNG or JPEG bytes and resizes them to W×H (`resizeRGBA`: stretched, no crop); rejects when the bytes are no image or too large. */
export async function decodeImage(name: string, bytes: Uint8Array, W: number, H: number): Promise<InputImage> {
  const bitmap = await createImageBitmap(new Blob([bytes.slice()]));
  try {
    const { width: w, height: h } = bitmap;
    if (w * h > MAX_PIXELS) throw new Error(`${w}×${h} pixels is more than the preview reads`);
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2-D canvas');
    ctx.drawImage(bitmap, 0, 0);
    return { name, W, H, rgba: resizeRGBA(ctx.getImageData(0, 0, w, h).data, w, h, W, H) };
  } finally {
    bitmap.close();
  }
}

/** The image alone, at its own size, to be scaled by `drawImage`. */
function imageCanvas(img: InputImage): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = img.W;
  c.height = img.H;
  c.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(img.rgba), img.W, img.H), 0, 0);
  return c;
}

/** A canvas `size` pixels wide: the image with the g×g `values` (row-major over the patch grid) over it. */
export function overlay(img: InputImage, values: Float32Array, g: number, label: string, size = 160): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = size;
  c.height = Math.max(1, Math.round((size * img.H) / img.W));
  c.setAttribute('role', 'img');
  c.setAttribute('aria-label', label);
  c.className = 'overlay';
  const ctx = c.getContext('2d');
  if (!ctx) return c;
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(imageCanvas(img), 0, 0, c.width, c.height);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const span = hi > lo ? hi - lo : 1;
  const grey = highContrast();
  const cw = c.width / g;
  const ch = c.height / g;
  for (let i = 0; i < g; i++)
    for (let j = 0; j < g; j++) {
      const v = values[i * g + j];
      const t = Number.isFinite(v) && Number.isFinite(lo) ? (v - lo) / span : 0;
      const [r, gr, b] = colour(t, grey);
      ctx.fillStyle = `rgba(${r}, ${gr}, ${b}, ${(0.15 + 0.6 * t).toFixed(3)})`;
      ctx.fillRect(Math.floor(j * cw), Math.floor(i * ch), Math.ceil(cw), Math.ceil(ch));
    }
  return c;
}
