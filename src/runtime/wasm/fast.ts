/**
 * The fast CPU path: `matmul` and `scaled_dot_product_attention` on the WASM
 * SIMD kernels, with the same signature and the same steps as the kernels'
 * TypeScript `cpu()` references (which stay the reference: the tests compare
 * both, and both with torch's goldens). The CPU backend uses these when
 * WebAssembly is available. Validation and output shapes are the kernels'
 * (`outputs()` ran before); this only computes.
 *
 * Tolerance: the references accumulate dot products in f64 (JS numbers);
 * these accumulate in f32, as torch's CPU kernels do, and the exp is a
 * polynomial with ~1e-7 relative error. On the goldens (and the
 * reference-comparison test: K up to 1024, values ~N(0, 1)) the difference
 * stays within the kernels' 1e-5, so no looser tolerance is declared; an
 * f32 sum of K products of size ~1 differs from the exact one by about
 * sqrt(K)·6e-8 relative, which would pass 1e-5 only while |sums| stay below
 * ~5 for K = 1024 — attention outputs (convex combinations of values) and
 * softmax weights (≤ 1) do.
 */

import { broadcastShapes } from '../kernels/elementwise';
import { pack } from '../kernels/gemm';
import { broadcastStrides, numel, stridedOffsets, type CpuView } from '../kernels/kernel';
import type { SdpaAttrs } from '../kernels/sdpa';
import { wasmKernels } from './index';

export type FastCpu = (inputs: readonly CpuView[], attrs: never, outputs: Float32Array[]) => void;

function matmul(inputs: readonly CpuView[], _attrs: Record<string, never>, outs: Float32Array[]): void {
  const w = wasmKernels();
  if (!w) throw new Error('WASM kernels unavailable');
  const [a, b] = inputs;
  const out = outs[0];
  const nd = Math.max(a.shape.length, b.shape.length);
  const [M, K] = a.shape.slice(-2);
  const N = b.shape[b.shape.length - 1];
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const nb = numel(batch);
  const bst = (m: CpuView) => {
    const st = new Array<number>(nd - 2).fill(0);
    const off = nd - m.shape.length;
    for (let i = 0; i < m.shape.length - 2; i++) st[off + i] = m.shape[i] === 1 ? 0 : m.strides[i];
    return st;
  };
  const sa = bst(a);
  const sb = bst(b);
  const [ars, acs] = a.strides.slice(-2);
  const [brs, bcs] = b.strides.slice(-2);
  const { ptr, f32 } = w.arena([M * K, K * N, M * N]);
  const [pa, pb, pc] = ptr;
  const ap = f32.subarray(pa / 4, pa / 4 + M * K);
  const bp = f32.subarray(pb / 4, pb / 4 + K * N);
  const cp = f32.subarray(pc / 4, pc / 4 + M * N);
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
    if (oa !== lastA) {
      pack(a.data, oa, M, K, ars, acs, ap);
      lastA = oa;
    }
    if (ob !== lastB) {
      pack(b.data, ob, K, N, brs, bcs, bp); // B as is: K×N row-major
      lastB = ob;
    }
    w.gemmNN(pa, pb, pc, M, N, K);
    out.set(cp, t * M * N);
    for (let d = batch.length - 1; d >= 0; d--) {
      if (++idx[d] < batch[d]) break;
      idx[d] = 0;
    }
  }
}

function sdpa(inputs: readonly CpuView[], a: SdpaAttrs, outs: Float32Array[]): void {
  const wk = wasmKernels();
  if (!wk) throw new Error('WASM kernels unavailable');
  const [q, k, v, m] = inputs;
  const [L, E] = q.shape.slice(-2);
  const S = k.shape[k.shape.length - 2];
  const Ev = v.shape[v.shape.length - 1];
  const batch = broadcastShapes(broadcastShapes(q.shape.slice(0, -2), k.shape.slice(0, -2)), v.shape.slice(0, -2));
  const nb = numel(batch);
  const scale = a.scale ?? 1 / Math.sqrt(E);
  const boff = (t: CpuView) => stridedOffsets(batch, broadcastStrides({ ...t, shape: t.shape.slice(0, -2), strides: t.strides.slice(0, -2) }, batch), t.offset);
  const qo = boff(q);
  const ko = boff(k);
  const vo = boff(v);
  const mo = m ? stridedOffsets([...batch, L, S], broadcastStrides(m, [...batch, L, S]), m.offset) : undefined;
  const { ptr, f32 } = wk.arena([L * E, E * S, S * Ev, L * S, L * Ev]);
  const [pq, pk, pv, ps, po] = ptr;
  const view = (p: number, n: number) => f32.subarray(p / 4, p / 4 + n);
  const qp = view(pq, L * E);
  const kt = view(pk, E * S);
  const vp = view(pv, S * Ev);
  const sc = view(ps, L * S);
  const ob = view(po, L * Ev);
  const [out, w] = outs;
  const [qrs, qcs] = q.strides.slice(-2);
  const [krs, kcs] = k.strides.slice(-2);
  const [vrs, vcs] = v.strides.slice(-2);
  for (let b = 0; b < nb; b++) {
    pack(q.data, qo[b], L, E, qrs, qcs, qp);
    pack(k.data, ko[b], E, S, kcs, krs, kt); // Kᵀ: E×S
    pack(v.data, vo[b], S, Ev, vrs, vcs, vp);
    wk.gemmNN(pq, pk, ps, L, S, E);
    if (mo && m) {
      // Masks are applied here, after scaling, exactly as the reference does; the softmax then scales by 1.
      for (let i = 0; i < L; i++) {
        const r = i * S;
        for (let j = 0; j < S; j++) {
          let s = sc[r + j] * scale;
          if (a.causal && j > i) s = -Infinity;
          const mv = m.data[mo[b * L * S + r + j]];
          if (m.dtype === 'bool') {
            if (mv === 0) s = -Infinity;
          } else s += mv;
          sc[r + j] = s;
        }
      }
      wk.softmaxRows(ps, L, S, 1, false);
    } else {
      wk.softmaxRows(ps, L, S, scale, a.causal);
    }
    wk.gemmNN(ps, pv, po, L, Ev, S);
    out.set(ob, b * L * Ev);
    if (w) w.set(sc, b * L * S);
  }
}

/** Fast implementations by kernel name (the registry's names). */
export const FAST_CPU: ReadonlyMap<string, FastCpu> = new Map<string, FastCpu>([
  ['matmul', matmul as FastCpu],
  ['scaled_dot_product_attention', sdpa as FastCpu],
]);
