/**
 * `attention-forge check` and `shapes` through the built binary (dist/cli.js; run
 * `npm run build` first): JSON fields and 1-based positions, exit codes (0 clean, 1 errors,
 * 2 usage), --rule filtering, and SARIF output validated against the SARIF 2.1.0 JSON schema
 * (test/fixtures/sarif-schema-2.1.0.json, the schema shipped in @microsoft/jest-sarif; one of its
 * patterns is not valid with the u flag, hence unicodeRegExp: false).
 */

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv-draft-04';
import { RULES } from '../../src/analysis/rules';
import { CORPUS } from './analysis.helpers';

const CLI = path.resolve(__dirname, '../../dist/cli.js');
const SCHEMA = path.resolve(__dirname, '../fixtures/sarif-schema-2.1.0.json');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('analyzer cli (check, shapes)', function () {
  before(function () {
    assert.ok(fs.existsSync(CLI), 'dist/cli.js missing: run npm run build');
  });

  it('check --format json lists diagnostics with 1-based positions and fixes; exit 1 on errors', function () {
    const file = path.join(CORPUS, 'view_after_transpose.py');
    const r = cli('check', file, '--format', 'json');
    assert.equal(r.code, 1, r.err);
    const diags = JSON.parse(r.out) as { file: string; line: number; column: number; endLine: number; endColumn: number; rule: string; severity: string; message: string; fixes: { title: string; edits: unknown[] }[] }[];
    assert.equal(diags.length, 1);
    const d = diags[0];
    assert.equal(d.file, file);
    assert.equal(d.rule, 'view-after-permute');
    assert.equal(d.severity, 'error');
    const line = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes('error: [view-after-permute]')) + 1;
    assert.equal(d.line, line);
    assert.ok(d.column >= 1 && d.endLine >= d.line && d.endColumn >= 1);
    assert.equal(d.fixes[0].title, 'Use .reshape');
  });

  it('exits 0 on a clean directory of correct programs and 2 on usage errors', function () {
    const clean = fs.readdirSync(CORPUS).filter((f) => /_ok\.py$/.test(f)).map((f) => path.join(CORPUS, f));
    const r = cli('check', ...clean);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.err, /0 error\(s\), 0 warning\(s\)/);
    assert.equal(cli('check').code, 2);
    assert.equal(cli('check', CORPUS, '--format', 'xml').code, 2);
    assert.equal(cli('check', CORPUS, '--rule', 'no-such-rule').code, 2);
    assert.equal(cli('check', '/no/such/path.py').code, 2);
    assert.equal(cli('shapes').code, 2);
  });

  it('--rule keeps only the named rules', function () {
    const r = cli('check', CORPUS, '--format', 'json', '--rule', 'mask-polarity');
    const diags = JSON.parse(r.out) as { rule: string }[];
    assert.ok(diags.length >= 3);
    assert.ok(diags.every((d) => d.rule === 'mask-polarity'));
  });

  it('check --format sarif validates against the SARIF 2.1.0 schema', function () {
    const r = cli('check', CORPUS, '--format', 'sarif');
    assert.equal(r.code, 1);
    const log = JSON.parse(r.out) as { version: string; runs: { results: unknown[]; tool: { driver: { rules: unknown[] } } }[] };
    const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false, logger: false });
    const validate = ajv.compile(JSON.parse(fs.readFileSync(SCHEMA, 'utf8')));
    const ok = validate(log);
    assert.ok(ok, JSON.stringify(validate.errors?.slice(0, 5), null, 2));
    assert.equal(log.version, '2.1.0');
    assert.ok(log.runs[0].results.length >= 40);
    assert.equal(log.runs[0].tool.driver.rules.length, RULES.length);
  });

  it('shapes prints each tensor-valued name per line, and --json', function () {
    const file = path.resolve(__dirname, '../fixtures/shapes/concrete.py');
    const r = cli('shapes', file);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /concrete\.py:16: q: \(2, 4, 10, 8\)/);
    const j = JSON.parse(cli('shapes', file, '--json').out) as { line: number; name: string; shape: string }[];
    assert.ok(j.some((s) => s.line === 23 && s.name === 'out' && s.shape === '(2, 4, 10, 8)'));
  });
});
