/**
 * `unfold` (im2col): `F.unfold(x, kernel_size, dilation, padding, stride)` on (N, C, H, W) (or
 * unbatched (C, H, W), as torch 2.x allows) gives (N, C·kh·kw, L): column l holds the sliding
 * block at output position l (row-major over the (oh, ow) grid), row c·kh·kw + i·kw + j its
 * element (i, j) of channel c; cells of the zero padding read 0. Window attention and local
 * attention (HaloNet, Swin's unfolds) build their blocks with it; `F.fold` is its adjoint.
 */

import type { OutputSpec } from '../../backend';
import { TorchError } from '../../errors';
import { noFlops, numel, type Kernel } from '../kernel';
import { perOutputProgram, u32 } from '../wgsl';

export interface UnfoldAttrs {
  readonly kernel: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly stride: readonly [number, number];
}

/** The (oh, ow) grid of sliding blocks, with torch's error when a side has none. */
function blocks(h: number, w: number, a: UnfoldAttrs): [number, number] {
  const side = (n: number, d: 0 | 1) => Math.floor((n + 2 * a.padding[d] - a.dilation[d] * (a.kernel[d] - 1) - 1) / a.stride[d]) + 1;
  const [oh, ow] = [side(h, 0), side(w, 1)];
  if (oh < 1 || ow < 1) {
    const t = (v: readonly number[]) => `(${v.join(', ')})`;
    throw new TorchError('RuntimeError', `Given input with spatial size ${t([h, w])}, kernel_size=${t(a.kernel)}, dilation=${t(a.dilation)}, padding=${t(a.padding)}, calculated shape of the array of sliding blocks as ${t([oh, ow])}, but its components must be at least one.`);
  }
  return [oh, ow];
}

/** (N, C, H, W) of a batched or unbatched input. */
function dims4(shape: readonly number[]): [number, number, number, number] {
  return shape.length === 3 ? [1, shape[0], shape[1], shape[2]] : [shape[0], shape[1], shape[2], shape[3]];
}

/** The input's strides as (N, C, H, W); an unbatched input's N stride is unused. */
function strides4(strides: readonly number[]): [number, number, number, number] {
  return strides.length === 3 ? [0, strides[0], strides[1], strides[2]] : [strides[0], strides[1], strides[2], strides[3]];
}

export const unfold: Kernel<UnfoldAttrs> = {
  name: 'unfold',
  flops: noFlops,
  outputs([x], a): OutputSpec[] {
    if (x.shape.length !== 3 && x.shape.length !== 4) throw new TorchError('RuntimeError', `Expected 3D or 4D (batch mode) tensor for input with possibly 0 batch size and non-zero dimensions for input, but got: ${x.shape.length}D`);
    for (const [name, v, min] of [['kernel', a.kernel, 1], ['dilation', a.dilation, 1], ['padding', a.padding, 0], ['stride', a.stride, 1]] as const) {
      if (v.some((k) => !Number.isInteger(k) || k < min)) throw new TorchError('RuntimeError', `${name} should be ${min === 0 ? 'non-negative' : 'greater than zero'}, but got ${name}: ${v.join(' ')}`);
    }
    const [N, C, H, W] = dims4(x.shape);
    const [oh, ow] = blocks(H, W, a);
    const rows = C * a.kernel[0] * a.kernel[1];
    return [{ shape: x.shape.length === 3 ? [rows, oh * ow] : [N, rows, oh * ow], dtype: x.dtype }];
  },
  cpu([x], a, [out]) {
    const [N, C, H, W] = dims4(x.shape);
    const [sN, sC, sH, sW] = strides4(x.strides);
    const [kh, kw] = a.kernel;
    const [oh, ow] = blocks(H, W, a);
    let o = 0;
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            for (let by = 0; by < oh; by++) {
              const y = by * a.stride[0] - a.padding[0] + i * a.dilation[0];
              for (let bx = 0; bx < ow; bx++) {
                const xx = bx * a.stride[1] - a.padding[1] + j * a.dilation[1];
                out[o++] = y >= 0 && y < H && xx >= 0 && xx < W ? x.data[x.offset + n * sN + c * sC + y * sH + xx * sW] : 0;
              }
            }
          }
        }
      }
    }
  },
  wgsl([x], a, [out]) {
    const [, , H, W] = dims4(x.shape);
    const [sN, sC, sH, sW] = strides4(x.strides);
    const [kh, kw] = a.kernel;
    const [oh, ow] = blocks(H, W, a);
    const L = oh * ow;
    const rows = out.shape[out.shape.length - 2];
    const body = `  let l = o % ${u32(L)};
  let r = (o / ${u32(L)}) % ${u32(rows)};
  let n = o / ${u32(L * rows)};
  let c = r / ${u32(kh * kw)};
  let i = i32((r / ${u32(kw)}) % ${u32(kh)});
  let j = i32(r % ${u32(kw)});
  let y = i32(l / ${u32(ow)}) * ${a.stride[0]}i - ${a.padding[0]}i + i * ${a.dilation[0]}i;
  let xx = i32(l % ${u32(ow)}) * ${a.stride[1]}i - ${a.padding[1]}i + j * ${a.dilation[1]}i;
  if (y < 0i || y >= ${H}i || xx < 0i || xx >= ${W}i) { out0[o] = 0.0; return; }
  out0[o] = in0[${u32(x.offset)} + n * ${u32(sN)} + c * ${u32(sC)} + u32(y) * ${u32(sH)} + u32(xx) * ${u32(sW)}];`;
    return perOutputProgram(numel(out.shape), 1, 1, body);
  },
  tolerance: { cpu: 0, webgpu: 0 },
};
