/**
 * The compiled-twins registry and the layer tracer: the generated table has
 * one class per block per valid structural combination (and is what the
 * emitter renders now), `instantiateBlock` builds the class the structural
 * values select with the state_dict keys of the emitted module, lookups that
 * cannot succeed say why, and `traceForward` attributes QKᵀ/AV to the layer
 * that ran them and leaves no wrapper behind.
 */

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { allBlocks, resolveParams } from '../../src/blocks/catalog';
import { renderTwins, structuralCombos, TWINS_DIR } from '../../src/codegen/twins';
import { Generator, randn, traceForward, type Tensor } from '../../src/runtime/index';
import { instantiateBlock, lookupTwin, TwinLookupError, twinBlockIds } from '../../src/twins/registry';

const ROOT = path.resolve(__dirname, '../..');

describe('runtime twins registry', function () {
  it('has one compiled class per block per valid structural combination, as rendered now', function () {
    const { files, classes } = renderTwins();
    assert.equal(classes, allBlocks().reduce((n, b) => n + structuralCombos(b).length, 0));
    assert.deepEqual(twinBlockIds(), allBlocks().map((b) => b.id));
    for (const [rel, text] of files) assert.equal(fs.readFileSync(path.join(ROOT, TWINS_DIR, rel), 'utf8'), text, `${rel} is stale`);
  });

  it('builds the class the structural values select, with every parameter passed', function () {
    for (const b of allBlocks()) {
      for (const combo of structuralCombos(b)) {
        const { params } = resolveParams(b, combo);
        const m = instantiateBlock(b.id, params, { generator: new Generator(1) });
        assert.equal(m.training, false);
        const name = b.typescript?.(params).name;
        assert.equal(m.typeName, name, `${b.id} ${JSON.stringify(combo)}`);
      }
    }
    const m = instantiateBlock('non-local', { ...resolveParams(allBlocks().find((b) => b.id === 'non-local')!, { dimension: '1', mode: 'gaussian', sub_sample: false }).params, in_channels: 6, inter_channels: 2 });
    assert.deepEqual([...m.stateDict().keys()], ['g.weight', 'g.bias', 'W.0.weight', 'W.0.bias', 'W.1.weight', 'W.1.bias', 'W.1.running_mean', 'W.1.running_var', 'W.1.num_batches_tracked']);
    assert.deepEqual(m.stateDict().get('g.weight')?.shape, [2, 6, 1]);
  });

  it('says why a lookup fails', function () {
    assert.throws(() => lookupTwin('nope', {}), (e: Error) => e instanceof TwinLookupError && /no compiled block 'nope'/.test(e.message));
    assert.throws(() => lookupTwin('image-mha', { use_sdpa: true }), /missing structural parameter\(s\) need_weights/);
    assert.throws(() => lookupTwin('image-mha', { use_sdpa: true, need_weights: true }), /no compiled class for use_sdpa=true,need_weights=true/);
    assert.throws(() => instantiateBlock('se', { return_weights: false, channels: 8 }), /missing parameter\(s\) reduction/);
  });

  it('traces layers in call order with their shapes, parameters and own kernels', function () {
    const b = allBlocks().find((x) => x.id === 'image-mha')!;
    const m = instantiateBlock('image-mha', resolveParams(b, { embed_dim: 16, num_heads: 2 }).params);
    const x = randn([1, 16, 4, 3], new Generator(0));
    const { result, layers } = traceForward(m, () => m.forward(x));
    assert.equal((result as Tensor[]).length, 2);
    assert.deepEqual(layers.map((l) => l.path), ['', 'q_proj', 'k_proj', 'v_proj', 'attn_drop', 'out_proj']);
    assert.deepEqual(layers[1].outputShapes, [[1, 12, 16]]);
    assert.equal(layers[1].parameters, 16 * 16 + 16);
    assert.equal(layers[0].ownParameters, 0);
    assert.equal(layers[0].outputBytes, 4 * (16 * 12 + 2 * 12 * 12));
    const mm = layers[0].ops.filter((o) => o.op === 'matmul');
    // QKᵀ: (1, 2, 12, 8) @ (1, 2, 8, 12); AV: (1, 2, 12, 12) @ (1, 2, 12, 8).
    assert.deepEqual(mm.map((o) => o.flops), [2 * 2 * 12 * 12 * 8, 2 * 2 * 12 * 8 * 12]);
    assert.ok(layers[0].flops > layers[0].ops.reduce((n, o) => n + o.flops, 0), 'children counted in the total');
    assert.equal(Object.prototype.hasOwnProperty.call(m, 'forward'), false, 'wrappers removed');
  });
});
