/**
 * *Compare with PyTorch* (`src/extension/module-compare.ts`) against the real torch of the
 * machine (Debian's 1.13 at /usr/bin/python3, as the other torch suites use; a missing torch
 * fails the suite): user modules agree with torch at every layer on the seeded weights and on a
 * loaded checkpoint, a module torch rejects and a missing interpreter come back as one line.
 */

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compareWithTorch } from '../../src/extension/module-compare';
import { PyTuple } from '../../src/interpret/index';
import { parsePreviewToWebview } from '../../src/protocol/preview';
import { randn, Generator } from '../../src/runtime/index';

const FIXTURES = path.resolve(__dirname, '../fixtures/user-modules');
const SCRIPT = path.resolve(__dirname, '../../python/compare_module.py');
const PYTHON = '/usr/bin/python3';

function fixture(file: string) {
  const p = path.join(FIXTURES, file);
  return { source: fs.readFileSync(p, 'utf8'), file, where: { path: p } };
}

describe('compare with PyTorch', function () {
  it('agrees with torch at every layer of user modules, on seeded weights', async function () {
    for (const [file, className, shapes, kwargs] of [
      ['vit_attention.py', 'Attention', [[2, 10, 64]], new Map([['dim', 64], ['num_heads', 4]])],
      ['encoder_layer.py', 'Encoder', [[2, 7, 32]], new Map([['depth', 2]])],
      ['upsample_attention.py', 'TopKAttention', [[2, 8, 5, 6]], new Map()],
    ] as const) {
      const f = fixture(file);
      const r = await compareWithTorch({ python: PYTHON, script: SCRIPT, source: f.source, file, className, shapes: shapes.map((s) => [...s]), where: { ...f.where, kwargs: new Map(kwargs) } });
      assert.equal(r.error, undefined, `${file}: ${r.error}`);
      assert.match(r.torch ?? '', /^1\.13/);
      assert.ok(r.layers.length >= 3, `${file}: ${r.layers.length} layers`);
      assert.ok(r.layers.some((l) => l.path === ''), 'the module itself is compared');
      for (const l of r.layers) {
        assert.equal(l.note, undefined, `${file} ${l.path}: ${l.note}`);
        assert.ok(l.maxAbsDiff !== null && l.maxAbsDiff < 1e-4, `${file} ${l.path || className}: max |Δ| ${l.maxAbsDiff}`);
      }
      assert.ok(parsePreviewToWebview({ type: 'module', file, className, inputs: [], outputs: [], layers: [], totalParams: 0, totalFlops: 0, activationBytes: 0, forwardMs: 0, compare: r }), 'the panel accepts it');
    }
  });

  it('uses the loaded checkpoint and passes tuple arguments', async function () {
    const src = 'import torch.nn as nn\n\nclass Head(nn.Module):\n    def __init__(self, dim, sizes=(1, 2)):\n        super().__init__()\n        assert isinstance(sizes, tuple)\n        self.proj = nn.Linear(dim, sizes[1])\n\n    def forward(self, x):\n        return self.proj(x).softmax(-1)\n';
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-compare-test-'));
    try {
      const p = path.join(dir, 'head.py');
      fs.writeFileSync(p, src);
      const g = new Generator(5);
      const weights = { file: 'head.pt', tensors: new Map([['proj.weight', randn([3, 4], g).mul(4)], ['proj.bias', randn([3], g)]]) };
      const r = await compareWithTorch({ python: PYTHON, script: SCRIPT, source: src, file: 'head.py', className: 'Head', shapes: [[2, 4]], where: { path: p, args: [4], kwargs: new Map([['sizes', new PyTuple([0, 3])]]) }, weights });
      assert.equal(r.error, undefined, r.error);
      assert.deepEqual(r.layers.map((l) => l.path).sort(), ['', 'proj']);
      for (const l of r.layers) assert.ok(l.maxAbsDiff !== null && l.maxAbsDiff < 1e-5, `${l.path}: ${l.maxAbsDiff}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("says in one line when torch rejects the module, or when the interpreter can't be started", async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-compare-test-'));
    try {
      const src = 'import torch.nn as nn\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 4)\n\n    def forward(self, x):\n        return self.fc(x)\n';
      const p = path.join(dir, 'net.py');
      // The file torch imports raises in forward (the editor's text, which the bundled run used, was not saved yet).
      fs.writeFileSync(p, src.replace('        return self.fc(x)', '        raise ValueError("unsaved edit")'));
      const refused = await compareWithTorch({ python: PYTHON, script: SCRIPT, source: src, file: 'net.py', className: 'Net', shapes: [[1, 4]], where: { path: p } });
      assert.equal(refused.error, 'PyTorch could not run Net: ValueError: unsaved edit');
      assert.deepEqual(refused.layers, []);
      const missing = await compareWithTorch({ python: '/nonexistent/python3', script: SCRIPT, source: src, file: 'net.py', className: 'Net', shapes: [[1, 4]], where: { path: p } });
      assert.match(missing.error ?? '', /^could not start \/nonexistent\/python3: it was not found/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
