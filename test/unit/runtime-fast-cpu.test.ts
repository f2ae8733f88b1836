/**
 * The fast CPU path (WASM SIMD matmul and attention, src/runtime/wasm/)
 * against the TypeScript references (`cpuReference`) on shapes the goldens
 * do not reach: broadcast batches, transposed operands, tails of every tile
 * size, masks of both kinds, causal, weights, and the benchmark's L = 1024,
 * d = 64 — within the kernels' 1e-5. The same ops also run against torch's
 * goldens on both paths (runtime-ops.test.ts).
 */

import * as assert from 'node:assert/strict';
import { cpu, cpuReference, F, Generator, randn, rand, type Backend, type Tensor } from '../../src/runtime/index';
import { wasmKernels } from '../../src/runtime/wasm/index';
import { maxAbsDiff } from '../helpers/goldens';

function both(make: (dev: Backend) => Tensor[], what: string): void {
  const [fast, ref] = [make(cpu), make(cpuReference)];
  fast.forEach((f, i) => {
    assert.deepEqual(f.shape, ref[i].shape, `${what}: output ${i} shape`);
    const d = maxAbsDiff(f.dataSync(), ref[i].dataSync());
    assert.ok(d <= 1e-5, `${what}: output ${i} max abs error ${d} > 1e-5`);
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
