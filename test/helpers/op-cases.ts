/**
 * The runtime's op cases, shared by the CPU suite (runtime-ops.test.ts, in the test process) and
 * the WebGPU suite (the child process that owns the Dawn device runs a case by id): each names a
 * torch call and the runtime call that mirrors it, with inputs torch draws. `toPy` is what
 * scripts/torch/goldens.py receives; `errorKind` reads the class of the error torch raised.
 * Nothing here runs a case.
 */

import { F, Tensor, arange, cat, einops, einsum, linspace, meshgrid, nn, stack, tril, triu, where } from '../../src/runtime/index';

export interface In {
  shape: number[];
  dtype?: 'float' | 'bool' | 'int64';
  /** Python's fill (scripts/torch/goldens.py): 'randn' (default), 'positive', 'perm' (distinct values 0..n-1), the mask patterns. */
  fill?: string;
  high?: number;
}
export interface OpCase {
  id: string;
  fn: string;
  inputs: In[];
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  /** Python permutes input 0 by this before the call (the runtime case does the same itself). */
  permute0?: number[];
  /** Kernels this case exercises (coverage check). */
  kernels: string[];
  ts(x: Tensor[]): Tensor | Tensor[];
}

const f = (...shape: number[]): In => ({ shape });
const b = (...shape: number[]): In => ({ shape, dtype: 'bool' });

export const CASES: OpCase[] = [
  // views and copies
  { id: 'permute-contiguous', fn: 'Tensor.contiguous', inputs: [f(2, 3, 4)], kernels: ['copy'], ts: ([x]) => x.contiguous() },
  { id: 'permute-view', fn: 'Tensor.view', inputs: [f(2, 3, 4)], args: [6, 4], kernels: ['copy'], ts: ([x]) => x.view(6, 4).contiguous() },
  { id: 'view-after-permute-fails', fn: 'Tensor.view', inputs: [f(2, 3, 4)], permute0: [2, 0, 1], args: [-1], kernels: [], ts: ([x]) => x.permute(2, 0, 1).view(-1) },
  { id: 'view-after-permute-ok', fn: 'Tensor.view', inputs: [f(2, 3, 4)], permute0: [1, 2, 0], args: [3, 8], kernels: [], ts: ([x]) => x.permute(1, 2, 0).view(3, 8) },
  { id: 'reshape-after-permute', fn: 'Tensor.reshape', inputs: [f(2, 3, 4)], permute0: [2, 0, 1], args: [-1], kernels: ['copy'], ts: ([x]) => x.permute(2, 0, 1).reshape(-1) },
  { id: 'view-bad-size', fn: 'Tensor.view', inputs: [f(2, 3, 4)], args: [5, -1], kernels: [], ts: ([x]) => x.view(5, -1) },
  { id: 'reshape-two-infer', fn: 'Tensor.reshape', inputs: [f(2, 3, 4)], args: [-1, -1], kernels: [], ts: ([x]) => x.reshape(-1, -1) },
  { id: 'expand', fn: 'Tensor.expand', inputs: [f(3, 1)], args: [2, 3, 4], kernels: ['copy'], ts: ([x]) => x.expand(2, 3, 4).contiguous() },
  { id: 'expand-bad', fn: 'Tensor.expand', inputs: [f(3, 2)], args: [3, 4], kernels: [], ts: ([x]) => x.expand(3, 4) },
  { id: 'permute-bad-len', fn: 'Tensor.permute', inputs: [f(2, 3, 4)], args: [0, 1], kernels: [], ts: ([x]) => x.permute(0, 1) },
  { id: 'transpose-bad-dim', fn: 'Tensor.transpose', inputs: [f(2, 3)], args: [0, 2], kernels: [], ts: ([x]) => x.transpose(0, 2) },
  { id: 'flatten', fn: 'Tensor.flatten', inputs: [f(2, 3, 4, 5)], args: [1, 2], kernels: [], ts: ([x]) => x.flatten(1, 2) },
  { id: 'squeeze-unsqueeze', fn: 'Tensor.squeeze', inputs: [f(2, 1, 4, 1)], args: [1], kernels: [], ts: ([x]) => x.squeeze(1) },
  { id: 'chunk', fn: 'Tensor.chunk', inputs: [f(7, 3)], args: [3, 0], kernels: [], ts: ([x]) => x.chunk(3, 0) },
  { id: 'split-sizes', fn: 'Tensor.split', inputs: [f(2, 7)], args: [['$list', 2, 5], 1], kernels: [], ts: ([x]) => x.split([2, 5], 1) },
  { id: 'split-sizes-bad', fn: 'Tensor.split', inputs: [f(2, 7)], args: [['$list', 2, 4], 1], kernels: [], ts: ([x]) => x.split([2, 4], 1) },
  { id: 'cat', fn: 'cat', inputs: [f(2, 3), f(2, 5)], args: [['$list', '$0', '$1'], 1], kernels: ['cat'], ts: ([a, c]) => cat([a, c], 1) },
  { id: 'cat-bad', fn: 'cat', inputs: [f(2, 3), f(3, 5)], args: [['$list', '$0', '$1'], 1], kernels: [], ts: ([a, c]) => cat([a, c], 1) },
  { id: 'stack', fn: 'stack', inputs: [f(2, 3), f(2, 3)], args: [['$list', '$0', '$1'], -1], kernels: ['cat'], ts: ([a, c]) => stack([a, c], -1) },
  { id: 'stack-bad', fn: 'stack', inputs: [f(2, 3), f(2, 4)], args: [['$list', '$0', '$1']], kernels: [], ts: ([a, c]) => stack([a, c]) },
  { id: 'roll', fn: 'roll', inputs: [f(3, 4, 5)], kwargs: { shifts: ['$tuple', -1, 2], dims: ['$tuple', 1, 2] }, kernels: ['cat'], ts: ([x]) => x.roll([-1, 2], [1, 2]) },
  { id: 'index-select', fn: 'index_select', inputs: [f(5, 3), { shape: [7], dtype: 'int64', high: 5 }], args: ['$0', 0, '$1'], kernels: ['index_select'], ts: ([x, i]) => x.indexSelect(0, i) },
  { id: 'gather', fn: 'gather', inputs: [f(3, 5), { shape: [3, 4], dtype: 'int64', high: 3 }], args: ['$0', 0, '$1'], kernels: ['gather'], ts: ([x, i]) => x.gather(0, i) },
  { id: 'gather-last-smaller', fn: 'gather', inputs: [f(4, 6), { shape: [2, 3], dtype: 'int64', high: 6 }], args: ['$0', -1, '$1'], kernels: ['gather'], ts: ([x, i]) => x.gather(-1, i) },
  { id: 'gather-strided', fn: 'Tensor.gather', inputs: [f(5, 4, 3), { shape: [2, 4, 5], dtype: 'int64', high: 4 }], permute0: [2, 1, 0], args: [2, '$1'], kernels: ['gather'], ts: ([x, i]) => x.permute(2, 1, 0).gather(2, i) },
  { id: 'gather-bad-size', fn: 'gather', inputs: [f(3, 4), { shape: [3, 5], dtype: 'int64', high: 3 }], args: ['$0', 0, '$1'], kernels: [], ts: ([x, i]) => x.gather(0, i) },
  { id: 'gather-bad-rank', fn: 'gather', inputs: [f(3, 4), { shape: [3], dtype: 'int64', high: 3 }], args: ['$0', 0, '$1'], kernels: [], ts: ([x, i]) => x.gather(0, i) },
  { id: 'unfold-view', fn: 'Tensor.unfold', inputs: [f(2, 7, 3)], args: [1, 3, 2], kernels: [], ts: ([x]) => x.unfold(1, 3, 2) },
  { id: 'unfold-view-bad', fn: 'Tensor.unfold', inputs: [f(2, 7, 3)], args: [1, 8, 1], kernels: [], ts: ([x]) => x.unfold(1, 8, 1) },
  { id: 'im2col', fn: 'nn.functional.unfold', inputs: [f(2, 3, 5, 6)], args: ['$0', ['$tuple', 2, 3]], kwargs: { padding: 1, stride: 2 }, kernels: ['unfold'], ts: ([x]) => F.unfold(x, [2, 3], { padding: 1, stride: 2 }) },
  { id: 'im2col-dilated', fn: 'nn.functional.unfold', inputs: [f(1, 2, 7, 7)], args: ['$0', 3], kwargs: { dilation: 2 }, kernels: ['unfold'], ts: ([x]) => F.unfold(x, 3, { dilation: 2 }) },
  { id: 'im2col-strided-input', fn: 'nn.functional.unfold', inputs: [f(2, 4, 4, 3)], permute0: [0, 3, 1, 2], args: ['$0', 2], kwargs: { stride: 2 }, kernels: ['unfold'], ts: ([x]) => F.unfold(x.permute(0, 3, 1, 2), 2, { stride: 2 }) },
  { id: 'im2col-too-big', fn: 'nn.functional.unfold', inputs: [f(1, 1, 4, 4)], args: ['$0', 5], kernels: [], ts: ([x]) => F.unfold(x, 5) },
  { id: 'exp', fn: 'exp', inputs: [f(3, 4)], args: ['$0'], kernels: ['unary'], ts: ([x]) => x.exp() },
  { id: 'log', fn: 'log', inputs: [{ shape: [3, 4], fill: 'positive' }], args: ['$0'], kernels: ['unary'], ts: ([x]) => x.log() },
  { id: 'pow-scalar', fn: 'pow', inputs: [{ shape: [3, 4], fill: 'positive' }], args: ['$0', 1.5], kernels: ['unary'], ts: ([x]) => x.pow(1.5) },
  { id: 'pow-tensor', fn: 'pow', inputs: [{ shape: [3, 4], fill: 'positive' }, f(4)], args: ['$0', '$1'], kernels: ['binary'], ts: ([x, e]) => x.pow(e) },
  { id: 'arange', fn: 'arange', inputs: [], args: [2, 11, 3], kernels: [], ts: () => arange(2, 11, 3) },
  { id: 'arange-float', fn: 'arange', inputs: [], args: [0, 1, 0.25], kernels: [], ts: () => arange(0, 1, 0.25) },
  { id: 'meshgrid-ij', fn: 'meshgrid', inputs: [f(3), f(4)], args: ['$0', '$1'], kwargs: { indexing: 'ij' }, kernels: [], ts: ([a, c]) => meshgrid([a, c], 'ij') },
  { id: 'meshgrid-xy', fn: 'meshgrid', inputs: [f(3), f(4), f(2)], args: ['$0', '$1', '$2'], kwargs: { indexing: 'xy' }, kernels: [], ts: ([a, c, d]) => meshgrid([a, c, d], 'xy') },
  { id: 'index-copy', fn: 'Tensor.index_copy', inputs: [f(2, 3, 6, 4), { shape: [2], fill: 'perm', dtype: 'int64' }, f(2, 3, 2, 4)], args: [2, '$1', '$2'], kernels: ['index_copy'], ts: ([x, i, s]) => x.indexCopy(2, i, s) },
  { id: 'index-copy-dim0-strided', fn: 'Tensor.index_copy', inputs: [f(5, 3), { shape: [3], fill: 'perm', dtype: 'int64' }, f(3, 3)], permute0: [1, 0], args: [1, '$1', '$T2'], kernels: ['index_copy'], ts: ([x, i, s]) => x.permute(1, 0).indexCopy(1, i, s.t()) },
  { id: 'index-copy-bad-shape', fn: 'Tensor.index_copy', inputs: [f(4, 3), { shape: [2], dtype: 'int64', high: 4 }, f(2, 4)], args: [0, '$1', '$2'], kernels: [], ts: ([x, i, s]) => x.indexCopy(0, i, s) },
  { id: 'embedding', fn: 'nn.functional.embedding', inputs: [{ shape: [2, 5], dtype: 'int64', high: 7 }, f(7, 4)], args: ['$0', '$1'], kernels: ['index_select', 'copy'], ts: ([i, w]) => F.embedding(i, w) },
  { id: 'group-norm', fn: 'nn.functional.group_norm', inputs: [f(2, 6, 3, 4), f(6), f(6)], args: ['$0', 3, '$1', '$2'], kernels: ['reduce', 'binary', 'unary'], ts: ([x, w, c]) => F.groupNorm(x, 3, w, c) },
  { id: 'cumsum', fn: 'cumsum', inputs: [f(2, 5, 3)], args: ['$0', 1], kernels: ['cumsum'], ts: ([x]) => F.cumsum(x, 1) },
  { id: 'cumsum-int', fn: 'cumsum', inputs: [{ shape: [4, 6], dtype: 'int64', high: 9 }], args: ['$0', -1], kernels: ['cumsum'], ts: ([x]) => F.cumsum(x, -1) },
  { id: 'cumsum-dim0', fn: 'cumsum', inputs: [f(5, 3, 2)], args: ['$0', 0], kernels: ['cumsum'], ts: ([x]) => F.cumsum(x, 0) },
  { id: 'cumsum-transposed', fn: 'cumsum', inputs: [f(4, 6)], args: [{ $t: 0 }, 1], kernels: ['cumsum'], ts: ([x]) => F.cumsum(x.t(), 1) },
  { id: 'cumsum-bool', fn: 'cumsum', inputs: [b(3, 5)], args: ['$0', 1], kernels: ['cumsum'], ts: ([x]) => F.cumsum(x, 1) },
  { id: 'cumsum-bad-dim', fn: 'cumsum', inputs: [f(3, 5)], args: ['$0', 2], kernels: [], ts: ([x]) => F.cumsum(x, 2) },
  { id: 'relu6', fn: 'nn.functional.relu6', inputs: [{ shape: [3, 7], fill: 'randn' }], args: ['$0'], kernels: ['unary'], ts: ([x]) => new nn.ReLU6().forward(x) },
  { id: 'pad', fn: 'nn.functional.pad', inputs: [f(2, 3, 4)], args: ['$0', ['$tuple', 1, 2, 0, 3]], kernels: ['cat'], ts: ([x]) => F.pad(x, [1, 2, 0, 3]) },
  { id: 'pad-reflect', fn: 'nn.functional.pad', inputs: [f(2, 3, 5)], args: ['$0', ['$tuple', 2, 1]], kwargs: { mode: 'reflect' }, kernels: ['index_select'], ts: ([x]) => F.padMode(x, [2, 1], 'reflect') },
  { id: 'pad-replicate', fn: 'nn.functional.pad', inputs: [f(1, 2, 3, 4)], args: ['$0', ['$tuple', 1, 2, 0, 1]], kwargs: { mode: 'replicate' }, kernels: ['index_select'], ts: ([x]) => F.padMode(x, [1, 2, 0, 1], 'replicate') },
  { id: 'pad-circular', fn: 'nn.functional.pad', inputs: [f(1, 2, 3, 4)], args: ['$0', ['$tuple', 1, 1, 2, 1]], kwargs: { mode: 'circular' }, kernels: ['index_select'], ts: ([x]) => F.padMode(x, [1, 1, 2, 1], 'circular') },
  { id: 'pad-reflect-too-wide', fn: 'nn.functional.pad', inputs: [f(1, 2, 3)], args: ['$0', ['$tuple', 3, 0]], kwargs: { mode: 'reflect' }, kernels: [], ts: ([x]) => F.padMode(x, [3, 0], 'reflect') },
  { id: 'interpolate-nearest-x2', fn: 'nn.functional.interpolate', inputs: [f(1, 2, 3, 4)], args: ['$0'], kwargs: { scale_factor: 2, mode: 'nearest' }, kernels: ['interpolate'], ts: ([x]) => F.interpolate(x, { scaleFactor: 2, mode: 'nearest' }) },
  { id: 'interpolate-nearest-size', fn: 'nn.functional.interpolate', inputs: [f(1, 2, 3, 4)], args: ['$0'], kwargs: { size: ['$tuple', 5, 7], mode: 'nearest' }, kernels: ['interpolate'], ts: ([x]) => F.interpolate(x, { size: [5, 7], mode: 'nearest' }) },
  { id: 'interpolate-nearest-exact', fn: 'nn.functional.interpolate', inputs: [f(1, 2, 3, 4)], args: ['$0'], kwargs: { size: ['$tuple', 5, 7], mode: 'nearest-exact' }, kernels: ['interpolate'], ts: ([x]) => F.interpolate(x, { size: [5, 7], mode: 'nearest-exact' }) },
  { id: 'interpolate-bilinear', fn: 'nn.functional.interpolate', inputs: [f(2, 3, 4, 5)], args: ['$0'], kwargs: { size: ['$tuple', 7, 3], mode: 'bilinear', align_corners: false }, kernels: ['interpolate'], ts: ([x]) => F.interpolate(x, { size: [7, 3], mode: 'bilinear', alignCorners: false }) },
  { id: 'interpolate-bilinear-corners', fn: 'nn.functional.interpolate', inputs: [f(1, 2, 4, 5)], args: ['$0'], kwargs: { scale_factor: 2, mode: 'bilinear', align_corners: true }, kernels: ['interpolate'], ts: ([x]) => F.interpolate(x, { scaleFactor: 2, mode: 'bilinear', alignCorners: true }) },
  { id: 'interpolate-bicubic', fn: 'nn.functional.interpolate', inputs: [f(1, 2, 4, 5)], args: ['$0'], kwargs: { size: ['$tuple', 6, 9], mode: 'bicubic', align_corners: false }, kernels: ['interpolate'], ts: ([x]) => F.interpolate(x, { size: [6, 9], mode: 'bicubic', alignCorners: false }) },
  { id: 'interpolate-linear-1d', fn: 'nn.functional.interpolate', inputs: [f(2, 3, 5)], args: ['$0'], kwargs: { size: 8, mode: 'linear' }, kernels: ['interpolate'], ts: ([x]) => F.interpolate(x, { size: 8, mode: 'linear' }) },
  { id: 'interpolate-area', fn: 'nn.functional.interpolate', inputs: [f(1, 2, 6, 4)], args: ['$0'], kwargs: { size: ['$tuple', 3, 2], mode: 'area' }, kernels: ['adaptive_pool'], ts: ([x]) => F.interpolate(x, { size: [3, 2], mode: 'area' }) },
  { id: 'interpolate-bilinear-down', fn: 'nn.functional.interpolate', inputs: [f(1, 2, 7, 6)], args: ['$0'], kwargs: { scale_factor: ['$tuple', 0.6, 0.75], mode: 'bilinear' }, kernels: ['interpolate'], ts: ([x]) => F.interpolate(x, { scaleFactor: [0.6, 0.75], mode: 'bilinear' }) },
  { id: 'interpolate-trilinear', fn: 'nn.functional.interpolate', inputs: [f(1, 2, 3, 4, 5)], args: ['$0'], kwargs: { size: ['$tuple', 5, 3, 7], mode: 'trilinear' }, kernels: ['interpolate'], ts: ([x]) => F.interpolate(x, { size: [5, 3, 7], mode: 'trilinear' }) },
  { id: 'interpolate-trilinear-corners', fn: 'nn.functional.interpolate', inputs: [f(2, 1, 2, 3, 4)], args: ['$0'], kwargs: { scale_factor: 1.5, mode: 'trilinear', align_corners: true }, kernels: ['interpolate'], ts: ([x]) => F.interpolate(x, { scaleFactor: 1.5, mode: 'trilinear', alignCorners: true }) },
  { id: 'interpolate-nearest-1d', fn: 'nn.functional.interpolate', inputs: [f(2, 3, 5)], args: ['$0'], kwargs: { scale_factor: 1.7, mode: 'nearest' }, kernels: ['interpolate'], ts: ([x]) => F.interpolate(x, { scaleFactor: 1.7, mode: 'nearest' }) },
  { id: 'interpolate-nearest-3d-size', fn: 'nn.functional.interpolate', inputs: [f(1, 2, 3, 4, 5)], args: ['$0'], kwargs: { size: ['$tuple', 5, 2, 8], mode: 'nearest' }, kernels: ['interpolate'], ts: ([x]) => F.interpolate(x, { size: [5, 2, 8], mode: 'nearest' }) },
  { id: 'interpolate-nearest-exact-3d', fn: 'nn.functional.interpolate', inputs: [f(1, 2, 3, 4, 5)], args: ['$0'], kwargs: { scale_factor: ['$tuple', 2, 0.5, 1.3], mode: 'nearest-exact' }, kernels: ['interpolate'], ts: ([x]) => F.interpolate(x, { scaleFactor: [2, 0.5, 1.3], mode: 'nearest-exact' }) },
  { id: 'interpolate-bicubic-corners', fn: 'nn.functional.interpolate', inputs: [f(1, 2, 4, 5)], args: ['$0'], kwargs: { size: ['$tuple', 7, 3], mode: 'bicubic', align_corners: true }, kernels: ['interpolate'], ts: ([x]) => F.interpolate(x, { size: [7, 3], mode: 'bicubic', alignCorners: true }) },
  { id: 'interpolate-bicubic-scale', fn: 'nn.functional.interpolate', inputs: [f(2, 1, 5, 5)], args: ['$0'], kwargs: { scale_factor: ['$tuple', 1.1, 2.5], mode: 'bicubic' }, kernels: ['interpolate'], ts: ([x]) => F.interpolate(x, { scaleFactor: [1.1, 2.5], mode: 'bicubic' }) },
  { id: 'interpolate-linear-same-size-scale', fn: 'nn.functional.interpolate', inputs: [f(1, 2, 5)], args: ['$0'], kwargs: { scale_factor: 1.1, mode: 'linear' }, kernels: ['interpolate'], ts: ([x]) => F.interpolate(x, { scaleFactor: 1.1, mode: 'linear' }) },
  { id: 'interpolate-bilinear-strided', fn: 'nn.functional.interpolate', inputs: [f(1, 2, 5, 4)], permute0: [0, 1, 3, 2], args: ['$0'], kwargs: { size: ['$tuple', 6, 9], mode: 'bilinear' }, kernels: ['interpolate'], ts: ([x]) => F.interpolate(x.permute(0, 1, 3, 2), { size: [6, 9], mode: 'bilinear' }) },
  { id: 'interpolate-bilinear-3d-fails', fn: 'nn.functional.interpolate', inputs: [f(2, 3, 5)], args: ['$0'], kwargs: { size: 8, mode: 'bilinear' }, kernels: [], ts: ([x]) => F.interpolate(x, { size: 8, mode: 'bilinear' }) },
  { id: 'topk', fn: 'topk', inputs: [f(3, 7)], args: ['$0', 3], kernels: ['topk'], ts: ([x]) => { const r = F.topk(x, 3); return [r.values, r.indices]; } },
  { id: 'topk-smallest-dim0', fn: 'topk', inputs: [f(5, 4)], args: ['$0', 2], kwargs: { dim: 0, largest: false }, kernels: ['topk'], ts: ([x]) => { const r = F.topk(x, 2, 0, false); return [r.values, r.indices]; } },
  { id: 'topk-smallest', fn: 'topk', inputs: [f(3, 7)], args: ['$0', 4], kwargs: { largest: false }, kernels: ['topk'], ts: ([x]) => { const r = F.topk(x, 4, -1, false); return [r.values, r.indices]; } },
  { id: 'topk-dim0-all', fn: 'topk', inputs: [f(5, 4)], args: ['$0', 5], kwargs: { dim: 0 }, kernels: ['topk'], ts: ([x]) => { const r = F.topk(x, 5, 0); return [r.values, r.indices]; } },
  // Tie-free (a permutation): torch orders equal values as its unstable sort leaves them.
  { id: 'topk-int64', fn: 'topk', inputs: [{ shape: [3, 8], dtype: 'int64', fill: 'perm' }], args: ['$0', 3], kernels: ['topk'], ts: ([x]) => { const r = F.topk(x, 3); return [r.values, r.indices]; } },
  { id: 'topk-transposed', fn: 'topk', inputs: [f(6, 3)], args: [{ $t: 0 }, 2], kernels: ['topk'], ts: ([x]) => { const r = F.topk(x.t(), 2); return [r.values, r.indices]; } },
  { id: 'topk-k-too-large', fn: 'topk', inputs: [f(3, 4)], args: ['$0', 5], kernels: [], ts: ([x]) => F.topk(x, 5).values },
  { id: 'topk-negative-k', fn: 'topk', inputs: [f(3, 4)], args: ['$0', -1], kernels: [], ts: ([x]) => F.topk(x, -1).values },
  { id: 'cross-entropy', fn: 'nn.functional.cross_entropy', inputs: [f(4, 5), { shape: [4], dtype: 'int64', high: 5 }], args: ['$0', '$1'], kernels: ['softmax', 'binary', 'masked_fill', 'reduce', 'unary', 'copy'], ts: ([x, t]) => F.crossEntropy(x, t) },
  { id: 'cross-entropy-spatial-sum', fn: 'nn.functional.cross_entropy', inputs: [f(2, 5, 3), { shape: [2, 3], dtype: 'int64', high: 5 }], args: ['$0', '$1'], kwargs: { reduction: 'sum' }, kernels: ['softmax', 'binary', 'masked_fill', 'reduce', 'unary', 'copy'], ts: ([x, t]) => F.crossEntropy(x, t, -100, 'sum') },
  { id: 'triu', fn: 'triu', inputs: [f(4, 5)], args: ['$0', 1], kernels: ['masked_fill'], ts: ([x]) => triu(x, 1) },
  { id: 'tril', fn: 'tril', inputs: [f(4, 5)], args: ['$0', -1], kernels: ['masked_fill'], ts: ([x]) => tril(x, -1) },
  // elementwise
  { id: 'add-broadcast', fn: 'add', inputs: [f(2, 1, 4), f(3, 1)], kernels: ['binary'], args: ['$0', '$1'], ts: ([a, c]) => a.add(c) },
  { id: 'add-bad-broadcast', fn: 'add', inputs: [f(2, 3), f(4)], kernels: [], args: ['$0', '$1'], ts: ([a, c]) => a.add(c) },
  { id: 'sub-transposed', fn: 'sub', inputs: [f(3, 4), f(4, 3)], args: ['$0', { $t: 1 }], kernels: ['binary'], ts: ([a, c]) => a.sub(c.t()) },
  { id: 'mul', fn: 'mul', inputs: [f(2, 3, 4), f(4)], args: ['$0', '$1'], kernels: ['binary'], ts: ([a, c]) => a.mul(c) },
  { id: 'div', fn: 'div', inputs: [f(2, 3), { shape: [3], fill: 'positive' }], args: ['$0', '$1'], kernels: ['binary'], ts: ([a, c]) => a.div(c) },
  { id: 'mul-scalar', fn: 'mul', inputs: [f(2, 3)], args: ['$0', 0.125], kernels: ['unary'], ts: ([a]) => a.mul(0.125) },
  { id: 'sigmoid', fn: 'sigmoid', inputs: [f(3, 7)], args: ['$0'], kernels: ['unary'], ts: ([a]) => a.sigmoid() },
  { id: 'relu', fn: 'relu', inputs: [f(3, 7)], args: ['$0'], kernels: ['unary'], ts: ([a]) => a.relu() },
  { id: 'floor', fn: 'floor', inputs: [{ shape: [3, 7], fill: 'randn' }], args: ['$0'], kernels: ['unary'], ts: ([a]) => a.floor() },
  { id: 'linspace', fn: 'linspace', inputs: [], args: [-1.5, 2, 7], kernels: [], ts: () => linspace(-1.5, 2, 7) },
  { id: 'erf', fn: 'erf', inputs: [{ shape: [3, 7], fill: 'randn' }], args: ['$0'], kernels: ['unary'], ts: ([a]) => a.erf() },
  { id: 'elu', fn: 'nn.functional.elu', inputs: [{ shape: [3, 7], fill: 'randn' }], args: ['$0'], kwargs: { alpha: 0.5 }, kernels: ['unary', 'binary', 'where'], ts: ([x]) => where(x.gt(0), x, x.exp().sub(1).mul(0.5)) },
  { id: 'sin', fn: 'sin', inputs: [{ shape: [3, 7], fill: 'randn' }], args: ['$0'], kernels: ['unary'], ts: ([a]) => a.sin() },
  { id: 'cos', fn: 'cos', inputs: [{ shape: [3, 7], fill: 'randn' }], args: ['$0'], kernels: ['unary'], ts: ([a]) => a.cos() },
  { id: 'tanh', fn: 'tanh', inputs: [f(3, 7)], args: ['$0'], kernels: ['unary'], ts: ([a]) => a.tanh() },
  { id: 'gelu', fn: 'nn.functional.gelu', inputs: [{ shape: [64], fill: 'randn' }], args: ['$0'], kernels: ['unary'], ts: ([a]) => F.gelu(a) },
  { id: 'gelu-tanh', fn: 'nn.functional.gelu', inputs: [f(5, 5)], args: ['$0'], kwargs: { approximate: 'tanh' }, kernels: ['unary'], ts: ([a]) => F.gelu(a, 'tanh') },
  { id: 'hardswish', fn: 'nn.functional.hardswish', inputs: [f(4, 9)], args: ['$0'], kernels: ['unary'], ts: ([a]) => F.hardswish(a.mul(1)) },
  { id: 'masked-fill', fn: 'Tensor.masked_fill', inputs: [f(2, 3, 4), b(3, 4)], args: ['$1', -1e9], kernels: ['masked_fill'], ts: ([a, m]) => a.maskedFill(m, -1e9) },
  { id: 'masked-fill-float-mask', fn: 'Tensor.masked_fill', inputs: [f(2, 3), f(2, 3)], args: ['$1', 0.0], kernels: [], ts: ([a, m]) => a.maskedFill(m, 0) },
  { id: 'masked-fill-bigger-mask', fn: 'Tensor.masked_fill', inputs: [f(3, 4), b(2, 3, 4)], args: ['$1', 0.0], kernels: ['masked_fill'], ts: ([a, m]) => a.maskedFill(m, 0) },
  { id: 'where', fn: 'where', inputs: [b(3, 1), f(1, 4), f(3, 4)], args: ['$0', '$1', '$2'], kernels: ['where'], ts: ([c, a, d]) => a.where(c, d) },
  // reductions and softmax
  { id: 'sum-dims', fn: 'sum', inputs: [f(2, 3, 4, 5)], args: ['$0', ['$tuple', 1, 3]], kernels: ['reduce'], ts: ([x]) => x.sum([1, 3]) },
  { id: 'mean-keepdim', fn: 'mean', inputs: [f(2, 3, 4)], args: ['$0', -1, true], kernels: ['reduce'], ts: ([x]) => x.mean(-1, true) },
  { id: 'amax', fn: 'amax', inputs: [f(2, 3, 4)], args: ['$0', ['$tuple', 0, 2]], kwargs: { keepdim: true }, kernels: ['reduce'], ts: ([x]) => x.amax([0, 2], true) },
  { id: 'max-dim', fn: 'max', inputs: [f(3, 5)], args: ['$0', 1], kernels: ['reduce'], ts: ([x]) => { const r = x.max(1); return [r.values, r.indices]; } },
  { id: 'mean-bad-dim', fn: 'mean', inputs: [f(2, 3)], args: ['$0', 2], kernels: [], ts: ([x]) => x.mean(2) },
  { id: 'softmax-dim0', fn: 'softmax', inputs: [f(4, 3, 2)], args: ['$0', 0], kernels: ['softmax'], ts: ([x]) => x.softmax(0) },
  { id: 'softmax-last-strided', fn: 'softmax', inputs: [f(4, 6)], args: [{ $t: 0 }, -1], kernels: ['softmax'], ts: ([x]) => x.t().softmax(-1) },
  // linear algebra
  { id: 'matmul-batched-broadcast', fn: 'matmul', inputs: [f(2, 1, 3, 4), f(5, 4, 6)], args: ['$0', '$1'], kernels: ['matmul'], ts: ([a, c]) => a.matmul(c) },
  { id: 'matmul-1d-left', fn: 'matmul', inputs: [f(4), f(2, 4, 3)], args: ['$0', '$1'], kernels: ['matmul'], ts: ([a, c]) => a.matmul(c) },
  { id: 'matmul-1d-right', fn: 'matmul', inputs: [f(2, 3, 4), f(4)], args: ['$0', '$1'], kernels: ['matmul'], ts: ([a, c]) => a.matmul(c) },
  { id: 'matmul-dot', fn: 'matmul', inputs: [f(5), f(5)], args: ['$0', '$1'], kernels: ['matmul'], ts: ([a, c]) => a.matmul(c) },
  { id: 'matmul-bad', fn: 'matmul', inputs: [f(3, 4), f(5, 6)], args: ['$0', '$1'], kernels: [], ts: ([a, c]) => a.matmul(c) },
  { id: 'bmm', fn: 'bmm', inputs: [f(3, 4, 5), f(3, 5, 2)], args: ['$0', '$1'], kernels: ['matmul'], ts: ([a, c]) => a.bmm(c) },
  { id: 'einsum-attention-scores', fn: 'einsum', inputs: [f(2, 3, 5, 4), f(2, 3, 6, 4)], args: ['bhid,bhjd->bhij', '$0', '$1'], kernels: ['copy', 'matmul'], ts: ([a, c]) => einsum('bhid,bhjd->bhij', a, c) },
  { id: 'einsum-spaces-implicit', fn: 'einsum', inputs: [f(3, 4), f(4, 5)], args: ['ij, jk', '$0', '$1'], kernels: ['copy', 'matmul'], ts: ([a, c]) => einsum('ij, jk', a, c) },
  { id: 'einsum-ellipsis-broadcast', fn: 'einsum', inputs: [f(2, 1, 3, 4), f(5, 4, 6)], args: ['...ij,...jk->...ik', '$0', '$1'], kernels: ['copy', 'matmul'], ts: ([a, c]) => einsum('...ij,...jk->...ik', a, c) },
  { id: 'einsum-sum-out-and-outer', fn: 'einsum', inputs: [f(2, 3, 4), f(5)], args: ['bnd,e->bde', '$0', '$1'], kernels: ['copy', 'matmul', 'reduce'], ts: ([a, c]) => einsum('bnd,e->bde', a, c) },
  { id: 'einsum-three-operands', fn: 'einsum', inputs: [f(2, 3), f(3, 4), f(4, 5)], args: ['ab,bc,cd->da', '$0', '$1', '$2'], kernels: ['copy', 'matmul'], ts: ([a, c, d]) => einsum('ab,bc,cd->da', a, c, d) },
  { id: 'einsum-linear-attention-context', fn: 'einsum', inputs: [f(2, 4, 8, 6), f(2, 4, 8, 5)], args: ['bhnd,bhne->bhde', '$0', '$1'], kernels: ['copy', 'matmul'], ts: ([k, v]) => einsum('bhnd,bhne->bhde', k, v) },
  { id: 'einsum-transpose-only', fn: 'einsum', inputs: [f(2, 3, 4)], args: ['abc->cab', '$0'], kernels: [], ts: ([a]) => einsum('abc->cab', a) },
  { id: 'einsum-bad-rank', fn: 'einsum', inputs: [f(2, 3), f(3, 4)], args: ['ijk,jk->ik', '$0', '$1'], kernels: [], ts: ([a, c]) => einsum('ijk,jk->ik', a, c) },
  { id: 'bmm-2d-bad', fn: 'bmm', inputs: [f(4, 5), f(5, 2)], args: ['$0', '$1'], kernels: [], ts: ([a, c]) => a.bmm(c) },
  { id: 'linear', fn: 'nn.functional.linear', inputs: [f(2, 3, 5), f(4, 5), f(4)], args: ['$0', '$1', '$2'], kernels: ['matmul'], ts: ([x, w, c]) => F.linear(x, w, c) },
  { id: 'linear-bad', fn: 'nn.functional.linear', inputs: [f(2, 6), f(4, 5)], args: ['$0', '$1'], kernels: [], ts: ([x, w]) => F.linear(x, w) },
  // convolution
  { id: 'conv1d', fn: 'nn.functional.conv1d', inputs: [f(2, 4, 9), f(6, 2, 3), f(6)], args: ['$0', '$1', '$2'], kwargs: { stride: 2, padding: 1, groups: 2 }, kernels: ['conv'], ts: ([x, w, c]) => F.conv1d(x, w, c, { stride: 2, padding: 1, groups: 2 }) },
  { id: 'conv2d-dilated', fn: 'nn.functional.conv2d', inputs: [f(2, 3, 9, 8), f(4, 3, 3, 3)], args: ['$0', '$1'], kwargs: { padding: 2, dilation: 2 }, kernels: ['conv'], ts: ([x, w]) => F.conv2d(x, w, null, { padding: 2, dilation: 2 }) },
  { id: 'conv2d-1x1-unbatched', fn: 'nn.functional.conv2d', inputs: [f(3, 5, 4), f(6, 3, 1, 1), f(6)], args: ['$0', '$1', '$2'], kernels: ['conv'], ts: ([x, w, c]) => F.conv2d(x, w, c) },
  { id: 'conv2d-1x1-batched', fn: 'nn.functional.conv2d', inputs: [f(2, 4, 3, 5), f(6, 4, 1, 1)], args: ['$0', '$1'], kernels: ['conv'], ts: ([x, w]) => F.conv2d(x, w) },
  { id: 'conv2d-same-even', fn: 'nn.functional.conv2d', inputs: [f(1, 2, 6, 5), f(3, 2, 4, 2)], args: ['$0', '$1'], kwargs: { padding: 'same' }, kernels: ['conv', 'cat'], ts: ([x, w]) => F.conv2d(x, w, null, { padding: 'same' }) },
  { id: 'conv3d', fn: 'nn.functional.conv3d', inputs: [f(1, 4, 3, 5, 6), f(4, 1, 2, 3, 3), f(4)], args: ['$0', '$1', '$2'], kwargs: { stride: ['$tuple', 1, 2, 1], padding: 1, groups: 4 }, kernels: ['conv'], ts: ([x, w, c]) => F.conv3d(x, w, c, { stride: [1, 2, 1], padding: 1, groups: 4 }) },
  { id: 'conv2d-bad-channels', fn: 'nn.functional.conv2d', inputs: [f(1, 4, 5, 5), f(2, 3, 3, 3)], args: ['$0', '$1'], kernels: [], ts: ([x, w]) => F.conv2d(x, w) },
  { id: 'conv2d-kernel-too-big', fn: 'nn.functional.conv2d', inputs: [f(1, 3, 2, 2), f(2, 3, 3, 3)], args: ['$0', '$1'], kernels: [], ts: ([x, w]) => F.conv2d(x, w) },
  { id: 'conv2d-bad-rank', fn: 'nn.functional.conv2d', inputs: [f(3, 5), f(2, 3, 1, 1)], args: ['$0', '$1'], kernels: [], ts: ([x, w]) => F.conv2d(x, w) },
  // normalisation
  { id: 'layer-norm', fn: 'nn.functional.layer_norm', inputs: [f(2, 3, 8), f(8), f(8)], args: ['$0', ['$list', 8], '$1', '$2'], kernels: ['layer_norm'], ts: ([x, w, c]) => F.layerNorm(x, [8], w, c) },
  { id: 'layer-norm-2d', fn: 'nn.functional.layer_norm', inputs: [f(2, 3, 4)], args: ['$0', ['$list', 3, 4]], kernels: ['layer_norm'], ts: ([x]) => F.layerNorm(x, [3, 4]) },
  { id: 'layer-norm-bad', fn: 'nn.functional.layer_norm', inputs: [f(2, 3, 8)], args: ['$0', ['$list', 4]], kernels: [], ts: ([x]) => F.layerNorm(x, [4]) },
  { id: 'batch-norm', fn: 'nn.functional.batch_norm', inputs: [f(2, 3, 4, 5), f(3), { shape: [3], fill: 'positive' }, f(3), f(3)], args: ['$0', '$1', '$2', '$3', '$4'], kernels: ['batch_norm'], ts: ([x, m, v, w, c]) => F.batchNorm(x, m, v, w, c) },
  { id: 'batch-norm-bad', fn: 'nn.functional.batch_norm', inputs: [f(2, 3, 4), f(4), f(4)], args: ['$0', '$1', '$2'], kernels: [], ts: ([x, m, v]) => F.batchNorm(x, m, v) },
  // pooling
  { id: 'max-pool2d', fn: 'nn.functional.max_pool2d', inputs: [f(2, 3, 7, 6)], args: ['$0', 3], kwargs: { stride: 2, padding: 1, ceil_mode: true }, kernels: ['pool'], ts: ([x]) => F.maxPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }) },
  { id: 'max-pool1d', fn: 'nn.functional.max_pool1d', inputs: [f(2, 3, 9)], args: ['$0', 2], kernels: ['pool'], ts: ([x]) => F.maxPool1d(x, 2) },
  { id: 'max-pool3d', fn: 'nn.functional.max_pool3d', inputs: [f(1, 2, 3, 6, 5)], args: ['$0', ['$tuple', 1, 2, 2]], kernels: ['pool'], ts: ([x]) => F.maxPool3d(x, [1, 2, 2]) },
  { id: 'avg-pool2d', fn: 'nn.functional.avg_pool2d', inputs: [f(1, 2, 7, 7)], args: ['$0', 3], kwargs: { stride: 2, padding: 1, ceil_mode: true }, kernels: ['pool'], ts: ([x]) => F.avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }) },
  { id: 'max-pool-bad-pad', fn: 'nn.functional.max_pool2d', inputs: [f(1, 2, 7, 7)], args: ['$0', 2], kwargs: { padding: 2 }, kernels: [], ts: ([x]) => F.maxPool2d(x, 2, { padding: 2 }) },
  { id: 'adaptive-avg2d', fn: 'nn.functional.adaptive_avg_pool2d', inputs: [f(2, 3, 7, 5)], args: ['$0', ['$tuple', 3, 2]], kernels: ['adaptive_pool'], ts: ([x]) => F.adaptiveAvgPool2d(x, [3, 2]) },
  { id: 'adaptive-max1d', fn: 'nn.functional.adaptive_max_pool1d', inputs: [f(2, 3, 7)], args: ['$0', 3], kernels: ['adaptive_pool'], ts: ([x]) => F.adaptiveMaxPool1d(x, 3) },
  { id: 'adaptive-avg3d', fn: 'nn.functional.adaptive_avg_pool3d', inputs: [f(1, 2, 3, 5, 4)], args: ['$0', 1], kernels: ['adaptive_pool'], ts: ([x]) => F.adaptiveAvgPool3d(x, 1) },
];

// SDPA exists only in torch >= 2.0.
/**
 * einops (python3-einops, in the trixie chroot with torch 2.6 only): the patterns attention code
 * uses, run by einops itself on torch.
 */
export const EINOPS_CASES: OpCase[] = [
  { id: 'einops-split-heads', fn: 'einops.rearrange', inputs: [f(2, 5, 12)], args: ['$0', 'b n (h d) -> b h n d'], kwargs: { h: 3 }, kernels: ['copy'], ts: ([x]) => einops.rearrange(x, 'b n (h d) -> b h n d', { h: 3 }) },
  { id: 'einops-merge-heads', fn: 'einops.rearrange', inputs: [f(2, 3, 5, 4)], args: ['$0', 'b h n d -> b n (h d)'], kernels: ['copy'], ts: ([x]) => einops.rearrange(x, 'b h n d -> b n (h d)') },
  { id: 'einops-patches', fn: 'einops.rearrange', inputs: [f(2, 3, 8, 12)], args: ['$0', 'b c (h p1) (w p2) -> b (h w) (p1 p2 c)'], kwargs: { p1: 4, p2: 4 }, kernels: ['copy'], ts: ([x]) => einops.rearrange(x, 'b c (h p1) (w p2) -> b (h w) (p1 p2 c)', { p1: 4, p2: 4 }) },
  { id: 'einops-ellipsis-unit', fn: 'einops.rearrange', inputs: [f(2, 3, 4, 5)], args: ['$0', 'b ... d -> b 1 (...) d'], kernels: ['copy'], ts: ([x]) => einops.rearrange(x, 'b ... d -> b 1 (...) d') },
  { id: 'einops-repeat-cls', fn: 'einops.repeat', inputs: [f(1, 1, 8)], args: ['$0', '1 1 d -> b 1 d'], kwargs: { b: 3 }, kernels: ['copy'], ts: ([x]) => einops.repeat(x, '1 1 d -> b 1 d', { b: 3 }) },
  { id: 'einops-repeat-kv-heads', fn: 'einops.repeat', inputs: [f(2, 2, 5, 4)], args: ['$0', 'b g n d -> b (g r) n d'], kwargs: { r: 3 }, kernels: ['copy'], ts: ([x]) => einops.repeat(x, 'b g n d -> b (g r) n d', { r: 3 }) },
  { id: 'einops-reduce-mean-pool', fn: 'einops.reduce', inputs: [f(2, 7, 6)], args: ['$0', 'b n d -> b d', 'mean'], kernels: ['reduce'], ts: ([x]) => einops.reduce(x, 'b n d -> b d', 'mean') },
  { id: 'einops-reduce-max-keep', fn: 'einops.reduce', inputs: [f(2, 4, 6, 6)], args: ['$0', 'b c (h 2) (w 2) -> b c h w', 'max'], kernels: ['copy', 'reduce'], ts: ([x]) => einops.reduce(x, 'b c (h 2) (w 2) -> b c h w', 'max') },
  { id: 'einops-reduce-unit-axes', fn: 'einops.reduce', inputs: [f(2, 4, 3, 5)], args: ['$0', 'b c h w -> b c () ()', 'sum'], kernels: ['reduce'], ts: ([x]) => einops.reduce(x, 'b c h w -> b c () ()', 'sum') },
  { id: 'einops-einsum-named', fn: 'einops.einsum', inputs: [f(2, 3, 5, 4), f(2, 3, 6, 4)], args: ['$0', '$1', 'b h i d, b h j d -> b h i j'], kernels: ['copy', 'matmul'], ts: ([a, c]) => einops.einsum('b h i d, b h j d -> b h i j', a, c) },
  { id: 'einops-bad-divide', fn: 'einops.rearrange', inputs: [f(2, 5, 10)], args: ['$0', 'b n (h d) -> b h n d'], kwargs: { h: 3 }, kernels: [], ts: ([x]) => einops.rearrange(x, 'b n (h d) -> b h n d', { h: 3 }) },
];

export const SDPA_CASES: OpCase[] = [
  { id: 'sdpa', fn: 'nn.functional.scaled_dot_product_attention', inputs: [f(2, 3, 5, 4), f(2, 3, 7, 4), f(2, 3, 7, 6)], args: ['$0', '$1', '$2'], kernels: ['scaled_dot_product_attention'], ts: ([q, k, v]) => F.scaledDotProductAttention(q, k, v) },
  { id: 'sdpa-bool-mask', fn: 'nn.functional.scaled_dot_product_attention', inputs: [f(2, 5, 4), f(2, 7, 4), f(2, 7, 4), { shape: [5, 7], fill: 'causal-keep', dtype: 'bool' }], args: ['$0', '$1', '$2'], kwargs: { attn_mask: '$3' }, kernels: ['scaled_dot_product_attention'], ts: ([q, k, v, m]) => F.scaledDotProductAttention(q, k, v, { attnMask: m }) },
  { id: 'sdpa-float-mask', fn: 'nn.functional.scaled_dot_product_attention', inputs: [f(1, 2, 5, 4), f(1, 2, 5, 4), f(1, 2, 5, 4), f(1, 1, 5, 5)], args: ['$0', '$1', '$2'], kwargs: { attn_mask: '$3' }, kernels: ['scaled_dot_product_attention'], ts: ([q, k, v, m]) => F.scaledDotProductAttention(q, k, v, { attnMask: m }) },
  { id: 'sdpa-causal', fn: 'nn.functional.scaled_dot_product_attention', inputs: [f(2, 6, 4), f(2, 8, 4), f(2, 8, 3)], args: ['$0', '$1', '$2'], kwargs: { is_causal: true }, kernels: ['scaled_dot_product_attention'], ts: ([q, k, v]) => F.scaledDotProductAttention(q, k, v, { isCausal: true }) },
  { id: 'sdpa-bad', fn: 'nn.functional.scaled_dot_product_attention', inputs: [f(2, 5, 4), f(2, 7, 3), f(2, 7, 4)], args: ['$0', '$1', '$2'], kernels: [], ts: ([q, k, v]) => F.scaledDotProductAttention(q, k, v) },
];

/** `{ $t: i }` in args means "input i transposed": rewrite for Python. */
function pyArgs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(pyArgs);
  if (v && typeof v === 'object') {
    if ('$t' in v) return `$T${(v as { $t: number }).$t}`;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, pyArgs(x)]));
  }
  return v;
}

export function toPy(c: OpCase) {
  const args = pyArgs(c.args ?? (c.fn.startsWith('Tensor.') ? [] : ['$0'])) as unknown[];
  return { id: c.id, fn: c.fn, inputs: c.inputs, args: c.fn.startsWith('Tensor.') ? ['$0', ...args] : args, kwargs: pyArgs(c.kwargs ?? {}), permute0: c.permute0 };
}

/** The exception class in a torch error string (`RuntimeError: …` → `RuntimeError`). */
export function errorKind(py: string | undefined): string {
  return (py ?? '').split(':')[0];
}
