/**
 * The CPU matrix-multiply core shared by `matmul`, `conv` and
 * `scaled_dot_product_attention`: C = A · Bᵀ with A (M×K) and Bᵀ (N×K) both
 * row-major, so the inner loop walks two contiguous rows. Four output columns
 * are computed per pass over a row of A to reuse its loads. Also the packing
 * helper that copies any strided 2-D view into a row-major buffer. It knows
 * no tensor and does no validation.
 */

/** c[cOff + i*N + j] (+)= sum_k a[aOff + i*K + k] * bt[bOff + j*K + k]. */
export function gemmNT(
  a: Float32Array, aOff: number,
  bt: Float32Array, bOff: number,
  c: Float32Array, cOff: number,
  M: number, N: number, K: number,
  accumulate = false,
): void {
  for (let i = 0; i < M; i++) {
    const ai = aOff + i * K;
    const ci = cOff + i * N;
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const b0 = bOff + j * K;
      const b1 = b0 + K;
      const b2 = b1 + K;
      const b3 = b2 + K;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = 0; k < K; k++) {
        const av = a[ai + k];
        s0 += av * bt[b0 + k];
        s1 += av * bt[b1 + k];
        s2 += av * bt[b2 + k];
        s3 += av * bt[b3 + k];
      }
      if (accumulate) {
        c[ci + j] += s0; c[ci + j + 1] += s1; c[ci + j + 2] += s2; c[ci + j + 3] += s3;
      } else {
        c[ci + j] = s0; c[ci + j + 1] = s1; c[ci + j + 2] = s2; c[ci + j + 3] = s3;
      }
    }
    for (; j < N; j++) {
      const b0 = bOff + j * K;
      let s = 0;
      for (let k = 0; k < K; k++) s += a[ai + k] * bt[b0 + k];
      if (accumulate) c[ci + j] += s;
      else c[ci + j] = s;
    }
  }
}

/** Copies the R×C view (rowStride, colStride from base) into dst row-major at dOff. */
export function pack(src: Float32Array, base: number, R: number, C: number, rowStride: number, colStride: number, dst: Float32Array, dOff = 0): void {
  if (colStride === 1) {
    for (let r = 0; r < R; r++) {
      const s = base + r * rowStride;
      dst.set(src.subarray(s, s + C), dOff + r * C);
    }
    return;
  }
  for (let r = 0; r < R; r++) {
    const s = base + r * rowStride;
    const d = dOff + r * C;
    for (let c = 0; c < C; c++) dst[d + c] = src[s + c * colStride];
  }
}
