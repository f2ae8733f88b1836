/**
 * Memory reuse. `tidy(fn)` releases every storage an op or a factory made inside `fn`, except
 * the returned tensors' and the parameters', and the backends recycle released storage: the
 * CPU backend's `Float32Array` pool and the WebGPU backend's buffer pool. The ownership rule:
 * `dataSync()`/`data()` hand out copies that belong to the caller (never recycled), a released
 * storage cannot be read again, and a second release does nothing. Over 1,000 forwards of a
 * block, each in `tidy` with its outputs disposed, the arrays and GPU buffers created stop
 * growing after the first forward and the process's RSS stays flat.
 */

import * as assert from 'node:assert/strict';
import { concreteShapes, getBlock, resolveParams } from '../../src/blocks/catalog';
import { cpu, Generator, randn, tidy, type Tensor } from '../../src/runtime/index';
import { instantiateBlock } from '../../src/twins/registry';
import { WebGpuChild } from '../helpers/webgpu';

function blockRun(blockId: string) {
  const block = getBlock(blockId)!;
  const params = resolveParams(block, {}).params;
  const module = instantiateBlock(blockId, params, { generator: new Generator(0), device: cpu });
  const shapes = concreteShapes(block, params).inputs;
  const gen = new Generator(1);
  const args = block.contract(params).inputs.map((spec) => (spec.dtype === 'bool' ? null : randn(shapes[spec.name], gen)));
  return () => {
    const out = tidy(() => module.forward(...args));
    return (Array.isArray(out) ? out : [out]) as Tensor[];
  };
}

describe('runtime memory reuse', function () {
  it('tidy releases what it made and keeps what it returns; parameters are never released', function () {
    const x = randn([64, 32], new Generator(0));
    const before = { ...cpu.pool.stats };
    const [y, z] = tidy(() => {
      const a = x.mul(2);
      const b = a.add(1);
      return [b.sum(1), { nested: b.mean() }.nested];
    });
    assert.deepEqual(y.shape, [64]);
    assert.equal(z.numel(), 1);
    // `a` and `b` went back to the pool: the next two allocations of their size reuse them.
    tidy(() => x.mul(3).add(4));
    assert.ok(cpu.pool.stats.reused - before.reused >= 2, `reused ${cpu.pool.stats.reused - before.reused}`);
    const lin = tidy(() => {
      // A module built inside a scope keeps its parameters.
      const m = instantiateBlock('se', { channels: 8, reduction: 2, bias: true, return_weights: false }, { generator: new Generator(0) });
      m.forward(randn([1, 8, 2, 2], new Generator(1)));
      return m;
    });
    for (const [k, p] of lin.stateDict()) assert.doesNotThrow(() => p.dataSync(), k);
    assert.deepEqual((lin.forward(randn([1, 8, 2, 2], new Generator(1))) as Tensor).shape, [1, 8, 2, 2]);
  });

  it('hands out copies from dataSync(); a released storage cannot be read, a second release does nothing', function () {
    const x = randn([1000], new Generator(0));
    const y = tidy(() => x.mul(2));
    const copy = y.dataSync();
    const want = Float32Array.from(copy);
    y.dispose();
    y.dispose();
    // Reuses y's array (same size), overwriting it.
    const w = x.mul(-5);
    assert.deepEqual(copy, want, 'the copy changed when its storage was recycled');
    assert.throws(() => y.dataSync(), /use of released CPU storage/);
    assert.equal(w.dataSync()[0], Math.fround(x.dataSync()[0] * -5));
  });

  it('computes the same outputs with recycled storage', function () {
    const run = blockRun('mha-scratch');
    const first = run().map((t) => Float32Array.from(t.dataSync()));
    for (let i = 0; i < 5; i++) {
      const again = run();
      again.forEach((t, j) => assert.deepEqual(t.dataSync(), first[j]));
      for (const t of again) t.dispose();
    }
  });

  it('CPU: arrays created and RSS stay flat over 1,000 forwards', function () {
    const run = blockRun('sagan-spatial');
    const created: number[] = [];
    let rss = 0;
    for (let i = 1; i <= 1000; i++) {
      for (const t of run()) t.dispose();
      if (i === 1 || i === 10 || i === 1000) created.push(cpu.pool.stats.created);
      if (i === 100) {
        global.gc?.();
        rss = process.memoryUsage().rss;
      }
    }
    global.gc?.();
    const grown = process.memoryUsage().rss - rss;
    assert.equal(created[2], created[0], `arrays created after forward 1, 10, 1000: ${created.join(', ')}`);
    assert.ok(grown < 16 * 2 ** 20, `RSS grew by ${(grown / 2 ** 20).toFixed(1)} MiB between forward 100 and 1,000`);
  });

  describe('WebGPU (lavapipe)', function () {
    let gpu: WebGpuChild;
    before(function () {
      gpu = new WebGpuChild();
    });
    after(async function () {
      await gpu?.close();
    });

    it('GPU buffers created stay flat over 1,000 forwards, and the outputs equal the CPU\'s', async function () {
      const r = await gpu.call('repeatedForwards', ['sagan-spatial', 1000, [1, 10, 1000]], 600_000);
      assert.equal(r.created[2], r.created[0], `buffers created after forward 1, 10, 1000: ${r.created.join(', ')}`);
      const cpuOut = blockRun('sagan-spatial')()[0].dataSync();
      let d = 0;
      for (let i = 0; i < cpuOut.length; i++) d = Math.max(d, Math.abs(cpuOut[i] - r.first[i]));
      assert.ok(d <= 1e-4, `WebGPU output differs from the CPU's by ${d}`);
    });

    it('small integer tensors uploaded or computed from uploaded ones keep a host mirror that item() reads; others cannot be read synchronously', async function () {
      const r = await gpu.call('hostMirrors', []);
      assert.equal(r.max, 11);
      assert.deepEqual(r.lastColumn, [3, 7, 11]);
      assert.equal(r.maxMoved, 7);
      assert.deepEqual(r.afterCopy, [6, 2, 8], 'an in-place copy keeps the mirror in step');
      assert.deepEqual(r.afterWrite, [3, 4], 'a host write keeps the mirror in step');
      assert.match(String(r.float), /dataSync\(\) is not available on the webgpu backend/, 'float tensors have no mirror');
      assert.match(String(r.random), /dataSync\(\) is not available on the webgpu backend/);
      assert.match(String(r.large), /dataSync\(\) is not available on the webgpu backend/);
    });

    it('reading a strided view returns its contiguous copy to the pool: no buffer per read', async function () {
      const r = await gpu.call('stridedReads', [50]);
      assert.ok(r.correct, 'the transposed values');
      assert.equal(r.created[1], r.created[0], `buffers created after read 1 and 50: ${r.created.join(', ')}`);
    });
  });
});
