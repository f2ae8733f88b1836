/**
 * The benchmark workloads as ONNX models for onnxruntime-web, built from the
 * exact inputs and state dict our runtime uses (scripts/bench-runtime/workloads.ts),
 * with the graph torch.onnx.export would write for the same modules: MatMul,
 * Softmax, Conv, MaxPool, BatchNormalization, Transpose, Reshape, Mul, Add.
 * Linear weights are stored pre-transposed (as exported models store them) and
 * the MHA input projection is split into its query, key and value thirds, so
 * no node runs that a exported model would not; the ViT layer keeps timm's one
 * qkv projection and takes q, k and v apart with Gather, as its export does.
 * Layout is torch's (NCHW).
 */

import { VIT, type HostTensor, type WorkloadId, type WorkloadInstance } from './workloads';
import { OnnxGraph } from './onnx';

/** A serialized model whose inputs are named as `WorkloadInstance.inputs`, and its output's name. */
export interface OnnxWorkload {
  readonly model: Uint8Array;
  readonly output: string;
}

/** A (rows, cols) matrix transposed, optionally only rows [r0, r1). */
function transposed(t: HostTensor, r0 = 0, r1 = t.shape[0]): Float32Array {
  const cols = t.shape[1];
  const rows = r1 - r0;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = t.data[(r0 + r) * cols + c];
  return out;
}

function slice(t: HostTensor, from: number, to: number): Float32Array {
  return t.data.slice(from, to);
}

function conv1x1(g: OnnxGraph, x: string, p: Readonly<Record<string, HostTensor>>, key: string): string {
  const w = p[`${key}.weight`];
  const b = p[`${key}.bias`];
  return g.op('Conv', [x, g.constant(`${key}.weight`, w.shape, w.data), g.constant(`${key}.bias`, b.shape, b.data)], { kernel_shape: { ints: [1, 1] } });
}

function attention(w: WorkloadInstance): OnnxWorkload {
  const g = new OnnxGraph();
  const [, l, d] = w.inputs.q.shape;
  const q = g.input('q', w.inputs.q.shape);
  const k = g.input('k', w.inputs.k.shape);
  const v = g.input('v', w.inputs.v.shape);
  const scores = g.op('Mul', [g.op('MatMul', [q, g.op('Transpose', [k], { perm: { ints: [0, 2, 1] } })]), g.constant('scale', [], new Float32Array([1 / Math.sqrt(d)]))]);
  g.op('MatMul', [g.op('Softmax', [scores], { axis: { i: -1 } }), v], {}, 'out');
  g.output('out', [1, l, d]);
  return { model: g.toModel('attention'), output: 'out' };
}

function mha(w: WorkloadInstance): OnnxWorkload {
  const g = new OnnxGraph();
  const [b, l, e] = w.inputs.x.shape;
  const h = 8;
  const hd = e / h;
  const x = g.input('x', w.inputs.x.shape);
  const wIn = w.params.in_proj_weight;
  const bIn = w.params.in_proj_bias;
  const heads = g.constantInt64('heads_shape', [b, l, h, hd]);
  const project = (name: string, i: number) => {
    const y = g.op('Add', [g.op('MatMul', [x, g.constant(`${name}_w`, [e, e], transposed(wIn, i * e, (i + 1) * e))]), g.constant(`${name}_b`, [e], slice(bIn, i * e, (i + 1) * e))]);
    return g.op('Reshape', [y, heads]); // (B, L, H, hd)
  };
  const q = g.op('Transpose', [project('q', 0)], { perm: { ints: [0, 2, 1, 3] } }); // (B, H, L, hd)
  const kT = g.op('Transpose', [project('k', 1)], { perm: { ints: [0, 2, 3, 1] } }); // (B, H, hd, L)
  const v = g.op('Transpose', [project('v', 2)], { perm: { ints: [0, 2, 1, 3] } });
  const scores = g.op('Mul', [g.op('MatMul', [q, kT]), g.constant('scale', [], new Float32Array([1 / Math.sqrt(hd)]))]);
  const ctx = g.op('MatMul', [g.op('Softmax', [scores], { axis: { i: -1 } }), v]); // (B, H, L, hd)
  const merged = g.op('Reshape', [g.op('Transpose', [ctx], { perm: { ints: [0, 2, 1, 3] } }), g.constantInt64('merged_shape', [b, l, e])]);
  const wOut = w.params['out_proj.weight'];
  const bOut = w.params['out_proj.bias'];
  g.op('Add', [g.op('MatMul', [merged, g.constant('out_w', [e, e], transposed(wOut))]), g.constant('out_b', [e], bOut.data)], {}, 'out');
  g.output('out', [b, l, e]);
  return { model: g.toModel('mha'), output: 'out' };
}

function sagan(w: WorkloadInstance): OnnxWorkload {
  const g = new OnnxGraph();
  const [n, c, hh, ww] = w.inputs.x.shape;
  const hw = hh * ww;
  const p = w.params;
  const x = g.input('x', w.inputs.x.shape);
  const ck = p['query_conv.weight'].shape[0];
  const query = g.op('Transpose', [g.op('Reshape', [conv1x1(g, x, p, 'query_conv'), g.constantInt64('qk_shape', [n, ck, hw])])], { perm: { ints: [0, 2, 1] } }); // (N, HW, C/k)
  const key = g.op('Reshape', [conv1x1(g, x, p, 'key_conv'), 'qk_shape']); // (N, C/k, HW)
  const attn = g.op('Softmax', [g.op('MatMul', [query, key])], { axis: { i: -1 } }); // (N, HW, HW)
  const value = g.op('Reshape', [conv1x1(g, x, p, 'value_conv'), g.constantInt64('v_shape', [n, c, hw])]); // (N, C, HW)
  const out = g.op('Reshape', [g.op('MatMul', [value, g.op('Transpose', [attn], { perm: { ints: [0, 2, 1] } })]), g.constantInt64('x_shape', [n, c, hh, ww])]);
  g.op('Add', [g.op('Mul', [g.constant('gamma', [1], p.gamma.data), out]), x], {}, 'out');
  g.output('out', w.inputs.x.shape);
  return { model: g.toModel('sagan'), output: 'out' };
}

function nonLocal(w: WorkloadInstance): OnnxWorkload {
  const g = new OnnxGraph();
  const [n, c, hh, ww] = w.inputs.x.shape;
  const p = w.params;
  const ci = p['theta.weight'].shape[0];
  const m = (hh / 2) * (ww / 2);
  const x = g.input('x', w.inputs.x.shape);
  const pool = (t: string) => g.op('MaxPool', [t], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } });
  const gx = g.op('Transpose', [g.op('Reshape', [pool(conv1x1(g, x, p, 'g.0')), g.constantInt64('pooled_shape', [n, ci, m])])], { perm: { ints: [0, 2, 1] } }); // (N, M, C1)
  const theta = g.op('Transpose', [g.op('Reshape', [conv1x1(g, x, p, 'theta'), g.constantInt64('theta_shape', [n, ci, hh * ww])])], { perm: { ints: [0, 2, 1] } }); // (N, HW, C1)
  const phi = g.op('Reshape', [pool(conv1x1(g, x, p, 'phi.0')), 'pooled_shape']); // (N, C1, M)
  const attn = g.op('Softmax', [g.op('MatMul', [theta, phi])], { axis: { i: -1 } }); // (N, HW, M)
  const y = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [attn, gx])], { perm: { ints: [0, 2, 1] } }), g.constantInt64('y_shape', [n, ci, hh, ww])]);
  const bnIn = [p['W.1.weight'], p['W.1.bias'], p['W.1.running_mean'], p['W.1.running_var']].map((t, i) => g.constant(`bn${i}`, t.shape, t.data));
  const bn = g.op('BatchNormalization', [conv1x1(g, y, p, 'W.0'), ...bnIn], { epsilon: { f: 1e-5 } });
  g.op('Add', [bn, x], {}, 'out');
  g.output('out', [n, c, hh, ww]);
  return { model: g.toModel('nonlocal'), output: 'out' };
}

function vit(w: WorkloadInstance): OnnxWorkload {
  const g = new OnnxGraph();
  const [b, n, e] = w.inputs.x.shape;
  const h = VIT.heads;
  const hd = e / h;
  const x = g.input('x', w.inputs.x.shape);
  const p = w.params;
  const qkv = g.op('Add', [g.op('MatMul', [x, g.constant('qkv_w', [e, 3 * e], transposed(p['qkv.weight']))]), g.constant('qkv_b', [3 * e], p['qkv.bias'].data)]);
  const heads = g.op('Transpose', [g.op('Reshape', [qkv, g.constantInt64('qkv_shape', [b, n, 3, h, hd])])], { perm: { ints: [2, 0, 3, 1, 4] } }); // (3, B, H, N, hd)
  const [q, k, v] = [0, 1, 2].map((i) => g.op('Gather', [heads, g.constantInt64(`index${i}`, [i], [])], { axis: { i: 0 } })); // (B, H, N, hd)
  const scores = g.op('Mul', [g.op('MatMul', [q, g.op('Transpose', [k], { perm: { ints: [0, 1, 3, 2] } })]), g.constant('scale', [], new Float32Array([1 / Math.sqrt(hd)]))]);
  const ctx = g.op('MatMul', [g.op('Softmax', [scores], { axis: { i: -1 } }), v]); // (B, H, N, hd)
  const merged = g.op('Reshape', [g.op('Transpose', [ctx], { perm: { ints: [0, 2, 1, 3] } }), g.constantInt64('merged_shape', [b, n, e])]);
  g.op('Add', [g.op('MatMul', [merged, g.constant('proj_w', [e, e], transposed(p['proj.weight']))]), g.constant('proj_b', [e], p['proj.bias'].data)], {}, 'out');
  g.output('out', [b, n, e]);
  return { model: g.toModel('vit'), output: 'out' };
}

export const ONNX_MODELS: Readonly<Record<WorkloadId, (w: WorkloadInstance) => OnnxWorkload>> = { attention, mha, sagan, nonlocal: nonLocal, vit };
