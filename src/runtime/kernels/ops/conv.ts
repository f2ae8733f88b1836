/**
 * `conv`: N-d convolution (1, 2 or 3 spatial dims) with stride, zero padding,
 * dilation and groups, input (N, C_in, *spatial), weight
 * (C_out, C_in / groups, *kernel), optional bias (C_out). The CPU reference
 * lowers each (image, group) to im2col + `gemmNT`. Validation mirrors torch's
 * checks and messages (channel mismatch, groups divisibility, kernel larger
 * than the padded input, bias size). Unbatched inputs and string paddings are
 * resolved by `functional.ts` before this kernel is reached.
 *
 *
 * Fast path: 1×1 convolutions as a plain matrix product, others by im2col,
 * both on WASM `gemm`.
 */

import type { OutputSpec, TensorMeta } from '../../backend';
import { fmtShape, TorchError } from '../../errors';
import type { WasmKernels } from '../../wasm/index';
import { gemmNT } from '../gemm';
import { DEFAULT_TOLERANCE, numel, type CpuView, type Kernel } from '../kernel';
import { emptyProgram, u32, type GpuProgram } from '../wgsl';
import { matmulProgram } from './matmul';

export interface ConvAttrs {
  readonly stride: readonly number[];
  readonly padding: readonly number[];
  readonly dilation: readonly number[];
  readonly groups: number;
}

export function convOutputShape(x: readonly number[], w: readonly number[], a: ConvAttrs): number[] {
  const nsp = x.length - 2;
  const out = [x[0], w[0]];
  for (let i = 0; i < nsp; i++) out.push(Math.floor((x[2 + i] + 2 * a.padding[i] - a.dilation[i] * (w[2 + i] - 1) - 1) / a.stride[i]) + 1);
  return out;
}

/**
 * Sizes of a convolution lifted to 3 spatial dims (missing leading spatial dims have size 1,
 * stride 1, padding 0, dilation 1), shared by the CPU reference, the WGSL program and the WASM
 * fast path so the three loop over the same geometry.
 */
export function convGeometry(x: readonly number[], w: readonly number[], a: ConvAttrs) {
  const lift = (s: readonly number[], fill: number) => [...new Array<number>(3 - s.length).fill(fill), ...s];
  const [D, H, W] = lift(x.slice(2), 1);
  const [kd, kh, kw] = lift(w.slice(2), 1);
  const [sd, sh, sw] = lift(a.stride, 1);
  const [pd, ph, pw] = lift(a.padding, 0);
  const [dd, dh, dw] = lift(a.dilation, 1);
  const [OD, OH, OW] = lift(convOutputShape(x, w, a).slice(2), 1);
  return { N: x[0], Cin: x[1], Cout: w[0], D, H, W, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, OD, OH, OW };
}

export const conv: Kernel<ConvAttrs> = {
  name: 'conv',
  // Each output element is a dot product over in_channels / groups × kernel elements, plus the bias.
  flops: ([, w, bias], _a, [out]) => 2 * numel(out.shape) * numel(w.shape.slice(1)) + (bias ? numel(out.shape) : 0),
  outputs(inputs, a): OutputSpec[] {
    const [x, w, b] = inputs;
    const nsp = x.shape.length - 2;
    if (w.shape.length !== x.shape.length) {
      throw new TorchError('RuntimeError', `Expected ${w.shape.length}-dimensional input for ${w.shape.length}-dimensional weight ${fmtShape(w.shape)}, but got ${x.shape.length}-dimensional input of size ${fmtShape(x.shape)} instead`);
    }
    if (a.stride.some((s) => s <= 0)) throw new TorchError('RuntimeError', 'non-positive stride is not supported');
    if (a.padding.some((s) => s < 0)) throw new TorchError('RuntimeError', 'negative padding is not supported');
    if (a.dilation.some((s) => s <= 0)) throw new TorchError('RuntimeError', 'dilation should be greater than zero');
    if (a.groups <= 0) throw new TorchError('RuntimeError', 'non-positive groups is not supported');
    if (w.shape[0] % a.groups !== 0) {
      throw new TorchError('RuntimeError', `Given groups=${a.groups}, expected weight to be divisible by ${a.groups} at dimension 0, but got weight of size ${fmtShape(w.shape)} instead`);
    }
    if (x.shape[1] !== w.shape[1] * a.groups) {
      throw new TorchError('RuntimeError', `Given groups=${a.groups}, weight of size ${fmtShape(w.shape)}, expected input${fmtShape(x.shape)} to have ${w.shape[1] * a.groups} channels, but got ${x.shape[1]} channels instead`);
    }
    if (b && (b.shape.length !== 1 || b.shape[0] !== w.shape[0])) {
      throw new TorchError('RuntimeError', `Given weight of size ${fmtShape(w.shape)}, expected bias to be 1-dimensional with ${w.shape[0]} elements, but got bias of size ${fmtShape(b.shape)} instead`);
    }
    const padded = x.shape.slice(2).map((s, i) => s + 2 * a.padding[i]);
    const eff = w.shape.slice(2).map((k, i) => a.dilation[i] * (k - 1) + 1);
    if (padded.some((p, i) => p < eff[i])) {
      throw new TorchError('RuntimeError', `Calculated padded input size per channel: (${padded.join(' x ')}). Kernel size: (${eff.join(' x ')}). Kernel size can't be greater than actual input size`);
    }
    void nsp;
    return [{ shape: convOutputShape(x.shape, w.shape, a), dtype: 'float32' }];
  },
  contiguousInputs: true,
  cpu(inputs, a, [out]) {
    const [x, w, b] = inputs;
    const { N, Cin, Cout, D, H, W, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, OD, OH, OW } = convGeometry(x.shape, w.shape, a);
    const G = a.groups;
    const cg = Cin / G;
    const og = Cout / G;
    const R = cg * kd * kh * kw;
    const P = OD * OH * OW;
    const colT = new Float32Array(P * R); // one row per output position: the receptive field
    const xd = x.data;
    const xo = x.offset;
    const wd = w.data;
    const spatial = D * H * W;
    const pointwise = kd * kh * kw === 1 && sd === 1 && sh === 1 && sw === 1 && pd === 0 && ph === 0 && pw === 0;
    for (let n = 0; n < N; n++) {
      for (let g = 0; g < G; g++) {
        if (pointwise) {
          // 1x1 conv: out (og×P) = W (og×cg) · X (cg×P); pack Xᵀ.
          const base = xo + (n * Cin + g * cg) * spatial;
          for (let c = 0; c < cg; c++) for (let p = 0; p < P; p++) colT[p * R + c] = xd[base + c * spatial + p];
        } else {
          let r = 0;
          for (let c = 0; c < cg; c++) {
            const cbase = xo + (n * Cin + g * cg + c) * spatial;
            for (let i = 0; i < kd; i++) for (let j = 0; j < kh; j++) for (let k = 0; k < kw; k++, r++) {
              let p = 0;
              for (let od = 0; od < OD; od++) {
                const id = od * sd - pd + i * dd;
                const okd = id >= 0 && id < D;
                for (let oh = 0; oh < OH; oh++) {
                  const ih = oh * sh - ph + j * dh;
                  const ok = okd && ih >= 0 && ih < H;
                  const rowBase = cbase + (id * H + ih) * W;
                  for (let ow = 0; ow < OW; ow++, p++) {
                    const iw = ow * sw - pw + k * dw;
                    colT[p * R + r] = ok && iw >= 0 && iw < W ? xd[rowBase + iw] : 0;
                  }
                }
              }
            }
          }
        }
        const oOff = (n * Cout + g * og) * P;
        gemmNT(wd, w.offset + g * og * R, colT, 0, out, oOff, og, P, R);
      }
      if (b) for (let o = 0; o < Cout; o++) {
        const bv = b.data[b.offset + o];
        const s = (n * Cout + o) * P;
        for (let p = 0; p < P; p++) out[s + p] += bv;
      }
    }
  },
  wgsl(inputs, a, [out]) {
    return convProgram(inputs, a, out.shape);
  },
  tolerance: DEFAULT_TOLERANCE,
  fast: convFast,
};

const CONV_POSITIONS = 64;

/**
 * The WGSL convolution, direct (no im2col buffer): one invocation per output
 * position, a block of up to 8 output channels of one group each (the
 * weights of the block are the same for every invocation: uniform loads),
 * a workgroup covering 64 positions of one image. Inputs are contiguous
 * (`contiguousInputs`), offsets honoured. Sums run over (channel, kernel
 * position) in the CPU reference's order.
 */
function convProgram(inputs: readonly TensorMeta[], a: ConvAttrs, outShape: readonly number[]): GpuProgram {
  if (numel(outShape) === 0) return emptyProgram();
  const [x, w, b] = inputs;
  const { N, Cin, Cout, D, H, W, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, OD, OH, OW } = convGeometry(x.shape, w.shape, a);
  const P = OD * OH * OW;
  if (a.groups === 1 && kd * kh * kw === 1 && sd === 1 && sh === 1 && sw === 1 && pd === 0 && ph === 0 && pw === 0) {
    // Pointwise: per image, (positions × C_in) · (C_in × C_out) read in place from x and w, stored
    // transposed as (C_out, positions): the tiled matmul's register blocks load each element for
    // 8 multiply-adds where the direct loop loads a weight for each. Same k order as the reference.
    const xm: TensorMeta = { shape: [N, P, Cin], strides: [Cin * P, 1, P], offset: x.offset, dtype: x.dtype };
    const wm: TensorMeta = { shape: [Cin, Cout], strides: [1, Cin], offset: w.offset, dtype: w.dtype };
    return matmulProgram(xm, wm, [N, P, Cout], b, true);
  }
  const og = Cout / a.groups;
  const cg = Cin / a.groups;
  const T = [8, 4, 2, 1].find((t) => og % t === 0)!;
  const R = cg * kd * kh * kw;
  const i32 = (v: number) => `${v}i`;
  const lines = [
    '@group(0) @binding(0) var<storage, read> in0: array<f32>;',
    '@group(0) @binding(1) var<storage, read> in1: array<f32>;',
    ...(b ? ['@group(0) @binding(2) var<storage, read> in2: array<f32>;'] : []),
    `@group(0) @binding(${b ? 3 : 2}) var<storage, read_write> out0: array<f32>;`,
    `@compute @workgroup_size(${CONV_POSITIONS})`,
    'fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {',
    `  let p = wid.x * ${u32(CONV_POSITIONS)} + lid.x;`,
    `  let o0 = wid.y * ${u32(T)};`,
    '  let n = wid.z;',
    `  let g = o0 / ${u32(og)};`,
    `  let pc = min(p, ${u32(P - 1)});`,
    `  let ow = i32(pc % ${u32(OW)});`,
    `  let oh = i32((pc / ${u32(OW)}) % ${u32(OH)});`,
    `  let od = i32(pc / ${u32(OW * OH)});`,
    `  let xbase = ${u32(x.offset)} + (n * ${u32(Cin)} + g * ${u32(cg)}) * ${u32(D * H * W)};`,
    `  let wbase = ${u32(w.offset)} + o0 * ${u32(R)};`,
    ...Array.from({ length: T }, (_, t) => `  var acc${t} = 0.0;`),
    `  for (var c = 0u; c < ${u32(cg)}; c++) {`,
    `    let cb = xbase + c * ${u32(D * H * W)};`,
    `    for (var i = 0; i < ${i32(kd)}; i++) {`,
    `      let id = od * ${i32(sd)} - ${i32(pd)} + i * ${i32(dd)};`,
    `      for (var j = 0; j < ${i32(kh)}; j++) {`,
    `        let ih = oh * ${i32(sh)} - ${i32(ph)} + j * ${i32(dh)};`,
    `        for (var k = 0; k < ${i32(kw)}; k++) {`,
    `          let iw = ow * ${i32(sw)} - ${i32(pw)} + k * ${i32(dw)};`,
    `          let inside = id >= 0 && id < ${i32(D)} && ih >= 0 && ih < ${i32(H)} && iw >= 0 && iw < ${i32(W)};`,
    `          let xv = select(0.0, in0[cb + u32(select(0, (id * ${i32(H)} + ih) * ${i32(W)} + iw, inside))], inside);`,
    `          let r = c * ${u32(kd * kh * kw)} + u32((i * ${i32(kh)} + j) * ${i32(kw)} + k);`,
    ...Array.from({ length: T }, (_, t) => `          acc${t} += xv * in1[wbase + ${u32(t * R)} + r];`),
    '        }',
    '      }',
    '    }',
    '  }',
    `  if (p >= ${u32(P)}) { return; }`,
    `  let ob = (n * ${u32(Cout)} + o0) * ${u32(P)} + p;`,
    ...Array.from({ length: T }, (_, t) => `  out0[ob + ${u32(t * P)}] = acc${t}${b ? ` + in2[${u32(b.offset)} + (o0 + ${u32(t)}) * ${u32(b.strides[0] ?? 1)}]` : ''};`),
    '}',
  ];
  return { code: lines.join('\n') + '\n', workgroups: [Math.ceil(P / CONV_POSITIONS), Cout / T, N], invocations: CONV_POSITIONS };
}

function convFast(inputs: readonly CpuView[], a: ConvAttrs, outs: Float32Array[], w: WasmKernels): void {
  const [x, wt, bias] = inputs;
  const out = outs[0];
  const { N, Cin, Cout, D, H, W, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, OD, OH, OW } = convGeometry(x.shape, wt.shape, a);
  const G = a.groups;
  const cg = Cin / G;
  const og = Cout / G;
  const R = cg * kd * kh * kw;
  const P = OD * OH * OW;
  const spatial = D * H * W;
  if (out.length === 0) return;
  const pointwise = kd * kh * kw === 1 && sd === 1 && sh === 1 && sw === 1 && pd === 0 && ph === 0 && pw === 0;
  // Inputs are contiguous (`contiguousInputs`); offsets are honoured.
  const [rw, rx, ro, rb, rk] = w.arena([Cout * R, pointwise ? Cin * spatial : R * P, Cout * P, bias ? Cout : 0, w.fn.gemmWorkFloats()]);
  rw.f32.set(wt.data.subarray(wt.offset, wt.offset + Cout * R));
  if (bias) rb.f32.set(bias.data.subarray(bias.offset, bias.offset + Cout));
  const xd = x.data;
  const col = rx.f32;
  for (let n = 0; n < N; n++) {
    if (pointwise) {
      const from = x.offset + n * Cin * spatial;
      col.set(xd.subarray(from, from + Cin * spatial));
    }
    for (let g = 0; g < G; g++) {
      let colPtr = rx.ptr + g * cg * spatial * 4;
      if (!pointwise) {
        // im2col: row r = (channel, kernel offset) holds that tap for every output position, contiguous over positions.
        colPtr = rx.ptr;
        let r = 0;
        for (let c = 0; c < cg; c++) {
          const cbase = x.offset + (n * Cin + g * cg + c) * spatial;
          for (let i = 0; i < kd; i++) for (let j = 0; j < kh; j++) for (let k = 0; k < kw; k++, r++) {
            let p = r * P;
            for (let od = 0; od < OD; od++) {
              const id = od * sd - pd + i * dd;
              const okd = id >= 0 && id < D;
              for (let oh = 0; oh < OH; oh++) {
                const ih = oh * sh - ph + j * dh;
                const rowBase = cbase + (id * H + ih) * W;
                if (!(okd && ih >= 0 && ih < H)) {
                  col.fill(0, p, p + OW);
                  p += OW;
                  continue;
                }
                for (let ow = 0; ow < OW; ow++, p++) {
                  const iw = ow * sw - pw + k * dw;
                  col[p] = iw >= 0 && iw < W ? xd[rowBase + iw] : 0;
                }
              }
            }
          }
        }
      }
      // out (og×P) = W_g (og×R) · col (R×P).
      w.fn.gemm(rw.ptr + g * og * R * 4, R, 1, colPtr, P, 1, ro.ptr + g * og * P * 4, P, og, P, R, rk.ptr);
    }
    if (bias) w.fn.addColVector(ro.ptr, rb.ptr, Cout, P);
    out.set(ro.f32, n * Cout * P);
  }
  w.done();
}
