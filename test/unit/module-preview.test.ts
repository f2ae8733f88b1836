/**
 * *Preview module* (issue 14) without an editor: the lenses above every nn.Module subclass
 * (`moduleLenses`), the input shape offered for a class (`guessInputShape`), the reading of the
 * user's answer (`parseShapes`), and the run the panel shows (`runModulePreview`): a message the
 * webview's validator accepts, with the tracer's shapes at every layer, or the interpreter's
 * one-line `file:line` reason and no layers. The panel's page is covered by the browser suite.
 */

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { guessInputShape, moduleLenses, parseConstructorArguments, parseShapes, runModulePreview } from '../../src/extension/module-preview';
import { findInstantiations, PyTuple, requiredParameters } from '../../src/interpret/index';
import { parsePreviewToWebview } from '../../src/protocol/preview';
import { ones, tensor, zeros } from '../../src/runtime/index';

const FIXTURES = path.resolve(__dirname, '../fixtures/user-modules');
const read = (f: string) => fs.readFileSync(path.join(FIXTURES, f), 'utf8');

describe('preview module', function () {
  it('puts a lens on the class line of every nn.Module subclass, and on nothing else', async function () {
    assert.deepEqual(await moduleLenses(read('encoder_layer.py')), [
      { line: 10, className: 'SelfAttention' },
      { line: 35, className: 'Mlp' },
      { line: 44, className: 'Block' },
      { line: 58, className: 'Encoder' },
    ]);
    assert.deepEqual(await moduleLenses('class Config:\n    dim = 4\n\nclass Net(Config):\n    pass\n'), []);
    assert.deepEqual(await moduleLenses('import torch.nn as nn\n\nclass A(nn.Module):\n    pass\n\nclass B(A):\n    pass\n'), [
      { line: 2, className: 'A' },
      { line: 5, className: 'B' },
    ]);
  });

  it("offers an input shape from the class's first layer", async function () {
    const cases: [string, string, number[] | undefined][] = [
      ['vit_attention.py', 'Attention', [2, 16, 64]],
      ['se_block.py', 'SEBlock', [2, 32, 16, 16]],
      ['causal_self_attention.py', 'CausalSelfAttention', [2, 16, 48]],
      ['encoder_layer.py', 'Encoder', [2, 16, 32]],
      ['sagan_attention.py', 'SelfAttn', [2, 16, 16, 16]],
    ];
    for (const [file, cls, want] of cases) assert.deepEqual(await guessInputShape(read(file), file, cls), want, `${file}:${cls}`);
    // A class whose __init__ needs arguments cannot be built from defaults: no guess, no error.
    assert.equal(await guessInputShape(read('encoder_layer.py'), 'encoder_layer.py', 'Block'), undefined);
  });

  it("reads the user's shapes, and says what is wrong with a bad one", function () {
    assert.deepEqual(parseShapes('2,16,64'), [[2, 16, 64]]);
    assert.deepEqual(parseShapes(' 2x8x32 ; 2, 8 '), [[2, 8, 32], [2, 8]]);
    assert.equal(parseShapes(''), 'Give the input shape, such as 2,16,64 (several separated by ;).');
    assert.equal(parseShapes('2,a'), "'2,a' is not a shape: write sizes separated by commas, such as 2,16,64.");
    assert.equal(parseShapes('2,0'), "'2,0': every size must be between 1 and 65,536.");
  });

  it('runs the module and sends the tracer shapes the panel validates', async function () {
    const m = await runModulePreview(read('vit_attention.py'), 'vit_attention.py', 'Attention', [[2, 10, 64]]);
    assert.equal(m.error, undefined);
    assert.deepEqual(parsePreviewToWebview(m), m);
    assert.deepEqual(
      m.layers.map((l) => [l.path, l.type, l.outputShapes]),
      [
        ['Attention', 'Attention', [[2, 10, 64]]],
        ['qkv', 'Linear', [[2, 10, 192]]],
        ['attn_drop', 'Dropout', [[2, 8, 10, 10]]],
        ['proj', 'Linear', [[2, 10, 64]]],
        ['proj_drop', 'Dropout', [[2, 10, 64]]],
      ],
    );
    assert.deepEqual(m.outputs, [{ name: 'output', shape: [2, 10, 64] }]);
    assert.equal(m.totalParams, 64 * 192 + 64 * 64 + 64);
    // The softmax over the keys is the module's attention: 2 items × 8 heads × 10 queries × 10 keys, rows summing to 1.
    assert.equal(m.maps?.length, 1);
    const map = m.maps![0];
    assert.deepEqual([map.path, map.source, map.shape, map.items, map.heads, map.L, map.S, map.itemsRead], ['Attention', 'softmax', [2, 8, 10, 10], 2, 8, 10, 10, 2]);
    for (let r = 0; r < 2 * 8 * 10; r++) {
      const row = map.data!.subarray(r * 10, r * 10 + 10);
      assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, `row ${r} sums to 1`);
    }
  });

  it('runs on a given first input (an image) instead of a seeded one, and names it', async function () {
    const src = read('tiny_vit.py');
    const seeded = await runModulePreview(src, 'tiny_vit.py', 'TinyViT', [[2, 3, 16, 16]]);
    assert.equal(seeded.error, undefined);
    assert.equal(seeded.inputFrom, undefined);
    // One map per block over the class token and a 4×4 patch grid: 17 × 17.
    assert.deepEqual(seeded.maps?.map((x) => [x.path, x.shape]), [['blocks.0.attn', [2, 2, 17, 17]], ['blocks.1.attn', [2, 2, 17, 17]]]);
    const data = Float32Array.from({ length: 3 * 16 * 16 }, (_, i) => Math.sin(i));
    const given = await runModulePreview(src, 'tiny_vit.py', 'TinyViT', [[2, 3, 16, 16]], 0, {}, undefined, { from: 'cat.png', shape: [1, 3, 16, 16], data });
    assert.equal(given.error, undefined);
    assert.equal(given.inputFrom, 'cat.png');
    assert.deepEqual(given.inputs, [{ name: 'input0', shape: [1, 3, 16, 16] }]);
    assert.deepEqual(given.outputs, [{ name: 'output', shape: [1, 10] }]);
    assert.deepEqual(parsePreviewToWebview(given), given);
    // The same weights (same seed), another input: other attention than the seeded input's first item.
    const other = await runModulePreview(src, 'tiny_vit.py', 'TinyViT', [[1, 3, 16, 16]]);
    assert.notDeepEqual([...given.maps![0].data!], [...other.maps![0].data!]);
    const again = await runModulePreview(src, 'tiny_vit.py', 'TinyViT', [[2, 3, 16, 16]], 0, {}, undefined, { from: 'cat.png', shape: [1, 3, 16, 16], data });
    assert.deepEqual([...again.maps![1].data!], [...given.maps![1].data!], 'deterministic');
    const short = await runModulePreview(src, 'tiny_vit.py', 'TinyViT', [[1, 3, 16, 16]], 0, {}, undefined, { from: 'cat.png', shape: [1, 3, 16, 16], data: data.subarray(1) });
    assert.match(short.error ?? '', /^cat\.png: 767 values do not fill the shape \(1, 3, 16, 16\)/);
  });

  it("captures a fused scaled_dot_product_attention's weights by layer, recomputed on its weights path", async function () {
    const m = await runModulePreview(read('encoder_layer.py'), 'encoder_layer.py', 'Encoder', [[2, 7, 32]]);
    assert.equal(m.error, undefined);
    const sdpa = m.maps?.filter((x) => x.source === 'scaled_dot_product_attention') ?? [];
    // One per block (depth 2), named by the layer that ran it, 2 items × 4 heads × 7 × 7.
    assert.deepEqual(sdpa.map((x) => [x.shape, x.heads, x.items]), [[[2, 4, 7, 7], 4, 2], [[2, 4, 7, 7], 4, 2]], JSON.stringify(m.maps?.map((x) => [x.path, x.source, x.shape])));
    assert.notEqual(sdpa[0].path, sdpa[1].path);
    assert.match(sdpa[0].path, /attn/);
    for (const w of sdpa) for (let r = 0; r < 2 * 4 * 7; r++) assert.ok(Math.abs(w.data!.subarray(r * 7, r * 7 + 7).reduce((a, b) => a + b, 0) - 1) < 1e-5);
  });

  it('runs again with a checkpoint: what does not match is listed, not fatal; a shape mismatch is the run\'s error', async function () {
    const src = 'import torch.nn as nn\n\nclass Head(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.proj = nn.Linear(4, 2)\n        self.norm = nn.LayerNorm(2)\n\n    def forward(self, x):\n        return self.proj(x)\n';
    const seeded = await runModulePreview(src, 'head.py', 'Head', [[1, 4]]);
    assert.equal(seeded.weights, undefined);
    const tensors = new Map([
      ['proj.weight', zeros([2, 4])],
      ['proj.bias', tensor([3, -1])],
      ['old.scale', ones([2])],
    ]);
    const loaded = await runModulePreview(src, 'head.py', 'Head', [[1, 4]], 0, {}, { file: 'head.pt', tensors });
    assert.equal(loaded.error, undefined);
    assert.deepEqual(loaded.weights, { file: 'head.pt', missing: ['norm.weight', 'norm.bias'], unexpected: ['old.scale'] });
    assert.ok(parsePreviewToWebview(JSON.parse(JSON.stringify(loaded))), 'the panel accepts it');
    const wrong = await runModulePreview(src, 'head.py', 'Head', [[1, 4]], 0, {}, { file: 'other.pt', tensors: new Map([['proj.weight', zeros([3, 4])]]) });
    assert.match(wrong.error ?? '', /^other\.pt: Error\(s\) in loading state_dict for Head:\s+size mismatch for proj\.weight/);
    assert.deepEqual(wrong.layers, []);
  });

  it("builds the class as the workspace does: instantiations with literal arguments, required parameters, typed arguments", async function () {
    const src = [
      'import torch.nn as nn',
      '',
      'class Attn(nn.Module):',
      '    def __init__(self, dim, heads=4, *, window: int, bias=True):',
      '        super().__init__()',
      '        self.qkv = nn.Linear(dim, dim * 3, bias=bias)',
      '',
      '    def forward(self, x):',
      '        return self.qkv(x)',
      '',
      'small = Attn(32, window=7)',
      'big = Attn(dim=64 * 2, heads=8, window=(7, 7), bias=False)',
      'cfg_built = Attn(cfg.dim, window=7)',
      'other = mod.Attn(-16, window=[1, 2])',
    ].join('\n');
    const found = await findInstantiations(src, 'attn.py', 'Attn');
    assert.deepEqual(found.map((i) => [i.line, i.text, i.args, [...i.kwargs]]), [
      [11, 'Attn(32, window=7)', [32], [['window', 7]]],
      [12, 'Attn(dim=64 * 2, heads=8, window=(7, 7), bias=False)', [], [['dim', 128], ['heads', 8], ['window', new PyTuple([7, 7])], ['bias', false]]],
      [14, 'mod.Attn(-16, window=[1, 2])', [-16], [['window', [1, 2]]]],
    ]);
    assert.deepEqual(await requiredParameters(src, 'Attn'), ['dim', 'window']);
    assert.deepEqual([...parseConstructorArguments('dim=64 heads=8 window=7,7 name="x" drop=0.1 flag=None')!], [['dim', 64], ['heads', 8], ['window', new PyTuple([7, 7])], ['name', 'x'], ['drop', 0.1], ['flag', null]]);
    assert.equal(parseConstructorArguments('dim 64'), undefined);
    assert.equal(parseConstructorArguments('dim=cfg.dim'), undefined);
    const missing = await runModulePreview(src, 'attn.py', 'Attn', [[2, 5, 32]]);
    assert.match(missing.error ?? '', /missing required argument 'dim'/);
    const built = await runModulePreview(src, 'attn.py', 'Attn', [[2, 5, 128]], 0, { args: found[1].args, kwargs: found[1].kwargs });
    assert.equal(built.error, undefined);
    assert.deepEqual(built.outputs, [{ name: 'output', shape: [2, 5, 384] }]);
  });

  it("sends the interpreter's one-line reason when the module cannot run", async function () {
    const m = await runModulePreview(read('unsupported_fft.py'), 'unsupported_fft.py', 'FourierMixer', [[2, 5, 16]]);
    assert.equal(m.error, 'unsupported_fft.py:13: not supported by the interpreter: torch.fft');
    assert.deepEqual(m.layers, []);
    assert.ok(parsePreviewToWebview(m));
    const bad = await runModulePreview(read('vit_attention.py'), 'vit_attention.py', 'Attention', [[2, 10, 32]]);
    assert.match(bad.error ?? '', /^vit_attention\.py:21: RuntimeError: /);
  });

  it('refuses a malformed module message', function () {
    assert.equal(parsePreviewToWebview({ type: 'module', file: 'a.py', className: 'A', inputs: [], outputs: [], layers: [{ path: 'x' }], totalParams: 0, totalFlops: 0, activationBytes: 0, forwardMs: 0 }), undefined);
    assert.equal(parsePreviewToWebview({ type: 'module', file: 'a.py', className: 'A', inputs: [], outputs: [], layers: [], totalParams: -1, totalFlops: 0, activationBytes: 0, forwardMs: 0 }), undefined);
  });
});
