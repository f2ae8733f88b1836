/**
 * The CLI through its built binary (dist/cli.js, as `npx attention-forge`
 * runs it): listings, generation, validation errors with exit code 2, and
 * --out never overwriting without --force.
 */

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allBlocks } from '../../src/blocks/catalog';

const CLI = path.resolve(__dirname, '../../dist/cli.js');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('cli', function () {
  before(function () {
    assert.ok(fs.existsSync(CLI), 'dist/cli.js missing: run npm run build');
  });

  it('blocks --json lists every block with params and contract', function () {
    const r = cli('blocks', '--json');
    assert.equal(r.code, 0, r.err);
    const blocks = JSON.parse(r.out) as { id: string; params: { name: string; type: string; doc: string; constraints: object }[]; contract: { outputs: { name: string; shape: string[] }[] } }[];
    assert.deepEqual(blocks.map((b) => b.id), allBlocks().map((b) => b.id));
    for (const b of blocks) {
      assert.ok(b.params.length > 0 && b.params.every((p) => p.doc && p.type && p.constraints));
      assert.ok(b.contract.outputs.some((o) => o.name === 'output'));
    }
  });

  it('blocks prints a readable listing', function () {
    const r = cli('blocks');
    assert.equal(r.code, 0);
    for (const b of allBlocks()) assert.match(r.out, new RegExp(`^${b.id} — `, 'm'));
  });

  it('new prints code with the chosen values as defaults', function () {
    const r = cli('new', 'cnn-mha', '--set', 'embed_dim=96', '--set', 'num_heads=4');
    assert.equal(r.code, 0, r.err);
    const init = r.out.slice(r.out.indexOf('def __init__('), r.out.indexOf('-> None:')).replace(/\s+/g, ' ');
    assert.equal(init, 'def __init__( self, embed_dim: int = 96, num_heads: int = 4, dropout: float = 0.0, ) ');
  });

  it('rejects invalid values with the validation message and exit 2', function () {
    const r = cli('new', 'cnn-mha', '--set', 'embed_dim=100');
    assert.equal(r.code, 2);
    assert.match(r.err, /embed_dim \(100\) must be divisible by num_heads \(8\): try num_heads 10, 5 or 4, or embed_dim 96 or 104/);
    assert.equal(r.out, '');
  });

  it('rejects unknown blocks, parameters, malformed values and flags with exit 2', function () {
    assert.equal(cli('new', 'nope').code, 2);
    assert.match(cli('new', 'cnn-mha', '--set', 'heads=2').err, /no parameter 'heads'/);
    assert.match(cli('new', 'cnn-mha', '--set', 'dropout=lots').err, /dropout must be a number/);
    assert.equal(cli('new', 'cnn-mha', '--bogus').code, 2);
    assert.equal(cli('frobnicate').code, 2);
  });

  it('--out never overwrites without --force', function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-cli-'));
    try {
      const file = path.join(dir, 'block.py');
      assert.equal(cli('new', 'cnn-mha', '--out', file).code, 0);
      const first = fs.readFileSync(file, 'utf8');
      fs.writeFileSync(file, '# mine\n');
      const r = cli('new', 'cnn-mha', '--out', file);
      assert.equal(r.code, 2);
      assert.match(r.err, /already exists; pass --force/);
      assert.equal(fs.readFileSync(file, 'utf8'), '# mine\n');
      assert.equal(cli('new', 'cnn-mha', '--out', file, '--force').code, 0);
      assert.equal(fs.readFileSync(file, 'utf8'), first);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it('new --lang ts emits a runtime module class; a block without a TypeScript twin is a usage error', function () {
    const r = cli('new', 'cnn-mha', '--lang', 'ts', '--set', 'embed_dim=32', '--set', 'num_heads=4');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^export class CNNMultiheadAttention extends nn\.Module \{$/m);
    assert.match(r.out, /constructor\(embed_dim: number = 32, num_heads: number = 4, dropout: number = 0, /);
    const missing = allBlocks().find((b) => !b.typescript);
    if (missing) {
      const m = cli('new', missing.id, '--lang', 'ts');
      assert.equal(m.code, 2);
      assert.match(m.err, /has no TypeScript version yet/);
    }
    assert.equal(cli('new', 'cnn-mha', '--lang', 'rs').code, 2);
  });
});
