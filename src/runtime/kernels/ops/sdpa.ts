/**
 * `scaled_dot_product_attention`: softmax(q·kᵀ · scale + mask) · v over
 * q (…, L, E), k (…, S, E), v (…, S, Ev), batch dims broadcast. The mask is
 * optional: bool (True = may attend, SDPA polarity) or float (added to the
 * scores), broadcast to (…, L, S); `causal` applies the top-left lower
 * triangle of an L×S grid and excludes an explicit mask, as torch requires.
 * `needWeights` adds the attention weights as a second output (the path that
 * materialises them; a fused GPU kernel may skip it when not asked).
 * Dropout is not applied: the runtime runs in eval mode.
 *
 *
 * Fast path: the fused flash-style WASM kernel when the weights are not asked
 * for — Q, K and V with contiguous rows go into WASM whole, every batch entry
 * read in place through its row stride (the heads of an (N, L, H, E) layout
 * need no per-head packing); with `needWeights`, scores by `gemm`, masks,
 * WASM `softmaxRows`, then `gemm` with the same weights written out.
 */

import type { OutputSpec, OutputSpec as Spec, TensorMeta } from '../../backend';
import { fmtShape, TorchError } from '../../errors';
import type { WasmKernels } from '../../wasm/index';
import { batchOffsets, SPAN_SLACK } from '../../wasm/fast';
import { gemmNT, pack } from '../gemm';
import { broadcastShapes, broadcastStrides, DEFAULT_TOLERANCE, numel, stridedOffsets, type CpuView, type Kernel } from '../kernel';
import { emptyProgram, f32, MATH_WGSL, MAX_GROUPS_PER_DIM, stridedIndexFn, u32, type GpuProgram } from '../wgsl';

export interface SdpaAttrs {
  /** Defaults to 1 / sqrt(E). */
  readonly scale?: number;
  readonly causal: boolean;
  readonly needWeights: boolean;
}

function batchShape(q: readonly number[], k: readonly number[], v: readonly number[]): number[] {
  return broadcastShapes(broadcastShapes(q.slice(0, -2), k.slice(0, -2)), v.slice(0, -2));
}

export const sdpa: Kernel<SdpaAttrs> = {
  name: 'scaled_dot_product_attention',
  // Per (batch, head): QKᵀ is 2·L·S·E, the softmax 5·L·S, AV 2·L·S·Ev (with or without the weights output).
  flops: ([q, k, v]) => {
    const scores = numel(q.shape.slice(0, -1)) * k.shape[k.shape.length - 2];
    return 2 * scores * q.shape[q.shape.length - 1] + 5 * scores + 2 * scores * v.shape[v.shape.length - 1];
  },
  outputs(inputs, a): OutputSpec[] {
    const [q, k, v, m] = inputs;
    if (q.shape.length < 2 || k.shape.length < 2 || v.shape.length < 2) {
      throw new TorchError('RuntimeError', `scaled_dot_product_attention expects query, key and value of rank >= 2, got ${fmtShape(q.shape)}, ${fmtShape(k.shape)}, ${fmtShape(v.shape)}`);
    }
    if (q.dtype !== 'float32' || k.dtype !== 'float32' || v.dtype !== 'float32') {
      throw new TorchError('RuntimeError', 'Expected query, key, and value to have the same dtype (float)');
    }
    const [L, E] = q.shape.slice(-2);
    const [S, Ek] = k.shape.slice(-2);
    const [Sv, Ev] = v.shape.slice(-2);
    if (E !== Ek) throw new TorchError('RuntimeError', `Expected size for first two dimensions of batch2 tensor to be: [*, ${E}] but got: [*, ${Ek}]. (query ${fmtShape(q.shape)}, key ${fmtShape(k.shape)})`);
    if (S !== Sv) throw new TorchError('RuntimeError', `Expected size for first two dimensions of batch2 tensor to be: [*, ${S}] but got: [*, ${Sv}]. (key ${fmtShape(k.shape)}, value ${fmtShape(v.shape)})`);
    if (m && a.causal) throw new TorchError('RuntimeError', '_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True');
    const batch = batchShape(q.shape, k.shape, v.shape);
    if (m) {
      if (m.dtype === 'int64') throw new TorchError('RuntimeError', 'Expected attn_mask dtype to be bool or float or to match query dtype');
      const full = broadcastShapes([...batch, L, S], m.shape);
      if (full.length !== batch.length + 2 || full.some((s, i) => s !== [...batch, L, S][i])) {
        throw new TorchError('RuntimeError', `The expanded size of the attn_mask ${fmtShape(m.shape)} must broadcast to the scores ${fmtShape([...batch, L, S])}`);
      }
    }
    const out: OutputSpec[] = [{ shape: [...batch, L, Ev], dtype: 'float32' }];
    if (a.needWeights) out.push({ shape: [...batch, L, S], dtype: 'float32' });
    return out;
  },
  cpu(inputs, a, outs) {
    const [q, k, v, m] = inputs;
    const [L, E] = q.shape.slice(-2);
    const S = k.shape[k.shape.length - 2];
    const Ev = v.shape[v.shape.length - 1];
    const batch = batchShape(q.shape, k.shape, v.shape);
    const nb = numel(batch);
    const scale = a.scale ?? 1 / Math.sqrt(E);
    const boff = (t: typeof q) => stridedOffsets(batch, broadcastStrides({ ...t, shape: t.shape.slice(0, -2), strides: t.strides.slice(0, -2) }, batch), t.offset);
    const qo = boff(q);
    const ko = boff(k);
    const vo = boff(v);
    const mo = m ? stridedOffsets([...batch, L, S], broadcastStrides(m, [...batch, L, S]), m.offset) : undefined;
    const qp = new Float32Array(L * E);
    const kp = new Float32Array(S * E);
    const vt = new Float32Array(Ev * S);
    const sc = new Float32Array(L * S);
    const [out, w] = outs;
    const [qrs, qcs] = q.strides.slice(-2);
    const [krs, kcs] = k.strides.slice(-2);
    const [vrs, vcs] = v.strides.slice(-2);
    for (let b = 0; b < nb; b++) {
      pack(q.data, qo[b], L, E, qrs, qcs, qp);
      pack(k.data, ko[b], S, E, krs, kcs, kp);
      pack(v.data, vo[b], Ev, S, vcs, vrs, vt);
      gemmNT(qp, 0, kp, 0, sc, 0, L, S, E);
      for (let i = 0; i < L; i++) {
        const r = i * S;
        let mx = -Infinity;
        for (let j = 0; j < S; j++) {
          let s = sc[r + j] * scale;
          if (a.causal && j > i) s = -Infinity;
          if (mo && m) {
            const mv = m.data[mo[b * L * S + r + j]];
            if (m.dtype === 'bool') {
              if (mv === 0) s = -Infinity;
            } else s += mv;
          }
          sc[r + j] = s;
          if (s > mx) mx = s;
        }
        if (mx === -Infinity) mx = 0;
        let sum = 0;
        for (let j = 0; j < S; j++) {
          const e = Math.exp(sc[r + j] - mx);
          sc[r + j] = e;
          sum += e;
        }
        for (let j = 0; j < S; j++) sc[r + j] /= sum;
      }
      gemmNT(sc, 0, vt, 0, out, b * L * Ev, L, Ev, S);
      if (w) w.set(sc, b * L * S);
    }
  },
  wgsl(inputs, a, outputs) {
    return sdpaProgram(inputs, a, outputs);
  },
  tolerance: DEFAULT_TOLERANCE,
  fast: sdpaFast,
};

/** Query rows per workgroup of the fused kernel. */
const SDPA_ROWS = 32;
/** Head sizes up to this live in vec4 registers; larger ones in private arrays (slower on CPU adapters). */
const SDPA_UNROLL = 128;

/**
 * The WGSL attention, fused flash-style. Without weights and with heads up
 * to `SDPA_UNROLL`, `sdpaBlockedProgram` (below) runs: several query rows per
 * invocation. Otherwise (the weights path, larger heads) this form runs:
 * one invocation per query row keeps
 * q, the running max m, the running sum l and the output accumulator in
 * vec4 registers and streams the keys and values once (online softmax).
 * The accumulator is rescaled by exp(m_old - m_new) only when a score
 * exceeds the running max, which after the first few keys is rare, so the
 * common step is one dot product, one exp and one multiply-add per value
 * dim. Scores and weights never reach memory. Every invocation of a
 * workgroup reads the same key and value at the same time (uniform loads,
 * which CPU adapters such as lavapipe turn into one scalar load and GPUs
 * serve from cache); with `causal`, keys past the workgroup's last row are
 * skipped. When the weights are asked for (`needWeights`), a first pass
 * finds m and l and a second pass recomputes each score, writes the softmax
 * weight and accumulates the output from it, so the weights written are
 * exactly the ones used (the path that materialises them).
 *
 * Why no key blocks with a scores array: lavapipe's compiler takes minutes
 * on the unrolled block form. Tolerance stays at the default 1e-4: scores
 * accumulate in f32 over E terms (the CPU reference accumulates in f64), and
 * the measured error on the goldens is ~1e-6.
 */
/** Sizes and strides both SDPA programs bake into their WGSL. */
function sdpaGeometry(inputs: readonly TensorMeta[], a: SdpaAttrs, outputs: readonly Spec[]) {
  const [q, k, v, m] = inputs;
  const [L, E] = q.shape.slice(-2);
  const S = k.shape[k.shape.length - 2];
  const Ev = v.shape[v.shape.length - 1];
  const batch = outputs[0].shape.slice(0, -2);
  const full = [...batch, L, S];
  const [qrs, qcs] = q.strides.slice(-2);
  const [krs, kcs] = k.strides.slice(-2);
  const [vrs, vcs] = v.strides.slice(-2);
  return {
    q, k, v, m, L, E, S, Ev, batch, qrs, qcs, krs, kcs, vrs, vcs,
    nb: numel(batch),
    scale: a.scale ?? 1 / Math.sqrt(E),
    /** The batch strides of `t` broadcast to the output's batch dims. */
    bst: (t: TensorMeta) => broadcastStrides({ ...t, shape: t.shape.slice(0, -2), strides: t.strides.slice(0, -2) }, batch),
    ms: m ? broadcastStrides(m, full) : [],
  };
}

export function sdpaProgram(inputs: readonly TensorMeta[], a: SdpaAttrs, outputs: readonly Spec[]): GpuProgram {
  const { q, k, v, m, L, E, S, Ev, batch, nb, scale, bst, qrs, qcs, krs, kcs, vrs, vcs, ms } = sdpaGeometry(inputs, a, outputs);
  if (nb * L === 0) return emptyProgram();
  const unroll = E <= SDPA_UNROLL && Ev <= SDPA_UNROLL;
  if (unroll && !a.needWeights) return sdpaBlockedProgram(inputs, a, outputs);
  const firstOut = m ? 4 : 3;
  const W = a.needWeights;
  const E4 = Math.ceil(E / 4);
  const V4 = Math.ceil(Ev / 4);
  // A vec4 of a row's elements c*4 .. c*4+3 (zero past the end); `base` + e * stride.
  const vec = (buf: string, base: string, c: string | number, stride: number, size: number) => {
    if (typeof c === 'number') {
      const el = [0, 1, 2, 3].map((j) => (c * 4 + j < size ? `${buf}[${base} + ${u32((c * 4 + j) * stride)}]` : '0.0'));
      return `vec4f(${el.join(', ')})`;
    }
    // Loop form: the caller guards the tail with a clamped index and a mask.
    const el = [0, 1, 2, 3].map((j) => `select(0.0, ${buf}[${base} + min(${c} * 4u + ${j}u, ${u32(size - 1)}) * ${u32(stride)}], ${c} * 4u + ${j}u < ${u32(size)})`);
    return `vec4f(${el.join(', ')})`;
  };
  const qv = (c: number | string) => (unroll ? `q${c}` : `q[${c}]`);
  const acc = (c: number | string) => (unroll ? `a${c}` : `acc[${c}]`);
  const over = (count: number, f: (c: number | string) => string): string[] =>
    unroll ? Array.from({ length: count }, (_, c) => f(c)) : [`for (var c = 0u; c < ${u32(count)}; c++) { ${f('c')} }`];
  const lines: string[] = [
    '@group(0) @binding(0) var<storage, read> in0: array<f32>;',
    '@group(0) @binding(1) var<storage, read> in1: array<f32>;',
    '@group(0) @binding(2) var<storage, read> in2: array<f32>;',
    ...(m ? ['@group(0) @binding(3) var<storage, read> in3: array<f32>;'] : []),
    `@group(0) @binding(${firstOut}) var<storage, read_write> out0: array<f32>;`,
    ...(W ? [`@group(0) @binding(${firstOut + 1}) var<storage, read_write> out1: array<f32>;`] : []),
    MATH_WGSL,
    stridedIndexFn('q_at', batch, bst(q), q.offset),
    stridedIndexFn('k_at', batch, bst(k), k.offset),
    stridedIndexFn('v_at', batch, bst(v), v.offset),
    ...(m ? [stridedIndexFn('m_at', batch, ms.slice(0, -2), m.offset)] : []),
  ];
  const score = (ind: string) => [
    `${ind}let kr = kb + j * ${u32(krs)};`,
    unroll
      ? `${ind}var s = (${Array.from({ length: E4 }, (_, c) => `dot(${qv(c)}, ${vec('in1', 'kr', c, kcs, E)})`).join(' + ')}) * ${f32(scale)};`
      : `${ind}var d = 0.0;\n${ind}for (var c = 0u; c < ${u32(E4)}; c++) { d += dot(${qv('c')}, ${vec('in1', 'kr', 'c', kcs, E)}); }\n${ind}var s = d * ${f32(scale)};`,
    ...(a.causal ? [`${ind}if (j > row) { s = neg_inf(); }`] : []),
    ...(m && m.dtype === 'bool' ? [`${ind}if (in3[mb + j * ${u32(ms[ms.length - 1])}] == 0.0) { s = neg_inf(); }`] : []),
    ...(m && m.dtype !== 'bool' ? [`${ind}s += in3[mb + j * ${u32(ms[ms.length - 1])}];`] : []),
  ];
  const lastRow = `min(wid.x * ${u32(SDPA_ROWS)} + ${u32(SDPA_ROWS - 1)}, ${u32(L - 1)})`;
  lines.push(
    `@compute @workgroup_size(${SDPA_ROWS})`,
    'fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {',
    `  let r = wid.x * ${u32(SDPA_ROWS)} + lid.x;`,
    `  let row = min(r, ${u32(L - 1)});`,
    `  let bt = wid.y + wid.z * ${u32(MAX_GROUPS_PER_DIM)};`,
    `  if (bt >= ${u32(nb)}) { return; }`,
    `  let qb = q_at(bt) + row * ${u32(qrs)};`,
    '  let kb = k_at(bt);',
    '  let vb = v_at(bt);',
    ...(m ? [`  let mb = m_at(bt) + row * ${u32(ms[ms.length - 2])};`] : []),
    ...(unroll
      ? [...Array.from({ length: E4 }, (_, c) => `  let q${c} = ${vec('in0', 'qb', c, qcs, E)};`), ...Array.from({ length: V4 }, (_, c) => `  var a${c} = vec4f(0.0);`)]
      : [`  var q: array<vec4f, ${E4}>;`, `  for (var c = 0u; c < ${u32(E4)}; c++) { q[c] = ${vec('in0', 'qb', 'c', qcs, E)}; }`, `  var acc: array<vec4f, ${V4}>;`]),
    '  var m = neg_inf();',
    '  var l = 0.0;',
    // Keys past the workgroup's last row are all masked under `causal`: skip them (a uniform bound).
    `  let send = ${a.causal ? `min(${u32(S)}, ${lastRow} + 1u)` : u32(S)};`,
    '  for (var j = 0u; j < send; j++) {',
    ...score('    '),
    '    if (s > m) {',
    // A new running max: rescale what was accumulated (exp(-inf) = 0 at the first key).
    '      let alpha = exp(m - s);',
    '      l = l * alpha;',
    ...(W ? [] : over(V4, (c) => `${acc(c)} = ${acc(c)} * alpha;`).map((x) => '      ' + x)),
    '      m = s;',
    '    }',
    // A masked score adds nothing (and must not compute exp(-inf - -inf)).
    '    let p = select(exp(s - m), 0.0, isneginf_f32(s));',
    '    l += p;',
    ...(W
      ? []
      : [`    let vr = vb + j * ${u32(vrs)};`, ...over(V4, (c) => `${acc(c)} += p * ${unroll ? vec('in2', 'vr', c as number, vcs, Ev) : vec('in2', 'vr', 'c', vcs, Ev)};`).map((x) => '    ' + x)]),
    '  }',
    `  if (r >= ${u32(L)}) { return; }`,
  );
  if (W) {
    lines.push(
      `  let wb = (bt * ${u32(L)} + r) * ${u32(S)};`,
      `  for (var j = 0u; j < ${u32(S)}; j++) {`,
      // Keys skipped under causal have weight exactly 0 (nan for a row with no key at all, as torch).
      '    if (j >= send) { out1[wb + j] = 0.0 / l; continue; }',
      ...score('    '),
      '    let p = select(exp(s - m), 0.0, isneginf_f32(s)) / l;',
      '    out1[wb + j] = p;',
      `    let vr = vb + j * ${u32(vrs)};`,
      ...over(V4, (c) => `${acc(c)} += p * ${unroll ? vec('in2', 'vr', c as number, vcs, Ev) : vec('in2', 'vr', 'c', vcs, Ev)};`).map((x) => '    ' + x),
      '  }',
    );
  }
  const div = W ? '' : ' / l';
  lines.push(`  let ob = (bt * ${u32(L)} + r) * ${u32(Ev)};`);
  if (unroll) {
    for (let e = 0; e < Ev; e++) lines.push(`  out0[ob + ${u32(e)}] = a${e >> 2}[${e & 3}]${div};`);
  } else {
    lines.push(`  for (var e = 0u; e < ${u32(Ev)}; e++) { out0[ob + e] = acc[e / 4u][e % 4u]${div}; }`);
  }
  lines.push('}');
  const y = Math.min(nb, MAX_GROUPS_PER_DIM);
  return {
    code: lines.join('\n') + '\n',
    workgroups: [Math.ceil(L / SDPA_ROWS), y, Math.ceil(nb / MAX_GROUPS_PER_DIM)],
    invocations: SDPA_ROWS,
  };
}

/** Per-invocation register budget of the blocked kernel, in f32 values (q rows plus accumulators). */
const SDPA_BLOCK_FLOATS = 512;
/** Invocations per workgroup of the blocked kernel. */
const SDPA_BLOCK_WG = 32;

/** Whether `t`'s rows can be read as aligned vec4s: unit column stride, every other stride, the offset and the row length multiples of 4. */
function vec4Rows(t: TensorMeta, batchStrides: readonly number[], rowLen: number): boolean {
  const [rs, cs] = t.strides.slice(-2);
  return cs === 1 && rowLen % 4 === 0 && rs % 4 === 0 && t.offset % 4 === 0 && batchStrides.every((x) => x % 4 === 0);
}

/**
 * The fused kernel without weights, register-blocked for adapters where a
 * memory load costs far more than arithmetic (CPU adapters: lavapipe and
 * SwiftShader execute an invocation per SIMD lane and every storage load,
 * even a uniform one, as a per-lane gather — measured at ~50 cycles per
 * element against ~1 per multiply-add). Each invocation owns `R` query rows
 * (q and the output accumulator of each stay in registers), so every key
 * and value element loaded serves `R` rows instead of one; keys and values
 * are read as vec4 when their rows are aligned (4× fewer loads), else as
 * scalars. Softmax is the same online form as the one-row kernel (rescale
 * only when a row's running max grows), in the same order per row, so the
 * results are the same to rounding. `R` is the largest that keeps q and the
 * accumulators within `SDPA_BLOCK_FLOATS` per invocation.
 */
function sdpaBlockedProgram(inputs: readonly TensorMeta[], a: SdpaAttrs, outputs: readonly Spec[]): GpuProgram {
  const { q, k, v, m, L, E, S, Ev, batch, nb, scale, bst, qrs, qcs, krs, kcs, vrs, vcs, ms } = sdpaGeometry(inputs, a, outputs);
  const E4 = Math.ceil(E / 4);
  const V4 = Math.ceil(Ev / 4);
  const R = Math.max(1, Math.min(8, Math.floor(SDPA_BLOCK_FLOATS / (4 * (E4 + V4))), Math.ceil(L / SDPA_BLOCK_WG)));
  const rowsPerGroup = R * SDPA_BLOCK_WG;
  const kv4 = vec4Rows(k, bst(k), E);
  const vv4 = vec4Rows(v, bst(v), Ev);
  const ov4 = Ev % 4 === 0;
  const firstOut = m ? 4 : 3;
  const rows = Array.from({ length: R }, (_, r) => r);
  const scalarVec = (buf: string, base: string, c: number, stride: number, size: number) =>
    `vec4f(${[0, 1, 2, 3].map((j) => (c * 4 + j < size ? `${buf}[${base} + ${u32((c * 4 + j) * stride)}]` : '0.0')).join(', ')})`;
  const lines: string[] = [
    '@group(0) @binding(0) var<storage, read> in0: array<f32>;',
    `@group(0) @binding(1) var<storage, read> in1: array<${kv4 ? 'vec4f' : 'f32'}>;`,
    `@group(0) @binding(2) var<storage, read> in2: array<${vv4 ? 'vec4f' : 'f32'}>;`,
    ...(m ? ['@group(0) @binding(3) var<storage, read> in3: array<f32>;'] : []),
    `@group(0) @binding(${firstOut}) var<storage, read_write> out0: array<${ov4 ? 'vec4f' : 'f32'}>;`,
    MATH_WGSL,
    stridedIndexFn('q_at', batch, bst(q), q.offset),
    stridedIndexFn('k_at', batch, bst(k), k.offset),
    stridedIndexFn('v_at', batch, bst(v), v.offset),
    ...(m ? [stridedIndexFn('m_at', batch, ms.slice(0, -2), m.offset)] : []),
    `@compute @workgroup_size(${SDPA_BLOCK_WG})`,
    'fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {',
    // Rows r0 + i * WG for i < R: a workgroup's invocations cover consecutive rows in each slot.
    `  let r0 = wid.x * ${u32(rowsPerGroup)} + lid.x;`,
    `  let bt = wid.y + wid.z * ${u32(MAX_GROUPS_PER_DIM)};`,
    `  if (bt >= ${u32(nb)}) { return; }`,
    '  let qb = q_at(bt);',
    `  let kb = k_at(bt)${kv4 ? ' / 4u' : ''};`,
    `  let vb = v_at(bt)${vv4 ? ' / 4u' : ''};`,
    ...(m ? ['  let mb = m_at(bt);'] : []),
  ];
  for (const r of rows) {
    lines.push(`  let row${r} = min(r0 + ${u32(r * SDPA_BLOCK_WG)}, ${u32(L - 1)});`, `  let qr${r} = qb + row${r} * ${u32(qrs)};`);
    for (let c = 0; c < E4; c++) lines.push(`  let q${r}_${c} = ${scalarVec('in0', `qr${r}`, c, qcs, E)};`);
    for (let c = 0; c < V4; c++) lines.push(`  var a${r}_${c} = vec4f(0.0);`);
    lines.push(`  var m${r} = neg_inf();`, `  var l${r} = 0.0;`);
    if (m) lines.push(`  let mr${r} = mb + row${r} * ${u32(ms[ms.length - 2])};`);
  }
  const lastRow = `min(wid.x * ${u32(rowsPerGroup)} + ${u32(rowsPerGroup - 1)}, ${u32(L - 1)})`;
  lines.push(`  let send = ${a.causal ? `min(${u32(S)}, ${lastRow} + 1u)` : u32(S)};`, '  for (var j = 0u; j < send; j++) {');
  lines.push(kv4 ? `    let kr = kb + j * ${u32(krs / 4)};` : `    let kr = kb + j * ${u32(krs)};`);
  for (let c = 0; c < E4; c++) lines.push(`    let k${c} = ${kv4 ? `in1[kr + ${u32(c)}]` : scalarVec('in1', 'kr', c, kcs, E)};`);
  for (const r of rows) {
    lines.push(`    var s${r} = (${Array.from({ length: E4 }, (_, c) => `dot(q${r}_${c}, k${c})`).join(' + ')}) * ${f32(scale)};`);
    if (a.causal) lines.push(`    if (j > row${r}) { s${r} = neg_inf(); }`);
    if (m && m.dtype === 'bool') lines.push(`    if (in3[mr${r} + j * ${u32(ms[ms.length - 1])}] == 0.0) { s${r} = neg_inf(); }`);
    if (m && m.dtype !== 'bool') lines.push(`    s${r} += in3[mr${r} + j * ${u32(ms[ms.length - 1])}];`);
    lines.push(
      `    if (s${r} > m${r}) {`,
      `      let alpha = exp(m${r} - s${r});`,
      `      l${r} = l${r} * alpha;`,
      ...Array.from({ length: V4 }, (_, c) => `      a${r}_${c} = a${r}_${c} * alpha;`),
      `      m${r} = s${r};`,
      '    }',
      // A masked score adds nothing (and must not compute exp(-inf - -inf)).
      `    let p${r} = select(exp(s${r} - m${r}), 0.0, isneginf_f32(s${r}));`,
      `    l${r} += p${r};`,
    );
  }
  lines.push(vv4 ? `    let vr = vb + j * ${u32(vrs / 4)};` : `    let vr = vb + j * ${u32(vrs)};`);
  for (let c = 0; c < V4; c++) lines.push(`    let v${c} = ${vv4 ? `in2[vr + ${u32(c)}]` : scalarVec('in2', 'vr', c, vcs, Ev)};`);
  for (const r of rows) for (let c = 0; c < V4; c++) lines.push(`    a${r}_${c} += p${r} * v${c};`);
  lines.push('  }');
  for (const r of rows) {
    lines.push(`  if (r0 + ${u32(r * SDPA_BLOCK_WG)} < ${u32(L)}) {`);
    if (ov4) {
      lines.push(`    let ob = (bt * ${u32(L)} + row${r}) * ${u32(V4)};`);
      for (let c = 0; c < V4; c++) lines.push(`    out0[ob + ${u32(c)}] = a${r}_${c} / l${r};`);
    } else {
      lines.push(`    let ob = (bt * ${u32(L)} + row${r}) * ${u32(Ev)};`);
      for (let e = 0; e < Ev; e++) lines.push(`    out0[ob + ${u32(e)}] = a${r}_${e >> 2}[${e & 3}] / l${r};`);
    }
    lines.push('  }');
  }
  lines.push('}');
  const y = Math.min(nb, MAX_GROUPS_PER_DIM);
  return {
    code: lines.join('\n') + '\n',
    workgroups: [Math.ceil(L / rowsPerGroup), y, Math.ceil(nb / MAX_GROUPS_PER_DIM)],
    invocations: SDPA_BLOCK_WG,
  };
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

function sdpaFast(inputs: readonly CpuView[], a: SdpaAttrs, outs: Float32Array[], wk: WasmKernels): void {
  const [q, k, v, m] = inputs;
  const [L, E] = q.shape.slice(-2);
  const S = k.shape[k.shape.length - 2];
  const Ev = v.shape[v.shape.length - 1];
  const batch = broadcastShapes(broadcastShapes(q.shape.slice(0, -2), k.shape.slice(0, -2)), v.shape.slice(0, -2));
  const nb = numel(batch);
  if (nb * L * Ev === 0 || S === 0 || E === 0) {
    // Degenerate sizes (no keys: 0/0 = nan rows): the reference's arithmetic, nothing to speed up.
    sdpa.cpu(inputs, a, outs);
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
    const [rq, rk, rv, ro, rm, rw] = wk.arena([sq ? sq.floats : L * E, sk ? sk.floats : S * E, sv ? sv.floats : S * Ev, L * Ev, m ? L * S : 0, wk.fn.flashWorkFloats(L, S, E, Ev)]);
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
      wk.fn.flashAttention(qp, sq ? qrs : E, kp, sk ? krs : E, vp, sv ? vrs : Ev, ro.ptr, L, S, E, Ev, scale, a.causal ? 1 : 0, m ? rm.ptr : 0, rw.ptr);
      out.set(ro.f32, b * L * Ev);
    }
    wk.done();
    return;
  }
  // The path that materialises the weights: the reference's steps on the WASM kernels.
  const [rq, rk, rv, rs, ro, rw] = wk.arena([L * E, S * E, S * Ev, L * S, L * Ev, wk.fn.gemmWorkFloats()]);
  const sc = rs.f32;
  for (let b = 0; b < nb; b++) {
    pack(q.data, qo[b], L, E, qrs, qcs, rq.f32);
    pack(k.data, ko[b], S, E, krs, kcs, rk.f32);
    pack(v.data, vo[b], S, Ev, vrs, vcs, rv.f32);
    wk.fn.gemm(rq.ptr, E, 1, rk.ptr, 1, E, rs.ptr, S, L, S, E, rw.ptr); // Q·Kᵀ: Kᵀ read through strides
    if (mo && m) {
      // Masks are applied here, after scaling, exactly as the reference does; the softmax then scales by 1.
      const d = m.data;
      const base = b * L * S;
      for (let i = 0; i < L * S; i++) {
        const s = sc[i] * scale;
        const mv = d[mo[base + i]];
        sc[i] = m.dtype === 'bool' ? (mv === 0 ? -Infinity : s) : s + mv;
      }
      wk.fn.softmaxRows(rs.ptr, L, S, 1, 0);
    } else {
      wk.fn.softmaxRows(rs.ptr, L, S, scale, a.causal ? 1 : 0);
    }
    wk.fn.gemm(rs.ptr, S, 1, rv.ptr, Ev, 1, ro.ptr, Ev, L, Ev, S, rw.ptr);
    out.set(ro.f32, b * L * Ev);
    weights.set(sc, b * L * S);
  }
  wk.done();
}
