/**
 * *Preview module*'s thread through the built worker (dist/module-worker.js; `npm run build`
 * first, as for the analyzer's thread): a run gives the message the in-process run gives,
 * constructor arguments and a checkpoint cross the thread boundary intact, and Cancel ends a
 * run that would otherwise go on (the thread is terminated; the promise rejects `Cancelled`).
 */

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runModulePreview } from '../../src/extension/module-preview';
import { Cancelled, decode, encode, request, runModuleInWorker } from '../../src/extension/module-runner';
import { PyTuple } from '../../src/interpret/index';
import { tensor, zeros } from '../../src/runtime/index';

const SCRIPT = path.resolve(__dirname, '../../dist/module-worker.js');
const FIXTURES = path.resolve(__dirname, '../fixtures/user-modules');

describe('preview module on its own thread', function () {
  before(function () {
    assert.ok(fs.existsSync(SCRIPT), 'dist/module-worker.js missing: run npm run build');
  });

  it('gives the message the in-process run gives: shapes, totals and attention maps', async function () {
    const source = fs.readFileSync(path.join(FIXTURES, 'vit_attention.py'), 'utf8');
    const here = await runModulePreview(source, 'vit_attention.py', 'Attention', [[2, 10, 64]]);
    const there = await runModuleInWorker({ script: SCRIPT }, request(source, 'vit_attention.py', 'Attention', [[2, 10, 64]], 0, {}));
    assert.equal(there.error, undefined);
    assert.deepEqual(there.layers, here.layers);
    assert.deepEqual(there.outputs, here.outputs);
    assert.equal(there.maps?.length, here.maps?.length);
    assert.ok((there.maps?.length ?? 0) > 0);
    assert.deepEqual([...there.maps![0].data!], [...here.maps![0].data!], 'the same seeded values');
  });

  it('passes constructor arguments and a checkpoint across intact', async function () {
    const source = 'import torch.nn as nn\n\nclass Head(nn.Module):\n    def __init__(self, dim, sizes=(1, 2)):\n        super().__init__()\n        self.proj = nn.Linear(dim, sizes[1])\n\n    def forward(self, x):\n        return self.proj(x)\n';
    for (const v of [3, 'x', null, true, [1, 2], new PyTuple([1, new PyTuple([2])])]) assert.deepEqual(decode(encode(v)), v);
    const weights = { file: 'head.pt', tensors: new Map([['proj.weight', zeros([5, 4])], ['proj.bias', tensor([1, 2, 3, 4, 5])]]) };
    const m = await runModuleInWorker({ script: SCRIPT }, request(source, 'head.py', 'Head', [[1, 4]], 0, { args: [4], kwargs: new Map([['sizes', new PyTuple([0, 5])]]) }, weights));
    assert.equal(m.error, undefined);
    assert.deepEqual(m.outputs, [{ name: 'output', shape: [1, 5] }]);
    assert.deepEqual(m.weights, { file: 'head.pt', missing: [], unexpected: [] });
  });

  it('passes a given input (an image) across intact', async function () {
    const source = 'import torch.nn as nn\n\nclass Pool(nn.Module):\n    def forward(self, x):\n        return x.mean(dim=(2, 3))\n';
    const data = Float32Array.from({ length: 12 }, (_, i) => i);
    const m = await runModuleInWorker({ script: SCRIPT }, request(source, 'pool.py', 'Pool', [[2, 3, 8, 8]], 0, {}, undefined, { from: 'dot.png', shape: [1, 3, 2, 2], data }));
    assert.equal(m.error, undefined);
    assert.equal(m.inputFrom, 'dot.png');
    assert.deepEqual(m.inputs, [{ name: 'input0', shape: [1, 3, 2, 2] }]);
    assert.deepEqual(m.outputs, [{ name: 'output', shape: [1, 3] }]);
  });

  it('ends a run at Cancel, whatever the code is doing', async function () {
    const source = 'import torch.nn as nn\n\nclass Spin(nn.Module):\n    def forward(self, x):\n        n = 0\n        while True:\n            n += 1\n        return x\n';
    let cancel: (() => void) | undefined;
    const token = { onCancellationRequested: (f: () => void) => (cancel = f) };
    const run = runModuleInWorker({ script: SCRIPT }, request(source, 'spin.py', 'Spin', [[1, 4]], 0, {}), token);
    setTimeout(() => cancel!(), 50);
    await assert.rejects(run, Cancelled);
  });
});
