/**
 * The preview panel's pure parts (issue 5), without a browser: message and state validation
 * (`src/protocol/preview.ts`), the variant and shapes the extension sends
 * (`src/extension/preview-model.ts`), and the engine the webview runs (`webview/preview/
 * engine.ts`) on the CPU backend — FLOPs that include attention's QKᵀ and AV, the layer rows,
 * captured maps equal to the block's own returned weights, gates, the dry run's limit warnings,
 * all-or-nothing weights loading, and no storage left behind by a run; and the generated-block
 * headers the preview code lens reads. The browser suite
 * (`npm run test:preview`) covers the page itself.
 */

import * as assert from 'node:assert/strict';
import { allBlocks, defaults, getBlock } from '../../src/blocks/catalog';
import { renderPyTorch } from '../../src/codegen/pytorch';
import { renderTypeScript } from '../../src/codegen/typescript';
import { findGeneratedBlocks } from '../../src/extension/generated-blocks';
import { gridCases } from '../helpers/grid';
import { previewBakedParams, previewBlock, previewParams, resolvePreview } from '../../src/extension/preview-model';
import { previewHtml } from '../../src/extension/preview-html';
import { parsePreviewFromWebview, parsePreviewState, parsePreviewToWebview } from '../../src/protocol/preview';
import type { PreviewBlock } from '../../src/protocol/preview';
import { cpu } from '../../src/runtime/cpu';
import { Generator, opFlops, Tensor } from '../../src/runtime/index';
import { runBlock } from '../../src/cli/run';
import { instantiateBlock } from '../../src/twins/registry';
import { compareStateDict, dryRun, loadWeights, makeInputs, mapSlice, prepare, runOnce } from '../../webview/preview/engine';

const SETTINGS = { seed: 0, causal: false, padding: [] as number[] };

function block(id: string, given = {}): PreviewBlock {
  const r = previewBlock(id, given);
  if (!('block' in r)) throw new Error(r.error);
  return r.block;
}

describe('preview protocol', function () {
  it('accepts well-formed messages and drops malformed ones', function () {
    assert.deepEqual(parsePreviewFromWebview({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parsePreviewFromWebview({ type: 'resolve', seq: 2, blockId: 'se', dims: { N: 2, H: 4 } }), { type: 'resolve', seq: 2, blockId: 'se', dims: { N: 2, H: 4 } });
    for (const bad of [null, 'ready', { type: 'nope' }, { type: 'resolve', seq: 1.5, blockId: 'se', dims: {} }, { type: 'resolve', seq: 1, blockId: 'se', dims: { N: 0 } }, { type: 'resolve', seq: 1, blockId: 'se', dims: { N: 2 ** 30 } }, { type: 'pickBlock', blockId: '' }, { type: 'report', backend: 'tpu', adapter: '', reason: '', forwardMs: 1 }]) {
      assert.equal(parsePreviewFromWebview(bad), undefined, JSON.stringify(bad));
    }
    const init = { type: 'init', blocks: [{ id: 'se', title: 'SE' }], block: block('se') };
    assert.ok(parsePreviewToWebview(init));
    assert.equal(parsePreviewToWebview({ ...init, block: { ...init.block, inputs: [{ name: 'x', shape: [2, -1], dtype: 'float', fill: 'randn', optional: false }] } }), undefined);
    assert.equal(parsePreviewToWebview({ type: 'weights', fileName: 'a', bytes: [1, 2] }), undefined);
    assert.ok(parsePreviewToWebview({ type: 'weights', fileName: 'a', bytes: new Uint8Array(2) }));
  });

  it('accepts an image and a given module input only when well-formed', function () {
    assert.deepEqual(parsePreviewFromWebview({ type: 'loadImage' }), { type: 'loadImage' });
    assert.ok(parsePreviewToWebview({ type: 'image', fileName: 'cat.png', bytes: new Uint8Array(3) }));
    assert.equal(parsePreviewToWebview({ type: 'image', fileName: 'cat.png', bytes: [1, 2, 3] }), undefined);
    assert.equal(parsePreviewToWebview({ type: 'image', bytes: new Uint8Array(3) }), undefined);
    const data = Float32Array.from({ length: 12 }, (_, i) => i / 10);
    const good = { type: 'moduleInput', from: 'cat.png', shape: [1, 3, 2, 2], data };
    assert.deepEqual(parsePreviewFromWebview(good), good);
    // The serializer may deliver the buffer alone, or another view of it.
    assert.deepEqual(parsePreviewFromWebview({ ...good, data: data.buffer }), good);
    assert.deepEqual(parsePreviewFromWebview({ ...good, data: new Uint8Array(data.buffer) }), good);
    const nan = data.slice();
    nan[5] = NaN;
    for (const bad of [
      { ...good, data: Array.from(data) },
      { ...good, data: data.subarray(1) },
      { ...good, data: nan },
      { ...good, data: new Uint8Array(7) },
      { ...good, shape: [1, 3, 2] },
      { ...good, shape: [1, 3, 2, 0] },
      { ...good, shape: [1, 3, 2, 2.5] },
      { ...good, shape: [] },
      { ...good, shape: [4096, 4096] },
      { ...good, from: 7 },
      { ...good, from: 'x'.repeat(501) },
      { type: 'moduleInput', from: 'cat.png', shape: [1, 3, 2, 2] },
    ]) {
      assert.equal(parsePreviewFromWebview(bad), undefined, JSON.stringify({ ...bad, data: undefined }));
    }
    // A module message may name where its input came from, as a string only.
    const m = { type: 'module', file: 'a.py', className: 'A', inputs: [], outputs: [], layers: [], totalParams: 0, totalFlops: 0, activationBytes: 0, forwardMs: 0 };
    assert.ok(parsePreviewToWebview({ ...m, inputFrom: 'cat.png' }));
    assert.equal(parsePreviewToWebview({ ...m, inputFrom: 3 }), undefined);
  });

  it('restores state field by field, defaulting what is malformed', function () {
    const s = parsePreviewState({ blockId: 'cbam', seed: 7, causal: true, padding: [0, 3], head: 2, map: 1, batch: 1, queryPixel: 5, dims: { N: 1 } });
    assert.deepEqual(s, { blockId: 'cbam', seed: 7, causal: true, padding: [0, 3], head: 2, map: 1, batch: 1, queryPixel: 5, dims: { N: 1 } });
    const i = parsePreviewState({ seed: 1, imageMean: '0.5, 0.5, 0.5', imageStd: '0.25, 0.25, 0.25' });
    assert.deepEqual([i.imageMean, i.imageStd], ['0.5, 0.5, 0.5', '0.25, 0.25, 0.25']);
    const d = parsePreviewState({ seed: -1, causal: 'yes', padding: [-1], head: 'all', dims: { N: 0 }, imageMean: [0.5, 0.5, 0.5], imageStd: 'x'.repeat(201) });
    assert.deepEqual(d, { seed: 0, causal: false, padding: [], head: 'mean', map: 0, batch: 0, queryPixel: 0 });
  });

  it('serves a page with a strict CSP: default-src none, scripts by nonce only, nothing remote', function () {
    const html = previewHtml({ nonce: 'abc', cspSource: 'vscode-webview://x', script: 'vscode-webview://x/preview.js', style: 'vscode-webview://x/preview.css', worker: 'vscode-webview://x/preview-worker.js' });
    const csp = /Content-Security-Policy" content="([^"]+)"/.exec(html)![1];
    assert.match(csp, /^default-src 'none'; script-src 'nonce-abc' 'wasm-unsafe-eval';/);
    // The worker: the webview's own source (or a blob: of the same script, fetched from that source only).
    assert.match(csp, /; worker-src vscode-webview:\/\/x blob:; connect-src vscode-webview:\/\/x;/);
    assert.match(html, /<body data-worker="vscode-webview:\/\/x\/preview-worker\.js">/);
    // WebAssembly compilation only (the CPU kernels): never JavaScript eval or inline script.
    assert.doesNotMatch(csp, /'unsafe-eval'|unsafe-inline|https?:/);
    assert.equal([...html.matchAll(/<script /g)].length, [...html.matchAll(/<script nonce="abc"/g)].length);
  });
});

describe('preview model', function () {
  it('switches on baked choices that only add optional masks', function () {
    assert.deepEqual(previewBakedParams(getBlock('multihead-attention')!), {
      key_padding_mask: true,
      attn_mask: 'bool',
      is_causal: false,
      need_weights: true,
      average_attn_weights: true,
    });
    assert.deepEqual(previewBakedParams(getBlock('cross-attention')!), { context_padding_mask: true, use_sdpa: false });
    // A choice that changes the outputs (return_weights) is left alone.
    assert.deepEqual(previewBakedParams(getBlock('se')!), { return_weights: false });
  });

  it('honours given values, baked ones included, and reports invalid ones', function () {
    assert.equal(previewParams(getBlock('multihead-attention')!, { attn_mask: 'causal', num_heads: 4 }).params.attn_mask, 'causal');
    assert.match(previewParams(getBlock('multihead-attention')!, { num_heads: 5 }).issues.join(), /divisible/);
    const r = previewBlock('nope');
    assert.ok('error' in r && /no block/.test(r.error));
  });

  it('resolves shapes at new dims, and refuses dims that leave an empty tensor', function () {
    const r = resolvePreview('multihead-attention', {}, 3, { N: 1, L: 5, S: 7 });
    assert.deepEqual(r.issues, []);
    assert.deepEqual(r.inputs.map((i) => [i.name, i.shape, i.fill, i.optional]), [
      ['query', [1, 5, 64], 'randn', false],
      ['key', [1, 7, 64], 'randn', false],
      ['value', [1, 7, 64], 'randn', false],
      ['key_padding_mask', [1, 7], 'padding', true],
      ['attn_mask', [5, 7], 'causal-ignore', true],
    ]);
    assert.equal(r.seq, 3);
    assert.match(resolvePreview('non-local', {}, 1, { H: 1 }).issues.join(), /attn would have shape \(2, 6, 0\)/);
    assert.match(resolvePreview('se', {}, 1, { Q: 3 }).issues.join(), /no dim Q/);
  });
});

describe('preview engine (CPU)', function () {
  it('counts attention FLOPs including QKᵀ and AV', function () {
    const b = block('multihead-attention');
    // (N·H, L, d) @ (N·H, d, S) and (N·H, L, S) @ (N·H, S, d), N=2, H=8, L=16, S=12, d=8.
    assert.equal(opFlops('matmul', [[16, 16, 8], [16, 8, 12]], [[16, 16, 12]]), 2 * 16 * 16 * 12 * 8);
    assert.equal(opFlops('scaled_dot_product_attention', [[2, 8, 16, 8], [2, 8, 12, 8], [2, 8, 12, 8]], [[2, 8, 16, 8]]), 2 * 2 * 8 * 16 * 12 * 8 * 2 + 5 * 2 * 8 * 16 * 12);
    return runOnce(prepare(b, 0, cpu), b, SETTINGS).then((r) => {
      const [N, L, S, E, H] = [2, 16, 12, 64, 8];
      const projections = 2 * N * L * E * E + 2 * 2 * N * S * E * E + 2 * N * L * E * E;
      const attention = 2 * N * H * L * S * (E / H) * 2;
      const mha = r.layers.find((l) => l.path === 'mha')!;
      assert.ok(mha.flops >= projections + attention, `${mha.flops} < ${projections + attention}`);
      assert.ok(mha.flops < (projections + attention) * 1.1, `${mha.flops} counts far more than the matmuls`);
      assert.equal(r.layers[0].params, 4 * E * E + 4 * E);
      assert.deepEqual(r.layers[0].outputShapes, [[2, 16, 64], [2, 16, 12]]);
    });
  });

  it('reports totals equal to its block row and to the CLI\'s trace, for every block', async function () {
    // Masks on, so that the CLI (which synthesises every input) and the preview run the same inputs.
    const settings = { seed: 0, causal: true, padding: [0, 3] };
    for (const b of allBlocks()) {
      const pb = block(b.id);
      const r = await runOnce(prepare(pb, 0, cpu), pb, settings);
      const root = r.layers[0];
      assert.equal(root.path, '(block)');
      assert.equal(r.totalFlops, root.flops, `${b.id}: total FLOPs differ from the block row`);
      assert.equal(r.activationBytes, root.activationBytes, `${b.id}: total activations differ from the block row`);
      assert.equal(r.totalParams, root.params, `${b.id}: total parameters differ from the block row`);
      // The CLI's run (`attention-forge run`) traces the same block with the same tracer.
      const args = makeInputs(pb.inputs, settings, cpu);
      const inputs = new Map(pb.inputs.flatMap((spec, i) => (args[i] ? [[spec.name, args[i]] as [string, Tensor]] : [])));
      assert.equal(inputs.size, pb.inputs.length, `${b.id}: an input is off`);
      const cli = runBlock(b, pb.params, { seed: 0, inputs });
      assert.equal(cli.layers[0].flops, r.totalFlops, `${b.id}: the CLI counts other FLOPs`);
      assert.equal(cli.layers[0].activationBytes, r.activationBytes, `${b.id}: the CLI counts other activations`);
    }
  });

  it('says when fused attention ran its weights path for the maps, and only then', async function () {
    const withSdpa = block('self-attention', { use_sdpa: true });
    const r = await runOnce(prepare(withSdpa, 0, cpu), withSdpa, SETTINGS);
    assert.equal(r.sdpaWeights, true);
    assert.equal(r.maps.length, 1);
    const plain = block('self-attention');
    const p = await runOnce(prepare(plain, 0, cpu), plain, SETTINGS);
    assert.equal(p.sdpaWeights, false);
    assert.equal(p.maps.length, 1);
  });

  it('captures per-head maps whose mean is the block\'s own averaged weights', async function () {
    const b = block('multihead-attention');
    const r = await runOnce(prepare(b, 0, cpu), b, SETTINGS);
    assert.equal(r.maps.length, 1);
    assert.equal(r.maps[0].heads, 8);
    const m = instantiateBlock(b.id, b.params, { generator: new Generator(0), device: cpu });
    const out = m.forward(...makeInputs(b.inputs, SETTINGS, cpu)) as Tensor[];
    const want = out[1].dataSync();
    for (let n = 0; n < 2; n++) {
      const got = mapSlice(r.maps[0], n, 'mean');
      for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - want[n * got.length + i]) < 1e-6);
    }
  });

  it('applies the causal and padding masks the panel sets', async function () {
    const b = block('multihead-attention');
    const r = await runOnce(prepare(b, 0, cpu), b, { seed: 0, causal: true, padding: [0, 4] });
    const m0 = mapSlice(r.maps[0], 0, 'mean');
    const m1 = mapSlice(r.maps[0], 1, 'mean');
    const S = 12;
    for (let q = 0; q < 12; q++) for (let k = q + 1; k < S; k++) assert.equal(m0[q * S + k], 0);
    for (let q = 8; q < 16; q++) for (let k = 8; k < S; k++) assert.equal(m1[q * S + k], 0);
  });

  it('classifies spatial maps, C×C maps and gates', async function () {
    const sagan = await runOnce(prepare(block('sagan-spatial'), 0, cpu), block('sagan-spatial'), SETTINGS);
    assert.deepEqual(sagan.maps[0].grid, { H: 8, W: 6 });
    const csa = await runOnce(prepare(block('channel-self-attention'), 0, cpu), block('channel-self-attention'), SETTINGS);
    assert.ok(csa.maps[0].channel);
    const cbam = await runOnce(prepare(block('cbam'), 0, cpu), block('cbam'), SETTINGS);
    assert.deepEqual(cbam.gates.map((g) => [g.path, g.kind]), [['channel_gate', 'channel'], ['spatial_gate', 'spatial']]);
  });

  it('warns before a map would exceed the binding limit, without computing it', function () {
    const b = block('multihead-attention');
    const r = resolvePreview(b.id, {}, 1, { N: 2, L: 3000, S: 3000 });
    const w = dryRun({ ...b, inputs: r.inputs, outputs: r.outputs }, SETTINGS, 128 * 2 ** 20);
    assert.ok(w.some((x) => x.attention && x.path === 'mha' && x.shape.join() === '16,3000,3000' && x.bytes === 16 * 3000 * 3000 * 4));
    assert.deepEqual(dryRun(b, SETTINGS, 128 * 2 ** 20), []);
  });

  it('loads a state_dict all or nothing, listing every mismatch', function () {
    const b = block('se');
    const m = instantiateBlock(b.id, b.params, { generator: new Generator(0), device: cpu });
    const other = instantiateBlock(b.id, b.params, { generator: new Generator(1), device: cpu });
    const sd = new Map<string, Tensor>(other.stateDict());
    const [k0] = sd.keys();
    sd.delete(k0);
    sd.set('bogus', sd.get([...sd.keys()][0])!);
    const before = [...m.stateDict().values()].map((t) => Array.from(t.dataSync()));
    const report = loadWeights(m, sd);
    assert.equal(report.ok, false);
    assert.deepEqual(report.missing, [k0]);
    assert.deepEqual(report.unexpected, ['bogus']);
    assert.deepEqual([...m.stateDict().values()].map((t) => Array.from(t.dataSync())), before, 'something was loaded');
    assert.ok(compareStateDict(m, other.stateDict()).ok);
    assert.ok(loadWeights(m, other.stateDict()).ok);
    assert.deepEqual(Array.from([...m.stateDict().values()][0].dataSync()), Array.from([...other.stateDict().values()][0].dataSync()));
  });

  it('releases every storage a run allocated', async function () {
    const b = block('image-mha');
    const p = prepare(b, 0, cpu);
    const live = p.tap.live.size;
    for (let i = 0; i < 5; i++) await runOnce(p, b, SETTINGS);
    assert.equal(p.tap.live.size, live);
  });
});

describe('preview code lens: generated block headers', function () {
  it('reads back the block id and every parameter value from generated Python and TypeScript, over every grid point', function () {
    let n = 0;
    for (const b of allBlocks()) {
      for (const g of gridCases(b)) {
        for (const [lang, code] of [['py', renderPyTorch(b, g.params)], ['ts', renderTypeScript(b, g.params)]] as const) {
          const found = findGeneratedBlocks(`import os\n\n${code}`);
          assert.equal(found.length, 1, `${b.id} ${lang}: ${found.length} headers`);
          assert.equal(found[0].line, 2);
          assert.equal(found[0].blockId, b.id);
          assert.deepEqual(found[0].params, g.params, `${b.id} ${lang} ${g.label}`);
          n++;
        }
      }
    }
    assert.ok(n > 200, `${n} files`);
  });

  it('finds nothing in ordinary code and gives no lens for a header edited out of shape', function () {
    assert.deepEqual(findGeneratedBlocks('class A(nn.Module):\n    pass\n'), []);
    const code = renderPyTorch(getBlock('se')!, defaults(getBlock('se')!));
    // A Parameters list cut short (no closing period within the comment) or with a non-literal.
    assert.deepEqual(findGeneratedBlocks(code.replace(/return_weights=False\./, 'return_weights=False')), []);
    assert.deepEqual(findGeneratedBlocks(code.replace('reduction=16', 'reduction=foo(')), []);
    // A header without its Parameters line still names the block (the preview uses defaults).
    assert.deepEqual(findGeneratedBlocks(code.split('\n').filter((l) => !l.startsWith('# Parameters')).join('\n')), [{ line: 0, blockId: 'se', params: {} }]);
  });
});
