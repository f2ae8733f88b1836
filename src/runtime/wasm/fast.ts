/**
 * The fast CPU path: the kernels the benchmark workloads spend their time in,
 * with the same signature and the same results as the kernels' TypeScript
 * `cpu()` references (which stay the reference: the tests compare both, and
 * both with torch's goldens). The CPU backend uses these when WebAssembly
 * SIMD is available. Validation and output shapes are the kernels'
 * (`outputs()` ran before); this only computes, and hands any case it does
 * not cover to the reference.
 *
 * - `matmul`: WASM `packBPanels` + `gemmPacked`. One operand is resident
 *   (packed once per batch slice, in panels of at most `PANEL` floats), the
 *   other streams through in chunks of rows (at most `CHUNK` floats of it and
 *   of the result), so WASM memory stays small however large the product
 *   (SAGAN's 4096×4096 attention map never sits there whole) and each chunk
 *   of the result is copied out while it is in cache. Normally B is resident
 *   and A streams; when B is too large to keep and A is smaller (SAGAN's
 *   V·attnᵀ), Cᵀ = Bᵀ·Aᵀ is computed instead (attn's rows stream, read in
 *   place) and each chunk is written back transposed. Operands are read
 *   through their strides (a transposed operand is not transposed first).
 * - `conv` (1×1 as a plain matrix product, others by im2col): WASM `gemm`.
 * - `scaled_dot_product_attention`: the fused flash-style WASM kernel when
 *   the weights are not asked for — Q, K and V with contiguous rows go into
 *   WASM whole, every batch entry read in place through its row stride (the
 *   heads of an (N, L, H, E) layout need no per-head packing); with
 *   `needWeights`, scores by `gemm`, masks, WASM `softmaxRows`, then `gemm`
 *   with the same weights written out.
 * - `softmax` over a contiguous last dim: WASM `softmaxRows`, in chunks of
 *   rows that stay in cache.
 * - `binary` (+ − × ÷): WASM `binary2d` when the operands coalesce to two
 *   dims with column strides 0 or 1 (same shapes, bias rows and columns,
 *   scalars), in chunks; `copy`: WASM `gather3d` up to three coalesced dims.
 *   Smaller or other cases walk strides in TypeScript with an odometer over
 *   coalesced dims. Either way one f32 operation per element, so the results
 *   are the reference's exactly.
 * - `pool` (2-D, no padding or dilation, no ceil-mode overhang): WASM
 *   `maxPool2d` for max (outputs of 4096 floats and more), otherwise the
 *   reference's loop without per-tap bounds checks in TypeScript; the same
 *   comparisons and sums, so the same results.
 *
 * Operands reach WASM memory as the span of storage their view covers (one
 * `set` per operand or chunk) when that span is at most `SPAN_SLACK` times the
 * view's size, and are packed in TypeScript otherwise.
 *
 * Tolerance: the references accumulate in f64 (JS numbers); the WASM kernels
 * accumulate in f32, as torch's CPU kernels do, and their exp is a polynomial
 * with ~1e-7 relative error; the softmax multiplies by 1/Σ (an ulp, < 1.2e-7
 * on weights ≤ 1, from dividing). The flash kernel normalises at the end
 * (Σ pᵢvᵢ / Σ pᵢ rather than Σ (pᵢ/Σp)·vᵢ) and rescales partial sums when the
 * running max grows; each step adds a few f32 roundings. An f32 sum of K
 * products of size ~1 differs from the exact one by about sqrt(K)·6e-8
 * relative, so |results| up to ~5 stay within the kernels' 1e-5 for
 * K = 1024 — attention outputs (convex combinations of values) and softmax
 * weights (≤ 1) do, and so do the goldens and the reference-comparison tests
 * (K up to 4100 there, with operands scaled so that |results| stay near 1). No looser tolerance is declared.
 */

import { binary, type BinaryAttrs } from '../kernels/elementwise';
import { broadcastShapes } from '../kernels/elementwise';
import { convGeometry, type ConvAttrs } from '../kernels/conv';
import { copy, type CopyAttrs } from '../kernels/copy';
import { pack } from '../kernels/gemm';
import { broadcastStrides, contiguousData, numel, stridedOffsets, type CpuView } from '../kernels/kernel';
import { pool, type PoolAttrs } from '../kernels/pool';
import { softmax, type SoftmaxAttrs } from '../kernels/reduce';
import { sdpa as sdpaKernel, type SdpaAttrs } from '../kernels/sdpa';
import { wasmKernels, type Region, type WasmKernels } from './index';

export type FastCpu = (inputs: readonly CpuView[], attrs: never, outputs: Float32Array[]) => void;

/** An operand spanning more than this many times its element count is packed instead of copied as a span. */
const SPAN_SLACK = 4;
/** Floats of the resident operand `matmul` packs at a time (4 MB: the panel stays in L3). */
const PANEL = 1 << 20;
/**
 * Floats per chunk of streamed rows in `matmul` (both of the operand and of the result) and per
 * block of `binary`, `copy` and `pool`: 512 KB, a core's L2 here (measured: half that made the
 * SAGAN softmax and matmuls slower, not faster).
 */
const CHUNK = 1 << 17;
/** Floats per chunk of rows for the softmax (as `CHUNK`). */
const SOFTMAX_CHUNK = 1 << 17;

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

/** Strides of the leading (batch) dims of `m` broadcast to `batch`. */
function batchOffsets(m: CpuView, batch: readonly number[]): Int32Array {
  return stridedOffsets(batch, broadcastStrides({ ...m, shape: m.shape.slice(0, -2), strides: m.strides.slice(0, -2) }, batch), m.offset);
}

/**
 * Copies the block `o` (from `base`) into `r`: as its span if `span`, else
 * packed row-major. Blocks of one operand use one mode (the one `placement`
 * chose for the largest), so the region sized for that block holds them all.
 */
function placeBlock(o: Operand2d, base: number, span: boolean, r: Region): void {
  if (o.rows * o.cols === 0) return;
  if (span) r.f32.set(o.data.subarray(base, base + (o.rows - 1) * o.rs + (o.cols - 1) * o.cs + 1));
  else pack(o.data, base, o.rows, o.cols, o.rs, o.cs, r.f32);
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
  const ao = batchOffsets(a, batch);
  const bo = batchOffsets(b, batch);
  // C = S·R with R resident (packed once per batch slice and panel) and S streamed through in
  // chunks of rows: normally S = A and R = B; when B is too large to keep and A is the smaller
  // one, Cᵀ = Bᵀ·Aᵀ instead (S = Bᵀ, R = Aᵀ) and each chunk is written back transposed.
  const swap = K * N > PANEL && M < N;
  const S: Operand2d = swap ? { data: b.data, rows: N, cols: K, rs: bcs, cs: brs } : { data: a.data, rows: M, cols: K, rs: ars, cs: acs };
  const R: Operand2d = swap ? { data: a.data, rows: K, cols: M, rs: acs, cs: ars } : { data: b.data, rows: K, cols: N, rs: brs, cs: bcs };
  const so = swap ? bo : ao;
  const ro = swap ? ao : bo;
  const cols = R.cols;
  // Panel width (columns of R packed at a time) and chunk height (rows of S and C per gemm call).
  const pw = Math.min(cols, Math.max(8, Math.floor(PANEL / Math.max(K, 1) / 8) * 8));
  const mc = Math.min(S.rows, Math.max(4, Math.floor(Math.min(CHUNK / Math.max(K, 1), CHUNK / pw) / 4) * 4));
  const panel: Operand2d = { ...R, cols: pw };
  const pr = placement(panel);
  const chunk: Operand2d = { ...S, rows: mc };
  const ps = placement(chunk);
  const [rr, rp, rs, rc, rw] = w.arena([pr.floats, w.packedBFloats(K, pw), ps.floats, mc * pw, w.gemmPackedWork]);
  const single = pw === cols;
  let lastR = -1;
  for (let t = 0; t < nb; t++) {
    const ot = t * M * N;
    for (let j0 = 0; j0 < cols; j0 += pw) {
      const nw = Math.min(pw, cols - j0);
      // Pack the panel, unless it is the one already packed (a broadcast operand is packed once).
      if (!single || ro[t] !== lastR) {
        lastR = ro[t];
        placeBlock({ ...R, cols: nw }, ro[t] + j0 * R.cs, pr.span, rr);
        w.packBPanels(rr.ptr, pr.span ? R.rs : nw, pr.span ? R.cs : 1, K, nw, rp.ptr);
      }
      for (let i0 = 0; i0 < S.rows; i0 += mc) {
        const rows = Math.min(mc, S.rows - i0);
        placeBlock({ ...S, rows }, so[t] + i0 * S.rs, ps.span, rs);
        w.gemmPacked(rs.ptr, ps.rs, ps.cs, rp.ptr, rc.ptr, nw, rows, nw, K, rw.ptr);
        const c = rc.f32;
        if (swap) {
          // The chunk is rows i0.. of Cᵀ (columns of C), columns j0.. of Cᵀ (rows of C).
          for (let j = 0; j < nw; j++) {
            const o = ot + (j0 + j) * N + i0;
            for (let i = 0, x = j; i < rows; i++, x += nw) out[o + i] = c[x];
          }
        } else if (nw === N) {
          out.set(c.subarray(0, rows * N), ot + i0 * N);
        } else {
          for (let i = 0; i < rows; i++) out.set(c.subarray(i * nw, i * nw + nw), ot + (i0 + i) * N + j0);
        }
      }
    }
  }
  w.done();
}

/**
 * The storage span holding every batch entry of a rows × cols operand whose
 * elements are contiguous (column stride 1 or a single column) and rows
 * non-negatively strided, when that span is at most `SPAN_SLACK` times the
 * floats the entries hold; otherwise null (the caller packs each entry).
 */
function batchSpan(t: CpuView, offs: Int32Array, rows: number, cols: number): { lo: number; floats: number } | null {
  const [rs, cs] = t.strides.slice(-2);
  if ((cs !== 1 && cols > 1) || rs < 0 || rows * cols === 0) return null;
  let lo = Infinity;
  let hi = -Infinity;
  for (const o of offs) {
    lo = Math.min(lo, o);
    hi = Math.max(hi, o);
  }
  const floats = hi - lo + (rows - 1) * rs + cols;
  return floats <= SPAN_SLACK * offs.length * rows * cols ? { lo, floats } : null;
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
    // Q, K and V whose rows are contiguous go in whole (every batch entry, e.g. all heads of
    // an (N, L, H, E) layout, in one copy) and the kernel reads each entry through its row
    // stride; others are packed per batch entry.
    const sq = batchSpan(q, qo, L, E);
    const sk = batchSpan(k, ko, S, E);
    const sv = batchSpan(v, vo, S, Ev);
    const [rq, rk, rv, ro, rm, rw] = wk.arena([sq ? sq.floats : L * E, sk ? sk.floats : S * E, sv ? sv.floats : S * Ev, L * Ev, m ? L * S : 0, wk.flashWork(L, S, E, Ev)]);
    if (sq) rq.f32.set(q.data.subarray(sq.lo, sq.lo + sq.floats));
    if (sk) rk.f32.set(k.data.subarray(sk.lo, sk.lo + sk.floats));
    if (sv) rv.f32.set(v.data.subarray(sv.lo, sv.lo + sv.floats));
    let lastK = -1;
    let lastV = -1;
    for (let b = 0; b < nb; b++) {
      if (!sq) pack(q.data, qo[b], L, E, qrs, qcs, rq.f32);
      if (!sk && ko[b] !== lastK) pack(k.data, (lastK = ko[b]), S, E, krs, kcs, rk.f32);
      if (!sv && vo[b] !== lastV) pack(v.data, (lastV = vo[b]), S, Ev, vrs, vcs, rv.f32);
      if (m && mo) fillMask(m, mo, b, L, S, rm.f32);
      const qp = sq ? rq.ptr + (qo[b] - sq.lo) * 4 : rq.ptr;
      const kp = sk ? rk.ptr + (ko[b] - sk.lo) * 4 : rk.ptr;
      const vp = sv ? rv.ptr + (vo[b] - sv.lo) * 4 : rv.ptr;
      wk.flashAttention(qp, sq ? qrs : E, kp, sk ? krs : E, vp, sv ? vrs : Ev, ro.ptr, L, S, E, Ev, scale, a.causal, m ? rm.ptr : 0, rw.ptr);
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
  const { N, Cin, Cout, D, H, W, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, OD, OH, OW } = convGeometry(x.shape, wt.shape, a);
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

/** WASM `binary2d`'s code per operation. */
const BINARY_OPS: Readonly<Record<string, number>> = { add: 0, sub: 1, mul: 2, div: 3 };
/** Outputs smaller than this stay in TypeScript (the copies into WASM would cost more than they save). */
const BINARY_MIN = 4096;

/**
 * `binary2d` over an output whose operands coalesce to at most two dims with
 * column strides 0 or 1 (same shapes, a row vector, a column or a scalar
 * broadcast), in blocks of at most `CHUNK` floats; false when the shapes do
 * not fit or an operand's span would exceed `SPAN_SLACK` times its block.
 */
function binaryWasm(a: CpuView, b: CpuView, op: number, shape: readonly number[], out: Float32Array): boolean {
  const c = coalesce(shape, [broadcastStrides(a, shape), broadcastStrides(b, shape), shape.map((_, i) => numel(shape.slice(i + 1)))]);
  const nd = c.shape.length;
  if (nd > 2) return false;
  const cols = c.shape[nd - 1];
  const rows = nd === 2 ? c.shape[0] : 1;
  const [acs, bcs] = [c.strides[0][nd - 1], c.strides[1][nd - 1]];
  const [ars, brs] = nd === 2 ? [c.strides[0][0], c.strides[1][0]] : [0, 0];
  if (!(acs === 0 || acs === 1) || !(bcs === 0 || bcs === 1) || ars < 0 || brs < 0) return false;
  const bw = Math.min(cols, CHUNK);
  const bh = Math.min(rows, Math.max(1, Math.floor(CHUNK / cols)));
  const extent = (rs: number, cs: number, h: number, wd: number) => (h - 1) * rs + (wd - 1) * cs + 1;
  const ea = extent(ars, acs, bh, bw);
  const eb = extent(brs, bcs, bh, bw);
  if (ea > SPAN_SLACK * bh * bw || eb > SPAN_SLACK * bh * bw) return false;
  const w = kernels();
  const [ra, rb, ro] = w.arena([ea, eb, bh * bw]);
  for (let i0 = 0; i0 < rows; i0 += bh) {
    const h = Math.min(bh, rows - i0);
    for (let j0 = 0; j0 < cols; j0 += bw) {
      const wd = Math.min(bw, cols - j0);
      const fa = a.offset + i0 * ars + j0 * acs;
      const fb = b.offset + i0 * brs + j0 * bcs;
      ra.f32.set(a.data.subarray(fa, fa + extent(ars, acs, h, wd)));
      rb.f32.set(b.data.subarray(fb, fb + extent(brs, bcs, h, wd)));
      w.binary2d(op, ra.ptr, ars, acs, rb.ptr, brs, bcs, ro.ptr, h, wd);
      // Blocks narrower than a row only occur one row at a time (bh = 1), so each block is one run of `out`.
      out.set(ro.f32.subarray(0, h * wd), i0 * cols + j0);
    }
  }
  w.done();
  return true;
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
  if (out.length >= BINARY_MIN && binaryWasm(a, b, BINARY_OPS[op], shape, out)) return;
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

/**
 * `gather3d` for a view that coalesces to at most three dims with
 * non-negative strides and a span at most `SPAN_SLACK` times its size: the
 * span goes in, the gathered elements come out, in blocks of whole
 * outer-dim slices of about `CHUNK` floats; false otherwise.
 */
function copyWasm(x: CpuView, out: Float32Array): boolean {
  const c = coalesce(x.shape, [x.strides]);
  if (c.shape.length > 3) return false;
  const shape = [...new Array<number>(3 - c.shape.length).fill(1), ...c.shape];
  const st = [...new Array<number>(3 - c.shape.length).fill(0), ...c.strides[0]];
  if (st.some((t) => t < 0)) return false;
  const [n0, n1, n2] = shape;
  const [s0, s1, s2] = st;
  const per = n1 * n2;
  // Blocks of whole slices of the outer dim; a slice larger than a chunk is one block.
  const bh = Math.min(n0, Math.max(1, Math.floor(CHUNK / per)));
  const extent = (h: number) => (h - 1) * s0 + (n1 - 1) * s1 + (n2 - 1) * s2 + 1;
  const e = extent(bh);
  if (e > SPAN_SLACK * bh * per) return false;
  const w = kernels();
  const [rs, rd] = w.arena([e, bh * per]);
  for (let i0 = 0; i0 < n0; i0 += bh) {
    const h = Math.min(bh, n0 - i0);
    const from = x.offset + i0 * s0;
    rs.f32.set(x.data.subarray(from, from + extent(h)));
    w.gather3d(rs.ptr, s0, s1, s2, rd.ptr, h, n1, n2);
    out.set(rd.f32.subarray(0, h * per), i0 * per);
  }
  w.done();
  return true;
}

function copyFast(inputs: readonly CpuView[], attrs: CopyAttrs, outs: Float32Array[]): void {
  const [x] = inputs;
  const out = outs[0];
  const convert = (attrs.dtype === 'bool' && x.dtype !== 'bool') || (attrs.dtype === 'int64' && x.dtype === 'float32');
  if (convert || out.length === 0) {
    copy.cpu(inputs, attrs, outs);
    return;
  }
  if (out.length >= BINARY_MIN && copyWasm(x, out)) return;
  const d = x.data;
  const outStrides = x.shape.map((_, i) => numel(x.shape.slice(i + 1)));
  walk(x.shape, [x.strides, outStrides], [x.offset, 0], (offs, n, [sx]) => {
    const ix = offs[0];
    const at = offs[1];
    if (sx === 1) out.set(d.subarray(ix, ix + n), at);
    else for (let i = 0, j = ix; i < n; i++, j += sx) out[at + i] = d[j];
  });
}

/**
 * Max and average pooling whose windows all lie inside the input (no
 * padding, no dilation, no ceil-mode overhang) over the last two dims: the
 * reference's arithmetic (the same comparisons, NaN rule and sums in the same
 * order) without its per-tap bounds checks; anything else is the reference.
 */
function poolFast(inputs: readonly CpuView[], a: PoolAttrs, outs: Float32Array[]): void {
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
  if (a.op === 'max' && out.length >= BINARY_MIN) {
    // WASM, in blocks of whole planes of about `CHUNK` input floats.
    const w = kernels();
    const pp = Math.min(planes, Math.max(1, Math.floor(CHUNK / (H * W))));
    const [ri, ro] = w.arena([pp * H * W, pp * OH * OW]);
    for (let p0 = 0; p0 < planes; p0 += pp) {
      const n = Math.min(pp, planes - p0);
      ri.f32.set(x.subarray(p0 * H * W, (p0 + n) * H * W));
      w.maxPool2d(ri.ptr, n, H, W, kh, kw, sh, sw, OH, OW, ro.ptr);
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

/** Fast implementations by kernel name (the registry's names). */
export const FAST_CPU: ReadonlyMap<string, FastCpu> = new Map<string, FastCpu>([
  ['matmul', matmul as FastCpu],
  ['scaled_dot_product_attention', sdpa as FastCpu],
  ['softmax', softmaxFast as FastCpu],
  ['conv', convFast as FastCpu],
  ['binary', binaryFast as FastCpu],
  ['copy', copyFast as FastCpu],
  ['pool', poolFast as FastCpu],
]);
