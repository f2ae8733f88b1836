/**
 * What the kernels' fast paths (`Kernel.fast`, in each op's file under
 * `kernels/ops/`) share: how operands travel into the WASM arena, the chunk
 * sizes that keep its memory small, and the odometer over coalesced dims for
 * the TypeScript loops. A fast path has the signature and the results of its
 * kernel's `cpu()` reference (which stays the reference: the tests compare
 * both, and both with torch's goldens); the CPU backend runs it when
 * WebAssembly SIMD compiles here. Validation and output shapes are the
 * kernels' (`outputs()` ran before); a fast path only computes, and hands any
 * case it does not cover to the reference. This module knows no op.
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

import { pack } from '../kernels/gemm';
import { broadcastStrides, numel, stridedOffsets, type CpuView } from '../kernels/kernel';
import type { Region } from './index';

/** An operand spanning more than this many times its element count is packed instead of copied as a span. */
export const SPAN_SLACK = 4;
/**
 * Floats per chunk of streamed rows in `matmul` (both of the operand and of the result) and per
 * block of `binary`, `copy` and `pool`: 512 KB, a core's L2 here (measured: half that made the
 * SAGAN softmax and matmuls slower, not faster).
 */
export const CHUNK = 1 << 17;

/** A 2-D operand (rows × cols) of a strided view, from `base`. */
export interface Operand2d {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
  readonly rs: number;
  readonly cs: number;
}

/** How an operand travels into WASM memory: the floats to reserve and its strides there. */
export function placement(o: Operand2d): { floats: number; rs: number; cs: number; span: boolean } {
  const n = o.rows * o.cols;
  if (n === 0) return { floats: 0, rs: o.cols, cs: 1, span: false };
  const extent = (o.rows - 1) * o.rs + (o.cols - 1) * o.cs + 1;
  if (o.rs >= 0 && o.cs >= 0 && extent <= SPAN_SLACK * n) return { floats: extent, rs: o.rs, cs: o.cs, span: true };
  return { floats: n, rs: o.cols, cs: 1, span: false };
}

/** Strides of the leading (batch) dims of `m` broadcast to `batch`. */
export function batchOffsets(m: CpuView, batch: readonly number[]): Int32Array {
  return stridedOffsets(batch, broadcastStrides({ ...m, shape: m.shape.slice(0, -2), strides: m.strides.slice(0, -2) }, batch), m.offset);
}

/**
 * Copies the block `o` (from `base`) into `r`: as its span if `span`, else
 * packed row-major. Blocks of one operand use one mode (the one `placement`
 * chose for the largest), so the region sized for that block holds them all.
 */
export function placeBlock(o: Operand2d, base: number, span: boolean, r: Region): void {
  if (o.rows * o.cols === 0) return;
  if (span) r.f32.set(o.data.subarray(base, base + (o.rows - 1) * o.rs + (o.cols - 1) * o.cs + 1));
  else pack(o.data, base, o.rows, o.cols, o.rs, o.cs, r.f32);
}

/**
 * Merges adjacent dims that every operand walks contiguously (stride[i] =
 * stride[i+1]·shape[i+1]), so most walks end with one long inner loop.
 */
export function coalesce(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
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
export function walk(shape: readonly number[], strides: readonly (readonly number[])[], offsets: readonly number[], inner: (offs: number[], n: number, innerStrides: readonly number[]) => void): void {
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

/** Outputs smaller than this stay in TypeScript (the copies into WASM would cost more than they save). */
export const WASM_MIN = 4096;
