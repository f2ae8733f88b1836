/**
 * The preview's page ↔ worker messages (issue 14, `src/protocol/preview-worker.ts`): each side
 * validates what it receives, so a message of an unknown type or with a malformed field is
 * rejected; a well-formed one comes back with the fields it needs (typed arrays of any view
 * kind as bytes). Also the smaller input a memory refusal offers (`halvedDims`). The browser
 * suite (`npm run test:preview`) runs the worker itself.
 */

import * as assert from 'node:assert/strict';
import { previewBlock } from '../../src/extension/preview-model';
import type { PreviewBlock } from '../../src/protocol/preview';
import { halvedDims, parseWorkerReply, parseWorkerRequest } from '../../src/protocol/preview-worker';
import type { RunResult } from '../../src/protocol/preview-worker';

function block(id: string): PreviewBlock {
  const r = previewBlock(id);
  if (!('block' in r)) throw new Error(r.error);
  return r.block;
}

const SETTINGS = { seed: 0, causal: false, padding: [1, 0] };

function result(): RunResult {
  return {
    layers: [{ path: '(block)', type: 'MultiheadAttentionBlock', depth: 0, outputShapes: [[2, 3, 4]], params: 10, flops: 100, activationBytes: 48 }],
    maps: [{ path: 'mha', source: 'softmax', shape: [2, 2, 3, 3], items: 2, heads: 2, L: 3, S: 3, data: new Float32Array(36), itemsRead: 2, channel: false }],
    gates: [{ path: 'gate', shape: [2, 4], kind: 'channel', data: new Float32Array(8) }],
    outputs: [{ name: 'output', shape: [2, 3, 4] }],
    totalParams: 10,
    totalFlops: 100,
    activationBytes: 48,
    forwardMs: 1.5,
    sdpaWeights: false,
  };
}

describe('preview worker protocol', function () {
  it('accepts well-formed page → worker requests', function () {
    const b = block('multihead-attention');
    assert.deepEqual(parseWorkerRequest({ type: 'run', seq: 3, block: b, settings: SETTINGS, force: false }), { type: 'run', seq: 3, block: b, settings: SETTINGS, force: false });
    for (const bytes of [new Uint8Array([1, 2]), new Uint8Array([1, 2]).buffer, new DataView(new Uint8Array([1, 2]).buffer)]) {
      const m = parseWorkerRequest({ type: 'weights', block: b, seed: 0, fileName: 'w.safetensors', bytes });
      assert.ok(m && m.type === 'weights' && m.bytes instanceof Uint8Array && m.bytes.length === 2);
    }
    assert.deepEqual(parseWorkerRequest({ type: 'clearWeights' }), { type: 'clearWeights' });
    assert.deepEqual(parseWorkerRequest({ type: 'dispose' }), { type: 'dispose' });
  });

  it('rejects unknown and malformed page → worker requests', function () {
    const b = block('multihead-attention');
    const run = { type: 'run', seq: 3, block: b, settings: SETTINGS, force: false };
    for (const bad of [
      null,
      'run',
      [],
      { type: 'eval', code: '1' },
      { ...run, seq: -1 },
      { ...run, seq: 1.5 },
      { ...run, force: 'yes' },
      { ...run, settings: { ...SETTINGS, seed: -1 } },
      { ...run, settings: { ...SETTINGS, padding: [0.5] } },
      { ...run, block: { ...b, dims: [{ name: 'L', doc: 'length', value: 0 }] } },
      { ...run, block: { ...b, inputs: [{ ...b.inputs[0], fill: 'zeros' }] } },
      { ...run, block: { ...b, id: '' } },
      { ...run, block: null },
      { type: 'weights', block: b, seed: 0, fileName: 'w', bytes: [1, 2] },
      { type: 'weights', block: b, seed: 0, bytes: new Uint8Array(1) },
    ]) {
      assert.equal(parseWorkerRequest(bad), undefined, JSON.stringify(bad));
    }
  });

  it('accepts well-formed worker → page replies', function () {
    const device = { type: 'device', kind: 'webgpu', adapter: 'swiftshader', reason: 'A WebGPU adapter is available.', limit: 1 << 27 };
    assert.deepEqual(parseWorkerReply(device), device);
    const progress = { type: 'progress', seq: 2, phase: 'forward', layer: 'mha', index: 2, total: 2 };
    assert.deepEqual(parseWorkerReply(progress), progress);
    const refused = { type: 'refused', seq: 2, warnings: [{ path: 'mha', kernel: 'softmax', shape: [16, 3000, 3000], bytes: 576e6, limit: 1 << 27, attention: true }] };
    assert.deepEqual(parseWorkerReply(refused), refused);
    const done = { type: 'done', seq: 2, result: result(), warnings: [], stats: { liveStorages: 4, runs: 1, buffersCreated: 25 } };
    assert.deepEqual(parseWorkerReply(done), done);
    assert.deepEqual(parseWorkerReply({ type: 'failed', seq: 2, message: 'boom' }), { type: 'failed', seq: 2, message: 'boom' });
    const checked = { type: 'weightsChecked', fileName: 'w.safetensors', report: { ok: false, missing: ['a'], unexpected: [], mismatched: [{ key: 'b', expected: [2], got: [3] }] } };
    assert.deepEqual(parseWorkerReply(checked), checked);
    assert.deepEqual(parseWorkerReply({ type: 'disposed', stats: { liveStorages: 0, runs: 3 } }), { type: 'disposed', stats: { liveStorages: 0, runs: 3 } });
  });

  it('rejects unknown and malformed worker → page replies', function () {
    const done = { type: 'done', seq: 2, result: result(), warnings: [], stats: { liveStorages: 4, runs: 1 } };
    const r = result();
    for (const bad of [
      undefined,
      { type: 'hello' },
      { type: 'device', kind: 'tpu', adapter: '', reason: '', limit: 1 },
      { type: 'progress', seq: 1, phase: 'sleeping' },
      { type: 'progress', seq: 1, phase: 'forward', layer: 3 },
      { type: 'refused', seq: 1, warnings: [{ path: 'mha' }] },
      { ...done, stats: { liveStorages: -1, runs: 0 } },
      { ...done, result: { ...r, maps: [{ ...r.maps[0], data: [0, 1] }] } },
      // Data whose length disagrees with the items read, heads, L and S.
      { ...done, result: { ...r, maps: [{ ...r.maps[0], data: new Float32Array(35) }] } },
      { ...done, result: { ...r, maps: [{ ...r.maps[0], itemsRead: 3 }] } },
      { ...done, result: { ...r, gates: [{ ...r.gates[0], kind: 'mask' }] } },
      { ...done, result: { ...r, forwardMs: Number.NaN } },
      { ...done, result: { ...r, layers: [{ ...r.layers[0], outputShapes: [[-1]] }] } },
      { type: 'failed', seq: 1 },
      { type: 'weightsChecked', fileName: 'w', report: { ok: 'yes', missing: [], unexpected: [], mismatched: [] } },
    ]) {
      assert.equal(parseWorkerReply(bad), undefined, JSON.stringify(bad, (_k, v: unknown) => (v instanceof Float32Array ? `Float32Array(${v.length})` : v)));
    }
  });

  it('offers the sequence and spatial dims halved, never batch or channels', function () {
    const dims = (o: Record<string, number>, docs: Record<string, string> = {}) => Object.entries(o).map(([name, value]) => ({ name, doc: docs[name] ?? name, value }));
    assert.deepEqual(halvedDims(dims({ N: 2, L: 2048, S: 1025 }, { N: 'batch' })), { N: 2, L: 1024, S: 513 });
    assert.deepEqual(halvedDims(dims({ N: 4, C: 16, H: 64, W: 7 }, { N: 'batch', C: 'channels (any)' })), { N: 4, C: 16, H: 32, W: 4 });
    assert.deepEqual(halvedDims(dims({ B: 8, T: 4 }, { B: 'batch', T: "time (dimension '3')" })), { B: 8, T: 2 });
    assert.equal(halvedDims(dims({ N: 8, L: 1 }, { N: 'batch' })), undefined);
    // Every catalog block's dims: the batch keeps its size.
    for (const id of ['multihead-attention', 'sagan-spatial', 'cbam']) {
      const b = block(id);
      const h = halvedDims(b.dims)!;
      for (const d of b.dims) if (d.name === 'N' || d.name === 'B') assert.equal(h[d.name], d.value);
    }
  });
});
