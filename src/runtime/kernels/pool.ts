/**
 * Pooling over 1–3 trailing spatial dims of (N, C, *spatial) inputs:
 * `pool` (max or average, kernel/stride/padding/dilation, ceil_mode,
 * count_include_pad) and `adaptive_pool` (max or average to a target size,
 * bins [floor(i·in/out), ceil((i+1)·in/out)) as torch). Validation follows
 * torch's messages for too-large padding and too-small outputs.
 */

import type { OutputSpec } from '../backend';
import { TorchError } from '../errors';
import type { TensorMeta } from '../backend';
import { contiguousData, DEFAULT_TOLERANCE, numel, type Kernel, flopsPerInput } from './kernel';
import { MATH_WGSL, perOutputProgram, stridedIndexFn, u32 } from './wgsl';

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
};

export interface AdaptivePoolAttrs {
  readonly op: 'max' | 'avg';
  readonly outputSize: readonly number[];
}

export const adaptivePool: Kernel<AdaptivePoolAttrs> = {
  name: 'adaptive_pool',
  flops: flopsPerInput,
  outputs([x], a): OutputSpec[] {
    const nsp = a.outputSize.length;
    if (x.shape.slice(-nsp).some((s) => s === 0)) {
      throw new TorchError('RuntimeError', `adaptive_${a.op}_pool${nsp}d(): Expected input to have non-zero size for non-batch dimensions, but input has sizes [${x.shape.join(', ')}] with dimension ${x.shape.length - nsp} being empty`);
    }
    return [{ shape: [...x.shape.slice(0, -nsp), ...a.outputSize], dtype: x.dtype }];
  },
  cpu([xv], a, [out]) {
    const x = contiguousData(xv);
    const nsp = a.outputSize.length;
    const lift = (v: readonly number[]) => [...new Array(3 - v.length).fill(1), ...v];
    const [D, H, W] = lift(xv.shape.slice(-nsp));
    const [OD, OH, OW] = lift(a.outputSize);
    const planes = numel(xv.shape.slice(0, -nsp));
    const st = (i: number, o: number, n: number) => Math.floor((i * n) / o);
    const en = (i: number, o: number, n: number) => Math.ceil(((i + 1) * n) / o);
    let o = 0;
    for (let pl = 0; pl < planes; pl++) {
      const base = pl * D * H * W;
      for (let od = 0; od < OD; od++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++, o++) {
        let best = -Infinity;
        let sum = 0;
        let cnt = 0;
        for (let id = st(od, OD, D); id < en(od, OD, D); id++) for (let ih = st(oh, OH, H); ih < en(oh, OH, H); ih++) for (let iw = st(ow, OW, W); iw < en(ow, OW, W); iw++) {
          const v = x[base + (id * H + ih) * W + iw];
          if (v > best || Number.isNaN(v)) best = v;
          sum += v;
          cnt++;
        }
        out[o] = a.op === 'max' ? best : sum / cnt;
      }
    }
  },
  wgsl([x], a, [out]) {
    const nsp = a.outputSize.length;
    const lift = (v: readonly number[]) => [...new Array<number>(3 - v.length).fill(1), ...v];
    const [D, H, W] = lift(x.shape.slice(-nsp));
    const [OD, OH, OW] = lift(a.outputSize);
    // Bins [floor(i·in/out), ceil((i+1)·in/out)), in integers.
    const bin = (v: string, o: number, n: number) => `let ${v}s = (${v} * ${n}i) / ${o}i;\n  let ${v}e = ((${v} + 1i) * ${n}i + ${o - 1}i) / ${o}i;`;
    const body = `${poolHead(OD, OH, OW)}
  ${bin('od', OD, D)}
  ${bin('oh', OH, H)}
  ${bin('ow', OW, W)}
  var best = neg_inf();
  var sum = 0.0;
  for (var id = ods; id < ode; id++) {
    for (var ih = ohs; ih < ohe; ih++) {
      for (var iw = ows; iw < owe; iw++) {
        let v = in0[at(id, ih, iw)];
        if (v > best || isnan_f32(v)) { best = v; }
        sum += v;
      }
    }
  }
  out0[o] = ${a.op === 'max' ? 'best' : 'sum / f32((ode - ods) * (ohe - ohs) * (owe - ows))'};`;
    return perOutputProgram(numel(out.shape), 1, 1, body, MATH_WGSL + poolPrelude(x, nsp));
  },
  tolerance: DEFAULT_TOLERANCE,
};

/** WGSL `at(d, h, w)`: the storage index of a spatial position in the current plane `pl` (strided input). */
function poolPrelude(x: TensorMeta, nsp: number): string {
  const lead = x.shape.slice(0, -nsp);
  const st = [...new Array<number>(3 - nsp).fill(0), ...x.strides.slice(-nsp)];
  return (
    stridedIndexFn('plane_of', lead, x.strides.slice(0, -nsp), x.offset) +
    'var<private> plane_base: u32;\n' +
    `fn at(d: i32, h: i32, w: i32) -> u32 { return plane_base + u32(d) * ${u32(st[0])} + u32(h) * ${u32(st[1])} + u32(w) * ${u32(st[2])}; }\n`
  );
}

/** WGSL that splits the output index `o` into the plane and the output position (od, oh, ow). */
function poolHead(OD: number, OH: number, OW: number): string {
  return `  let pl = o / ${u32(OD * OH * OW)};
  let q = o % ${u32(OD * OH * OW)};
  plane_base = plane_of(pl);
  let ow = i32(q % ${u32(OW)});
  let oh = i32((q / ${u32(OW)}) % ${u32(OH)});
  let od = i32(q / ${u32(OW * OH)});`;
}
