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
import { allBlocks, concreteShapes, resolveParams } from '../../src/blocks/catalog';
import { renderTwins, structuralCombos, TWINS_DIR } from '../../src/codegen/twins';
import { Generator, opFlops, randn, traceForward, type LayerRecord, type Tensor } from '../../src/runtime/index';
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

  it('traces totals that add up: every row is its own kernels plus its children, the block row is the total', function () {
    for (const b of allBlocks()) {
      const params = resolveParams(b, {}).params;
      const m = instantiateBlock(b.id, params, { generator: new Generator(0) });
      const shapes = concreteShapes(b, params).inputs;
      const gen = new Generator(1);
      const args = b.contract(params).inputs.map((spec) => (spec.dtype === 'bool' ? null : randn(shapes[spec.name], gen)));
      const { layers, totals } = traceForward(m, () => m.forward(...args));
      assert.equal(layers.filter((l) => l.parent === -1).length, 1, `${b.id}: one root call`);
      const own = (l: LayerRecord) => ({ flops: l.ops.reduce((n, o) => n + o.flops, 0), bytes: l.ops.reduce((n, o) => n + o.bytes, 0) });
      // A row's totals are its own kernels plus the rows of the calls it made.
      layers.forEach((l, i) => {
        const calls = layers.filter((c) => c.parent === i);
        assert.equal(l.flops, own(l).flops + calls.reduce((n, c) => n + c.flops, 0), `${b.id} ${l.path || '(block)'}: FLOPs`);
        assert.equal(l.activationBytes, own(l).bytes + calls.reduce((n, c) => n + c.activationBytes, 0), `${b.id} ${l.path || '(block)'}: activation bytes`);
        for (const o of l.ops) assert.equal(o.bytes, o.outputs.reduce((n, s) => n + 4 * s.reduce((a, c) => a * c, 1), 0));
      });
      assert.equal(totals.flops, layers[0].flops, `${b.id}: total FLOPs`);
      assert.equal(totals.activationBytes, layers[0].activationBytes, `${b.id}: total activations`);
      assert.equal(totals.parameters, layers[0].parameters, `${b.id}: total parameters`);
      assert.ok(totals.flops > 0, `${b.id}: no FLOPs counted`);
    }
  });

  it('counts FLOPs by each kernel\'s own rule, one rule set', function () {
    assert.equal(opFlops('matmul', [[3, 4, 5], [5, 6]], [[3, 4, 6]]), 2 * 3 * 4 * 6 * 5);
    assert.equal(opFlops('conv', [[1, 4, 8, 8], [6, 2, 3, 3], [6]], [[1, 6, 8, 8]]), 2 * 6 * 64 * 18 + 6 * 64);
    assert.equal(opFlops('scaled_dot_product_attention', [[2, 3, 5, 8], [2, 3, 7, 8], [2, 3, 7, 4]], [[2, 3, 5, 4]]), 2 * 30 * 7 * 8 + 5 * 30 * 7 + 2 * 30 * 7 * 4);
    assert.equal(opFlops('softmax', [[4, 5]], [[4, 5]]), 5 * 20);
    assert.equal(opFlops('layer_norm', [[4, 5]], [[4, 5]]), 5 * 20);
    assert.equal(opFlops('batch_norm', [[2, 3, 4]], [[2, 3, 4]]), 5 * 24);
    assert.equal(opFlops('reduce', [[4, 5]], [[4]]), 20, 'reductions count their inputs');
    assert.equal(opFlops('pool', [[1, 2, 4, 4]], [[1, 2, 2, 2]]), 32, 'pooling counts its inputs');
    assert.equal(opFlops('adaptive_pool', [[1, 2, 4, 4]], [[1, 2, 1, 1]]), 32);
    assert.equal(opFlops('binary', [[4, 1], [1, 5]], [[4, 5]]), 20, 'elementwise counts its outputs');
    for (const op of ['copy', 'cat', 'index_select']) assert.equal(opFlops(op, [[4, 5]], [[4, 5]]), 0, op);
  });
});
