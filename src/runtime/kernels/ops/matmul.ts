/**
 * `matmul` on operands of rank ≥ 2: (…, M, K) @ (…, K, N) → (…, M, N) with
 * the batch dims broadcast as torch does. The tensor core maps 1-D operands
 * onto this (`Tensor.matmul` unsqueezes and squeezes them, as torch.matmul
 * does) and `bmm` adds its stricter rank check on top. Errors use torch's
 * "shapes cannot be multiplied" wording.
 *
 *
 * Fast path: WASM `packBPanels` + `gemmPacked`. One operand is resident
 * (packed once per batch slice, in panels of at most `PANEL` floats), the
 * other streams through in chunks of rows (at most `CHUNK` floats of it and
 * of the result), so WASM memory stays small however large the product
 * (SAGAN's 4096×4096 attention map never sits there whole) and each chunk
 * of the result is copied out while it is in cache. Normally B is resident
 * and A streams; when B is too large to keep and A is smaller (SAGAN's
 * V·attnᵀ), Cᵀ = Bᵀ·Aᵀ is computed instead (attn's rows stream, read in
 * place) and each chunk is written back transposed. Operands are read
 * through their strides (a transposed operand is not transposed first).
 *
 * An optional third input, a 1-D bias of N elements, is added to every row
 * of the result (torch's addmm as `linear` runs it): `F.linear` passes it so a
 * linear layer is one dispatch and one pass over its output, not a matmul
 * followed by a broadcast add that reads and writes the whole output again.
 */

import type { OutputSpec, TensorMeta } from '../../backend';
import { fmtShape, TorchError } from '../../errors';
import type { WasmKernels } from '../../wasm/index';
import { batchOffsets, CHUNK, placeBlock, placement, type Operand2d } from '../../wasm/fast';
import { gemmNT, pack } from '../gemm';
import { broadcastShapes, broadcastStrides, DEFAULT_TOLERANCE, numel, type CpuView, type Kernel } from '../kernel';
import { emptyProgram, MAX_GROUPS_PER_DIM, stridedIndexFn, u32, type GpuProgram } from '../wgsl';

export const matmul: Kernel<Record<string, never>> = {
  name: 'matmul',
  // The bias add, when fused, counts as the elementwise add it replaces (1 per output).
  flops: ([a, , bias], _a, [out]) => 2 * numel(out.shape) * (a.shape.length ? a.shape[a.shape.length - 1] : 1) + (bias ? numel(out.shape) : 0),
  outputs([a, b, bias]): OutputSpec[] {
    if (a.shape.length < 2 || b.shape.length < 2) throw new TorchError('RuntimeError', 'matmul kernel expects operands of rank >= 2');
    const [M, K] = a.shape.slice(-2);
    const [K2, N] = b.shape.slice(-2);
    if (K !== K2) {
      const what = a.shape.length === 2 && b.shape.length === 2 ? `mat1 and mat2 shapes cannot be multiplied (${M}x${K} and ${K2}x${N})` : `Expected size for first two dimensions of batch2 tensor to be: [*, ${K}] but got: [*, ${K2}]. (shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} cannot be multiplied)`;
      throw new TorchError('RuntimeError', what);
    }
    let batch: number[];
    try {
      batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
    } catch (e) {
      throw new TorchError('RuntimeError', `matmul: batch dimensions of ${fmtShape(a.shape)} and ${fmtShape(b.shape)} do not broadcast (${(e as Error).message})`);
    }
    if (a.dtype === 'bool' || b.dtype === 'bool') throw new TorchError('RuntimeError', '"addmm_impl_cpu_" not implemented for \'Bool\'');
    const dtype = a.dtype === 'float32' || b.dtype === 'float32' ? 'float32' : 'int64';
    if (a.dtype !== b.dtype) throw new TorchError('RuntimeError', `expected m1 and m2 to have the same dtype, but got: ${a.dtype === 'int64' ? 'long int' : 'float'} != ${b.dtype === 'int64' ? 'long int' : 'float'}`);
    if (bias && (bias.shape.length !== 1 || bias.shape[0] !== N || bias.dtype !== dtype)) {
      throw new TorchError('RuntimeError', `matmul: the bias ${fmtShape(bias.shape)} must be 1-D of the ${N} output columns, with the operands' dtype`);
    }
    return [{ shape: [...batch, M, N], dtype }];
  },
  cpu([a, b, bias], _attrs, [out]) {
    const nd = Math.max(a.shape.length, b.shape.length);
    const [M, K] = a.shape.slice(-2);
    const N = b.shape[b.shape.length - 1];
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const nb = numel(batch);
    const bst = (m: typeof a) => {
      const st = new Array<number>(nd - 2).fill(0);
      const off = nd - m.shape.length;
      for (let i = 0; i < m.shape.length - 2; i++) st[off + i] = m.shape[i] === 1 ? 0 : m.strides[i];
      return st;
    };
    const sa = bst(a);
    const sb = bst(b);
    const [ars, acs] = a.strides.slice(-2);
    const [brs, bcs] = b.strides.slice(-2);
    const ap = new Float32Array(M * K);
    const bp = new Float32Array(N * K);
    let lastA = -1;
    let lastB = -1;
    const idx = new Array<number>(batch.length).fill(0);
    for (let t = 0; t < nb; t++) {
      let oa = a.offset;
      let ob = b.offset;
      for (let d = 0; d < batch.length; d++) {
        oa += idx[d] * sa[d];
        ob += idx[d] * sb[d];
      }
      // Pack only when the batch slice changes (broadcast operands are packed once).
      if (oa !== lastA) {
        pack(a.data, oa, M, K, ars, acs, ap);
        lastA = oa;
      }
      if (ob !== lastB) {
        pack(b.data, ob, N, K, bcs, brs, bp); // Bᵀ: rows are b's columns
        lastB = ob;
      }
      gemmNT(ap, 0, bp, 0, out, t * M * N, M, N, K);
      if (bias) addBias(out, t * M, M, N, bias);
      for (let d = batch.length - 1; d >= 0; d--) {
        if (++idx[d] < batch[d]) break;
        idx[d] = 0;
      }
    }
  },
  wgsl([a, b, bias], _attrs, [out]) {
    return matmulProgram(a, b, out.shape, bias);
  },
  tolerance: DEFAULT_TOLERANCE,
  fast: matmulFast,
};

/** Invocations per workgroup of the tiled matmul. */
const MT_WG = 64;
/** Output rows and columns per invocation (8×8 measured fastest on lavapipe; larger blocks compile for seconds). */
const MT_RM = 8;
const MT_RN = 8;

/**
 * The WGSL matmul, tiled for adapters where a memory load costs far more
 * than arithmetic (CPU adapters such as lavapipe and SwiftShader run one
 * invocation per SIMD lane and execute every storage load, uniform or not,
 * as a per-lane gather: ~50 cycles an element against ~1 per multiply-add).
 * Each invocation owns an `RM`×`RN` block of the output in registers, so a
 * loaded element serves `RN` (or `RM`) multiply-adds instead of one; loads
 * are scalar, in k order, accumulating in f32 as the reference does. (A vec4
 * form along k for operands contiguous in k, the `linear` case, measured
 * 20–40 % slower on lavapipe on every shape of the bench workloads and was
 * removed.) `storeTransposed`: each (M, N) result is stored as its (N, M)
 * transpose (a pointwise convolution's (C_out, positions) from positions × C_out).
 */
export function matmulProgram(a: TensorMeta, b: TensorMeta, outShape: readonly number[], bias?: TensorMeta, storeTransposed = false): GpuProgram {
  if (numel(outShape) === 0) return emptyProgram();
  const batch = outShape.slice(0, -2);
  const [M, N] = outShape.slice(-2);
  const K = a.shape[a.shape.length - 1];
  const nb = numel(batch);
  const bsa = broadcastStrides({ ...a, shape: a.shape.slice(0, -2), strides: a.strides.slice(0, -2) }, batch);
  const bsb = broadcastStrides({ ...b, shape: b.shape.slice(0, -2), strides: b.strides.slice(0, -2) }, batch);
  const [ars, acs] = a.strides.slice(-2);
  const [brs, bcs] = b.strides.slice(-2);
  const RM = Math.min(MT_RM, M);
  const RN = Math.min(MT_RN, N);
  const TM = Math.ceil(M / RM);
  const TN = Math.ceil(N / RN);
  const tiles = TM * TN;
  const groups = Math.ceil(tiles / MT_WG);
  const gx = Math.min(groups, MAX_GROUPS_PER_DIM);
  const gy = Math.ceil(groups / gx);
  const is = Array.from({ length: RM }, (_, i) => i);
  const js = Array.from({ length: RN }, (_, j) => j);
  const lines: string[] = [
    '@group(0) @binding(0) var<storage, read> in0: array<f32>;',
    '@group(0) @binding(1) var<storage, read> in1: array<f32>;',
    ...(bias ? ['@group(0) @binding(2) var<storage, read> in2: array<f32>;'] : []),
    `@group(0) @binding(${bias ? 3 : 2}) var<storage, read_write> out0: array<f32>;`,
    stridedIndexFn('batch_a', batch, bsa, a.offset),
    stridedIndexFn('batch_b', batch, bsb, b.offset),
    `@compute @workgroup_size(${MT_WG})`,
    'fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {',
    `  let t = (wid.y * ${u32(gx)} + wid.x) * ${u32(MT_WG)} + lid.x;`,
    `  if (t >= ${u32(tiles)}) { return; }`,
    `  let i0 = (t / ${u32(TN)}) * ${u32(RM)};`,
    `  let j0 = (t % ${u32(TN)}) * ${u32(RN)};`,
    '  let bt = wid.z;',
    '  let ab = batch_a(bt);',
    '  let bb = batch_b(bt);',
  ];
  // Row and column bases, clamped so an edge block never reads out of range (its extra results are not stored).
  for (const i of is) lines.push(`  let ar${i} = ab + min(i0 + ${u32(i)}, ${u32(M - 1)}) * ${u32(ars)};`);
  for (const j of js) lines.push(`  let bc${j} = bb + min(j0 + ${u32(j)}, ${u32(N - 1)}) * ${u32(bcs)};`);
  for (const i of is) for (const j of js) lines.push(`  var c${i}_${j} = 0.0;`);
  lines.push(`  for (var k = 0u; k < ${u32(K)}; k++) {`);
  for (const i of is) lines.push(`    let x${i} = in0[ar${i} + k * ${u32(acs)}];`);
  lines.push(`    let kb = k * ${u32(brs)};`);
  for (const j of js) lines.push(`    let y${j} = in1[bc${j} + kb];`);
  for (const i of is) for (const j of js) lines.push(`    c${i}_${j} += x${i} * y${j};`);
  lines.push('  }', `  let ob = bt * ${u32(M * N)};`);
  for (const i of is) {
    lines.push(`  if (i0 + ${u32(i)} < ${u32(M)}) {`, storeTransposed ? `    let o = ob + j0 * ${u32(M)} + i0 + ${u32(i)};` : `    let o = ob + (i0 + ${u32(i)}) * ${u32(N)} + j0;`);
    const add = (j: number) => (bias ? ` + in2[${bias.offset ? `${u32(bias.offset)} + ` : ''}(j0 + ${u32(j)}) * ${u32(bias.strides[0])}]` : '');
    for (const j of js) lines.push(`    if (j0 + ${u32(j)} < ${u32(N)}) { out0[o + ${u32(storeTransposed ? j * M : j)}] = c${i}_${j}${add(j)}; }`);
    lines.push('  }');
  }
  lines.push('}');
  return { code: lines.join('\n') + '\n', workgroups: [gx, gy, Math.max(1, nb)], invocations: MT_WG };
}

/** Floats of the resident operand the fast path packs at a time (4 MB: the panel stays in L3). */
const PANEL = 1 << 20;

/** Adds `bias` (a strided 1-D view of N elements) to `rows` rows of N elements of `out` from row `row0`. */
function addBias(out: Float32Array, row0: number, rows: number, N: number, bias: CpuView): void {
  const bs = bias.strides[0];
  for (let i = 0; i < rows; i++) {
    const o = (row0 + i) * N;
    for (let j = 0, x = bias.offset; j < N; j++, x += bs) out[o + j] += bias.data[x];
  }
}

function matmulFast(inputs: readonly CpuView[], _attrs: Record<string, never>, outs: Float32Array[], w: WasmKernels): void {
  const [a, b, bias] = inputs;
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
  const [rr, rp, rs, rc, rw] = w.arena([pr.floats, w.fn.packedBFloats(K, pw), ps.floats, mc * pw, w.fn.gemmPackedWorkFloats()]);
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
        w.fn.packBPanels(rr.ptr, pr.span ? R.rs : nw, pr.span ? R.cs : 1, K, nw, rp.ptr);
      }
      for (let i0 = 0; i0 < S.rows; i0 += mc) {
        const rows = Math.min(mc, S.rows - i0);
        placeBlock({ ...S, rows }, so[t] + i0 * S.rs, ps.span, rs);
        w.fn.gemmPacked(rs.ptr, ps.rs, ps.cs, rp.ptr, rc.ptr, nw, rows, nw, K, rw.ptr);
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
  if (bias) addBias(out, 0, nb * M, N, bias);
}
