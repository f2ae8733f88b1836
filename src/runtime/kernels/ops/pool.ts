/**
 * `pool`: max or average pooling over 1–3 trailing spatial dims of
 * (N, C, *spatial) inputs with kernel, stride, padding, dilation, ceil_mode
 * and count_include_pad. Validation follows torch's messages for too-large
 * padding and too-small outputs.
 *
 * Fast path (2-D, no padding or dilation, no ceil-mode overhang): WASM
 * `maxPool2d` for max with outputs of `WASM_MIN` floats and more, otherwise
 * the reference's loop without per-tap bounds checks in TypeScript; the same
 * comparisons and sums, so the same results.
 */

import type { OutputSpec, TensorMeta } from '../../backend';
import { TorchError } from '../../errors';
import type { WasmKernels } from '../../wasm/index';
import { CHUNK, WASM_MIN } from '../../wasm/fast';
import { contiguousData, DEFAULT_TOLERANCE, flopsPerInput, numel, type CpuView, type Kernel } from '../kernel';
import { MATH_WGSL, perOutputProgram, stridedIndexFn, u32 } from '../wgsl';

export interface PoolAttrs {
  readonly op: 'max' | 'avg';
  readonly kernel: readonly number[];
  readonly stride: readonly number[];
  readonly padding: readonly number[];
  readonly dilation: readonly number[];
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
}

function poolOut(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const eff = d * (k - 1) + 1;
  const num = size + 2 * p - eff;
  let o = (ceil ? Math.ceil(num / s) : Math.floor(num / s)) + 1;
  // The last window must start inside the input or the left padding.
  if (ceil && (o - 1) * s >= size + p) o--;
  return o;
}

export const pool: Kernel<PoolAttrs> = {
  name: 'pool',
  flops: flopsPerInput,
  outputs([x], a): OutputSpec[] {
    const nsp = a.kernel.length;
    const sp = x.shape.slice(-nsp);
    if (a.stride.some((s) => s <= 0)) throw new TorchError('RuntimeError', 'stride should be greater than zero');
    a.kernel.forEach((k, i) => {
      if (a.padding[i] > Math.floor(k / 2)) {
        throw new TorchError('RuntimeError', `pad should be at most half of effective kernel size, but got pad=${a.padding[i]}, kernel_size=${k} and dilation=${a.dilation[i]}`);
      }
    });
    const os = sp.map((s, i) => poolOut(s, a.kernel[i], a.stride[i], a.padding[i], a.dilation[i], a.ceilMode));
    if (os.some((o) => o <= 0)) {
      const lead = x.shape.slice(0, -nsp);
      throw new TorchError('RuntimeError', `Given input size: (${[lead[lead.length - 1], ...sp].join('x')}). Calculated output size: (${[lead[lead.length - 1], ...os].join('x')}). Output size is too small`);
    }
    return [{ shape: [...x.shape.slice(0, -nsp), ...os], dtype: x.dtype }];
  },
  cpu([xv], a, [out]) {
    const x = contiguousData(xv);
    const nsp = a.kernel.length;
    const lift = (v: readonly number[], f: number) => [...new Array(3 - v.length).fill(f), ...v];
    const [D, H, W] = lift(xv.shape.slice(-nsp), 1);
    const [kd, kh, kw] = lift(a.kernel, 1);
    const [sd, sh, sw] = lift(a.stride, 1);
    const [pd, ph, pw] = lift(a.padding, 0);
    const [dd, dh, dw] = lift(a.dilation, 1);
    const os = xv.shape.slice(-nsp).map((s, i) => poolOut(s, a.kernel[i], a.stride[i], a.padding[i], a.dilation[i], a.ceilMode));
    const [OD, OH, OW] = lift(os, 1);
    const planes = numel(xv.shape.slice(0, -nsp));
    let o = 0;
    for (let pl = 0; pl < planes; pl++) {
      const base = pl * D * H * W;
      for (let od = 0; od < OD; od++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++, o++) {
        let best = -Infinity;
        let sum = 0;
        let cnt = 0;
        for (let i = 0; i < kd; i++) {
          const id = od * sd - pd + i * dd;
          if (id < 0 || id >= D) continue;
          for (let j = 0; j < kh; j++) {
            const ih = oh * sh - ph + j * dh;
            if (ih < 0 || ih >= H) continue;
            for (let k = 0; k < kw; k++) {
              const iw = ow * sw - pw + k * dw;
              if (iw < 0 || iw >= W) continue;
              const v = x[base + (id * H + ih) * W + iw];
              if (v > best || Number.isNaN(v)) best = v;
              sum += v;
              cnt++;
            }
          }
        }
        if (a.op === 'max') out[o] = best;
        else {
          // count_include_pad counts padding but never the part past the padded input (ceil_mode overhang).
          let div = cnt;
          if (a.countIncludePad) {
            const span = (st: number, k: number, p: number, size: number) => Math.min(st + k, size + p) - st;
            div = span(od * sd - pd, kd, pd, D) * span(oh * sh - ph, kh, ph, H) * span(ow * sw - pw, kw, pw, W);
          }
          out[o] = sum / div;
        }
      }
    }
  },
  wgsl([x], a, [out]) {
    const nsp = a.kernel.length;
    const lift = (v: readonly number[], f: number) => [...new Array<number>(3 - v.length).fill(f), ...v];
    const [kd, kh, kw] = lift(a.kernel, 1);
    const [sd, sh, sw] = lift(a.stride, 1);
    const [pd, ph, pw] = lift(a.padding, 0);
    const [dd, dh, dw] = lift(a.dilation, 1);
    const [OD, OH, OW] = lift(out.shape.slice(-nsp), 1);
    const [D, H, W] = lift(x.shape.slice(-nsp), 1);
    const i = (v: number) => `${v}i`;
    const span = (st: string, k: number, p: number, size: number) => `(min(${st} + ${i(k)}, ${i(size + p)}) - ${st})`;
    const div = a.countIncludePad ? `f32(${span('d0', kd, pd, D)} * ${span('h0', kh, ph, H)} * ${span('w0', kw, pw, W)})` : 'f32(cnt)';
    const body = `${poolHead(OD, OH, OW)}
  let d0 = od * ${i(sd)} - ${i(pd)};
  let h0 = oh * ${i(sh)} - ${i(ph)};
  let w0 = ow * ${i(sw)} - ${i(pw)};
  var best = neg_inf();
  var sum = 0.0;
  var cnt = 0;
  for (var a = 0; a < ${i(kd)}; a++) {
    let id = d0 + a * ${i(dd)};
    if (id < 0 || id >= ${i(D)}) { continue; }
    for (var b = 0; b < ${i(kh)}; b++) {
      let ih = h0 + b * ${i(dh)};
      if (ih < 0 || ih >= ${i(H)}) { continue; }
      for (var c = 0; c < ${i(kw)}; c++) {
        let iw = w0 + c * ${i(dw)};
        if (iw < 0 || iw >= ${i(W)}) { continue; }
        let v = in0[at(id, ih, iw)];
        if (v > best || isnan_f32(v)) { best = v; }
        sum += v;
        cnt++;
      }
    }
  }
  out0[o] = ${a.op === 'max' ? 'best' : `sum / ${div}`};`;
    return perOutputProgram(numel(out.shape), 1, 1, body, MATH_WGSL + poolPrelude(x, nsp));
  },
  tolerance: DEFAULT_TOLERANCE,
  fast: poolFast,
};

/** WGSL `at(d, h, w)`: the storage index of a spatial position in the current plane `pl` (strided input). */
export function poolPrelude(x: TensorMeta, nsp: number): string {
  const lead = x.shape.slice(0, -nsp);
  const st = [...new Array<number>(3 - nsp).fill(0), ...x.strides.slice(-nsp)];
  return (
    stridedIndexFn('plane_of', lead, x.strides.slice(0, -nsp), x.offset) +
    'var<private> plane_base: u32;\n' +
    `fn at(d: i32, h: i32, w: i32) -> u32 { return plane_base + u32(d) * ${u32(st[0])} + u32(h) * ${u32(st[1])} + u32(w) * ${u32(st[2])}; }\n`
  );
}

/** WGSL that splits the output index `o` into the plane and the output position (od, oh, ow). */
export function poolHead(OD: number, OH: number, OW: number): string {
  return `  let pl = o / ${u32(OD * OH * OW)};
  let q = o % ${u32(OD * OH * OW)};
  plane_base = plane_of(pl);
  let ow = i32(q % ${u32(OW)});
  let oh = i32((q / ${u32(OW)}) % ${u32(OH)});
  let od = i32(q / ${u32(OW * OH)});`;
}

/**
 * Max and average pooling whose windows all lie inside the input (no
 * padding, no dilation, no ceil-mode overhang) over the last two dims: the
 * reference's arithmetic (the same comparisons, NaN rule and sums in the same
 * order) without its per-tap bounds checks; anything else is the reference.
 */
function poolFast(inputs: readonly CpuView[], a: PoolAttrs, outs: Float32Array[], w: WasmKernels): void {
  const [xv] = inputs;
  const out = outs[0];
  const nd = xv.shape.length;
  if (a.kernel.length !== 2 || nd < 2 || a.padding.some((p) => p !== 0) || a.dilation.some((d) => d !== 1) || out.length === 0) {
    pool.cpu(inputs, a, outs);
    return;
  }
  const [H, W] = xv.shape.slice(-2);
  const [kh, kw] = a.kernel;
  const [sh, sw] = a.stride;
  const planes = numel(xv.shape.slice(0, -2));
  // The reference's output size without padding or dilation (pool.ts `poolOut`).
  const size = (n: number, k: number, st: number) => {
    let o = (a.ceilMode ? Math.ceil((n - k) / st) : Math.floor((n - k) / st)) + 1;
    if (a.ceilMode && (o - 1) * st >= n) o--;
    return o;
  };
  const OH = size(H, kh, sh);
  const OW = size(W, kw, sw);
  // With ceil mode an extra window may hang over the edge: the reference handles that one.
  if (OH * OW * planes !== out.length || (OH - 1) * sh + kh > H || (OW - 1) * sw + kw > W) {
    pool.cpu(inputs, a, outs);
    return;
  }
  const x = contiguousData(xv);
  if (a.op === 'max' && out.length >= WASM_MIN) {
    // WASM, in blocks of whole planes of about `CHUNK` input floats.
    const pp = Math.min(planes, Math.max(1, Math.floor(CHUNK / (H * W))));
    const [ri, ro] = w.arena([pp * H * W, pp * OH * OW]);
    for (let p0 = 0; p0 < planes; p0 += pp) {
      const n = Math.min(pp, planes - p0);
      ri.f32.set(x.subarray(p0 * H * W, (p0 + n) * H * W));
      w.fn.maxPool2d(ri.ptr, n, H, W, kh, kw, sh, sw, OH, OW, ro.ptr);
      out.set(ro.f32.subarray(0, n * OH * OW), p0 * OH * OW);
    }
    w.done();
    return;
  }
  const max = a.op === 'max';
  const div = kh * kw;
  let o = 0;
  for (let pl = 0; pl < planes; pl++) {
    const base = pl * H * W;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, o++) {
        const at = base + oh * sh * W + ow * sw;
        let best = -Infinity;
        let sum = 0;
        for (let j = 0; j < kh; j++) {
          const r = at + j * W;
          for (let k = 0; k < kw; k++) {
            const v = x[r + k];
            if (v > best || Number.isNaN(v)) best = v;
            sum += v;
          }
        }
        out[o] = max ? best : sum / div;
      }
    }
  }
}
