/**
 * WASM SIMD kernels for the runtime's fast CPU path, in AssemblyScript
 * (compiled by scripts/gen-wasm.ts with `asc`, embedded as bytes in
 * src/generated/wasm/kernels.ts; see src/runtime/wasm/). They work on raw
 * pointers into this module's memory, which the JS side lays out and grows;
 * nothing here allocates, validates or knows tensors.
 *
 * - `gemmNN`: C (M×N) = A (M×K) · B (K×N), all row-major, f32x4 over N with
 *   a 4-row × 8-column register tile (8 accumulators; each step loads two B
 *   vectors and broadcasts four A values), f32 accumulation.
 * - `softmaxRows`: in place over `rows` rows of `cols`: x·scale (−∞ above the
 *   diagonal with `causal`), minus the row max, exp, divided by the sum —
 *   the same steps as the TypeScript reference, with a vectorised exp.
 */

const LOG2E: f32 = 1.44269504088896341;
const EXP_HI: f32 = 88.3762626647950;
const EXP_LO: f32 = -88.3762626647949;
const C1: f32 = 0.693359375;
const C2: f32 = -2.12194440e-4;

/**
 * exp on four lanes (Cephes expf: n = round(x·log2 e), a degree-6 polynomial
 * on the remainder, scaled by 2^n through the exponent bits); relative error
 * about 1e-7. Inputs are clamped to ±88.38, so −∞ gives exactly 0.
 */
// @ts-ignore: decorator
@inline
function exp4(v: v128): v128 {
  let x = f32x4.min(f32x4.max(v, f32x4.splat(EXP_LO)), f32x4.splat(EXP_HI));
  const fx = f32x4.floor(f32x4.add(f32x4.mul(x, f32x4.splat(LOG2E)), f32x4.splat(0.5)));
  x = f32x4.sub(f32x4.sub(x, f32x4.mul(fx, f32x4.splat(C1))), f32x4.mul(fx, f32x4.splat(C2)));
  const z = f32x4.mul(x, x);
  let y = f32x4.splat(1.9875691500e-4);
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(1.3981999507e-3));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(8.3334519073e-3));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(4.1665795894e-2));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(1.6666665459e-1));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(5.0000001201e-1));
  y = f32x4.add(f32x4.add(f32x4.mul(y, z), x), f32x4.splat(1.0));
  const n = i32x4.trunc_sat_f32x4_s(fx);
  const pow2n = i32x4.shl(i32x4.add(n, i32x4.splat(127)), 23);
  return f32x4.mul(y, pow2n);
}

/** Scalar exp with the same formula as exp4 (row tails). */
// @ts-ignore: decorator
@inline
function exp1(v: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(v)), 0);
}

export function gemmNN(a: usize, b: usize, c: usize, M: i32, N: i32, K: i32): void {
  const rowA = <usize>K << 2;
  const rowB = <usize>N << 2;
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const a0 = a + <usize>i * rowA;
    const a1 = a0 + rowA;
    const a2 = a1 + rowA;
    const a3 = a2 + rowA;
    const c0 = c + <usize>i * rowB;
    const c1 = c0 + rowB;
    const c2 = c1 + rowB;
    const c3 = c2 + rowB;
    let j = 0;
    for (; j + 8 <= N; j += 8) {
      let s00 = f32x4.splat(0), s01 = f32x4.splat(0);
      let s10 = f32x4.splat(0), s11 = f32x4.splat(0);
      let s20 = f32x4.splat(0), s21 = f32x4.splat(0);
      let s30 = f32x4.splat(0), s31 = f32x4.splat(0);
      let bp = b + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(bp);
        const b1 = v128.load(bp, 16);
        const ko = <usize>k << 2;
        const x0 = v128.load32_splat(a0 + ko);
        const x1 = v128.load32_splat(a1 + ko);
        const x2 = v128.load32_splat(a2 + ko);
        const x3 = v128.load32_splat(a3 + ko);
        s00 = f32x4.add(s00, f32x4.mul(x0, b0)); s01 = f32x4.add(s01, f32x4.mul(x0, b1));
        s10 = f32x4.add(s10, f32x4.mul(x1, b0)); s11 = f32x4.add(s11, f32x4.mul(x1, b1));
        s20 = f32x4.add(s20, f32x4.mul(x2, b0)); s21 = f32x4.add(s21, f32x4.mul(x2, b1));
        s30 = f32x4.add(s30, f32x4.mul(x3, b0)); s31 = f32x4.add(s31, f32x4.mul(x3, b1));
        bp += rowB;
      }
      const jo = <usize>j << 2;
      v128.store(c0 + jo, s00); v128.store(c0 + jo, s01, 16);
      v128.store(c1 + jo, s10); v128.store(c1 + jo, s11, 16);
      v128.store(c2 + jo, s20); v128.store(c2 + jo, s21, 16);
      v128.store(c3 + jo, s30); v128.store(c3 + jo, s31, 16);
    }
    for (; j < N; j++) {
      let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
      let bp = b + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        const bv = load<f32>(bp);
        const ko = <usize>k << 2;
        s0 += load<f32>(a0 + ko) * bv;
        s1 += load<f32>(a1 + ko) * bv;
        s2 += load<f32>(a2 + ko) * bv;
        s3 += load<f32>(a3 + ko) * bv;
        bp += rowB;
      }
      const jo = <usize>j << 2;
      store<f32>(c0 + jo, s0);
      store<f32>(c1 + jo, s1);
      store<f32>(c2 + jo, s2);
      store<f32>(c3 + jo, s3);
    }
  }
  for (; i < M; i++) {
    const a0 = a + <usize>i * rowA;
    const c0 = c + <usize>i * rowB;
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      let s = f32x4.splat(0);
      let bp = b + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        s = f32x4.add(s, f32x4.mul(v128.load32_splat(a0 + (<usize>k << 2)), v128.load(bp)));
        bp += rowB;
      }
      v128.store(c0 + (<usize>j << 2), s);
    }
    for (; j < N; j++) {
      let s: f32 = 0;
      let bp = b + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        s += load<f32>(a0 + (<usize>k << 2)) * load<f32>(bp);
        bp += rowB;
      }
      store<f32>(c0 + (<usize>j << 2), s);
    }
  }
}

export function softmaxRows(p: usize, rows: i32, cols: i32, scale: f32, causal: i32): void {
  const sc = f32x4.splat(scale);
  for (let i = 0; i < rows; i++) {
    const r = p + (<usize>i * <usize>cols << 2);
    // Keys j > i are masked with `causal`: only the first `valid` columns count.
    const valid = causal ? min(i + 1, cols) : cols;
    let mx = f32x4.splat(-Infinity);
    let j = 0;
    for (; j + 4 <= valid; j += 4) {
      const v = f32x4.mul(v128.load(r + (<usize>j << 2)), sc);
      v128.store(r + (<usize>j << 2), v);
      mx = f32x4.max(mx, v);
    }
    let m: f32 = max(max(f32x4.extract_lane(mx, 0), f32x4.extract_lane(mx, 1)), max(f32x4.extract_lane(mx, 2), f32x4.extract_lane(mx, 3)));
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
    let s: f32 = (f32x4.extract_lane(sum, 0) + f32x4.extract_lane(sum, 1)) + (f32x4.extract_lane(sum, 2) + f32x4.extract_lane(sum, 3));
    for (; j < valid; j++) {
      const e = exp1(load<f32>(r + (<usize>j << 2)) - m);
      store<f32>(r + (<usize>j << 2), e);
      s += e;
    }
    const inv = f32x4.splat(s);
    j = 0;
    for (; j + 4 <= valid; j += 4) v128.store(r + (<usize>j << 2), f32x4.div(v128.load(r + (<usize>j << 2)), inv));
    for (; j < valid; j++) store<f32>(r + (<usize>j << 2), load<f32>(r + (<usize>j << 2)) / s);
    for (j = valid; j < cols; j++) store<f32>(r + (<usize>j << 2), 0);
  }
}
