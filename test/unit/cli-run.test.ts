/**
 * `attention-forge run` through the built binary (dist/cli.js): every block
 * runs on the CPU with its defaults, and what it writes equals the same run
 * in-process (`runBlock`: the compiled twin, seeded init and input); weights
 * round-trip through --weights; unreadable or mismatched weights and inputs
 * fail with exit 1 and a message that names the key or the shape; invalid
 * values and unknown backends exit 2.
 */

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allBlocks, getBlock } from '../../src/blocks/catalog';
import { runBlock } from '../../src/cli/run';
import { parseSafetensors, serializeSafetensors, Tensor, zeros } from '../../src/runtime/index';
import { instantiateBlock } from '../../src/twins/registry';

const CLI = path.resolve(__dirname, '../../dist/cli.js');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function same(a: Tensor, b: Tensor, what: string): void {
  assert.deepEqual([...a.shape], [...b.shape], `${what}: shape`);
  assert.deepEqual(a.dataSync(), b.dataSync(), `${what}: values`);
}

describe('cli run', function () {
  let dir: string;
  before(function () {
    assert.ok(fs.existsSync(CLI), 'dist/cli.js missing: run npm run build');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-run-'));
  });
  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const block of allBlocks()) {
    it(`${block.id}: runs on the CPU and writes what the runtime computes in-process`, function () {
      const out = path.join(dir, `${block.id}.safetensors`);
      const r = cli('run', block.id, '--seed', '7', '--output', out);
      assert.equal(r.code, 0, r.err);
      const expected = runBlock(block, {}, { seed: 7 });
      const written = parseSafetensors(fs.readFileSync(out));
      assert.deepEqual([...written.keys()].sort(), [...expected.outputs.keys()].sort());
      for (const [k, t] of expected.outputs) same(written.get(k) as Tensor, t, k);
      assert.match(r.out, /^Layer +Type +Output shape +Params$/m);
      assert.match(r.out, new RegExp(`^${expected.layers[0].type} +${expected.layers[0].type} `, 'm'));
    });
  }

  it('--json reports params, shapes and one record per layer call', function () {
    const r = cli('run', 'image-mha', '--set', 'embed_dim=32', '--set', 'num_heads=4', '--json');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as { params: Record<string, unknown>; outputs: { name: string; shape: number[] }[]; layers: { path: string; type: string; parameters: number; ops: { op: string }[] }[]; parameters: number };
    assert.equal(j.params.embed_dim, 32);
    assert.deepEqual(j.outputs.map((o) => [o.name, o.shape]), [['output', [2, 32, 8, 6]], ['attn', [2, 4, 48, 48]]]);
    assert.deepEqual(j.layers.map((l) => l.path), ['', 'q_proj', 'k_proj', 'v_proj', 'attn_drop', 'out_proj']);
    assert.equal(j.parameters, 4 * (32 * 32 + 32));
    // QKᵀ and AV are the block's own matmuls.
    assert.equal(j.layers[0].ops.filter((o) => o.op === 'matmul').length, 2);
  });

  it('--weights loads a state dict: its outputs are those of that state dict, whatever the seed', function () {
    const block = getBlock('sagan-spatial')!;
    const m = instantiateBlock('sagan-spatial', { in_channels: 64, k: 8, spectral_norm: false }, {});
    for (const [, p] of m.stateDict()) p.device.write(p.storage, Float32Array.from({ length: p.numel() }, (_, i) => Math.sin(i) / 10));
    const w = path.join(dir, 'w.safetensors');
    fs.writeFileSync(w, serializeSafetensors(m.stateDict()));
    const a = path.join(dir, 'a.safetensors');
    const b = path.join(dir, 'b.safetensors');
    assert.equal(cli('run', 'sagan-spatial', '--weights', w, '--seed', '1', '--output', a).code, 0);
    assert.equal(cli('run', 'sagan-spatial', '--weights', w, '--seed', '1', '--output', b, '--set', 'spectral_norm=false').code, 0);
    const expected = runBlock(block, {}, { seed: 1, weights: m.stateDict() });
    same(parseSafetensors(fs.readFileSync(a)).get('output') as Tensor, expected.outputs.get('output') as Tensor, 'output');
    same(parseSafetensors(fs.readFileSync(b)).get('output') as Tensor, expected.outputs.get('output') as Tensor, 'output');
  });

  it('invalid weights files fail with exit 1 and name the file or the keys', function () {
    const garbage = path.join(dir, 'garbage.safetensors');
    fs.writeFileSync(garbage, 'not a safetensors file at all');
    let r = cli('run', 'se', '--weights', garbage);
    assert.equal(r.code, 1);
    assert.match(r.err, /garbage\.safetensors is not a valid safetensors file/);

    r = cli('run', 'se', '--weights', path.join(dir, 'missing.safetensors'));
    assert.equal(r.code, 1);
    assert.match(r.err, /cannot read weights file/);

    const partial = new Map(instantiateBlock('se', { channels: 64, reduction: 16, bias: true, return_weights: false }).stateDict());
    const [first] = partial.keys();
    partial.delete(first);
    partial.set('extra.weight', zeros([3]));
    const p = path.join(dir, 'partial.safetensors');
    fs.writeFileSync(p, serializeSafetensors(partial));
    r = cli('run', 'se', '--weights', p);
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`Missing key\\(s\\) in state_dict: "${first.replace('.', '\\.')}"`));
    assert.match(r.err, /Unexpected key\(s\) in state_dict: "extra\.weight"/);

    const wrong = new Map(instantiateBlock('se', { channels: 32, reduction: 16, bias: true, return_weights: false }).stateDict());
    const q = path.join(dir, 'wrong.safetensors');
    fs.writeFileSync(q, serializeSafetensors(wrong));
    r = cli('run', 'se', '--weights', q);
    assert.equal(r.code, 1);
    assert.match(r.err, /size mismatch for fc\.0\.weight: copying a param with shape torch\.Size\(\[2, 32\]\) from checkpoint, the shape in current model is torch\.Size\(\[4, 64\]\)/);
  });

  it('--input is checked against the contract and any batch/spatial size runs', function () {
    const good = path.join(dir, 'x.safetensors');
    fs.writeFileSync(good, serializeSafetensors(new Map([['x', zeros([1, 64, 5, 3])]])));
    const out = path.join(dir, 'y.safetensors');
    let r = cli('run', 'window-attention', '--input', good, '--output', out);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(parseSafetensors(fs.readFileSync(out)).get('output')?.shape, [1, 64, 5, 3]);

    const bad = path.join(dir, 'bad.safetensors');
    fs.writeFileSync(bad, serializeSafetensors(new Map([['x', zeros([1, 32, 5, 3])]])));
    r = cli('run', 'window-attention', '--input', bad);
    assert.equal(r.code, 1);
    assert.match(r.err, /input 'x' has shape \(1, 32, 5, 3\), but window-attention expects \(B, embed_dim, H, W\) = \(1, 64, 5, 3\)/);

    const named = path.join(dir, 'named.safetensors');
    fs.writeFileSync(named, serializeSafetensors(new Map([['input', zeros([1, 64, 5, 3])]])));
    r = cli('run', 'window-attention', '--input', named);
    assert.equal(r.code, 1);
    assert.match(r.err, /unexpected input tensor\(s\) 'input'; window-attention takes 'x'/);
  });

  it('rejects invalid values, unknown blocks and backends with exit 2', function () {
    let r = cli('run', 'cnn-mha', '--set', 'embed_dim=100');
    assert.equal(r.code, 2);
    assert.match(r.err, /embed_dim \(100\) must be divisible by num_heads \(8\)/);
    assert.equal(cli('run', 'nope').code, 2);
    r = cli('run', 'se', '--backend', 'tpu');
    assert.equal(r.code, 2);
    assert.match(r.err, /--backend tpu is not available; supported: cpu, webgpu/);
    assert.equal(cli('run', 'se', '--seed', '-1').code, 2);
  });
});
