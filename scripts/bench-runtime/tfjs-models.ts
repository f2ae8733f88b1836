/**
 * The benchmark workloads as TensorFlow.js programs (tfjs-core ops: matMul,
 * softmax, fused conv2d, maxPool, batchNorm, reshape, transpose), built from
 * the exact inputs and state dict our runtime uses
 * (scripts/bench-runtime/workloads.ts). The convolutional blocks run in
 * TensorFlow's native NHWC layout, as a tfjs user would write them: the input
 * is transposed to NHWC once, outside the timed call, and the result back to
 * NCHW for the agreement check. Weights are uploaded once per backend; each
 * `run()` is one forward pass whose intermediates the caller frees with
 * `tf.tidy`.
 */

import * as tf from '@tensorflow/tfjs-core';
import { VIT, type HostTensor, type WorkloadId, type WorkloadInstance } from './workloads';

export interface TfjsWorkload {
  /** One forward pass on the active backend (call inside `tf.tidy`). */
  run(): tf.Tensor;
  /** The result's values in our (torch) layout. */
  toTorchLayout(data: Float32Array): Float32Array;
  /** Frees the uploaded inputs and weights. */
  dispose(): void;
}

/** NCHW host data to NHWC. */
function nchwToNhwc(t: HostTensor): Float32Array {
  const [n, c, h, w] = t.shape;
  const out = new Float32Array(t.data.length);
  for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) for (let i = 0; i < h * w; i++) out[(b * h * w + i) * c + ch] = t.data[(b * c + ch) * h * w + i];
  return out;
}

function nhwcToNchw(data: Float32Array, [n, c, h, w]: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) for (let i = 0; i < h * w; i++) out[(b * c + ch) * h * w + i] = data[(b * h * w + i) * c + ch];
  return out;
}

/** A torch (out, in) matrix, optionally rows [r0, r1), as the (in, out) operand of `x @ W^T`. */
function linearWeight(t: HostTensor, r0 = 0, r1 = t.shape[0]): tf.Tensor2D {
  const cols = t.shape[1];
  const rows = r1 - r0;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = t.data[(r0 + r) * cols + c];
  return tf.tensor2d(out, [cols, rows]);
}

/** A torch 1×1 conv weight (out, in, 1, 1) as a tfjs filter (1, 1, in, out). */
function convFilter(t: HostTensor): tf.Tensor4D {
  const [o, i] = t.shape;
  const out = new Float32Array(o * i);
  for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) out[b * o + a] = t.data[a * i + b];
  return tf.tensor4d(out, [1, 1, i, o]);
}

function hostTensor(t: HostTensor): tf.Tensor {
  return tf.tensor(t.data, [...t.shape]);
}

function conv(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor): tf.Tensor4D {
  return tf.fused.conv2d({ x, filter, strides: 1, pad: 'valid', bias });
}

function attention(w: WorkloadInstance): TfjsWorkload {
  const [q, k, v] = [w.inputs.q, w.inputs.k, w.inputs.v].map(hostTensor) as tf.Tensor3D[];
  const scale = tf.scalar(1 / Math.sqrt(w.inputs.q.shape[2]));
  return {
    run: () => tf.matMul(tf.softmax(tf.mul(tf.matMul(q, k, false, true), scale)), v),
    toTorchLayout: (d) => d,
    dispose: () => tf.dispose([q, k, v, scale]),
  };
}

function mha(w: WorkloadInstance): TfjsWorkload {
  const [b, l, e] = w.inputs.x.shape;
  const h = 8;
  const hd = e / h;
  const x = hostTensor(w.inputs.x) as tf.Tensor3D;
  const wIn = w.params.in_proj_weight;
  const bIn = w.params.in_proj_bias.data;
  const proj = [0, 1, 2].map((i) => ({ w: linearWeight(wIn, i * e, (i + 1) * e), b: tf.tensor1d(bIn.slice(i * e, (i + 1) * e)) }));
  const wOut = linearWeight(w.params['out_proj.weight']);
  const bOut = tf.tensor1d(w.params['out_proj.bias'].data);
  const scale = tf.scalar(1 / Math.sqrt(hd));
  return {
    run: () => {
      const [q, k, v] = proj.map((p) => tf.transpose(tf.reshape(tf.add(tf.matMul(x, p.w), p.b), [b, l, h, hd]), [0, 2, 1, 3]) as tf.Tensor4D);
      const attn = tf.softmax(tf.mul(tf.matMul(q, k, false, true), scale));
      const ctx = tf.reshape(tf.transpose(tf.matMul(attn, v), [0, 2, 1, 3]), [b, l, e]) as tf.Tensor3D;
      return tf.add(tf.matMul(ctx, wOut), bOut);
    },
    toTorchLayout: (d) => d,
    dispose: () => tf.dispose([x, wOut, bOut, scale, ...proj.flatMap((p) => [p.w, p.b])]),
  };
}

function sagan(w: WorkloadInstance): TfjsWorkload {
  const [n, c, hh, ww] = w.inputs.x.shape;
  const hw = hh * ww;
  const p = w.params;
  const x = tf.tensor4d(nchwToNhwc(w.inputs.x), [n, hh, ww, c]);
  const convs = ['query_conv', 'key_conv', 'value_conv'].map((k) => ({ f: convFilter(p[`${k}.weight`]), b: tf.tensor1d(p[`${k}.bias`].data) }));
  const gamma = tf.scalar(p.gamma.data[0]);
  return {
    run: () => {
      const [q, k, v] = convs.map((cv) => tf.reshape(conv(x, cv.f, cv.b), [n, hw, -1]) as tf.Tensor3D); // (N, HW, C')
      const attn = tf.softmax(tf.matMul(q, k, false, true)); // (N, HW, HW), over the keys
      const out = tf.reshape(tf.matMul(attn, v), [n, hh, ww, c]); // row i = sum_j attn[i, j] v_j
      return tf.add(tf.mul(gamma, out), x);
    },
    toTorchLayout: (d) => nhwcToNchw(d, [n, c, hh, ww]),
    dispose: () => tf.dispose([x, gamma, ...convs.flatMap((cv) => [cv.f, cv.b])]),
  };
}

function nonLocal(w: WorkloadInstance): TfjsWorkload {
  const [n, c, hh, ww] = w.inputs.x.shape;
  const p = w.params;
  const x = tf.tensor4d(nchwToNhwc(w.inputs.x), [n, hh, ww, c]);
  const cv = (k: string) => ({ f: convFilter(p[`${k}.weight`]), b: tf.tensor1d(p[`${k}.bias`].data) });
  const [cg, ct, cp, cw] = ['g.0', 'theta', 'phi.0', 'W.0'].map(cv);
  const ci = p['theta.weight'].shape[0];
  const [scale, offset, mean, variance] = ['W.1.weight', 'W.1.bias', 'W.1.running_mean', 'W.1.running_var'].map((k) => tf.tensor1d(p[k].data));
  return {
    run: () => {
      const gx = tf.reshape(tf.maxPool(conv(x, cg.f, cg.b), 2, 2, 'valid'), [n, -1, ci]) as tf.Tensor3D; // (N, M, C1)
      const theta = tf.reshape(conv(x, ct.f, ct.b), [n, -1, ci]) as tf.Tensor3D; // (N, HW, C1)
      const phi = tf.reshape(tf.maxPool(conv(x, cp.f, cp.b), 2, 2, 'valid'), [n, -1, ci]) as tf.Tensor3D; // (N, M, C1)
      const attn = tf.softmax(tf.matMul(theta, phi, false, true)); // (N, HW, M)
      const y = tf.reshape(tf.matMul(attn, gx), [n, hh, ww, ci]) as tf.Tensor4D;
      return tf.add(tf.batchNorm(conv(y, cw.f, cw.b), mean, variance, offset, scale, 1e-5), x);
    },
    toTorchLayout: (d) => nhwcToNchw(d, [n, c, hh, ww]),
    dispose: () => tf.dispose([x, scale, offset, mean, variance, ...[cg, ct, cp, cw].flatMap((k) => [k.f, k.b])]),
  };
}

/** timm's ViT attention: one qkv projection, heads by reshape and transpose, unstacked into q, k and v. */
function vit(w: WorkloadInstance): TfjsWorkload {
  const [b, n, e] = w.inputs.x.shape;
  const h = VIT.heads;
  const hd = e / h;
  const x = hostTensor(w.inputs.x) as tf.Tensor3D;
  const wQkv = linearWeight(w.params['qkv.weight']);
  const bQkv = tf.tensor1d(w.params['qkv.bias'].data);
  const wProj = linearWeight(w.params['proj.weight']);
  const bProj = tf.tensor1d(w.params['proj.bias'].data);
  const scale = tf.scalar(1 / Math.sqrt(hd));
  return {
    run: () => {
      const qkv = tf.transpose(tf.reshape(tf.add(tf.matMul(x, wQkv), bQkv), [b, n, 3, h, hd]), [2, 0, 3, 1, 4]);
      const [q, k, v] = tf.unstack(qkv) as tf.Tensor4D[]; // (B, H, N, hd)
      const attn = tf.softmax(tf.mul(tf.matMul(q, k, false, true), scale));
      const ctx = tf.reshape(tf.transpose(tf.matMul(attn, v), [0, 2, 1, 3]), [b, n, e]) as tf.Tensor3D;
      return tf.add(tf.matMul(ctx, wProj), bProj);
    },
    toTorchLayout: (d) => d,
    dispose: () => tf.dispose([x, wQkv, bQkv, wProj, bProj, scale]),
  };
}

export const TFJS_MODELS: Readonly<Record<WorkloadId, (w: WorkloadInstance) => TfjsWorkload>> = { attention, mha, sagan, nonlocal: nonLocal, vit };
