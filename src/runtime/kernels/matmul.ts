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
  flops: ([a], _a, [out]) => 2 * numel(out.shape) * (a.shape.length ? a.shape[a.shape.length - 1] : 1),
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
 * loaded element serves `RN` (or `RM`) multiply-adds instead of one. When
 * both operands are contiguous along k with aligned rows (the `linear` case:
 * x @ Wᵀ), both are read as vec4 along k (4× fewer loads) and each step is a
 * `dot` of four k terms; otherwise scalar loads in k order. Accumulation is
 * f32 either way (the vec4 form sums four k terms per step; the difference
 * to the k-ordered reference is rounding, far inside the 1e-4 tolerance).
 */
export function matmulProgram(a: TensorMeta, b: TensorMeta, outShape: readonly number[]): GpuProgram {
  if (numel(outShape) === 0) return emptyProgram();
  const batch = outShape.slice(0, -2);
  const [M, N] = outShape.slice(-2);
  const K = a.shape[a.shape.length - 1];
  const nb = numel(batch);
  const bsa = broadcastStrides({ ...a, shape: a.shape.slice(0, -2), strides: a.strides.slice(0, -2) }, batch);
  const bsb = broadcastStrides({ ...b, shape: b.shape.slice(0, -2), strides: b.strides.slice(0, -2) }, batch);
  const [ars, acs] = a.strides.slice(-2);
  const [brs, bcs] = b.strides.slice(-2);
  const al4 = (x: number) => x % 4 === 0;
  const nt = K % 4 === 0 && acs === 1 && brs === 1 && al4(ars) && al4(bcs) && al4(a.offset) && al4(b.offset) && bsa.every(al4) && bsb.every(al4);
  const RM = Math.min(MT_RM, M);
  const RN = Math.min(MT_RN, N);
  const TM = Math.ceil(M / RM);
  const TN = Math.ceil(N / RN);
  const tiles = TM * TN;
  const groups = Math.ceil(tiles / MT_WG);
  const gx = Math.min(groups, 65535);
  const gy = Math.ceil(groups / gx);
  const is = Array.from({ length: RM }, (_, i) => i);
  const js = Array.from({ length: RN }, (_, j) => j);
  const ty = nt ? 'vec4f' : 'f32';
  const lines: string[] = [
    `@group(0) @binding(0) var<storage, read> in0: array<${ty}>;`,
    `@group(0) @binding(1) var<storage, read> in1: array<${ty}>;`,
    '@group(0) @binding(2) var<storage, read_write> out0: array<f32>;',
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
  const div = nt ? ' / 4u' : '';
  for (const i of is) lines.push(`  let ar${i} = (ab + min(i0 + ${u32(i)}, ${u32(M - 1)}) * ${u32(ars)})${div};`);
  for (const j of js) lines.push(`  let bc${j} = (bb + min(j0 + ${u32(j)}, ${u32(N - 1)}) * ${u32(bcs)})${div};`);
  for (const i of is) for (const j of js) lines.push(`  var c${i}_${j} = 0.0;`);
  if (nt) {
    lines.push(`  for (var k = 0u; k < ${u32(K / 4)}; k++) {`);
    for (const i of is) lines.push(`    let x${i} = in0[ar${i} + k];`);
    for (const j of js) lines.push(`    let y${j} = in1[bc${j} + k];`);
    for (const i of is) for (const j of js) lines.push(`    c${i}_${j} += dot(x${i}, y${j});`);
  } else {
    lines.push(`  for (var k = 0u; k < ${u32(K)}; k++) {`);
    for (const i of is) lines.push(`    let x${i} = in0[ar${i} + k * ${u32(acs)}];`);
    lines.push(`    let kb = k * ${u32(brs)};`);
    for (const j of js) lines.push(`    let y${j} = in1[bc${j} + kb];`);
    for (const i of is) for (const j of js) lines.push(`    c${i}_${j} += x${i} * y${j};`);
  }
  lines.push('  }', `  let ob = bt * ${u32(M * N)};`);
  for (const i of is) {
    lines.push(`  if (i0 + ${u32(i)} < ${u32(M)}) {`, `    let o = ob + (i0 + ${u32(i)}) * ${u32(N)} + j0;`);
    for (const j of js) lines.push(`    if (j0 + ${u32(j)} < ${u32(N)}) { out0[o + ${u32(j)}] = c${i}_${j}; }`);
    lines.push('  }');
  }
  lines.push('}');
  return { code: lines.join('\n') + '\n', workgroups: [gx, gy, Math.max(1, nb)], invocations: MT_WG };
}
