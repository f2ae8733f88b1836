/**
 * Every kernel's WGSL against its CPU reference on a real WebGPU device
 * (Dawn on lavapipe, in a child process: see `test/helpers/webgpu.ts`), over
 * contiguous, offset, permuted and broadcast (stride-0) inputs, within the
 * kernel's stated WebGPU tolerance. The torch goldens check both backends
 * against PyTorch; this suite pins the GPU to the reference over layouts the
 * goldens do not enumerate. Also: device limits are refused before dispatch
 * with a clear error, and buffers are pooled.
 */

import * as assert from 'node:assert/strict';
import type { DType, TensorMeta } from '../../src/runtime/backend';
import { contiguousStrides, numel, type CpuView } from '../../src/runtime/kernels/kernel';
import { getKernel } from '../../src/runtime/kernels/registry';
import { WebGpuChild } from '../helpers/webgpu';
import type { ViewData } from '../helpers/webgpu-tasks';
import { rng } from './rng.helpers';

type Layout = 'contiguous' | 'offset' | 'transposed' | { expand: number[] };

interface InputSpec {
  shape: number[];
  layout?: Layout;
  dtype?: DType;
  /** 'randn' (default), 'bool', 'int:N' (0..N-1), 'pos' (positive, for log/sqrt), 'mask' (bool with a fully masked row avoided). */
  fill?: string;
}

interface Case {
  kernel: string;
  title: string;
  inputs: InputSpec[];
  attrs: unknown;
}

function fillValues(n: number, fill: string, r: () => number): Float32Array {
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (fill === 'bool') d[i] = r() < 0.5 ? 1 : 0;
    else if (fill === 'mask') d[i] = r() < 0.8 ? 1 : 0;
    else if (fill.startsWith('int:')) d[i] = Math.floor(r() * Number(fill.slice(4)));
    else if (fill === 'pos') d[i] = 0.1 + 3 * r();
    else {
      // Box–Muller normal values.
      const u = Math.max(r(), 1e-12);
      d[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
    }
  }
  return d;
}

/** A view of `spec.shape` laid out as asked, over a storage filled with values. */
function makeView(spec: InputSpec, r: () => number): ViewData {
  const dtype = spec.dtype ?? (spec.fill === 'bool' || spec.fill === 'mask' ? 'bool' : spec.fill?.startsWith('int:') ? 'int64' : 'float32');
  const fill = spec.fill ?? 'randn';
  const shape = spec.shape;
  const layout = spec.layout ?? 'contiguous';
  if (layout === 'contiguous') return { data: fillValues(numel(shape), fill, r), shape, strides: contiguousStrides(shape), offset: 0, dtype };
  if (layout === 'offset') return { data: fillValues(numel(shape) + 5, fill, r), shape, strides: contiguousStrides(shape), offset: 5, dtype };
  if (layout === 'transposed') {
    // A contiguous tensor of the last two dims swapped, viewed transposed.
    const nd = shape.length;
    const base = [...shape.slice(0, -2), shape[nd - 1], shape[nd - 2]];
    const st = contiguousStrides(base);
    const strides = [...st.slice(0, -2), st[nd - 1], st[nd - 2]];
    return { data: fillValues(numel(base), fill, r), shape, strides, offset: 0, dtype };
  }
  // Expanded: the listed dims have stride 0 over a storage that holds one slice.
  const small = shape.map((s, i) => (layout.expand.includes(i) ? 1 : s));
  const st = contiguousStrides(small).map((s, i) => (layout.expand.includes(i) ? 0 : s));
  return { data: fillValues(numel(small), fill, r), shape, strides: st, offset: 0, dtype };
}

const CASES: Case[] = [
  { kernel: 'copy', title: 'transposed 3-D', inputs: [{ shape: [3, 5, 7], layout: 'transposed' }], attrs: {} },
  { kernel: 'copy', title: 'expanded to bool', inputs: [{ shape: [4, 6, 5], layout: { expand: [1] } }], attrs: { dtype: 'bool' } },
  { kernel: 'copy', title: 'offset to int64', inputs: [{ shape: [17], layout: 'offset' }], attrs: { dtype: 'int64' } },
  ...(['neg', 'abs', 'exp', 'sigmoid', 'relu', 'tanh', 'gelu', 'gelu_tanh', 'hardswish', 'silu', 'logical_not'] as const).map((op) => ({
    kernel: 'unary', title: op, inputs: [{ shape: [5, 33], layout: 'transposed' as const }], attrs: { op },
  })),
  ...(['log', 'sqrt', 'rsqrt'] as const).map((op) => ({ kernel: 'unary', title: op, inputs: [{ shape: [130], fill: 'pos' }], attrs: { op } })),
  ...(['add_s', 'mul_s', 'sub_s', 'rsub_s', 'div_s', 'rdiv_s', 'max_s', 'min_s', 'gt_s', 'le_s', 'eq_s'] as const).map((op) => ({
    kernel: 'unary', title: `${op} 0.75`, inputs: [{ shape: [3, 4, 5], layout: 'offset' as const }], attrs: { op, scalar: 0.75 },
  })),
  { kernel: 'unary', title: 'pow_s 2 on negatives', inputs: [{ shape: [40] }], attrs: { op: 'pow_s', scalar: 2 } },
  { kernel: 'unary', title: 'pow_s 3 on negatives', inputs: [{ shape: [40] }], attrs: { op: 'pow_s', scalar: 3 } },
  { kernel: 'unary', title: 'pow_s 0.5', inputs: [{ shape: [40], fill: 'pos' }], attrs: { op: 'pow_s', scalar: 0.5 } },
  ...(['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'lt', 'ge', 'eq'] as const).map((op) => ({
    kernel: 'binary', title: `${op} broadcast`, inputs: [{ shape: [2, 1, 6] }, { shape: [5, 1] }], attrs: { op },
  })),
  { kernel: 'binary', title: 'add transposed + expanded', inputs: [{ shape: [4, 8, 6], layout: 'transposed' }, { shape: [4, 8, 6], layout: { expand: [0, 2] } }], attrs: { op: 'add' } },
  { kernel: 'binary', title: 'logical_xor bools', inputs: [{ shape: [7, 3], fill: 'bool' }, { shape: [3], fill: 'bool' }], attrs: { op: 'logical_xor' } },
  { kernel: 'binary', title: 'pow int64', inputs: [{ shape: [9], fill: 'int:4' }, { shape: [9], fill: 'int:3' }], attrs: { op: 'pow' } },
  { kernel: 'masked_fill', title: '-inf under a broadcast mask', inputs: [{ shape: [2, 3, 4] }, { shape: [3, 1], fill: 'bool' }], attrs: { value: -Infinity } },
  { kernel: 'masked_fill', title: 'finite value', inputs: [{ shape: [2, 3, 4], layout: 'transposed' }, { shape: [2, 3, 4], fill: 'bool' }], attrs: { value: -1e9 } },
  { kernel: 'where', title: 'three-way broadcast', inputs: [{ shape: [3, 1, 5], fill: 'bool' }, { shape: [4, 5] }, { shape: [1] }], attrs: {} },
  { kernel: 'matmul', title: '2-D, odd sizes', inputs: [{ shape: [37, 19] }, { shape: [19, 23] }], attrs: {} },
  { kernel: 'matmul', title: 'wide (computed transposed)', inputs: [{ shape: [3, 40] }, { shape: [40, 70] }], attrs: {} },
  { kernel: 'matmul', title: 'batch broadcast, transposed operand', inputs: [{ shape: [2, 3, 9, 16] }, { shape: [3, 16, 12], layout: 'transposed' }], attrs: {} },
  { kernel: 'matmul', title: 'expanded batch, offset', inputs: [{ shape: [4, 5, 8], layout: { expand: [0] } }, { shape: [8, 6], layout: 'offset' }], attrs: {} },
  { kernel: 'matmul', title: 'tiled vec4 form (x @ Wᵀ), batched, edge blocks', inputs: [{ shape: [2, 37, 20] }, { shape: [20, 13], layout: 'transposed' }], attrs: {} },
  { kernel: 'matmul', title: 'tiled scalar form, one row, K not a multiple of 4', inputs: [{ shape: [1, 11] }, { shape: [11, 30] }], attrs: {} },
  { kernel: 'matmul', title: 'fused bias, vec4 form (linear), edge blocks', inputs: [{ shape: [37, 20] }, { shape: [20, 13], layout: 'transposed' }, { shape: [13] }], attrs: {} },
  { kernel: 'matmul', title: 'fused bias, scalar form, batched, offset bias', inputs: [{ shape: [2, 5, 11] }, { shape: [11, 30] }, { shape: [30], layout: 'offset' }], attrs: {} },
  { kernel: 'softmax', title: 'last dim', inputs: [{ shape: [3, 5, 33] }], attrs: { dim: -1, log: false } },
  { kernel: 'softmax', title: 'middle dim of a transposed view', inputs: [{ shape: [4, 6, 5], layout: 'transposed' }], attrs: { dim: 1, log: false } },
  { kernel: 'softmax', title: 'log_softmax dim 0', inputs: [{ shape: [7, 4] }], attrs: { dim: 0, log: true } },
  { kernel: 'reduce', title: 'sum over two dims', inputs: [{ shape: [3, 4, 5, 6] }], attrs: { op: 'sum', dims: [1, 3], keepdim: false } },
  { kernel: 'reduce', title: 'mean keepdim of a transposed view', inputs: [{ shape: [2, 70, 9], layout: 'transposed' }], attrs: { op: 'mean', dims: [-1], keepdim: true } },
  { kernel: 'reduce', title: 'mean of everything', inputs: [{ shape: [10, 300] }], attrs: { op: 'mean', dims: [], keepdim: false } },
  { kernel: 'reduce', title: 'amax', inputs: [{ shape: [5, 8] }], attrs: { op: 'amax', dims: [0], keepdim: false } },
  { kernel: 'reduce', title: 'max with indices', inputs: [{ shape: [5, 8, 3] }], attrs: { op: 'max', dims: [1], keepdim: true } },
  { kernel: 'reduce', title: 'min with indices', inputs: [{ shape: [6, 7] }], attrs: { op: 'min', dims: [-1], keepdim: false } },
  { kernel: 'layer_norm', title: 'affine over the last two dims', inputs: [{ shape: [3, 4, 5] }, { shape: [4, 5] }, { shape: [4, 5] }], attrs: { normalizedShape: [4, 5], eps: 1e-5, hasWeight: true, hasBias: true } },
  { kernel: 'layer_norm', title: 'no affine, transposed input', inputs: [{ shape: [6, 9], layout: 'transposed' }], attrs: { normalizedShape: [9], eps: 1e-6, hasWeight: false, hasBias: false } },
  { kernel: 'batch_norm', title: '2-D inference', inputs: [{ shape: [2, 3, 4, 5] }, { shape: [3] }, { shape: [3], fill: 'pos' }, { shape: [3] }, { shape: [3] }], attrs: { eps: 1e-5, hasWeight: true, hasBias: true } },
  { kernel: 'batch_norm', title: '1-D without affine', inputs: [{ shape: [4, 6] }, { shape: [6] }, { shape: [6], fill: 'pos' }], attrs: { eps: 1e-3, hasWeight: false, hasBias: false } },
  { kernel: 'conv', title: 'conv2d 3x3 pad 1 bias', inputs: [{ shape: [2, 3, 9, 11] }, { shape: [8, 3, 3, 3] }, { shape: [8] }], attrs: { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 } },
  { kernel: 'conv', title: 'conv2d 1x1 (SAGAN projections)', inputs: [{ shape: [1, 16, 8, 8] }, { shape: [4, 16, 1, 1] }, { shape: [4] }], attrs: { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 } },
  { kernel: 'conv', title: 'conv2d stride 2 dilation 2 groups 2', inputs: [{ shape: [1, 4, 13, 12] }, { shape: [6, 2, 3, 3] }], attrs: { stride: [2, 2], padding: [2, 1], dilation: [2, 2], groups: 2 } },
  { kernel: 'conv', title: 'conv1d depthwise (ECA-style)', inputs: [{ shape: [2, 6, 15] }, { shape: [6, 1, 5] }, { shape: [6] }], attrs: { stride: [1], padding: [2], dilation: [1], groups: 6 } },
  { kernel: 'conv', title: 'conv3d', inputs: [{ shape: [1, 2, 5, 6, 7] }, { shape: [3, 2, 3, 2, 3] }, { shape: [3] }], attrs: { stride: [1, 2, 1], padding: [1, 0, 1], dilation: [1, 1, 1], groups: 1 } },
  { kernel: 'pool', title: 'max 3x3 stride 2 pad 1', inputs: [{ shape: [2, 3, 9, 10] }], attrs: { op: 'max', kernel: [3, 3], stride: [2, 2], padding: [1, 1], dilation: [1, 1], ceilMode: false, countIncludePad: true } },
  { kernel: 'pool', title: 'avg ceil_mode count_include_pad', inputs: [{ shape: [1, 2, 7, 7] }], attrs: { op: 'avg', kernel: [2, 2], stride: [2, 2], padding: [1, 1], dilation: [1, 1], ceilMode: true, countIncludePad: true } },
  { kernel: 'pool', title: 'avg 1-D without pad counting, transposed', inputs: [{ shape: [3, 11, 4], layout: 'transposed' }], attrs: { op: 'avg', kernel: [3], stride: [2], padding: [1], dilation: [1], ceilMode: false, countIncludePad: false } },
  { kernel: 'adaptive_pool', title: 'avg 2-D to 1x1', inputs: [{ shape: [2, 5, 7, 9] }], attrs: { op: 'avg', outputSize: [1, 1] } },
  { kernel: 'adaptive_pool', title: 'max 2-D to 3x4 (uneven bins)', inputs: [{ shape: [1, 3, 7, 10] }], attrs: { op: 'max', outputSize: [3, 4] } },
  { kernel: 'adaptive_pool', title: 'avg 1-D', inputs: [{ shape: [2, 3, 10] }], attrs: { op: 'avg', outputSize: [4] } },
  { kernel: 'index_select', title: 'dim 1 with a negative index', inputs: [{ shape: [3, 6, 4] }, { shape: [5], fill: 'int:6' }], attrs: { dim: 1 } },
  { kernel: 'index_copy', title: 'dim 2 of a transposed input, repeated index (last wins), offset source', inputs: [{ shape: [2, 3, 6, 4], layout: 'transposed' }, { shape: [4], fill: 'int:6' }, { shape: [2, 3, 4, 4], layout: 'offset' }], attrs: { dim: 2 } },
  { kernel: 'gather', title: 'dim 1 of a transposed input, index smaller elsewhere', inputs: [{ shape: [4, 6, 3], layout: 'transposed' }, { shape: [3, 5, 3], fill: 'int:6', layout: 'offset' }], attrs: { dim: 1 } },
  { kernel: 'gather', title: 'last dim, expanded input', inputs: [{ shape: [2, 3, 7], layout: { expand: [0] } }, { shape: [2, 3, 4], fill: 'int:7' }], attrs: { dim: -1 } },
  { kernel: 'unfold', title: '2x3 blocks, padding 1, stride 2, transposed input', inputs: [{ shape: [2, 3, 5, 6], layout: 'transposed' }], attrs: { kernel: [2, 3], dilation: [1, 1], padding: [1, 1], stride: [2, 2] } },
  { kernel: 'unfold', title: 'dilated 3x3, unbatched offset input', inputs: [{ shape: [2, 9, 8], layout: 'offset' }], attrs: { kernel: [3, 3], dilation: [2, 2], padding: [0, 1], stride: [1, 2] } },
  { kernel: 'topk', title: 'largest along the middle dim of a transposed view', inputs: [{ shape: [4, 9, 5], layout: 'transposed' }], attrs: { k: 3, dim: 1, largest: true } },
  { kernel: 'topk', title: 'smallest, k = n along dim 0, offset', inputs: [{ shape: [7, 3], layout: 'offset' }], attrs: { k: 7, dim: 0, largest: false } },
  { kernel: 'topk', title: 'int64 with ties (ascending index among equals)', inputs: [{ shape: [5, 12], fill: 'int:4' }], attrs: { k: 6, dim: -1, largest: true } },
  { kernel: 'cumsum', title: 'middle dim of a transposed view', inputs: [{ shape: [3, 7, 6], layout: 'transposed' }], attrs: { dim: 1 } },
  { kernel: 'cumsum', title: 'dim 0 of an expanded view', inputs: [{ shape: [9, 4], layout: { expand: [1] } }], attrs: { dim: 0 } },
  { kernel: 'cumsum', title: 'int64, offset', inputs: [{ shape: [5, 40], layout: 'offset', fill: 'int:100' }], attrs: { dim: -1 } },
  { kernel: 'interpolate', title: 'bicubic of a transposed view', inputs: [{ shape: [2, 3, 6, 5], layout: 'transposed' }], attrs: { mode: 'bicubic', size: [9, 4], scales: null, alignCorners: false } },
  { kernel: 'interpolate', title: 'bicubic align_corners, scale factors', inputs: [{ shape: [1, 2, 4, 5] }], attrs: { mode: 'bicubic', size: [6, 12], scales: [1.5, 2.5], alignCorners: true } },
  { kernel: 'interpolate', title: 'trilinear align_corners, offset', inputs: [{ shape: [1, 2, 3, 4, 5], layout: 'offset' }], attrs: { mode: 'trilinear', size: [5, 7, 3], scales: null, alignCorners: true } },
  { kernel: 'interpolate', title: 'bilinear down, scale factors', inputs: [{ shape: [2, 2, 7, 6] }], attrs: { mode: 'bilinear', size: [4, 4], scales: [0.6, 0.75], alignCorners: false } },
  { kernel: 'interpolate', title: 'nearest 1-D of an expanded view', inputs: [{ shape: [2, 3, 7], layout: { expand: [1] } }], attrs: { mode: 'nearest', size: [11], scales: [1.7], alignCorners: false } },
  { kernel: 'interpolate', title: 'nearest-exact 3-D, transposed', inputs: [{ shape: [1, 2, 3, 4, 5], layout: 'transposed' }], attrs: { mode: 'nearest-exact', size: [6, 2, 6], scales: [2, 0.5, 1.3], alignCorners: false } },
  { kernel: 'cat', title: 'three inputs along dim 1', inputs: [{ shape: [2, 3, 4] }, { shape: [2, 1, 4], layout: 'offset' }, { shape: [2, 5, 4], layout: { expand: [0] } }], attrs: { dim: 1 } },
  { kernel: 'scaled_dot_product_attention', title: 'fused, single head L=70 S=45', inputs: [{ shape: [70, 16] }, { shape: [45, 16] }, { shape: [45, 24] }], attrs: { causal: false, needWeights: false } },
  { kernel: 'scaled_dot_product_attention', title: 'fused, causal, heads', inputs: [{ shape: [2, 3, 40, 8] }, { shape: [2, 3, 40, 8] }, { shape: [2, 3, 40, 8] }], attrs: { causal: true, needWeights: false } },
  { kernel: 'scaled_dot_product_attention', title: 'fused, bool mask broadcast over heads, scale', inputs: [{ shape: [2, 2, 9, 8] }, { shape: [2, 2, 11, 8] }, { shape: [2, 2, 11, 5] }, { shape: [2, 1, 9, 11], fill: 'mask' }], attrs: { causal: false, needWeights: false, scale: 0.3 } },
  { kernel: 'scaled_dot_product_attention', title: 'fused, float mask, transposed k', inputs: [{ shape: [3, 17, 8] }, { shape: [3, 21, 8], layout: 'transposed' }, { shape: [3, 21, 8] }, { shape: [17, 21] }], attrs: { causal: false, needWeights: false } },
  { kernel: 'scaled_dot_product_attention', title: 'blocked rows, odd head sizes (scalar loads), causal, L > S', inputs: [{ shape: [3, 100, 5] }, { shape: [3, 37, 5] }, { shape: [3, 37, 7] }], attrs: { causal: true, needWeights: false } },
  { kernel: 'scaled_dot_product_attention', title: 'blocked rows, vec4 k/v, bool mask broadcast over batch', inputs: [{ shape: [2, 130, 12] }, { shape: [2, 50, 12] }, { shape: [2, 50, 8] }, { shape: [1, 130, 50], fill: 'mask' }], attrs: { causal: false, needWeights: false } },
  { kernel: 'scaled_dot_product_attention', title: 'blocked rows, float mask, k expanded over heads', inputs: [{ shape: [2, 2, 70, 16] }, { shape: [2, 2, 33, 16], layout: { expand: [1] } }, { shape: [2, 2, 33, 16] }, { shape: [70, 33] }], attrs: { causal: false, needWeights: false } },
  { kernel: 'scaled_dot_product_attention', title: 'fused, large head (private arrays)', inputs: [{ shape: [5, 160] }, { shape: [7, 160] }, { shape: [7, 130] }], attrs: { causal: false, needWeights: false } },
  { kernel: 'scaled_dot_product_attention', title: 'weights path', inputs: [{ shape: [2, 33, 8] }, { shape: [2, 20, 8] }, { shape: [2, 20, 12] }], attrs: { causal: false, needWeights: true } },
  { kernel: 'scaled_dot_product_attention', title: 'weights path, causal', inputs: [{ shape: [1, 40, 4] }, { shape: [1, 40, 4] }, { shape: [1, 40, 4] }], attrs: { causal: true, needWeights: true } },
  { kernel: 'scaled_dot_product_attention', title: 'weights path, bool mask', inputs: [{ shape: [6, 8] }, { shape: [9, 8] }, { shape: [9, 8] }, { shape: [6, 9], fill: 'mask' }], attrs: { causal: false, needWeights: true } },
];

describe('webgpu kernels (lavapipe) against the CPU reference', function () {
  this.timeout(120_000);
  let gpu: WebGpuChild;

  before(async () => {
    gpu = new WebGpuChild();
    const info = await gpu.call('adapterInfo', []);
    assert.match(info.adapter, /\S/);
  });

  after(async () => {
    await gpu?.close();
  });

  it('refuses calls past the device limits before dispatch, with errors naming the limit', async () => {
    const r = await gpu.call('limitErrors', []);
    assert.deepEqual(r.errors.map((e) => e.name), ['WebGpuLimitError', 'WebGpuLimitError', 'WebGpuLimitError']);
    assert.match(r.errors[0].message, /too-large-output: output 0 .* storage binding, but this device allows at most .*maxStorageBufferBindingSize/);
    assert.match(r.errors[1].message, /workgroup storage.*maxComputeWorkgroupStorageSize/);
    assert.match(r.errors[2].message, /maxComputeWorkgroupsPerDimension/);
    assert.ok(r.deviceOk, 'the device still works after the refused calls');
  });

  it('pools buffers: a repeated call allocates nothing new', async () => {
    const c = CASES.find((x) => x.kernel === 'matmul')!;
    const views = c.inputs.map((s) => makeView(s, rng(7)));
    await gpu.call('runKernel', [c.kernel, views, c.attrs]);
    const before = await gpu.call('stats', []);
    await gpu.call('runKernel', [c.kernel, views, c.attrs]);
    const after = await gpu.call('stats', []);
    assert.equal(after.buffersCreated, before.buffersCreated);
    assert.equal(after.pipelines, before.pipelines);
    assert.ok(after.dispatches > before.dispatches);
  });

  CASES.forEach((c, n) => {
    it(`${c.kernel}: ${c.title}`, async () => {
      const r = rng(1000 + n);
      const views = c.inputs.map((s) => makeView(s, r));
      const kernel = getKernel(c.kernel);
      const specs = kernel.outputs(views as readonly TensorMeta[], c.attrs);
      const expected = specs.map((s) => new Float32Array(numel(s.shape)));
      kernel.cpu(views as readonly CpuView[], c.attrs, expected);
      const got = await gpu.call('runKernel', [c.kernel, views, c.attrs]);
      assert.equal(got.outputs.length, specs.length);
      got.outputs.forEach((o, k) => {
        assert.deepEqual(o.shape, specs[k].shape);
        assertClose(o.data, expected[k], kernel.tolerance.webgpu, `${c.kernel} output ${k}`);
      });
    });
  });
});

/** Max abs error within `tol`; NaN matches NaN and infinities match exactly. */
export function assertClose(got: Float32Array, want: Float32Array, tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const a = got[i];
    const b = want[i];
    if (Number.isNaN(b) || !Number.isFinite(b)) {
      if (!Object.is(a, b) && !(Number.isNaN(a) && Number.isNaN(b))) assert.fail(`${what}[${i}]: got ${a}, want ${b}`);
      continue;
    }
    const e = Math.abs(a - b);
    if (!(e <= worst)) {
      worst = Number.isNaN(e) ? Infinity : e;
      at = i;
    }
  }
  assert.ok(worst <= tol, `${what}: max abs error ${worst} at ${at} (got ${got[at]}, want ${want[at]}) exceeds ${tol}`);
}
