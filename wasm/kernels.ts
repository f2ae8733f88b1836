/**
 * WASM SIMD kernels for the runtime's fast CPU path, in AssemblyScript
 * (compiled by scripts/gen-wasm.ts with `asc`, embedded as bytes in
 * src/runtime/wasm/kernels.generated.ts; see src/runtime/wasm/). They work on
 * raw byte addresses into this module's memory, which the JS side lays out
 * and grows; nothing here allocates, validates or knows tensors. All sums
 * accumulate in f32, as torch's CPU kernels do.
 *
 * - `gemm`: C (M×N, row-major, leading dim ldc) = A (M×K) · B (K×N) where A
 *   and B are read through arbitrary element strides (so transposed operands
 *   cost nothing extra). Blocked like BLIS: a KC×NC block of B is packed into
 *   8-column strips, an MC×KC block of A into 4-row strips, and a 4×8
 *   register tile (8 f32x4 accumulators) walks them; the packing also makes
 *   power-of-two row strides harmless (no cache-set conflicts).
 *   `packBPanels` + `gemmPacked` split it: B packed once, then reused for
 *   many row blocks of A (the caller streams A through in chunks); there A
 *   with contiguous rows is read in place (packing it cost about as much as
 *   the products when N is small).
 * - `flashAttention`: softmax(Q·Kᵀ·scale + mask)·V for one batch entry,
 *   fused flash-style: query blocks of BR rows stream key/value tiles of BC
 *   keys with an online softmax (running max and sum per row; the output
 *   accumulator is rescaled only when the max grows), so no L×S matrix ever
 *   exists. K and V are packed once into 8-wide strips. Q, K and V rows may
 *   lie at any stride (a head of an (L, H, E) layout is read in place).
 * - `softmaxRows`: in place over `rows` rows of `cols`: x·scale (−∞ above the
 *   diagonal with `causal`), minus the row max, exp, divided by the sum —
 *   the same steps as the TypeScript reference, with a vectorised exp (the
 *   division by the sum is a multiplication by its reciprocal).
 * - `addColVector`: conv's per-channel bias add.
 * - `binary2d`: out = a ∘ b (∘ one of + − × ÷) over rows × cols, each
 *   operand walking its columns contiguously or broadcasting one value
 *   (column stride 1 or 0) with any row stride: one f32 operation per
 *   element, the same correctly rounded result as the TypeScript reference's
 *   f64 operation rounded to f32.
 * - `gather3d`: a strided n0×n1×n2 view copied out contiguously (the moves
 *   of `copy`: transposes, permutes, slices).
 * - `resampleAxis`: one axis of interpolate's separable resampling, each
 *   output a weighted sum of at most four taps: gathered along the last
 *   axis, whole rows (f32x4 over the row) along the others.
 * - `maxPool2d`: max pooling of windows inside the input, with the
 *   reference's rule (a tap replaces the best if greater or NaN).
 */

const LOG2E: f32 = 1.44269504088896341;
const EXP_HI: f32 = 88.3762626647950;
const EXP_LO: f32 = -88.3762626647949;
const C1: f32 = 0.693359375;
const C2: f32 = -2.12194440e-4;

/**
 * exp's constants, each splatted to four lanes, as static data: a splat of a
 * constant is rebuilt on every use inside a loop (the engine hoists nothing),
 * a load from a fixed address is one instruction. In order: the clamps, log2 e,
 * 1/2, the two parts of ln 2, the six polynomial coefficients, 1 and 2^23 + 127
 * (adding it to an integral float n in [−127, 128] leaves n + 127 in the low
 * mantissa bits).
 */
const EXPC: usize = memory.data<f32>([
  EXP_LO, EXP_LO, EXP_LO, EXP_LO, EXP_HI, EXP_HI, EXP_HI, EXP_HI,
  LOG2E, LOG2E, LOG2E, LOG2E, 0.5, 0.5, 0.5, 0.5,
  C1, C1, C1, C1, C2, C2, C2, C2,
  1.9875691500e-4, 1.9875691500e-4, 1.9875691500e-4, 1.9875691500e-4,
  1.3981999507e-3, 1.3981999507e-3, 1.3981999507e-3, 1.3981999507e-3,
  8.3334519073e-3, 8.3334519073e-3, 8.3334519073e-3, 8.3334519073e-3,
  4.1665795894e-2, 4.1665795894e-2, 4.1665795894e-2, 4.1665795894e-2,
  1.6666665459e-1, 1.6666665459e-1, 1.6666665459e-1, 1.6666665459e-1,
  5.0000001201e-1, 5.0000001201e-1, 5.0000001201e-1, 5.0000001201e-1,
  1.0, 1.0, 1.0, 1.0, 8388735.0, 8388735.0, 8388735.0, 8388735.0,
], 16);

/**
 * exp on four lanes (Cephes expf: n = floor(x·log2 e + 1/2), a degree-6
 * polynomial on the remainder, scaled by 2^n through the exponent bits);
 * relative error about 1e-7. Inputs are clamped to ±88.38, so −∞ gives
 * exactly 0; the clamps are `pmax`/`pmin` (one instruction each, unlike
 * `max`/`min`), ordered so that a NaN input stays NaN. 2^n is built from
 * n's float bits (n + 2^23 + 127, shifted into the exponent) instead of a
 * saturating float-to-int conversion; n is the same, so results are too.
 */
// @ts-ignore: decorator
@inline
function exp4(v: v128): v128 {
  const c = EXPC;
  let x = f32x4.pmin(f32x4.pmax(v, v128.load(c)), v128.load(c, 16));
  const fx = f32x4.floor(f32x4.add(f32x4.mul(x, v128.load(c, 32)), v128.load(c, 48)));
  x = f32x4.sub(f32x4.sub(x, f32x4.mul(fx, v128.load(c, 64))), f32x4.mul(fx, v128.load(c, 80)));
  const z = f32x4.mul(x, x);
  let y = v128.load(c, 96);
  y = f32x4.add(f32x4.mul(y, x), v128.load(c, 112));
  y = f32x4.add(f32x4.mul(y, x), v128.load(c, 128));
  y = f32x4.add(f32x4.mul(y, x), v128.load(c, 144));
  y = f32x4.add(f32x4.mul(y, x), v128.load(c, 160));
  y = f32x4.add(f32x4.mul(y, x), v128.load(c, 176));
  y = f32x4.add(f32x4.add(f32x4.mul(y, z), x), v128.load(c, 192));
  const pow2n = i32x4.shl(f32x4.add(fx, v128.load(c, 208)), 23);
  return f32x4.mul(y, pow2n);
}

/** Scalar exp with the same formula as exp4 (row tails). */
// @ts-ignore: decorator
@inline
function exp1(v: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(v)), 0);
}

// @ts-ignore: decorator
@inline
function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

// @ts-ignore: decorator
@inline
function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** 32 floats (static data, below the JS side's arena) where partial tiles are spilled before their valid part is copied out. */
const tileScratch: usize = memory.data(128, 16);

/**
 * The 4×8 register tile: C[r][j] (+)= Σ_k A(r, k) · B(k, j) for r < 4, j < 8,
 * with A(r, k) at a + r·ars + k·aks and B(k, 0..7) the 8 floats at b + k·bks
 * (byte strides). Rows ≥ `mr` and columns ≥ `nr` are computed (from whatever
 * the pointers hold, which the callers keep in bounds) but not written.
 */
// @ts-ignore: decorator
@inline
function tile(a: usize, ars: usize, aks: usize, b: usize, bks: usize, K: i32, c: usize, ldc: usize, accumulate: bool, mr: i32, nr: i32): void {
  let s00 = f32x4.splat(0), s01 = f32x4.splat(0);
  let s10 = f32x4.splat(0), s11 = f32x4.splat(0);
  let s20 = f32x4.splat(0), s21 = f32x4.splat(0);
  let s30 = f32x4.splat(0), s31 = f32x4.splat(0);
  let a0 = a;
  const a1o = ars, a2o = ars * 2, a3o = ars * 3;
  let bp = b;
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    const x0 = v128.load32_splat(a0);
    const x1 = v128.load32_splat(a0 + a1o);
    const x2 = v128.load32_splat(a0 + a2o);
    const x3 = v128.load32_splat(a0 + a3o);
    s00 = f32x4.add(s00, f32x4.mul(x0, b0)); s01 = f32x4.add(s01, f32x4.mul(x0, b1));
    s10 = f32x4.add(s10, f32x4.mul(x1, b0)); s11 = f32x4.add(s11, f32x4.mul(x1, b1));
    s20 = f32x4.add(s20, f32x4.mul(x2, b0)); s21 = f32x4.add(s21, f32x4.mul(x2, b1));
    s30 = f32x4.add(s30, f32x4.mul(x3, b0)); s31 = f32x4.add(s31, f32x4.mul(x3, b1));
    a0 += aks;
    bp += bks;
  }
  const rb = ldc << 2;
  if (mr == 4 && nr == 8) {
    const c0 = c, c1 = c + rb, c2 = c1 + rb, c3 = c2 + rb;
    if (accumulate) {
      s00 = f32x4.add(s00, v128.load(c0)); s01 = f32x4.add(s01, v128.load(c0, 16));
      s10 = f32x4.add(s10, v128.load(c1)); s11 = f32x4.add(s11, v128.load(c1, 16));
      s20 = f32x4.add(s20, v128.load(c2)); s21 = f32x4.add(s21, v128.load(c2, 16));
      s30 = f32x4.add(s30, v128.load(c3)); s31 = f32x4.add(s31, v128.load(c3, 16));
    }
    v128.store(c0, s00); v128.store(c0, s01, 16);
    v128.store(c1, s10); v128.store(c1, s11, 16);
    v128.store(c2, s20); v128.store(c2, s21, 16);
    v128.store(c3, s30); v128.store(c3, s31, 16);
    return;
  }
  const t = tileScratch;
  v128.store(t, s00); v128.store(t, s01, 16);
  v128.store(t, s10, 32); v128.store(t, s11, 48);
  v128.store(t, s20, 64); v128.store(t, s21, 80);
  v128.store(t, s30, 96); v128.store(t, s31, 112);
  for (let r = 0; r < mr; r++) {
    const cr = c + <usize>r * rb;
    const tr = t + (<usize>r << 5);
    for (let j = 0; j < nr; j++) {
      const at = cr + (<usize>j << 2);
      const v = load<f32>(tr + (<usize>j << 2));
      store<f32>(at, accumulate ? load<f32>(at) + v : v);
    }
  }
}

/** Block sizes of `gemm` (elements): a KC×NC block of B (256 KB) and an MC×KC block of A (64 KB) stay in cache. */
const KC = 256;
const NC = 256;
const MC = 64;

/**
 * Packs rows × cols of B (element strides rs, cs from `src`) into 8-column
 * strips: strip s holds rows × 8 floats, row-major; columns past `cols` are 0.
 */
function packB(src: usize, rs: usize, cs: usize, rows: i32, cols: i32, dst: usize): void {
  const rsb = rs << 2, csb = cs << 2;
  for (let j0 = 0; j0 < cols; j0 += 8) {
    const w = min(8, cols - j0);
    const strip = dst + <usize>j0 * <usize>rows * 4;
    const base = src + <usize>j0 * csb;
    if (w == 8 && cs == 1) {
      for (let k = 0; k < rows; k++) {
        const s = base + <usize>k * rsb;
        const d = strip + (<usize>k << 5);
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
      }
    } else {
      for (let j = 0; j < 8; j++) {
        const s = base + <usize>j * csb;
        let d = strip + (<usize>j << 2);
        if (j < w) {
          for (let k = 0; k < rows; k++) {
            store<f32>(d, load<f32>(s + <usize>k * rsb));
            d += 32;
          }
        } else {
          for (let k = 0; k < rows; k++) {
            store<f32>(d, 0);
            d += 32;
          }
        }
      }
    }
  }
}

/**
 * Packs rows × cols of A (element strides rs, cs) into 4-row strips with the
 * four rows interleaved: strip s holds A(4s + r, k) at k·4 + r; rows past
 * `rows` are 0.
 */
function packA(src: usize, rs: usize, cs: usize, rows: i32, cols: i32, dst: usize): void {
  const rsb = rs << 2, csb = cs << 2;
  for (let i0 = 0; i0 < rows; i0 += 4) {
    const strip = dst + <usize>i0 * <usize>cols * 4;
    for (let r = 0; r < 4; r++) {
      let d = strip + (<usize>r << 2);
      if (i0 + r < rows) {
        const s = src + <usize>(i0 + r) * rsb;
        if (cs == 1) {
          for (let k = 0; k < cols; k++) {
            store<f32>(d, load<f32>(s + (<usize>k << 2)));
            d += 16;
          }
        } else {
          for (let k = 0; k < cols; k++) {
            store<f32>(d, load<f32>(s + <usize>k * csb));
            d += 16;
          }
        }
      } else {
        for (let k = 0; k < cols; k++) {
          store<f32>(d, 0);
          d += 16;
        }
      }
    }
  }
}

/** Floats of packing space `gemm` needs at `work`. */
export function gemmWorkFloats(): i32 {
  return KC * NC + MC * KC;
}

/**
 * C (M×N, row-major with leading dim ldc) = A·B, A(i, k) at a + (i·ars + k·acs)
 * floats, B(k, j) at b + (k·brs + j·bcs) floats; `work` holds
 * `gemmWorkFloats()` floats of packing space.
 */
export function gemm(a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32, c: usize, ldc: i32, M: i32, N: i32, K: i32, work: usize): void {
  const bpk = work;
  const apk = work + <usize>(KC * NC) * 4;
  if (K == 0) {
    for (let i = 0; i < M; i++) memory.fill(c + <usize>i * <usize>ldc * 4, 0, <usize>N * 4);
    return;
  }
  for (let j0 = 0; j0 < N; j0 += NC) {
    const nc = min(NC, N - j0);
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = min(KC, K - k0);
      packB(b + (<usize>k0 * <usize>brs + <usize>j0 * <usize>bcs) * 4, brs, bcs, kc, nc, bpk);
      for (let i0 = 0; i0 < M; i0 += MC) {
        const mc = min(MC, M - i0);
        packA(a + (<usize>i0 * <usize>ars + <usize>k0 * <usize>acs) * 4, ars, acs, mc, kc, apk);
        for (let jj = 0; jj < nc; jj += 8) {
          const bs = bpk + <usize>jj * <usize>kc * 4;
          const nr = min(8, nc - jj);
          for (let ii = 0; ii < mc; ii += 4) {
            const as = apk + <usize>ii * <usize>kc * 4;
            const cp = c + (<usize>(i0 + ii) * <usize>ldc + <usize>(j0 + jj)) * 4;
            tile(as, 4, 16, bs, 32, kc, cp, ldc, k0 > 0, min(4, mc - ii), nr);
          }
        }
      }
    }
  }
}

/** Floats `packBPanels` writes for a K × N operand (N rounded up to a multiple of 8). */
export function packedBFloats(K: i32, N: i32): i32 {
  return K * ((N + 7) & ~7);
}

/**
 * Packs all of B (K×N, element strides brs, bcs) once, in the order `gemm`
 * would pack its KC×NC blocks: the panel of columns j0 (NC wide) starts at
 * j0·K floats, its block of rows k0 at k0·nc8 floats within the panel (nc8 =
 * the panel's width rounded up to 8), each block in `packB`'s strips. Then
 * `gemmPacked` reuses it for any number of row blocks of A.
 */
export function packBPanels(b: usize, brs: i32, bcs: i32, K: i32, N: i32, dst: usize): void {
  for (let j0 = 0; j0 < N; j0 += NC) {
    const nc = min(NC, N - j0);
    const nc8 = (nc + 7) & ~7;
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = min(KC, K - k0);
      packB(b + (<usize>k0 * <usize>brs + <usize>j0 * <usize>bcs) * 4, brs, bcs, kc, nc, dst + (<usize>j0 * <usize>K + <usize>k0 * <usize>nc8) * 4);
    }
  }
}

/** Floats of packing space `gemmPacked` needs at `work`. */
export function gemmPackedWorkFloats(): i32 {
  return MC * KC;
}

/**
 * `gemm` with B already packed by `packBPanels` at `bp`: C (M×N, leading dim
 * ldc) = A·B, A(i, k) at a + (i·ars + k·acs) floats; `work` holds
 * `gemmPackedWorkFloats()` floats. Same blocking over B, same sums in the
 * same order, so the same results; A is read in place when its rows are
 * contiguous (acs = 1), packed otherwise.
 */
export function gemmPacked(a: usize, ars: i32, acs: i32, bp: usize, c: usize, ldc: i32, M: i32, N: i32, K: i32, work: usize): void {
  const apk = work;
  if (K == 0) {
    for (let i = 0; i < M; i++) memory.fill(c + <usize>i * <usize>ldc * 4, 0, <usize>N * 4);
    return;
  }
  for (let j0 = 0; j0 < N; j0 += NC) {
    const nc = min(NC, N - j0);
    const nc8 = (nc + 7) & ~7;
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = min(KC, K - k0);
      const bpk = bp + (<usize>j0 * <usize>K + <usize>k0 * <usize>nc8) * 4;
      let m0 = 0;
      if (acs == 1) {
        // Rows of A contiguous: the tile reads them in place (packing A would cost about as much
        // as the products when N is small), four rows at a time across every strip of B.
        m0 = M & ~3;
        const arb = <usize>ars * 4;
        for (let ii = 0; ii < m0; ii += 4) {
          const as = a + (<usize>ii * <usize>ars + <usize>k0) * 4;
          const cr = c + (<usize>ii * <usize>ldc + <usize>j0) * 4;
          for (let jj = 0; jj < nc; jj += 8) {
            tile(as, arb, 4, bpk + <usize>jj * <usize>kc * 4, 32, kc, cr + (<usize>jj << 2), ldc, k0 > 0, 4, min(8, nc - jj));
          }
        }
      }
      // The remaining rows (all of them for strided A, the last M mod 4 otherwise) through packed A.
      for (let i0 = m0; i0 < M; i0 += MC) {
        const mc = min(MC, M - i0);
        packA(a + (<usize>i0 * <usize>ars + <usize>k0 * <usize>acs) * 4, ars, acs, mc, kc, apk);
        for (let jj = 0; jj < nc; jj += 8) {
          const bs = bpk + <usize>jj * <usize>kc * 4;
          const nr = min(8, nc - jj);
          for (let ii = 0; ii < mc; ii += 4) {
            const as = apk + <usize>ii * <usize>kc * 4;
            const cp = c + (<usize>(i0 + ii) * <usize>ldc + <usize>(j0 + jj)) * 4;
            tile(as, 4, 16, bs, 32, kc, cp, ldc, k0 > 0, min(4, mc - ii), nr);
          }
        }
      }
    }
  }
}

/** Query rows per block and keys per tile of `flashAttention`. */
const BR = 32;
const BC = 64;

/** Floats of work space `flashAttention` needs at `work` for these sizes. */
export function flashWorkFloats(L: i32, S: i32, E: i32, Ev: i32): i32 {
  const S8 = (S + 7) & ~7;
  const E8 = (Ev + 7) & ~7;
  return S8 * E + E8 * S + BR * E + BR * BC + BR * E8 + 2 * BR;
}

/**
 * One batch entry of attention, fused: out (L×Ev) = softmax(Q·Kᵀ·scale + mask)·V
 * with Q (L×E), K (S×E), V (S×Ev) row-major with row strides qrs, krs, vrs
 * (floats; a head of a (L, H, E) layout is read in place); `mask` (0: none) is L×S
 * additive (0 or −∞ for a bool mask); `causal` masks keys j > i. A row whose
 * keys are all masked gets 0/0 = NaN, as in torch and the reference.
 */
export function flashAttention(q: usize, qrs: i32, k: usize, krs: i32, v: usize, vrs: i32, out: usize, L: i32, S: i32, E: i32, Ev: i32, scale: f32, causal: i32, mask: usize, work: usize): void {
  const S8 = (S + 7) & ~7;
  const E8 = (Ev + 7) & ~7;
  const kp = work; // Kᵀ in 8-key strips: strip s is E × 8
  const vp = kp + <usize>S8 * <usize>E * 4; // V in 8-column strips: strip t is S × 8
  const qp = vp + <usize>E8 * <usize>S * 4; // a query block in 4-row strips
  const sp = qp + <usize>BR * <usize>E * 4; // scores / probabilities, BR × BC row-major
  const acc = sp + <usize>BR * BC * 4; // output accumulator, BR × E8
  const mrow = acc + <usize>BR * <usize>E8 * 4; // running max per row
  const lrow = mrow + <usize>BR * 4; // running sum per row
  packB(k, 1, krs, E, S, kp);
  packB(v, vrs, 1, S, Ev, vp);
  const sc = f32x4.splat(scale);
  const ninf = f32x4.splat(-Infinity);
  for (let i0 = 0; i0 < L; i0 += BR) {
    const br = min(BR, L - i0);
    packA(q + <usize>i0 * <usize>qrs * 4, qrs, 1, br, E, qp);
    memory.fill(acc, 0, <usize>BR * <usize>E8 * 4);
    for (let r = 0; r < br; r++) {
      store<f32>(mrow + (<usize>r << 2), -Infinity);
      store<f32>(lrow + (<usize>r << 2), 0);
    }
    const send = causal ? min(S, i0 + br) : S;
    for (let j0 = 0; j0 < send; j0 += BC) {
      const bc = min(BC, send - j0);
      // Scores of the block: BR × bc (columns padded to 8 hold junk from zero keys; never read).
      for (let jj = 0; jj < bc; jj += 8) {
        const bs = kp + <usize>(j0 + jj) * <usize>E * 4;
        for (let ii = 0; ii < br; ii += 4) {
          tile(qp + <usize>ii * <usize>E * 4, 4, 16, bs, 32, E, sp + (<usize>ii * BC + <usize>jj) * 4, BC, false, min(4, br - ii), min(8, bc - jj));
        }
      }
      const bc4 = bc & ~3;
      for (let r = 0; r < br; r++) {
        const row = sp + <usize>r * BC * 4;
        const i = i0 + r;
        // Scale, mask, row max over the tile.
        let mx = ninf;
        let j = 0;
        const mrowp = mask ? mask + (<usize>i * <usize>S + <usize>j0) * 4 : 0;
        for (; j < bc4; j += 4) {
          let s = f32x4.mul(v128.load(row + (<usize>j << 2)), sc);
          if (mask) s = f32x4.add(s, v128.load(mrowp + (<usize>j << 2)));
          v128.store(row + (<usize>j << 2), s);
          mx = f32x4.max(mx, s);
        }
        let m = hmax(mx);
        for (; j < bc; j++) {
          let s = load<f32>(row + (<usize>j << 2)) * scale;
          if (mask) s += load<f32>(mrowp + (<usize>j << 2));
          store<f32>(row + (<usize>j << 2), s);
          m = max(m, s);
        }
        if (causal) {
          // Keys j0 + j > i are masked.
          for (j = max(0, i + 1 - j0); j < bc; j++) store<f32>(row + (<usize>j << 2), -Infinity);
          m = -Infinity;
          for (j = 0; j < min(bc, i + 1 - j0); j++) m = max(m, load<f32>(row + (<usize>j << 2)));
        }
        const mo = load<f32>(mrow + (<usize>r << 2));
        const mn = max(mo, m);
        if (mn == -Infinity) {
          // Every key so far is masked: this tile adds nothing.
          memory.fill(row, 0, <usize>bc * 4);
          continue;
        }
        if (mn > mo) {
          // A new running max: rescale what was accumulated (exp(−∞) = 0 at the first tile).
          const alpha = exp1(mo - mn);
          store<f32>(lrow + (<usize>r << 2), load<f32>(lrow + (<usize>r << 2)) * alpha);
          const av = f32x4.splat(alpha);
          const ar = acc + <usize>r * <usize>E8 * 4;
          for (let e = 0; e < E8; e += 4) v128.store(ar + (<usize>e << 2), f32x4.mul(v128.load(ar + (<usize>e << 2)), av));
          store<f32>(mrow + (<usize>r << 2), mn);
        }
        const mv = f32x4.splat(mn);
        let sum = f32x4.splat(0);
        j = 0;
        for (; j < bc4; j += 4) {
          const e = exp4(f32x4.sub(v128.load(row + (<usize>j << 2)), mv));
          v128.store(row + (<usize>j << 2), e);
          sum = f32x4.add(sum, e);
        }
        let s = hsum(sum);
        for (; j < bc; j++) {
          const e = exp1(load<f32>(row + (<usize>j << 2)) - mn);
          store<f32>(row + (<usize>j << 2), e);
          s += e;
        }
        store<f32>(lrow + (<usize>r << 2), load<f32>(lrow + (<usize>r << 2)) + s);
      }
      // acc (br × Ev) += P (br × bc) · V[j0 .. j0 + bc]; P's rows past br are junk and never written back.
      for (let ee = 0; ee < Ev; ee += 8) {
        const vs = vp + (<usize>ee * <usize>S + <usize>j0 * 8) * 4;
        for (let ii = 0; ii < br; ii += 4) {
          tile(sp + <usize>ii * BC * 4, BC * 4, 4, vs, 32, bc, acc + (<usize>ii * <usize>E8 + <usize>ee) * 4, E8, true, min(4, br - ii), 8);
        }
      }
    }
    for (let r = 0; r < br; r++) {
      const l = load<f32>(lrow + (<usize>r << 2));
      const ar = acc + <usize>r * <usize>E8 * 4;
      const orow = out + <usize>(i0 + r) * <usize>Ev * 4;
      let e = 0;
      const lv = f32x4.splat(l);
      for (; e + 4 <= Ev; e += 4) v128.store(orow + (<usize>e << 2), f32x4.div(v128.load(ar + (<usize>e << 2)), lv));
      for (; e < Ev; e++) store<f32>(orow + (<usize>e << 2), load<f32>(ar + (<usize>e << 2)) / l);
    }
  }
}

/**
 * In place, each of `rows` rows of `cols` floats at p becomes softmax(row · scale);
 * `causal` (1) masks the columns j > i of row i (their weights are 0).
 */
export function softmaxRows(p: usize, rows: i32, cols: i32, scale: f32, causal: i32): void {
  const sc = f32x4.splat(scale);
  for (let i = 0; i < rows; i++) {
    const r = p + (<usize>i * <usize>cols << 2);
    // Keys j > i are masked with `causal`: only the first `valid` columns count.
    const valid = causal ? min(i + 1, cols) : cols;
    // Row max with `pmax` (one instruction): it may skip a NaN, but a NaN then
    // reaches the sum through its exp, so the row is NaN as in the reference.
    let mx = f32x4.splat(-Infinity);
    let j = 0;
    if (scale == 1) {
      for (; j + 4 <= valid; j += 4) mx = f32x4.pmax(mx, v128.load(r + (<usize>j << 2)));
    } else {
      for (; j + 4 <= valid; j += 4) {
        const v = f32x4.mul(v128.load(r + (<usize>j << 2)), sc);
        v128.store(r + (<usize>j << 2), v);
        mx = f32x4.pmax(mx, v);
      }
    }
    let m: f32 = hmax(mx);
    for (; j < valid; j++) {
      const v = load<f32>(r + (<usize>j << 2)) * scale;
      store<f32>(r + (<usize>j << 2), v);
      m = max(m, v);
    }
    if (m == -Infinity) m = 0;
    const mv = f32x4.splat(m);
    let sum = f32x4.splat(0);
    j = 0;
    for (; j + 4 <= valid; j += 4) {
      const e = exp4(f32x4.sub(v128.load(r + (<usize>j << 2)), mv));
      v128.store(r + (<usize>j << 2), e);
      sum = f32x4.add(sum, e);
    }
    let s: f32 = hsum(sum);
    for (; j < valid; j++) {
      const e = exp1(load<f32>(r + (<usize>j << 2)) - m);
      store<f32>(r + (<usize>j << 2), e);
      s += e;
    }
    // Multiplying by 1/sum instead of dividing: at most an ulp of difference (< 1.2e-7 on weights ≤ 1).
    const inv: f32 = 1 / s;
    const iv = f32x4.splat(inv);
    j = 0;
    for (; j + 4 <= valid; j += 4) v128.store(r + (<usize>j << 2), f32x4.mul(v128.load(r + (<usize>j << 2)), iv));
    for (; j < valid; j++) store<f32>(r + (<usize>j << 2), load<f32>(r + (<usize>j << 2)) * inv);
    for (j = valid; j < cols; j++) store<f32>(r + (<usize>j << 2), 0);
  }
}

/** x[i][j] += bias[i] over rows × cols (row-major). */
export function addColVector(x: usize, bias: usize, rows: i32, cols: i32): void {
  for (let i = 0; i < rows; i++) {
    const r = x + <usize>i * <usize>cols * 4;
    const bv: f32 = load<f32>(bias + (<usize>i << 2));
    const b4 = f32x4.splat(bv);
    let j = 0;
    for (; j + 4 <= cols; j += 4) v128.store(r + (<usize>j << 2), f32x4.add(v128.load(r + (<usize>j << 2)), b4));
    for (; j < cols; j++) store<f32>(r + (<usize>j << 2), load<f32>(r + (<usize>j << 2)) + bv);
  }
}

/** One f32x4 step of `binary2d`'s operation (`op` is a constant once inlined). */
// @ts-ignore: decorator
@inline
function op4(op: i32, x: v128, y: v128): v128 {
  return op == 0 ? f32x4.add(x, y) : op == 1 ? f32x4.sub(x, y) : op == 2 ? f32x4.mul(x, y) : f32x4.div(x, y);
}

// @ts-ignore: decorator
@inline
function op1(op: i32, x: f32, y: f32): f32 {
  return op == 0 ? x + y : op == 1 ? x - y : op == 2 ? x * y : x / y;
}

/** `binary2d` for one operation: the loops specialised per pair of column strides. */
// @ts-ignore: decorator
@inline
function binaryRows(op: i32, a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32, out: usize, rows: i32, cols: i32): void {
  const c4 = cols & ~3;
  for (let i = 0; i < rows; i++) {
    const ar = a + <usize>i * <usize>ars * 4;
    const br = b + <usize>i * <usize>brs * 4;
    const orow = out + <usize>i * <usize>cols * 4;
    let j = 0;
    if (acs == 1 && bcs == 1) {
      for (; j < c4; j += 4) v128.store(orow + (<usize>j << 2), op4(op, v128.load(ar + (<usize>j << 2)), v128.load(br + (<usize>j << 2))));
      for (; j < cols; j++) store<f32>(orow + (<usize>j << 2), op1(op, load<f32>(ar + (<usize>j << 2)), load<f32>(br + (<usize>j << 2))));
    } else if (acs == 1) {
      const y = load<f32>(br);
      const yv = f32x4.splat(y);
      for (; j < c4; j += 4) v128.store(orow + (<usize>j << 2), op4(op, v128.load(ar + (<usize>j << 2)), yv));
      for (; j < cols; j++) store<f32>(orow + (<usize>j << 2), op1(op, load<f32>(ar + (<usize>j << 2)), y));
    } else if (bcs == 1) {
      const x = load<f32>(ar);
      const xv = f32x4.splat(x);
      for (; j < c4; j += 4) v128.store(orow + (<usize>j << 2), op4(op, xv, v128.load(br + (<usize>j << 2))));
      for (; j < cols; j++) store<f32>(orow + (<usize>j << 2), op1(op, x, load<f32>(br + (<usize>j << 2))));
    } else {
      const v = op1(op, load<f32>(ar), load<f32>(br));
      for (; j < cols; j++) store<f32>(orow + (<usize>j << 2), v);
    }
  }
}

/**
 * out (rows × cols, row-major) = a ∘ b with a(i, j) at a + (i·ars + j·acs)
 * floats and b likewise; acs and bcs are 1 or 0. op: 0 add, 1 sub, 2 mul, 3 div.
 */
export function binary2d(op: i32, a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32, out: usize, rows: i32, cols: i32): void {
  if (op == 0) binaryRows(0, a, ars, acs, b, brs, bcs, out, rows, cols);
  else if (op == 1) binaryRows(1, a, ars, acs, b, brs, bcs, out, rows, cols);
  else if (op == 2) binaryRows(2, a, ars, acs, b, brs, bcs, out, rows, cols);
  else binaryRows(3, a, ars, acs, b, brs, bcs, out, rows, cols);
}

/** dst (n0×n1×n2, contiguous) = the view with element (i, j, k) at src + (i·s0 + j·s1 + k·s2) floats. */
export function gather3d(src: usize, s0: i32, s1: i32, s2: i32, dst: usize, n0: i32, n1: i32, n2: i32): void {
  let d = dst;
  const b2 = <usize>s2 * 4;
  for (let i = 0; i < n0; i++) {
    for (let j = 0; j < n1; j++) {
      let p = src + (<usize>i * <usize>s0 + <usize>j * <usize>s1) * 4;
      if (s2 == 1) {
        memory.copy(d, p, <usize>n2 * 4);
        d += <usize>n2 * 4;
        continue;
      }
      let k = 0;
      for (; k + 4 <= n2; k += 4) {
        let v = v128.load32_zero(p);
        v = f32x4.replace_lane(v, 1, load<f32>(p + b2));
        v = f32x4.replace_lane(v, 2, load<f32>(p + b2 * 2));
        v = f32x4.replace_lane(v, 3, load<f32>(p + b2 * 3));
        v128.store(d, v);
        d += 16;
        p += b2 * 4;
      }
      for (; k < n2; k++) {
        store<f32>(d, load<f32>(p));
        d += 4;
        p += b2;
      }
    }
  }
}

/** Four f32 of the row at `row`, at the byte offsets of the four i32 at `ip` (a lane load each). */
// @ts-ignore: decorator
@inline
function gather4(row: usize, ip: usize): v128 {
  let v = v128.load32_zero(row + <usize>load<i32>(ip));
  v = v128.load32_lane(row + <usize>load<i32>(ip, 4), v, 1);
  v = v128.load32_lane(row + <usize>load<i32>(ip, 8), v, 2);
  return v128.load32_lane(row + <usize>load<i32>(ip, 12), v, 3);
}

/** `resampleAxis` along the last axis (inner = 1) with `T` taps (a constant once inlined). */
// @ts-ignore: decorator
@inline
function resampleLast(T: i32, src: usize, dst: usize, outer: i32, nIn: i32, nOut: i32, idx: usize, w: usize): void {
  const tb = <usize>nOut << 2;
  const o4 = nOut & ~3;
  let d = dst;
  for (let b = 0; b < outer; b++) {
    const row = src + <usize>b * <usize>nIn * 4;
    let o = 0;
    for (; o < o4; o += 4) {
      const ip = idx + (<usize>o << 2);
      const wp = w + (<usize>o << 2);
      let acc = gather4(row, ip);
      if (T > 1) {
        acc = f32x4.mul(v128.load(wp), acc);
        acc = f32x4.add(acc, f32x4.mul(v128.load(wp + tb), gather4(row, ip + tb)));
      }
      if (T > 2) {
        acc = f32x4.add(acc, f32x4.mul(v128.load(wp + 2 * tb), gather4(row, ip + 2 * tb)));
        acc = f32x4.add(acc, f32x4.mul(v128.load(wp + 3 * tb), gather4(row, ip + 3 * tb)));
      }
      v128.store(d, acc);
      d += 16;
    }
    for (; o < nOut; o++) {
      const ip = idx + (<usize>o << 2);
      const wp = w + (<usize>o << 2);
      let acc = load<f32>(row + <usize>load<i32>(ip));
      if (T > 1) {
        acc = load<f32>(wp) * acc;
        acc += load<f32>(wp + tb) * load<f32>(row + <usize>load<i32>(ip + tb));
      }
      if (T > 2) {
        acc += load<f32>(wp + 2 * tb) * load<f32>(row + <usize>load<i32>(ip + 2 * tb));
        acc += load<f32>(wp + 3 * tb) * load<f32>(row + <usize>load<i32>(ip + 3 * tb));
      }
      store<f32>(d, acc);
      d += 4;
    }
  }
}

/** `resampleAxis` along an outer axis (rows of `inner` floats) with `T` taps (a constant once inlined). */
// @ts-ignore: decorator
@inline
function resampleRows(T: i32, src: usize, dst: usize, outer: i32, nIn: i32, nOut: i32, inner: i32, idx: usize, w: usize): void {
  const tb = <usize>nOut << 2;
  const rb = <usize>inner << 2;
  const e4 = <usize>(inner & ~3) << 2;
  let d = dst;
  for (let b = 0; b < outer; b++) {
    const plane = src + <usize>b * <usize>nIn * rb;
    for (let o = 0; o < nOut; o++) {
      const ip = idx + (<usize>o << 2);
      const wp = w + (<usize>o << 2);
      const s0 = plane + <usize>load<i32>(ip) * <usize>inner;
      if (T == 1) {
        memory.copy(d, s0, rb);
        d += rb;
        continue;
      }
      const s1 = plane + <usize>load<i32>(ip + tb) * <usize>inner;
      const w0: f32 = load<f32>(wp);
      const w1: f32 = load<f32>(wp + tb);
      const v0 = f32x4.splat(w0);
      const v1 = f32x4.splat(w1);
      let s2: usize = 0, s3: usize = 0;
      let w2: f32 = 0, w3: f32 = 0;
      if (T > 2) {
        s2 = plane + <usize>load<i32>(ip + 2 * tb) * <usize>inner;
        s3 = plane + <usize>load<i32>(ip + 3 * tb) * <usize>inner;
        w2 = load<f32>(wp + 2 * tb);
        w3 = load<f32>(wp + 3 * tb);
      }
      const v2 = f32x4.splat(w2);
      const v3 = f32x4.splat(w3);
      let e: usize = 0;
      for (; e < e4; e += 16) {
        let acc = f32x4.add(f32x4.mul(v0, v128.load(s0 + e)), f32x4.mul(v1, v128.load(s1 + e)));
        if (T > 2) {
          acc = f32x4.add(acc, f32x4.mul(v2, v128.load(s2 + e)));
          acc = f32x4.add(acc, f32x4.mul(v3, v128.load(s3 + e)));
        }
        v128.store(d + e, acc);
      }
      for (; e < rb; e += 4) {
        let acc = w0 * load<f32>(s0 + e) + w1 * load<f32>(s1 + e);
        if (T > 2) {
          acc += w2 * load<f32>(s2 + e);
          acc += w3 * load<f32>(s3 + e);
        }
        store<f32>(d + e, acc);
      }
      d += rb;
    }
  }
}

/**
 * One axis of a separable resampling (interpolate): dst (outer × nOut × inner) from src (outer ×
 * nIn × inner), both contiguous. Output position o of the axis is Σ_t w[t·nOut + o] · the input
 * position whose byte offset within the axis's first row is idx[t·nOut + o] (4 × its index) over
 * T taps (1, 2 or 4; tables tap-major, idx i32, w f32), summed in tap order in f32; with T = 1
 * (weight 1) the value is copied. Along the last axis (inner = 1) each output gathers its taps,
 * four outputs per f32x4 (a lane load per tap); along another, each output row is the weighted
 * sum of T whole input rows, four floats at a time.
 */
export function resampleAxis(src: usize, dst: usize, outer: i32, nIn: i32, nOut: i32, inner: i32, idx: usize, w: usize, T: i32): void {
  if (inner == 1) {
    if (T == 1) resampleLast(1, src, dst, outer, nIn, nOut, idx, w);
    else if (T == 2) resampleLast(2, src, dst, outer, nIn, nOut, idx, w);
    else resampleLast(4, src, dst, outer, nIn, nOut, idx, w);
  } else if (T == 1) resampleRows(1, src, dst, outer, nIn, nOut, inner, idx, w);
  else if (T == 2) resampleRows(2, src, dst, outer, nIn, nOut, inner, idx, w);
  else resampleRows(4, src, dst, outer, nIn, nOut, inner, idx, w);
}

/**
 * dst (planes × OH × OW) = the max over each kh×kw window (strides sh, sw) of
 * src (planes × H × W), every window inside the input. Taps in row-major
 * order replace the best when greater or NaN, as in the reference, so a NaN
 * anywhere gives NaN and ties keep the first.
 */
export function maxPool2d(src: usize, planes: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, OH: i32, OW: i32, dst: usize): void {
  let d = dst;
  for (let p = 0; p < planes; p++) {
    const base = src + <usize>p * <usize>H * <usize>W * 4;
    for (let oh = 0; oh < OH; oh++) {
      const rowBase = base + <usize>(oh * sh) * <usize>W * 4;
      for (let ow = 0; ow < OW; ow++) {
        const at = rowBase + <usize>(ow * sw) * 4;
        let best: f32 = -Infinity;
        for (let j = 0; j < kh; j++) {
          const r = at + <usize>j * <usize>W * 4;
          for (let k = 0; k < kw; k++) {
            const v = load<f32>(r + (<usize>k << 2));
            if (v > best || v != v) best = v;
          }
        }
        store<f32>(d, best);
        d += 4;
      }
    }
  }
}
