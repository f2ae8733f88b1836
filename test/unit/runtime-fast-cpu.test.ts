/**
 * The fast CPU path (src/runtime/wasm/: matmul, attention, softmax,
 * broadcast arithmetic, copies, pooling) against the TypeScript references
 * (`cpuReference`) on shapes the goldens do not reach: broadcast batches,
 * transposed operands, inner sizes K = 1..8, tails of every tile and SIMD
 * width, results over one chunk, the transposed product and panels of a
 * large right operand, SAGAN's map shape, softmax edge values (±∞, NaN),
 * heads read in place, masks of both kinds, causal, weights, and the
 * benchmark's L = 1024, d = 64, interpolation one axis at a time (every mode, align_corners
 * both ways, up and down in 1-D to 3-D, strided inputs, axes left as they are, several chunks) — within the tolerance the kernels that ran
 * state (`tolerance.cpu`, 1e-5 for all of them today). The same ops also
 * run against torch's goldens on both paths (runtime-ops.test.ts).
 */

import * as assert from 'node:assert/strict';
import { cpu, cpuReference, F, Generator, randn, rand, tensor, type Backend, type Tensor } from '../../src/runtime/index';
import { wasmKernels } from '../../src/runtime/wasm/index';
import { maxAbsDiff } from '../helpers/goldens';
import { kernelsTolerance, withKernels } from '../helpers/tolerance';

function both(make: (dev: Backend) => Tensor[], what: string): void {
  const { result: fast, kernels } = withKernels(() => make(cpu));
  const ref = make(cpuReference);
  const tol = kernelsTolerance(kernels, 'cpu');
  fast.forEach((f, i) => {
    assert.deepEqual(f.shape, ref[i].shape, `${what}: output ${i} shape`);
    const d = maxAbsDiff(f.dataSync(), ref[i].dataSync());
    assert.ok(d <= tol, `${what}: output ${i} max abs error ${d} > ${tol} (the tolerance of ${[...kernels].join(', ')})`);
  });
}

describe('runtime fast CPU path (WASM SIMD) vs the TypeScript references', function () {
  it('compiles here, so the default cpu backend is the fast path', function () {
    assert.ok(wasmKernels(), 'WebAssembly SIMD did not compile in this Node');
  });

  const mm: [number[], number[], string][] = [
    [[5, 7], [7, 9], 'tails'],
    [[3, 1, 13, 33], [4, 33, 17], 'broadcast batch'],
    [[64], [64, 10], '1-D @ 2-D'],
    [[2, 129, 64], [64, 130], 'shared rhs'],
    [[1, 8, 8], [1, 8, 8], 'exact tiles'],
  ];
  for (const [a, b, what] of mm) {
    it(`matmul ${what}: ${JSON.stringify(a)} @ ${JSON.stringify(b)}`, function () {
      both((dev) => {
        const g = new Generator(3);
        return [randn(a, g, dev).matmul(randn(b, g, dev))];
      }, what);
    });
  }

  it('matmul of transposed and sliced views', function () {
    both((dev) => {
      const g = new Generator(4);
      const x = randn([6, 20, 11], g, dev).transpose(1, 2).narrow(2, 3, 15);
      const y = randn([6, 21, 15], g, dev).transpose(1, 2);
      return [x.matmul(y)];
    }, 'views');
  });

  it('linear with its bias fused into the matmul (3-D input, strided bias)', function () {
    both((dev) => {
      const g = new Generator(5);
      const x = randn([2, 7, 12], g, dev);
      return [F.linear(x, randn([9, 12], g, dev), randn([9], g, dev)), F.linear(x, randn([5, 12], g, dev), randn([5, 2], g, dev).select(1, 1))];
    }, 'linear');
  });

  // Inner sizes K = 1..8 (the SAGAN energy has K = 4) with sizes that are not multiples of the
  // 4×8 tile or the SIMD width, and with the left, the right or both operands transposed.
  for (let K = 1; K <= 8; K++) {
    it(`matmul with K = ${K}: plain, transposed left, transposed right`, function () {
      both((dev) => {
        const g = new Generator(10 + K);
        const a = randn([2, 37, K], g, dev);
        const b = randn([2, K, 29], g, dev);
        const at = randn([2, K, 37], g, dev).transpose(1, 2);
        const bt = randn([2, 29, K], g, dev).transpose(1, 2);
        return [a.matmul(b), at.matmul(b), a.matmul(bt), at.matmul(bt), a.matmul(randn([K, 3], g, dev))];
      }, `K = ${K}`);
    });
  }

  // Results larger than one chunk of rows (128 Ki floats) leave WASM in several pieces.
  it('matmul whose result is written back in chunks of rows (K = 3, N = 700, rows not a multiple of the chunk)', function () {
    both((dev) => {
      const g = new Generator(20);
      return [randn([1, 301, 3], g, dev).matmul(randn([1, 3, 700], g, dev)), randn([3, 301], g, dev).transpose(0, 1).matmul(randn([3, 700], g, dev))];
    }, 'chunked rows');
  });

  // A right operand over the resident limit (2^20 floats) with a smaller left one is computed as
  // Cᵀ = Bᵀ·Aᵀ and written back transposed: SAGAN's V·attnᵀ, here with odd sizes and a batch.
  // Long sums (K ≈ 1000–4000) of unit-variance products would reach |C| ~ 100, where f32
  // accumulation alone exceeds 1e-5 (see src/runtime/wasm/fast.ts); one operand is scaled by
  // 1/√K so that |C| stays near 1, as attention's are.
  it('matmul with a large transposed right operand (the transposed product)', function () {
    both((dev) => {
      const g = new Generator(21);
      const v = randn([2, 5, 1030], g, dev);
      const attn = randn([2, 1100, 1030], g, dev).mul(1 / Math.sqrt(1030));
      const shared = randn([1030, 1100], g, dev).mul(1 / Math.sqrt(1030));
      return [v.matmul(attn.transpose(1, 2)), v.matmul(shared), randn([7, 1030], g, dev).matmul(attn.transpose(1, 2))];
    }, 'transposed product');
  });

  it('matmul with a right operand in several panels (K·N over the resident limit, M ≥ N)', function () {
    both((dev) => {
      const g = new Generator(22);
      const a = randn([301, 4100], g, dev).mul(1 / Math.sqrt(4100));
      return [a.matmul(randn([4100, 300], g, dev)), a.matmul(randn([300, 4100], g, dev).transpose(0, 1))];
    }, 'panels');
  });

  it('SAGAN-shaped attention map: (N×4)·(4×N), softmax over N, V·attnᵀ with N = 1100', function () {
    both((dev) => {
      const g = new Generator(23);
      const q = randn([1, 4, 1100], g, dev).transpose(1, 2);
      const k = randn([1, 4, 1100], g, dev);
      const attn = F.softmax(q.bmm(k), -1);
      const v = randn([1, 7, 1100], g, dev);
      return [attn, v.bmm(attn.transpose(1, 2))];
    }, 'sagan shape');
  });

  it('softmax rows with tails, extreme spreads, −∞, +∞ and NaN', function () {
    both((dev) => {
      const g = new Generator(24);
      const edge = tensor(
        [
          [0, -87.5, -88.3, -88.4, -89, -200, -Infinity, 3],
          [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity],
          [1, 2, NaN, 4, 5, 6, 7, 8],
          [0, 0, 0, Infinity, 0, 0, 0, 0],
          [80, -80, 40, -40, 88, -88, 0, 1e-30],
        ],
        { device: dev },
      );
      return [F.softmax(edge, -1), F.softmax(randn([3, 5, 13], g, dev).mul(30), -1), F.softmax(randn([2, 1, 4099], g, dev), -1)];
    }, 'softmax edges');
  });

  // Broadcast arithmetic in WASM (outputs of 4096 floats and more): same shapes, a row vector
  // (linear's bias), a column, a scalar, rows not a multiple of four, results over one chunk
  // (128 Ki floats), and operands that fall back to TypeScript (strided inner dims).
  for (const op of ['add', 'sub', 'mul', 'div'] as const) {
    it(`binary ${op}: same shapes, row and column broadcasts, scalars, chunks, strided fallbacks`, function () {
      both((dev) => {
        const g = new Generator(30);
        const x = randn([3, 67, 129], g, dev);
        const f = (a: Tensor, b: Tensor | number) => a[op](b);
        return [
          f(x, randn([3, 67, 129], g, dev)),
          f(x, randn([129], g, dev)),
          f(randn([129], g, dev), x),
          f(x, randn([3, 67, 1], g, dev)),
          f(x, 0.37),
          f(randn([1], g, dev), x),
          f(randn([3, 140001], g, dev), randn([140001], g, dev)),
          f(randn([300, 301], g, dev), randn([301, 300], g, dev).transpose(0, 1)),
          f(randn([64, 65], g, dev).narrow(1, 1, 64), randn([64, 64], g, dev)),
          f(randn([2, 4096, 3], g, dev).select(2, 1), randn([4096], g, dev)),
        ];
      }, `binary ${op}`);
    });
  }

  it('copy of transposes, permutes and slices (in WASM up to three coalesced dims, TypeScript beyond)', function () {
    both((dev) => {
      const g = new Generator(31);
      const x = randn([2, 64, 8, 33], g, dev);
      return [
        x.transpose(1, 2).contiguous(),
        x.permute(0, 2, 1, 3).contiguous(),
        x.permute(3, 1, 0, 2).contiguous(),
        x.narrow(3, 1, 31).transpose(2, 3).contiguous(),
        randn([300, 301], g, dev).transpose(0, 1).contiguous(),
        randn([3, 140001], g, dev).transpose(0, 1).contiguous(),
        randn([2, 64, 33], g, dev).transpose(0, 1).contiguous(),
        randn([2, 64, 33], g, dev).permute(2, 0, 1).contiguous(),
        randn([40, 6, 8, 5], g, dev).transpose(0, 1).contiguous(),
        randn([70, 1030], g, dev).narrow(1, 3, 1000).contiguous(),
      ];
    }, 'copy');
  });

  it('pooling without padding: max (with NaN; TypeScript and WASM) and average, odd sizes, strides, ceil mode', function () {
    both((dev) => {
      const g = new Generator(32);
      const x = randn([2, 3, 33, 31], g, dev);
      const withNaN = x.maskedFill(rand([2, 3, 33, 31], g, dev).lt(0.02), NaN);
      return [
        F.maxPool2d(x, 2),
        F.maxPool2d(withNaN, 3, { stride: 2 }),
        F.avgPool2d(x, [2, 3], { stride: [1, 2] }),
        F.maxPool2d(x, 2, { ceilMode: true }),
        F.avgPool2d(x, 3, { stride: 2, ceilMode: true }),
        F.maxPool2d(x.transpose(2, 3), 2),
        F.maxPool2d(randn([1, 2, 32, 32], g, dev), 2, { ceilMode: true }),
        // Outputs of 4096 floats and more run in WASM, in blocks of whole planes (one plane per block here when it is large).
        F.maxPool2d(randn([2, 80, 33, 31], g, dev).maskedFill(rand([2, 80, 33, 31], g, dev).lt(0.02), NaN), 2),
        F.maxPool2d(randn([1, 2, 300, 301], g, dev), 3, { stride: [2, 1] }),
        F.maxPool2d(randn([1, 64, 32, 32], g, dev).transpose(1, 3), 2),
      ];
    }, 'pool');
  });

  it('scaled_dot_product_attention on heads read in place (an (N, L, H, E) layout) and on packed slices', function () {
    both((dev) => {
      const g = new Generator(33);
      const q = randn([2, 13, 3, 8], g, dev).transpose(1, 2);
      const k = randn([2, 11, 3, 8], g, dev).transpose(1, 2);
      const v = randn([2, 11, 3, 5], g, dev).transpose(1, 2);
      const wide = randn([2, 3, 13, 100], g, dev).narrow(3, 5, 8);
      return [F.scaledDotProductAttention(q, k, v), F.scaledDotProductAttention(wide, k, v, { isCausal: true }), F.scaledDotProductAttention(q, k.select(0, 1), v)];
    }, 'sdpa strided');
  });

  // Every mode, align_corners both ways, 1 to 3 spatial dims, up- and downsampling (sizes off
  // the SIMD width), axes left as they are, inputs read through strides (N and C permuted: planes
  // copied one by one; spatial dims transposed or sliced: a contiguous copy first), more planes
  // than one chunk holds, and an empty batch.
  type Layout = 'contiguous' | 'nc' | 'spatial-transposed' | 'sliced';
  const interp: [string, number[], F.InterpolateOptions, Layout][] = [
    ['linear 1-D up', [2, 3, 5], { size: 13, mode: 'linear' }, 'nc'],
    ['linear 1-D down, align_corners', [2, 3, 17], { size: 6, mode: 'linear', alignCorners: true }, 'contiguous'],
    ['linear 1-D up, align_corners, to one position', [1, 2, 9], { size: 1, mode: 'linear', alignCorners: true }, 'nc'],
    ['linear 1-D, a scale factor that keeps the size (copied)', [2, 3, 5], { scaleFactor: 1.1, mode: 'linear' }, 'nc'],
    ['nearest 1-D down', [2, 3, 10], { size: 4, mode: 'nearest' }, 'sliced'],
    ['nearest-exact 1-D up', [1, 3, 7], { scaleFactor: 2.5, mode: 'nearest-exact' }, 'nc'],
    ['bilinear up, permuted input', [2, 3, 7, 5], { size: [11, 9], mode: 'bilinear' }, 'nc'],
    ['bilinear up, align_corners', [1, 3, 6, 7], { size: [13, 10], mode: 'bilinear', alignCorners: true }, 'contiguous'],
    ['bilinear down, align_corners', [1, 4, 9, 8], { scaleFactor: [0.6, 0.5], mode: 'bilinear', alignCorners: true }, 'nc'],
    ['bilinear down, transposed spatial dims', [2, 2, 13, 11], { size: [5, 6], mode: 'bilinear' }, 'spatial-transposed'],
    ['bilinear ×2 over several chunks', [3, 50, 20, 20], { scaleFactor: 2, mode: 'bilinear' }, 'contiguous'],
    ['bilinear, one plane larger than a chunk', [1, 1, 150, 130], { size: [301, 263], mode: 'bilinear' }, 'contiguous'],
    ['bilinear, same sizes (every axis copied)', [2, 3, 4, 6], { size: [4, 6], mode: 'bilinear' }, 'sliced'],
    ['bilinear, an empty batch', [0, 3, 4, 4], { size: [7, 7], mode: 'bilinear' }, 'contiguous'],
    ['bicubic up', [1, 2, 6, 7], { size: [13, 17], mode: 'bicubic' }, 'nc'],
    ['bicubic up, align_corners', [2, 2, 5, 6], { scaleFactor: 2.3, mode: 'bicubic', alignCorners: true }, 'spatial-transposed'],
    ['bicubic down', [1, 3, 17, 19], { size: [6, 8], mode: 'bicubic' }, 'sliced'],
    ['bicubic down, align_corners', [1, 3, 15, 10], { scaleFactor: 0.4, mode: 'bicubic', alignCorners: true }, 'nc'],
    ['bicubic, one axis the same size', [1, 2, 6, 7], { size: [6, 15], mode: 'bicubic' }, 'nc'],
    ['bicubic, a position embedding grid 14×14 → 24×24', [1, 64, 14, 14], { size: [24, 24], mode: 'bicubic', alignCorners: false }, 'contiguous'],
    ['nearest 2-D, one axis up and one down', [2, 3, 5, 9], { size: [12, 4], mode: 'nearest' }, 'spatial-transposed'],
    ['nearest-exact 2-D', [2, 2, 5, 6], { size: [8, 4], mode: 'nearest-exact' }, 'nc'],
    ['trilinear', [1, 2, 3, 4, 5], { size: [5, 7, 3], mode: 'trilinear' }, 'nc'],
    ['trilinear up, align_corners', [2, 2, 3, 5, 4], { scaleFactor: [2, 1.5, 2.5], mode: 'trilinear', alignCorners: true }, 'contiguous'],
    ['trilinear down, one axis the same size', [1, 3, 9, 6, 11], { size: [4, 6, 5], mode: 'trilinear' }, 'sliced'],
    ['nearest 3-D', [1, 3, 3, 4, 5], { scaleFactor: [2, 0.5, 1.7], mode: 'nearest' }, 'nc'],
    ['nearest-exact 3-D', [2, 2, 4, 3, 6], { size: [3, 7, 4], mode: 'nearest-exact' }, 'spatial-transposed'],
  ];
  for (const [what, shape, o, layout] of interp) {
    it(`interpolate ${what}`, function () {
      both((dev) => {
        const g = new Generator(8);
        const [n, c, ...sp] = shape;
        const last = shape.length - 1;
        // The same logical shape read through different strides.
        const x =
          layout === 'nc' ? randn([c, n, ...sp], g, dev).transpose(0, 1)
          : layout === 'spatial-transposed' ? randn([n, c, ...sp.slice(0, -2), sp[sp.length - 1], sp[sp.length - 2]], g, dev).transpose(last - 1, last)
          : layout === 'sliced' ? randn([n, c, ...sp.slice(0, -1), sp[sp.length - 1] + 3], g, dev).narrow(last, 2, sp[sp.length - 1])
          : randn(shape, g, dev);
        return [F.interpolate(x, o)];
      }, what);
    });
  }

  const sd: [string, number[], number[], number[], F.SdpaOptions | undefined, boolean, ((dev: Backend, g: Generator) => Tensor)?][] = [
    ['plain, odd sizes', [2, 3, 13, 7], [2, 3, 9, 7], [2, 3, 9, 5], undefined, false],
    ['causal with weights', [1, 2, 17, 8], [1, 2, 17, 8], [1, 2, 17, 8], { isCausal: true }, true],
    ['bool mask', [2, 2, 10, 6], [2, 2, 12, 6], [2, 2, 12, 6], undefined, true, (dev, g) => rand([2, 1, 10, 12], g, dev).lt(0.7)],
    ['float mask, scale', [1, 4, 11, 16], [1, 4, 11, 16], [1, 4, 11, 3], { scale: 0.3 }, true, (dev, g) => randn([11, 11], g, dev)],
    ['benchmark size', [1, 1024, 64], [1, 1024, 64], [1, 1024, 64], undefined, false],
  ];
  for (const [what, qs, ks, vs, opts, weights, mask] of sd) {
    it(`scaled_dot_product_attention ${what}`, function () {
      both((dev) => {
        const g = new Generator(5);
        const [q, k, v] = [randn(qs, g, dev), randn(ks, g, dev), randn(vs, g, dev)];
        const o = { ...opts, ...(mask ? { attnMask: mask(dev, g) } : {}) };
        return weights ? F.sdpaWithWeights(q, k, v, o) : [F.scaledDotProductAttention(q, k, v, o)];
      }, what);
    });
  }
});
