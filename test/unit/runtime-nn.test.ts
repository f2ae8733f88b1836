/**
 * `nn.utils.spectralNorm` builds on a backend that cannot read synchronously (as WebGPU):
 * the power iteration torch runs when the parametrization is registered is enqueued as tensor
 * ops on the weight's device. Its `_u`, `_v` equal a float64 re-implementation of torch's
 * `_SpectralNorm.__init__` (normalised normal draws, 15 power iterations) on the same draws,
 * and the normalised weight's σ = uᵀ·W·v is 1 after dividing by it. The torch differential
 * tests (runtime-blocks*.test.ts) load torch's `_u`, `_v` instead; this covers what the
 * constructor computes itself.
 */

import * as assert from 'node:assert/strict';
import { cpu, Generator, nn, type Backend, type Storage } from '../../src/runtime/index';
import { maxAbsDiff } from '../helpers/goldens';

/** The CPU backend without `readSync`: what a GPU backend offers the tensor core. */
function asyncOnly(): Backend {
  return {
    name: 'async-cpu',
    alloc: (n) => cpu.alloc(n),
    upload: (d) => cpu.upload(d),
    write: (s, d) => cpu.write(s, d),
    read: (s) => cpu.read(s),
    run: (k, i, a, o) => cpu.run(k, i, a, o),
    release: (s: Storage) => cpu.release(s),
  };
}

function reference(W: Float32Array, h: number, seed: number): { u: Float64Array; v: Float64Array } {
  const w = W.length / h;
  const g = new Generator(seed);
  const norm = (a: Float64Array) => {
    const n = Math.max(Math.hypot(...a), 1e-12);
    return a.map((x) => x / n);
  };
  let u = norm(Float64Array.from({ length: h }, () => g.normal()));
  let v = norm(Float64Array.from({ length: w }, () => g.normal()));
  for (let it = 0; it < 15; it++) {
    const wv = new Float64Array(h);
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) wv[i] += W[i * w + j] * v[j];
    u = norm(wv);
    const wtu = new Float64Array(w);
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) wtu[j] += W[i * w + j] * u[i];
    v = norm(wtu);
  }
  return { u, v };
}

describe('nn.utils.spectralNorm', function () {
  it('builds on a backend without synchronous reads, with the power iteration torch runs', async function () {
    const conv = new nn.Conv2d(6, 5, 3, { generator: new Generator(3), device: cpu });
    const W = conv.weight.dataSync();
    const moved = new nn.Conv2d(6, 5, 3, { generator: new Generator(3), device: asyncOnly() });
    nn.utils.spectralNorm(moved, { generator: new Generator(11) });
    const buffers = new Map(moved.namedBuffers());
    const u = await buffers.get('parametrizations.weight.0._u')!.data();
    const v = await buffers.get('parametrizations.weight.0._v')!.data();
    const ref = reference(W, 5, 11);
    assert.ok(maxAbsDiff(u, Float32Array.from(ref.u)) <= 1e-5, `u differs by ${maxAbsDiff(u, Float32Array.from(ref.u))}`);
    assert.ok(maxAbsDiff(v, Float32Array.from(ref.v)) <= 1e-5, `v differs by ${maxAbsDiff(v, Float32Array.from(ref.v))}`);
    // σ of the normalised weight, measured with the same vectors, is 1.
    const Wn = await moved.weight.data();
    let sigma = 0;
    for (let i = 0; i < 5; i++) for (let j = 0; j < 54; j++) sigma += ref.u[i] * Wn[i * 54 + j] * ref.v[j];
    assert.ok(Math.abs(sigma - 1) <= 1e-5, `σ of the normalised weight is ${sigma}`);
  });
});
