/**
 * `matmul` on operands of rank ≥ 2: (…, M, K) @ (…, K, N) → (…, M, N) with
 * the batch dims broadcast as torch does. The tensor core maps 1-D operands
 * onto this (`Tensor.matmul` unsqueezes and squeezes them, as torch.matmul
 * does) and `bmm` adds its stricter rank check on top. Errors use torch's
 * "shapes cannot be multiplied" wording.
 */

import type { OutputSpec } from '../backend';
import { fmtShape, TorchError } from '../errors';
import { broadcastShapes } from './elementwise';
import { gemmNT, pack } from './gemm';
import { broadcastStrides, DEFAULT_TOLERANCE, numel, type Kernel } from './kernel';
import type { TensorMeta } from '../backend';
import { emptyProgram, stridedIndexFn, u32, type GpuProgram } from './wgsl';

export const matmul: Kernel<Record<string, never>> = {
  name: 'matmul',
  outputs([a, b]): OutputSpec[] {
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
    return [{ shape: [...batch, M, N], dtype }];
  },
  cpu([a, b], _attrs, [out]) {
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
      for (let d = batch.length - 1; d >= 0; d--) {
        if (++idx[d] < batch[d]) break;
        idx[d] = 0;
      }
    }
  },
  wgsl([a, b], _attrs, [out]) {
    return matmulProgram(a, b, out.shape);
  },
  tolerance: DEFAULT_TOLERANCE,
};

/** Output columns each invocation accumulates (four vec4 registers). */
const MM_COLS = 16;
const MM_ROWS = 64;

/**
 * The WGSL matmul: one invocation per output row, `MM_COLS` consecutive
 * columns each, a workgroup covering `MM_ROWS` rows of one column block of
 * one batch entry. Every invocation of a workgroup reads the same B elements
 * at the same time (uniform loads, which CPU adapters such as lavapipe turn
 * into one scalar load, and GPUs serve from cache), and its own A row.
 * When N > M the problem is computed transposed (Cᵀ = Bᵀ·Aᵀ) so that the
 * larger dimension spreads over invocations. Accumulation runs in k order in
 * f32, like the CPU reference.
 */
export function matmulProgram(a: TensorMeta, b: TensorMeta, outShape: readonly number[]): GpuProgram {
  if (numel(outShape) === 0) return emptyProgram();
  const batch = outShape.slice(0, -2);
  const [M, N] = outShape.slice(-2);
  const K = a.shape[a.shape.length - 1];
  const nb = numel(batch);
  const bstr = (m: TensorMeta) => broadcastStrides({ ...m, shape: m.shape.slice(0, -2), strides: m.strides.slice(0, -2) }, batch);
  const [ars, acs] = a.strides.slice(-2);
  const [brs, bcs] = b.strides.slice(-2);
  // Rows over invocations: (rows, k) of the "left" operand, (k, cols) of the "right" one.
  const t = N > M;
  const R = t ? N : M;
  const C = t ? M : N;
  const left = t ? { input: 1, rs: bcs, ks: brs } : { input: 0, rs: ars, ks: acs };
  const right = t ? { input: 0, ks: acs, cs: ars } : { input: 1, ks: brs, cs: bcs };
  const outRs = t ? 1 : N;
  const outCs = t ? N : 1;
  const cols = Math.min(MM_COLS, Math.ceil(C / 4) * 4);
  const vecs = cols / 4;
  const lines: string[] = [];
  lines.push(
    '@group(0) @binding(0) var<storage, read> in0: array<f32>;',
    '@group(0) @binding(1) var<storage, read> in1: array<f32>;',
    '@group(0) @binding(2) var<storage, read_write> out0: array<f32>;',
    stridedIndexFn('batch_a', batch, bstr(a), a.offset),
    stridedIndexFn('batch_b', batch, bstr(b), b.offset),
    `@compute @workgroup_size(${MM_ROWS})`,
    'fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {',
    `  let r = wid.x * ${u32(MM_ROWS)} + lid.x;`,
    `  let c0 = wid.y * ${u32(cols)};`,
    '  let bt = wid.z;',
    `  let lbase = ${left.input === 0 ? 'batch_a' : 'batch_b'}(bt) + min(r, ${u32(R - 1)}) * ${u32(left.rs)};`,
    `  let rbase = ${right.input === 0 ? 'batch_a' : 'batch_b'}(bt);`,
  );
  // Column offsets of the right operand, clamped so a partial block never reads out of range.
  for (let c = 0; c < cols; c++) lines.push(`  let rc${c} = rbase + min(c0 + ${u32(c)}, ${u32(C - 1)}) * ${u32(right.cs)};`);
  for (let v = 0; v < vecs; v++) lines.push(`  var acc${v} = vec4f(0.0);`);
  lines.push(`  for (var k = 0u; k < ${u32(K)}; k++) {`, `    let x = in${left.input}[lbase + k * ${u32(left.ks)}];`, `    let ko = k * ${u32(right.ks)};`);
  for (let v = 0; v < vecs; v++) {
    const e = [0, 1, 2, 3].map((j) => `in${right.input}[rc${v * 4 + j} + ko]`).join(', ');
    lines.push(`    acc${v} += x * vec4f(${e});`);
  }
  lines.push('  }', `  if (r >= ${u32(R)}) { return; }`, `  let obase = bt * ${u32(M * N)} + r * ${u32(outRs)};`);
  for (let c = 0; c < cols; c++) {
    lines.push(`  if (c0 + ${u32(c)} < ${u32(C)}) { out0[obase + (c0 + ${u32(c)}) * ${u32(outCs)}] = acc${c >> 2}[${c & 3}]; }`);
  }
  lines.push('}');
  return { code: lines.join('\n') + '\n', workgroups: [Math.ceil(R / MM_ROWS), Math.ceil(C / cols), Math.max(1, nb)], invocations: MM_ROWS };
}
