/**
 * `F.interpolate` for the resampling modes: nearest, nearest-exact, linear / bilinear /
 * trilinear and bicubic over the 1, 2 or 3 spatial dims of an (N, C, …) input ('area' is
 * adaptive average pooling, in `functional.ts`). Each output element gathers its source
 * positions and weights per spatial axis and sums the product of the axes' taps: 1 tap per axis
 * for the nearest modes, 2 for linear, 4 for bicubic.
 *
 * The source index follows torch's CPU kernels (`area_pixel_compute_scale` and friends): the
 * scale of an axis is `1 / scale_factor` when a scale factor was given (torch's
 * `recompute_scale_factor=None`/`False`), else in / out, or (in − 1) / (out − 1) with
 * `align_corners`, all in f32 as torch computes them. Nearest takes `floor(o · scale)`,
 * nearest-exact `floor((o + 0.5) · scale)`, both clamped to the last index. Linear takes
 * `scale · (o + 0.5) − 0.5` clamped at 0 (`scale · o` with `align_corners`) and its two
 * neighbours, and copies an axis whose output size equals its input size, as torch does even
 * when a scale factor says otherwise. Bicubic uses Keys' cubic convolution with A = −0.75 on the
 * four neighbours, indices clamped to the borders, without that copy (torch has none for it).
 *
 * Fast path: the same taps applied one spatial axis at a time (the weights are a product over
 * axes) by the WASM SIMD `resampleAxis`: along the last axis each output gathers its taps, along
 * the others each output row is the weighted sum of at most four whole input rows, so a 2×
 * bicubic upsampling costs 6 multiply–adds per output instead of the 16 of its 4 × 4 taps, and
 * none on zero weights (a dense matrix per axis, as the composite before this kernel ran, has a
 * multiply–add for every input position).
 */

import type { OutputSpec } from '../../backend';
import { TorchError } from '../../errors';
import { CHUNK } from '../../wasm/fast';
import type { WasmKernels } from '../../wasm/index';
import { contiguousData, contiguousStrides, DEFAULT_TOLERANCE, isContiguous, numel, stridedOffsets, type CpuView, type Kernel } from '../kernel';
import { f32, perOutputProgram, stridedIndexFn, u32 } from '../wgsl';

export type ResampleMode = 'nearest' | 'nearest-exact' | 'linear' | 'bilinear' | 'trilinear' | 'bicubic';

export interface InterpolateAttrs {
  readonly mode: ResampleMode;
  /** Output sizes of the spatial dims. */
  readonly size: readonly number[];
  /** The scale factor given per spatial dim, or null where the size was given. */
  readonly scales: readonly (number | null)[] | null;
  readonly alignCorners: boolean;
}

const MODE_SPATIAL: Partial<Record<ResampleMode, number>> = { linear: 1, bilinear: 2, bicubic: 2, trilinear: 3 };
const A = -0.75;

function taps(mode: ResampleMode): number {
  return mode === 'nearest' || mode === 'nearest-exact' ? 1 : mode === 'bicubic' ? 4 : 2;
}

/** torch's scale of one axis, rounded to f32 as torch's `area_pixel_compute_scale<float>` returns it. */
function axisScale(mode: ResampleMode, inSize: number, outSize: number, scale: number | null, alignCorners: boolean): number {
  if (alignCorners && mode !== 'nearest' && mode !== 'nearest-exact') return outSize > 1 ? Math.fround((inSize - 1) / (outSize - 1)) : 0;
  return scale !== null && scale > 0 ? Math.fround(1 / scale) : Math.fround(inSize / outSize);
}

/** Cubic convolution weights of the four neighbours at fraction `t` (Keys, A = −0.75). */
function cubicWeights(t: number): number[] {
  const near = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1;
  const far = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  return [far(t + 1), near(t), near(1 - t), far(2 - t)];
}

/** Source indices and weights of every output position of one axis (`taps` each, row-major). */
function axisTaps(a: InterpolateAttrs, axis: number, inSize: number): { idx: Int32Array; w: Float64Array } {
  const outSize = a.size[axis];
  const T = taps(a.mode);
  const idx = new Int32Array(outSize * T);
  const w = new Float64Array(outSize * T);
  const scale = axisScale(a.mode, inSize, outSize, a.scales?.[axis] ?? null, a.alignCorners);
  const fr = Math.fround;
  for (let o = 0; o < outSize; o++) {
    const at = o * T;
    if (T === 1) {
      const src = a.mode === 'nearest' ? fr(o * scale) : fr((o + 0.5) * scale);
      idx[at] = Math.min(Math.floor(src), inSize - 1);
      w[at] = 1;
      continue;
    }
    const real = a.alignCorners ? fr(scale * o) : fr(fr(scale * fr(o + 0.5)) - 0.5);
    if (T === 2) {
      if (outSize === inSize) {
        idx[at] = idx[at + 1] = o;
        w[at] = 1;
        continue;
      }
      const src = Math.max(real, 0);
      const i0 = Math.min(Math.floor(src), inSize - 1);
      const l1 = Math.min(Math.max(fr(src - i0), 0), 1);
      idx[at] = i0;
      idx[at + 1] = i0 < inSize - 1 ? i0 + 1 : i0;
      w[at] = fr(1 - l1);
      w[at + 1] = l1;
      continue;
    }
    const i0 = Math.min(Math.floor(real), inSize - 1);
    const t = Math.min(Math.max(fr(real - i0), 0), 1);
    cubicWeights(t).forEach((c, j) => {
      idx[at + j] = Math.min(Math.max(i0 - 1 + j, 0), inSize - 1);
      w[at + j] = fr(c);
    });
  }
  return { idx, w };
}

export const interpolate: Kernel<InterpolateAttrs> = {
  name: 'interpolate',
  // A multiply–add per tap of every output element; the nearest modes only gather.
  flops: (_i, a, [out]) => (taps(a.mode) === 1 ? 0 : 2 * taps(a.mode) ** a.size.length * numel(out.shape)),
  outputs([x], a): OutputSpec[] {
    const sp = x.shape.length - 2;
    if (sp < 1 || sp > 3 || a.size.length !== sp) {
      throw new TorchError('ValueError', `interpolate: ${a.size.length} output sizes for an input of ${x.shape.length} dims (expected (N, C, d1, ...) with 1 to 3 spatial dims)`);
    }
    const need = MODE_SPATIAL[a.mode];
    if (need !== undefined && need !== sp) throw new TorchError('NotImplementedError', `Got ${x.shape.length}D input, but ${a.mode} mode needs ${need + 2}D input`);
    if (x.dtype !== 'float32') throw new TorchError('RuntimeError', `"compute_indices_weights_${taps(a.mode) === 1 ? 'nearest' : a.mode === 'bicubic' ? 'cubic' : 'linear'}" not implemented for '${x.dtype === 'bool' ? 'Bool' : 'Long'}'`);
    if (a.size.some((s) => !Number.isInteger(s) || s <= 0) || x.shape.slice(2).some((s) => s <= 0)) {
      throw new TorchError('RuntimeError', `Input and output sizes should be greater than 0, but got input (${x.shape.slice(2).join(', ')}) and output (${a.size.join(', ')})`);
    }
    return [{ shape: [x.shape[0], x.shape[1], ...a.size], dtype: 'float32' }];
  },
  cpu([x], a, [out]) {
    const sp = a.size.length;
    // Pad to three spatial axes (a missing one is one output of one tap at offset 0), with each
    // tap's source as a storage offset.
    const n = [1, 1, 1];
    const t = [1, 1, 1];
    const offs: Int32Array[] = [new Int32Array(1), new Int32Array(1), new Int32Array(1)];
    const ws: Float64Array[] = [Float64Array.of(1), Float64Array.of(1), Float64Array.of(1)];
    for (let k = 0; k < sp; k++) {
      const i = 3 - sp + k;
      const { idx, w } = axisTaps(a, k, x.shape[2 + k]);
      n[i] = a.size[k];
      t[i] = taps(a.mode);
      offs[i] = idx.map((j) => j * x.strides[2 + k]);
      ws[i] = w;
    }
    const [n0, n1, n2] = n;
    const [t0, t1, t2] = t;
    const [f0, f1, f2] = offs;
    const [w0, w1, w2] = ws;
    const planes = stridedOffsets(x.shape.slice(0, 2), x.strides.slice(0, 2), x.offset);
    const d = x.data;
    let o = 0;
    for (let c = 0; c < planes.length; c++) {
      const base = planes[c];
      for (let i = 0; i < n0; i++) for (let j = 0; j < n1; j++) for (let k = 0; k < n2; k++) {
        let acc = 0;
        for (let p = i * t0; p < (i + 1) * t0; p++) {
          for (let q = j * t1; q < (j + 1) * t1; q++) {
            const wpq = w0[p] * w1[q];
            const bpq = base + f0[p] + f1[q];
            for (let r = k * t2; r < (k + 1) * t2; r++) acc += wpq * w2[r] * d[bpq + f2[r]];
          }
        }
        out[o++] = acc;
      }
    }
  },
  fast: interpolateFast,
  wgsl([x], a, [out]) {
    const sp = a.size.length;
    const T = taps(a.mode);
    const ost = contiguousStrides(out.shape);
    // Per axis: its output coordinate `o<k>`, then `i<k>[t]` and `w<k>[t]` for its taps.
    const lines: string[] = [];
    for (let k = 0; k < sp; k++) lines.push(`  let o${k} = (o / ${u32(ost[2 + k])}) % ${u32(a.size[k])};`);
    lines.push(`  let b = plane_at(o / ${u32(ost[1])});`);
    for (let k = 0; k < sp; k++) {
      const inSize = x.shape[2 + k];
      const last = inSize - 1;
      const scale = f32(axisScale(a.mode, inSize, a.size[k], a.scales?.[k] ?? null, a.alignCorners));
      lines.push(`  var i${k}: array<u32, ${T}>;`, `  var w${k}: array<f32, ${T}>;`);
      if (T === 1) {
        const src = a.mode === 'nearest' ? `f32(o${k}) * ${scale}` : `(f32(o${k}) + 0.5) * ${scale}`;
        lines.push(`  i${k}[0] = min(u32(floor(${src})), ${u32(last)});`, `  w${k}[0] = 1.0;`);
        continue;
      }
      const real = a.alignCorners ? `${scale} * f32(o${k})` : `${scale} * (f32(o${k}) + 0.5) - 0.5`;
      if (T === 2 && a.size[k] === inSize) {
        lines.push(`  i${k}[0] = o${k};`, `  i${k}[1] = o${k};`, `  w${k}[0] = 1.0;`, `  w${k}[1] = 0.0;`);
      } else if (T === 2) {
        lines.push(
          `  {`,
          `    let src = max(${real}, 0.0);`,
          `    let j = min(u32(floor(src)), ${u32(last)});`,
          `    let l1 = clamp(src - f32(j), 0.0, 1.0);`,
          `    i${k}[0] = j;`,
          `    i${k}[1] = select(j, j + 1u, j < ${u32(last)});`,
          `    w${k}[0] = 1.0 - l1;`,
          `    w${k}[1] = l1;`,
          `  }`,
        );
      } else {
        lines.push(
          `  {`,
          `    let real = ${real};`,
          `    let j = min(i32(floor(real)), ${last}i);`,
          `    let t = clamp(real - f32(j), 0.0, 1.0);`,
          `    w${k} = cubic_weights(t);`,
          `    for (var m = 0; m < 4; m++) { i${k}[m] = u32(clamp(j - 1 + m, 0i, ${last}i)); }`,
          `  }`,
        );
      }
    }
    // The sum over every combination of taps, axis 0 outermost.
    const open: string[] = [];
    const close: string[] = [];
    const terms: string[] = [];
    const offs: string[] = [];
    for (let k = 0; k < sp; k++) {
      const pad = '  '.repeat(k + 1);
      open.push(`${pad}for (var t${k} = 0u; t${k} < ${u32(T)}; t${k}++) {`);
      close.unshift(`${pad}}`);
      terms.push(`w${k}[t${k}]`);
      offs.push(`i${k}[t${k}] * ${u32(x.strides[2 + k])}`);
    }
    const pad = '  '.repeat(sp + 1);
    const body = [
      ...lines,
      '  var acc = 0.0;',
      ...open,
      `${pad}acc += ${terms.join(' * ')} * in0[b + ${offs.join(' + ')}];`,
      ...close,
      '  out0[o] = acc;',
    ].join('\n');
    const pre =
      stridedIndexFn('plane_at', x.shape.slice(0, 2), x.strides.slice(0, 2), x.offset) +
      `fn cubic_weights(t: f32) -> array<f32, 4> {
  let near0 = ((${f32(A + 2)} * t - ${f32(A + 3)}) * t) * t + 1.0;
  let s = 1.0 - t;
  let near1 = ((${f32(A + 2)} * s - ${f32(A + 3)}) * s) * s + 1.0;
  let u = t + 1.0;
  let far0 = ((${f32(A)} * u - ${f32(5 * A)}) * u + ${f32(8 * A)}) * u - ${f32(4 * A)};
  let v = 2.0 - t;
  let far1 = ((${f32(A)} * v - ${f32(5 * A)}) * v + ${f32(8 * A)}) * v - ${f32(4 * A)};
  return array<f32, 4>(far0, near0, near1, far1);
}
`;
    return perOutputProgram(numel(out.shape), 1, 1, body, pre);
  },
  tolerance: DEFAULT_TOLERANCE,
};

/**
 * The fast path: the same taps applied one spatial axis at a time (separable, as the weights are
 * a product over axes) by the WASM `resampleAxis`, in chunks of whole (n, c) planes of at most
 * about `CHUNK` floats (input, intermediates and output together), so that each pass reads what
 * the previous one wrote while it is still in cache. An axis whose taps copy it is skipped; the
 * others run in the order `passOrder` estimates cheapest. Intermediates and sums are f32 (each
 * pass a sum of at most four products, in tap order): on unit-normal inputs the results differ
 * from the reference's double sums by at most 7.2e-7 (a few ulps of the largest value), within
 * the kernel's CPU tolerance.
 */
function interpolateFast(inputs: readonly CpuView[], a: InterpolateAttrs, outs: Float32Array[], wasm: WasmKernels): void {
  const [x] = inputs;
  const out = outs[0];
  if (out.length === 0) return;
  const T = taps(a.mode);
  const inSp = x.shape.slice(2);
  const planes = x.shape[0] * x.shape[1];
  const inPlane = numel(inSp);
  const outPlane = numel(a.size);
  const axes = a.size.map((nOut, k) => ({ k, nOut, ...axisTaps(a, k, inSp[k]) }));
  const passes = passOrder(axes.filter((p) => !copiesAxis(p.idx, p.w, T, p.nOut, inSp[p.k])), inSp, T);
  // The plane size after each pass; the largest intermediate sizes the two buffers they alternate in.
  const sizes = [...inSp];
  const stages = passes.map((p) => {
    sizes[p.k] = p.nOut;
    return numel(sizes);
  });
  const inter = Math.max(0, ...stages.slice(0, -1));
  const pp = Math.min(planes, Math.max(1, Math.floor(CHUNK / (inPlane + outPlane + 2 * inter))));
  const tables = passes.map((p) => T * p.nOut);
  const regions = wasm.arena([pp * inPlane, pp * outPlane, pp * inter, pp * inter, ...tables.flatMap((n) => [n, n])]);
  const [ri, ro, ra, rb] = regions;
  passes.forEach((p, i) => {
    // The tables tap-major (tap t of output o at t·nOut + o: a load of four weights is one f32x4),
    // positions as byte offsets (4 × the index, what a lane load adds to the row's address).
    const ti = regions[4 + 2 * i];
    const tw = regions[5 + 2 * i].f32;
    const idx = new Int32Array(ti.f32.buffer, ti.ptr, tables[i]);
    for (let o = 0; o < p.nOut; o++) {
      for (let t = 0; t < T; t++) {
        idx[t * p.nOut + o] = 4 * p.idx[o * T + t];
        tw[t * p.nOut + o] = p.w[o * T + t];
      }
    }
  });
  const load = planeLoader(x, inPlane);
  for (let p0 = 0; p0 < planes; p0 += pp) {
    const n = Math.min(pp, planes - p0);
    load(p0, n, ri.f32);
    const shape = [n, ...inSp];
    let src = ri;
    passes.forEach((p, i) => {
      const d = 1 + p.k;
      const dst = i === passes.length - 1 ? ro : i % 2 === 0 ? ra : rb;
      wasm.fn.resampleAxis(src.ptr, dst.ptr, numel(shape.slice(0, d)), shape[d], p.nOut, numel(shape.slice(d + 1)), regions[4 + 2 * i].ptr, regions[5 + 2 * i].ptr, T);
      shape[d] = p.nOut;
      src = dst;
    });
    out.set(src.f32.subarray(0, n * outPlane), p0 * outPlane);
  }
  wasm.done();
}

/**
 * Cost of one output element and tap of a pass along the last axis, which gathers its taps one
 * float at a time, relative to a pass along another axis, which reads whole rows four floats at a
 * time. Measured: on 2× bilinear, bicubic and nearest [1, 64, 56, 56], 2× trilinear
 * [1, 16, 8, 16, 16], bicubic [1, 768, 14, 14] → 24 × 24 and ½× bilinear, the order it picks ran
 * 1.11–1.33× faster than the reverse.
 */
const GATHER_COST = 3;

/** The order of the passes with the least estimated work (output elements × taps, weighted by `GATHER_COST`). */
function passOrder<P extends { readonly k: number; readonly nOut: number }>(passes: readonly P[], inSp: readonly number[], T: number): P[] {
  const orders = (ps: readonly P[]): P[][] => (ps.length <= 1 ? [[...ps]] : ps.flatMap((p, i) => orders([...ps.slice(0, i), ...ps.slice(i + 1)]).map((rest) => [p, ...rest])));
  let best: P[] = [...passes];
  let least = Infinity;
  for (const order of orders(passes)) {
    const sizes = [...inSp];
    let cost = 0;
    for (const p of order) {
      sizes[p.k] = p.nOut;
      cost += numel(sizes) * T * (p.k === inSp.length - 1 ? GATHER_COST : 1);
    }
    if (cost < least) {
      best = order;
      least = cost;
    }
  }
  return best;
}

/**
 * Copies planes [p0, p0 + n) of `x` (each `inPlane` floats) contiguously into `dst`: slices of a
 * contiguous input, one slice per plane when only the spatial dims are contiguous (an input with
 * N and C permuted, say), else from a contiguous copy made once.
 */
function planeLoader(x: CpuView, inPlane: number): (p0: number, n: number, dst: Float32Array) => void {
  const spatial = { ...x, shape: x.shape.slice(2), strides: x.strides.slice(2) };
  if (!isContiguous(x) && isContiguous(spatial)) {
    const starts = stridedOffsets(x.shape.slice(0, 2), x.strides.slice(0, 2), x.offset);
    return (p0, n, dst) => {
      for (let p = 0; p < n; p++) dst.set(x.data.subarray(starts[p0 + p], starts[p0 + p] + inPlane), p * inPlane);
    };
  }
  const d = contiguousData(x);
  return (p0, n, dst) => dst.set(d.subarray(p0 * inPlane, (p0 + n) * inPlane));
}

/** Whether an axis's taps give every output its own input unchanged (same size, weight 1, the rest 0). */
function copiesAxis(idx: Int32Array, w: Float64Array, T: number, nOut: number, nIn: number): boolean {
  if (nOut !== nIn) return false;
  for (let o = 0; o < nOut; o++) {
    for (let t = 0; t < T; t++) {
      const wt = w[o * T + t];
      if (t === 0 ? wt !== 1 || idx[o * T] !== o : wt !== 0) return false;
    }
  }
  return true;
}
