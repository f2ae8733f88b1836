/**
 * Snapshots of generated PyTorch: every block at its defaults and at each of
 * its examples is committed under test/snapshots/pytorch/. A difference fails;
 * UPDATE_SNAPSHOTS=1 rewrites them. Snapshot files no block produces any more
 * (orphans) fail too.
 */

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allBlocks, resolveParams } from '../../src/blocks/catalog';
import { renderPyTorch } from '../../src/codegen/pytorch';

const DIR = path.resolve(__dirname, '../snapshots/pytorch');
const UPDATE = process.env.UPDATE_SNAPSHOTS === '1';

const expected = new Map<string, string>();
for (const b of allBlocks()) {
  expected.set(`${b.id}.py`, renderPyTorch(b, resolveParams(b, {}).params));
  b.examples.forEach((e, i) => {
    const { params, issues } = resolveParams(b, e);
    if (!issues.length) expected.set(`${b.id}.example${i + 1}.py`, renderPyTorch(b, params));
  });
}

describe('generated PyTorch snapshots', function () {
  if (UPDATE) {
    fs.mkdirSync(DIR, { recursive: true });
    for (const f of fs.readdirSync(DIR)) if (!expected.has(f)) fs.rmSync(path.join(DIR, f));
    for (const [f, text] of expected) fs.writeFileSync(path.join(DIR, f), text);
  }
  for (const [f, text] of expected) {
    it(f, function () {
      const file = path.join(DIR, f);
      assert.ok(fs.existsSync(file), `missing snapshot ${f}: run UPDATE_SNAPSHOTS=1 npm run test:unit`);
      assert.equal(text, fs.readFileSync(file, 'utf8'), `${f} changed: review and run UPDATE_SNAPSHOTS=1 npm run test:unit`);
    });
  }
  it('has no orphaned snapshots', function () {
    const orphans = fs.existsSync(DIR) ? fs.readdirSync(DIR).filter((f) => !expected.has(f)) : [];
    assert.deepEqual(orphans, []);
  });
});

describe('generated PyTorch is clean Python', function () {
  it('passes pyflakes (no unused imports or variables, no undefined names)', function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-flakes-'));
    try {
      for (const [f, text] of expected) fs.writeFileSync(path.join(dir, f), text);
      const r = spawnSync('/usr/bin/python3', ['-m', 'pyflakes', dir], { encoding: 'utf8' });
      assert.equal(r.error, undefined, 'pyflakes could not start: run scripts/setup/torch.sh');
      assert.equal(`${r.stdout}${r.stderr}`.replaceAll(dir + '/', ''), '');
      assert.equal(r.status, 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
