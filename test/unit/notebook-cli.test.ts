/**
 * `attention-forge check` and `shapes` on notebooks through the built binary (dist/cli.js; run
 * `npm run build` first): `cell N, line M` in text and JSON, directories include .ipynb, SARIF
 * valid against the 2.1.0 schema with regions that point at the finding in the .ipynb text and
 * fixes that, applied to the raw file, leave a notebook with the fixed cell.
 */

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Ajv from 'ajv-draft-04';

const CLI = path.resolve(__dirname, '../../dist/cli.js');
const SCHEMA = path.resolve(__dirname, '../fixtures/sarif-schema-2.1.0.json');
const NB = path.resolve(__dirname, '../fixtures/notebooks/mha.ipynb');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

interface Region {
  startLine: number;
  startColumn: number;
  endLine: number;
  endColumn: number;
}

interface SarifLog {
  runs: {
    results: {
      ruleId: string;
      message: { text: string };
      locations: { physicalLocation: { artifactLocation: { uri: string }; region: Region }; logicalLocations: { name: string }[]; properties: { cell: number; line: number } }[];
      fixes?: { description: { text: string }; artifactChanges: { replacements: { deletedRegion: Region; insertedContent: { text: string } }[] }[] }[];
    }[];
  }[];
}

function validSarif(text: string): SarifLog {
  const log = JSON.parse(text) as SarifLog;
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false, logger: false });
  const validate = ajv.compile(JSON.parse(fs.readFileSync(SCHEMA, 'utf8')));
  assert.ok(validate(log), JSON.stringify(validate.errors?.slice(0, 5), null, 2));
  return log;
}

/** The text of a 1-based single-line region of a file. */
function regionText(file: string, r: Region): string {
  assert.equal(r.startLine, r.endLine);
  return fs.readFileSync(file, 'utf8').split('\n')[r.startLine - 1].slice(r.startColumn - 1, r.endColumn - 1);
}

describe('notebooks in the cli (check, shapes)', function () {
  let tmp: string;
  before(function () {
    assert.ok(fs.existsSync(CLI), 'dist/cli.js missing: run npm run build');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'af-nb-'));
  });
  after(function () {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('check reports cell N, line M in text and JSON; exit 1 on errors', function () {
    const t = cli('check', NB);
    assert.equal(t.code, 1, t.err);
    assert.equal(t.out, `${NB}: cell 3, line 10, column 19: error[linear-in-features-mismatch] Linear expects in_features = 64 but the input (2, 10, 48) has 48 features in its last dimension\n`);
    assert.match(t.err, /1 file\(s\) checked: 1 error\(s\), 0 warning\(s\)/);
    const j = cli('check', NB, '--format', 'json');
    const diags = JSON.parse(j.out) as { file: string; cell: number; line: number; column: number; endLine: number; endColumn: number; rule: string }[];
    assert.equal(diags.length, 1);
    const d = diags[0];
    assert.equal(d.cell, 3);
    const nb = JSON.parse(fs.readFileSync(NB, 'utf8')) as { cells: { source: string[] }[] };
    const line = nb.cells[d.cell - 1].source[d.line - 1];
    assert.equal(line.slice(d.column - 1, d.endColumn - 1), 'self.qkv(x)');
    assert.equal(d.endLine, d.line);
  });

  it('check on a directory includes notebooks', function () {
    const dir = path.join(tmp, 'walk');
    fs.mkdirSync(path.join(dir, '.ipynb_checkpoints'), { recursive: true });
    fs.copyFileSync(NB, path.join(dir, 'a.ipynb'));
    fs.copyFileSync(NB, path.join(dir, '.ipynb_checkpoints', 'a-checkpoint.ipynb'));
    fs.writeFileSync(path.join(dir, 'b.py'), 'import torch\nx = torch.randn(2, 3) @ torch.randn(4, 5)\n');
    const r = cli('check', dir, '--format', 'json');
    const diags = JSON.parse(r.out) as { file: string; cell?: number; rule: string }[];
    assert.deepEqual(diags.map((d) => [path.basename(d.file), d.cell, d.rule]), [
      ['a.ipynb', 3, 'linear-in-features-mismatch'],
      ['b.py', undefined, 'matmul-inner-dim-mismatch'],
    ]);
  });

  it('check --format sarif is valid and its region is the finding in the .ipynb text', function () {
    const r = cli('check', NB, '--format', 'sarif');
    assert.equal(r.code, 1);
    const res = validSarif(r.out).runs[0].results;
    assert.equal(res.length, 1);
    const loc = res[0].locations[0];
    assert.equal(loc.logicalLocations[0].name, 'cell 3');
    assert.equal(loc.properties.cell, 3);
    assert.equal(loc.properties.line, 10);
    assert.equal(regionText(NB, loc.physicalLocation.region), 'self.qkv(x)');
    assert.match(res[0].message.text, /\(cell 3, line 10\)$/);
  });

  it('a SARIF fix applied to the raw notebook fixes the cell and keeps the notebook valid', function () {
    const file = path.join(tmp, 'view.ipynb');
    const nb = {
      cells: [
        { cell_type: 'code', execution_count: 1, id: 'a', metadata: {}, outputs: [], source: ['import torch\n'] },
        { cell_type: 'markdown', id: 'b', metadata: {}, source: ['Merge the heads — "wrongly":\n'] },
        { cell_type: 'code', execution_count: 2, id: 'c', metadata: {}, outputs: [], source: ['x = torch.randn(2, 6, 4, 8)  # "é"\n', 'y = x.transpose(1, 2).view(2, 4, 48)'] },
      ],
      metadata: { kernelspec: { language: 'python', name: 'python3', display_name: 'Python 3' } },
      nbformat: 4,
      nbformat_minor: 5,
    };
    fs.writeFileSync(file, JSON.stringify(nb, null, 1));
    const res = validSarif(cli('check', file, '--format', 'sarif').out).runs[0].results;
    const v = res.find((x) => x.ruleId === 'view-after-permute');
    assert.ok(v, JSON.stringify(res));
    assert.equal(v.locations[0].properties.cell, 3);
    assert.equal(v.locations[0].properties.line, 2);
    const fix = v.fixes?.find((f) => f.description.text === 'Use .reshape');
    assert.ok(fix, 'the single-line fix is offered in SARIF');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const reps = fix.artifactChanges[0].replacements.slice().sort((a, b) => b.deletedRegion.startColumn - a.deletedRegion.startColumn);
    for (const { deletedRegion: g, insertedContent } of reps) {
      assert.equal(g.startLine, g.endLine);
      const l = lines[g.startLine - 1];
      lines[g.startLine - 1] = l.slice(0, g.startColumn - 1) + insertedContent.text + l.slice(g.endColumn - 1);
    }
    const fixed = JSON.parse(lines.join('\n')) as typeof nb;
    assert.deepEqual(fixed.cells[2].source, ['x = torch.randn(2, 6, 4, 8)  # "é"\n', 'y = x.transpose(1, 2).reshape(2, 4, 48)']);
    assert.deepEqual(fixed.cells.slice(0, 2), nb.cells.slice(0, 2));
  });

  it('shapes prints cell and line; --json; a file that is not a notebook fails', function () {
    const r = cli('shapes', NB);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /mha\.ipynb: cell 5, line 1: x: \(2, 10, 48\)\n/);
    const j = JSON.parse(cli('shapes', NB, '--json').out) as { cell: number; line: number; name: string; shape: string }[];
    assert.ok(j.some((s) => s.cell === 5 && s.line === 1 && s.name === 'x' && s.shape === '(2, 10, 48)'));
    const broken = path.join(tmp, 'broken.ipynb');
    fs.writeFileSync(broken, '{"cells": [');
    const c = cli('check', broken);
    assert.equal(c.code, 1);
    assert.match(c.err, /broken\.ipynb: not a notebook: .*line 1/);
    assert.equal(cli('shapes', broken).code, 1);
  });
});
