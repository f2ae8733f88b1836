/**
 * The fast CPU path: the kernels the benchmark workloads spend their time in,
 * with the same signature and the same results as the kernels' TypeScript
 * `cpu()` references (which stay the reference: the tests compare both, and
 * both with torch's goldens). The CPU backend uses these when WebAssembly
 * SIMD is available. Validation and output shapes are the kernels'
 * (`outputs()` ran before); this only computes, and hands any case it does
 * not cover to the reference.
 *
 * - `matmul`, `conv` (1×1 as a plain matrix product, others by im2col):
 *   the blocked WASM `gemm`, which reads both operands through their strides
 *   (a transposed operand is not copied into a transposed buffer first).
 * - `scaled_dot_product_attention`: the fused flash-style WASM kernel when
 *   the weights are not asked for; with `needWeights`, scores by `gemm`,
 *   masks, WASM `softmaxRows`, then `gemm` with the same weights written out.
 * - `softmax` over a contiguous last dim: WASM `softmaxRows`, in chunks of
 *   rows that stay in cache.
 * - `binary` (+ − × ÷) and `copy`: TypeScript again, but walking strides
 *   with an odometer over coalesced dims instead of materialising an offset
 *   per element; the arithmetic is the reference's, so results are identical.
 *
 * Operands reach WASM memory as the span of storage their view covers (one
 * `set` per operand) when that span is at most `SPAN_SLACK` times the view's
 * size, and are packed in TypeScript otherwise.
 *
 * Tolerance: the references accumulate in f64 (JS numbers); the WASM kernels
 * accumulate in f32, as torch's CPU kernels do, and their exp is a polynomial
 * with ~1e-7 relative error. The flash kernel normalises at the end
 * (Σ pᵢvᵢ / Σ pᵢ rather than Σ (pᵢ/Σp)·vᵢ) and rescales partial sums when the
 * running max grows; each step adds a few f32 roundings. An f32 sum of K
 * products of size ~1 differs from the exact one by about sqrt(K)·6e-8
 * relative, so |results| up to ~5 stay within the kernels' 1e-5 for
 * K = 1024 — attention outputs (convex combinations of values) and softmax
 * weights (≤ 1) do, and so do the goldens and the reference-comparison tests
 * (K up to 4096 there). No looser tolerance is declared.
 */

import { binary, type BinaryAttrs } from '../kernels/elementwise';
import { broadcastShapes } from '../kernels/elementwise';
import { convOutputShape, type ConvAttrs } from '../kernels/conv';
import { copy, type CopyAttrs } from '../kernels/copy';
import { pack } from '../kernels/gemm';
import { broadcastStrides, numel, stridedOffsets, type CpuView } from '../kernels/kernel';
import { softmax, type SoftmaxAttrs } from '../kernels/reduce';
import { sdpa as sdpaKernel, type SdpaAttrs } from '../kernels/sdpa';
import { wasmKernels, type Region, type WasmKernels } from './index';

export type FastCpu = (inputs: readonly CpuView[], attrs: never, outputs: Float32Array[]) => void;

/** An operand spanning more than this many times its element count is packed instead of copied as a span. */
const SPAN_SLACK = 4;
/** Floats per chunk of rows for the softmax (stays in L2). */
const SOFTMAX_CHUNK = 1 << 16;

function kernels(): WasmKernels {
  const w = wasmKernels();
  if (!w) throw new Error('WASM kernels unavailable');
  return w;
}

/** A 2-D operand (rows × cols) of a strided view, from `base`. */
interface Operand2d {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
  readonly rs: number;
  readonly cs: number;
}

/** How an operand travels into WASM memory: the floats to reserve and its strides there. */
function placement(o: Operand2d): { floats: number; rs: number; cs: number; span: boolean } {
  const n = o.rows * o.cols;
  if (n === 0) return { floats: 0, rs: o.cols, cs: 1, span: false };
  const extent = (o.rows - 1) * o.rs + (o.cols - 1) * o.cs + 1;
  if (o.rs >= 0 && o.cs >= 0 && extent <= SPAN_SLACK * n) return { floats: extent, rs: o.rs, cs: o.cs, span: true };
  return { floats: n, rs: o.cols, cs: 1, span: false };
}

/** Copies the operand starting at `base` into `r` as `placement` decided. */
function place(o: Operand2d, base: number, how: ReturnType<typeof placement>, r: Region): void {
  if (how.span) r.f32.set(o.data.subarray(base, base + how.floats));
  else if (how.floats) pack(o.data, base, o.rows, o.cols, o.rs, o.cs, r.f32);
}

/** Strides of the leading (batch) dims of `m` broadcast to `batch`. */
function batchOffsets(m: CpuView, batch: readonly number[]): Int32Array {
  return stridedOffsets(batch, broadcastStrides({ ...m, shape: m.shape.slice(0, -2), strides: m.strides.slice(0, -2) }, batch), m.offset);
}

function matmul(inputs: readonly CpuView[], _attrs: Record<string, never>, outs: Float32Array[]): void {
  const w = kernels();
  const [a, b] = inputs;
  const out = outs[0];
  const [M, K] = a.shape.slice(-2);
  const N = b.shape[b.shape.length - 1];
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const nb = numel(batch);
  if (nb * M * N === 0) return;
  const [ars, acs] = a.strides.slice(-2);
  const [brs, bcs] = b.strides.slice(-2);
  const A: Operand2d = { data: a.data, rows: M, cols: K, rs: ars, cs: acs };
  const B: Operand2d = { data: b.data, rows: K, cols: N, rs: brs, cs: bcs };
  const pa = placement(A);
  const pb = placement(B);
  const [ra, rb, rc, rw] = w.arena([pa.floats, pb.floats, M * N, w.gemmWork]);
  const ao = batchOffsets(a, batch);
  const bo = batchOffsets(b, batch);
  let lastA = -1;
  let lastB = -1;
  for (let t = 0; t < nb; t++) {
    // Copy only when the batch slice changes (broadcast operands are copied once).
    if (ao[t] !== lastA) place(A, (lastA = ao[t]), pa, ra);
    if (bo[t] !== lastB) place(B, (lastB = bo[t]), pb, rb);
    w.gemm(ra.ptr, pa.rs, pa.cs, rb.ptr, pb.rs, pb.cs, rc.ptr, N, M, N, K, rw.ptr);
    out.set(rc.f32, t * M * N);
  }
  w.done();
}

/** The additive L×S mask of batch entry `b` (bool: 0 or −∞; float: the values), or nothing to do. */
function fillMask(m: CpuView, mo: Int32Array, b: number, L: number, S: number, dst: Float32Array): void {
  const base = b * L * S;
  const d = m.data;
  if (m.dtype === 'bool') for (let i = 0; i < L * S; i++) dst[i] = d[mo[base + i]] === 0 ? -Infinity : 0;
  else for (let i = 0; i < L * S; i++) dst[i] = d[mo[base + i]];
}

function sdpa(inputs: readonly CpuView[], a: SdpaAttrs, outs: Float32Array[]): void {
  const wk = kernels();
  const [q, k, v, m] = inputs;
  const [L, E] = q.shape.slice(-2);
  const S = k.shape[k.shape.length - 2];
  const Ev = v.shape[v.shape.length - 1];
  const batch = broadcastShapes(broadcastShapes(q.shape.slice(0, -2), k.shape.slice(0, -2)), v.shape.slice(0, -2));
  const nb = numel(batch);
  if (nb * L * Ev === 0 || S === 0 || E === 0) {
    // Degenerate sizes (no keys: 0/0 = nan rows): the reference's arithmetic, nothing to speed up.
    sdpaKernel.cpu(inputs, a, outs);
    return;
  }
  const scale = a.scale ?? 1 / Math.sqrt(E);
  const qo = batchOffsets(q, batch);
  const ko = batchOffsets(k, batch);
  const vo = batchOffsets(v, batch);
  const mo = m ? stridedOffsets([...batch, L, S], broadcastStrides(m, [...batch, L, S]), m.offset) : undefined;
  const [out, weights] = outs;
  const [qrs, qcs] = q.strides.slice(-2);
  const [krs, kcs] = k.strides.slice(-2);
  const [vrs, vcs] = v.strides.slice(-2);
  if (!weights) {
    const [rq, rk, rv, ro, rm, rw] = wk.arena([L * E, S * E, S * Ev, L * Ev, m ? L * S : 0, wk.flashWork(L, S, E, Ev)]);
    let lastK = -1;
    let lastV = -1;
    for (let b = 0; b < nb; b++) {
      pack(q.data, qo[b], L, E, qrs, qcs, rq.f32);
      if (ko[b] !== lastK) pack(k.data, (lastK = ko[b]), S, E, krs, kcs, rk.f32);
      if (vo[b] !== lastV) pack(v.data, (lastV = vo[b]), S, Ev, vrs, vcs, rv.f32);
      if (m && mo) fillMask(m, mo, b, L, S, rm.f32);
      wk.flashAttention(rq.ptr, rk.ptr, rv.ptr, ro.ptr, L, S, E, Ev, scale, a.causal, m ? rm.ptr : 0, rw.ptr);
      out.set(ro.f32, b * L * Ev);
    }
    wk.done();
    return;
  }
  // The path that materialises the weights: the reference's steps on the WASM kernels.
  const [rq, rk, rv, rs, ro, rw] = wk.arena([L * E, S * E, S * Ev, L * S, L * Ev, wk.gemmWork]);
  const sc = rs.f32;
  for (let b = 0; b < nb; b++) {
    pack(q.data, qo[b], L, E, qrs, qcs, rq.f32);
    pack(k.data, ko[b], S, E, krs, kcs, rk.f32);
    pack(v.data, vo[b], S, Ev, vrs, vcs, rv.f32);
    wk.gemm(rq.ptr, E, 1, rk.ptr, 1, E, rs.ptr, S, L, S, E, rw.ptr); // Q·Kᵀ: Kᵀ read through strides
    if (mo && m) {
      // Masks are applied here, after scaling, exactly as the reference does; the softmax then scales by 1.
      const d = m.data;
      const base = b * L * S;
      for (let i = 0; i < L * S; i++) {
        const s = sc[i] * scale;
        const mv = d[mo[base + i]];
        sc[i] = m.dtype === 'bool' ? (mv === 0 ? -Infinity : s) : s + mv;
      }
      wk.softmaxRows(rs.ptr, L, S, 1, false);
    } else {
      wk.softmaxRows(rs.ptr, L, S, scale, a.causal);
    }
    wk.gemm(rs.ptr, S, 1, rv.ptr, Ev, 1, ro.ptr, Ev, L, Ev, S, rw.ptr);
    out.set(ro.f32, b * L * Ev);
    weights.set(sc, b * L * S);
  }
  wk.done();
}

function softmaxFast(inputs: readonly CpuView[], a: SoftmaxAttrs, outs: Float32Array[]): void {
  const [x] = inputs;
  const out = outs[0];
  const nd = x.shape.length;
  const dim = nd === 0 ? 0 : a.dim < 0 ? a.dim + nd : a.dim;
  const cols = nd === 0 ? 0 : x.shape[nd - 1];
  let contiguous = true;
  for (let i = nd - 1, s = 1; i >= 0; s *= x.shape[i], i--) if (x.shape[i] !== 1 && x.strides[i] !== s) contiguous = false;
  if (a.log || nd === 0 || dim !== nd - 1 || !contiguous || cols === 0 || out.length === 0) {
    softmax.cpu(inputs, a, outs);
    return;
  }
  const w = kernels();
  const rows = out.length / cols;
  const per = Math.max(1, Math.floor(SOFTMAX_CHUNK / cols));
  const [r] = w.arena([Math.min(rows, per) * cols]);
  for (let i0 = 0; i0 < rows; i0 += per) {
    const n = Math.min(per, rows - i0);
    const from = x.offset + i0 * cols;
    r.f32.set(x.data.subarray(from, from + n * cols));
    w.softmaxRows(r.ptr, n, cols, 1, false);
    out.set(r.f32.subarray(0, n * cols), i0 * cols);
  }
  w.done();
}

function convFast(inputs: readonly CpuView[], a: ConvAttrs, outs: Float32Array[]): void {
  const [x, wt, bias] = inputs;
  const out = outs[0];
  // Lift to 3 spatial dims: missing leading spatial dims have size 1 (as the reference).
  const lift = (s: readonly number[], fill: number) => [...new Array<number>(3 - s.length).fill(fill), ...s];
  const [D, H, W] = lift(x.shape.slice(2), 1);
  const [kd, kh, kw] = lift(wt.shape.slice(2), 1);
  const [sd, sh, sw] = lift(a.stride, 1);
  const [pd, ph, pw] = lift(a.padding, 0);
  const [dd, dh, dw] = lift(a.dilation, 1);
  const [OD, OH, OW] = lift(convOutputShape(x.shape, wt.shape, a).slice(2), 1);
  const [N, Cin] = x.shape;
  const Cout = wt.shape[0];
  const G = a.groups;
  const cg = Cin / G;
  const og = Cout / G;
  const R = cg * kd * kh * kw;
  const P = OD * OH * OW;
  const spatial = D * H * W;
  if (out.length === 0) return;
  const w = kernels();
  const pointwise = kd * kh * kw === 1 && sd === 1 && sh === 1 && sw === 1 && pd === 0 && ph === 0 && pw === 0;
  // Inputs are contiguous (`contiguousInputs`); offsets are honoured.
  const [rw, rx, ro, rb, rk] = w.arena([Cout * R, pointwise ? Cin * spatial : R * P, Cout * P, bias ? Cout : 0, w.gemmWork]);
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
      w.gemm(rw.ptr + g * og * R * 4, R, 1, colPtr, P, 1, ro.ptr + g * og * P * 4, P, og, P, R, rk.ptr);
    }
    if (bias) w.addColVector(ro.ptr, rb.ptr, Cout, P);
    out.set(ro.f32, n * Cout * P);
  }
  w.done();
}

/**
 * Merges adjacent dims that every operand walks contiguously (stride[i] =
 * stride[i+1]·shape[i+1]), so most walks end with one long inner loop.
 */
function coalesce(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const s: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const last = s.length - 1;
    if (last >= 0 && strides.every((t, o) => st[o][last] === t[i] * shape[i])) {
      s[last] *= shape[i];
      strides.forEach((t, o) => (st[o][last] = t[i]));
    } else {
      s.push(shape[i]);
      strides.forEach((t, o) => st[o].push(t[i]));
    }
  }
  if (s.length === 0) {
    s.push(1);
    st.forEach((t) => t.push(0));
  }
  return { shape: s, strides: st };
}

/**
 * Calls `inner(offsets, n)` once per run of the innermost (coalesced) dim,
 * with each operand's offset at the start of the run; `n` = its length.
 */
function walk(shape: readonly number[], strides: readonly (readonly number[])[], offsets: readonly number[], inner: (offs: number[], n: number, innerStrides: readonly number[]) => void): void {
  const c = coalesce(shape, strides);
  const nd = c.shape.length;
  const n = c.shape[nd - 1];
  const innerStrides = c.strides.map((t) => t[nd - 1]);
  const outer = numel(c.shape) / n;
  const idx = new Array<number>(nd).fill(0);
  const offs = [...offsets];
  for (let o = 0; o < outer; o++) {
    inner(offs, n, innerStrides);
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      for (let k = 0; k < offs.length; k++) offs[k] += c.strides[k][d];
      if (idx[d] < c.shape[d]) break;
      for (let k = 0; k < offs.length; k++) offs[k] -= c.strides[k][d] * c.shape[d];
      idx[d] = 0;
    }
  }
}

function binaryFast(inputs: readonly CpuView[], attrs: BinaryAttrs, outs: Float32Array[]): void {
  const [a, b] = inputs;
  const op = attrs.op;
  const out = outs[0];
  if (!(op === 'add' || op === 'sub' || op === 'mul' || op === 'div') || out.length === 0) {
    binary.cpu(inputs, attrs, outs);
    return;
  }
  const shape = broadcastShapes(a.shape, b.shape);
  const da = a.data;
  const db = b.data;
  const outStrides = shape.map((_, i) => numel(shape.slice(i + 1)));
  walk(shape, [broadcastStrides(a, shape), broadcastStrides(b, shape), outStrides], [a.offset, b.offset, 0], (offs, n, [sa, sb]) => {
    let ia = offs[0];
    let ib = offs[1];
    const at = offs[2];
    // The reference's arithmetic (JS numbers rounded to f32 on store), specialised per op and per stride.
    if (op === 'add') {
      if (sa === 1 && sb === 1) for (let i = 0; i < n; i++) out[at + i] = da[ia + i] + db[ib + i];
      else if (sa === 1 && sb === 0) { const y = db[ib]; for (let i = 0; i < n; i++) out[at + i] = da[ia + i] + y; }
      else if (sa === 0 && sb === 1) { const x = da[ia]; for (let i = 0; i < n; i++) out[at + i] = x + db[ib + i]; }
      else for (let i = 0; i < n; i++, ia += sa, ib += sb) out[at + i] = da[ia] + db[ib];
    } else if (op === 'mul') {
      if (sa === 1 && sb === 1) for (let i = 0; i < n; i++) out[at + i] = da[ia + i] * db[ib + i];
      else if (sa === 1 && sb === 0) { const y = db[ib]; for (let i = 0; i < n; i++) out[at + i] = da[ia + i] * y; }
      else if (sa === 0 && sb === 1) { const x = da[ia]; for (let i = 0; i < n; i++) out[at + i] = x * db[ib + i]; }
      else for (let i = 0; i < n; i++, ia += sa, ib += sb) out[at + i] = da[ia] * db[ib];
    } else if (op === 'sub') {
      for (let i = 0; i < n; i++, ia += sa, ib += sb) out[at + i] = da[ia] - db[ib];
    } else {
      for (let i = 0; i < n; i++, ia += sa, ib += sb) out[at + i] = da[ia] / db[ib];
    }
  });
}

function copyFast(inputs: readonly CpuView[], attrs: CopyAttrs, outs: Float32Array[]): void {
  const [x] = inputs;
  const out = outs[0];
  const convert = (attrs.dtype === 'bool' && x.dtype !== 'bool') || (attrs.dtype === 'int64' && x.dtype === 'float32');
  if (convert || out.length === 0) {
    copy.cpu(inputs, attrs, outs);
    return;
  }
  const d = x.data;
  const outStrides = x.shape.map((_, i) => numel(x.shape.slice(i + 1)));
  walk(x.shape, [x.strides, outStrides], [x.offset, 0], (offs, n, [sx]) => {
    const ix = offs[0];
    const at = offs[1];
    if (sx === 1) out.set(d.subarray(ix, ix + n), at);
    else for (let i = 0, j = ix; i < n; i++, j += sx) out[at + i] = d[j];
  });
}

/** Fast implementations by kernel name (the registry's names). */
export const FAST_CPU: ReadonlyMap<string, FastCpu> = new Map<string, FastCpu>([
  ['matmul', matmul as FastCpu],
  ['scaled_dot_product_attention', sdpa as FastCpu],
  ['softmax', softmaxFast as FastCpu],
  ['conv', convFast as FastCpu],
  ['binary', binaryFast as FastCpu],
  ['copy', copyFast as FastCpu],
]);
