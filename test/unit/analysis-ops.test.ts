/**
 * The op suite: every case of test/fixtures/ops/cases.json (one op and variant: inputs, a call)
 * becomes a tiny program (`x = torch.randn(…)`, `y = <call>`, or `y0, y1 = <call>` for a tuple
 * result) that real torch runs (scripts/torch/run_ops.py, 2.6 and 1.13) and the analyzer
 * analyses. A case is exact when every bound name has torch's shape; wrong when a rank or a
 * literal size contradicts torch, or when the analyzer gives a shape to a call torch rejects;
 * unknown otherwise (no shape, or a symbolic size). Where torch rejects a call and the case
 * names a rule, that rule must fire. 1.13 is compared where the op exists there and behaves as
 * in 2.6; the cases where the two versions differ are listed.
 */

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pythonCommand, type TorchVersion } from '../helpers/torch';
import { analyzeSource, ready } from './analysis.helpers';

const CASES = path.resolve(__dirname, '../fixtures/ops/cases.json');
const SCRIPT = path.resolve(__dirname, '../../scripts/torch/run_ops.py');
/** The share of cases that must be exact against torch 2.6. */
const EXACT_FLOOR = 0.95;

interface Input {
  shape: number[];
  dtype?: 'long' | 'bool';
  high?: number;
}

interface OpCase {
  id: string;
  inputs: Record<string, number[] | Input>;
  call: string;
  /** The call returns a tuple of this many tensors (unpacked into y0, y1, …). */
  tuple?: number;
  /** The rule that must fire where torch rejects the call. */
  rule?: string;
}

interface TorchRun {
  torch: string;
  results: { id: string; ok: boolean; shapes?: (number[] | null)[]; error?: string; message?: string }[];
}

const cases: OpCase[] = JSON.parse(fs.readFileSync(CASES, 'utf8'));

function inputLine(name: string, spec: number[] | Input): string {
  const s = Array.isArray(spec) ? { shape: spec } : spec;
  const dims = `(${s.shape.join(', ')}${s.shape.length === 1 ? ',' : ''})`;
  if (s.dtype === 'long') return `${name} = torch.randint(0, ${s.high ?? 10}, ${dims})`;
  if (s.dtype === 'bool') return `${name} = torch.randn(${dims}) > 0`;
  return `${name} = torch.randn(${dims})`;
}

/** The program both torch and the analyzer see; the result is on the last line. */
export function program(c: OpCase): string {
  const names = c.tuple ? Array.from({ length: c.tuple }, (_, i) => `y${i}`) : ['y'];
  return [
    'import torch',
    'import torch.nn.functional as F',
    ...Object.entries(c.inputs).map(([n, s]) => inputLine(n, s)),
    `${names.join(', ')} = ${c.call}`,
    '',
  ].join('\n');
}

function runTorch(version: TorchVersion): TorchRun {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-ops-'));
  try {
    const req = path.join(dir, 'programs.json');
    const res = path.join(dir, 'results.json');
    fs.writeFileSync(req, JSON.stringify(cases.map((c) => ({ id: c.id, source: program(c) }))));
    const [cmd, args] = pythonCommand(version, SCRIPT, [req, res]);
    const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
    if (r.status !== 0 || !fs.existsSync(res)) throw new Error(`torch ${version} op run failed (exit ${r.status}): ${r.stderr}`);
    return JSON.parse(fs.readFileSync(res, 'utf8')) as TorchRun;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

type Verdict = 'exact' | 'wrong' | 'unknown';

interface Analyzed {
  /** The shape text of each bound name (undefined: none). */
  shapes: (string[] | undefined)[];
  rules: string[];
}

function analyzeCase(c: OpCase): Analyzed {
  const src = program(c);
  const line = src.split('\n').length - 2;
  const a = analyzeSource(src);
  const names = c.tuple ? Array.from({ length: c.tuple }, (_, i) => `y${i}`) : ['y'];
  const shapes = names.map((n) => {
    const rec = a.shapes.find((s) => s.line === line && s.name === n);
    return rec ? rec.shape.replace(/^\(|\)$/g, '').split(', ').filter((p) => p !== '') : undefined;
  });
  return { shapes, rules: a.diagnostics.filter((d) => d.range.line === line).map((d) => d.rule) };
}

/** Judges the analyzer's shapes against one torch result. */
function judge(an: Analyzed, r: TorchRun['results'][number]): { verdict: Verdict; why?: string } {
  if (!r.ok) {
    const given = an.shapes.findIndex((s) => s !== undefined);
    return given >= 0 ? { verdict: 'wrong', why: `torch raises ${r.error} but the analyzer gives (${an.shapes[given]!.join(', ')})` } : { verdict: 'exact' };
  }
  const want = r.shapes ?? [];
  if (want.length !== an.shapes.length) return { verdict: 'unknown' };
  let exact = true;
  for (let i = 0; i < want.length; i++) {
    const got = an.shapes[i];
    const w = want[i];
    if (!got || !w) {
      exact = false;
      continue;
    }
    if (got.length !== w.length) return { verdict: 'wrong', why: `rank: torch (${w.join(', ')}), analyzer (${got.join(', ')})` };
    for (let k = 0; k < w.length; k++) {
      if (/^-?\d+$/.test(got[k])) {
        if (Number(got[k]) !== w[k]) return { verdict: 'wrong', why: `torch (${w.join(', ')}), analyzer (${got.join(', ')})` };
      } else exact = false;
    }
  }
  return { verdict: exact ? 'exact' : 'unknown' };
}

describe('analyzer op suite against torch', function () {
  let torch26: TorchRun;
  let torch113: TorchRun;
  const analyzed = new Map<string, Analyzed>();

  before(async function () {
    await ready();
    torch26 = runTorch('2.6');
    torch113 = runTorch('1.13');
    for (const c of cases) analyzed.set(c.id, analyzeCase(c));
  });

  it('the cases are well formed: unique ids, at least 150', function () {
    assert.equal(new Set(cases.map((c) => c.id)).size, cases.length);
    assert.ok(cases.length >= 150, `${cases.length} cases`);
  });

  it(`torch 2.6: no wrong shape, at least ${EXACT_FLOOR * 100} % exact, the named rules fire on rejected calls`, function () {
    const byId = new Map(torch26.results.map((r) => [r.id, r]));
    const counts: Record<Verdict, number> = { exact: 0, wrong: 0, unknown: 0 };
    const wrong: string[] = [];
    const unknown: string[] = [];
    const silent: string[] = [];
    for (const c of cases) {
      const r = byId.get(c.id)!;
      const an = analyzed.get(c.id)!;
      const { verdict, why } = judge(an, r);
      counts[verdict]++;
      if (verdict === 'wrong') wrong.push(`${c.id}: ${c.call}: ${why}`);
      if (verdict === 'unknown') unknown.push(`${c.id}: ${c.call}`);
      if (c.rule && r.ok) silent.push(`${c.id}: names rule ${c.rule} but torch runs it`);
      if (c.rule && !r.ok && !an.rules.includes(c.rule)) silent.push(`${c.id}: torch raises ${r.error}; ${c.rule} does not fire (${an.rules.join(', ') || 'nothing'})`);
      // A call that runs must not be reported.
      if (r.ok && an.rules.length) silent.push(`${c.id}: torch runs it, the analyzer reports ${an.rules.join(', ')}`);
    }
    const total = cases.length;
    console.log(`      torch ${torch26.torch}: exact ${counts.exact} / ${total} (${((100 * counts.exact) / total).toFixed(1)} %), wrong ${counts.wrong}, unknown ${counts.unknown}`);
    if (unknown.length) console.log(`      unknown: ${unknown.join('; ')}`);
    assert.deepEqual(wrong, []);
    assert.deepEqual(silent, []);
    assert.ok(counts.exact / total >= EXACT_FLOOR, `exact ${counts.exact} / ${total}`);
  });

  it('torch 1.13: no wrong shape where the op exists and behaves as in 2.6; the version differences are listed', function () {
    const by26 = new Map(torch26.results.map((r) => [r.id, r]));
    const wrong: string[] = [];
    const differ: string[] = [];
    let compared = 0;
    for (const r of torch113.results) {
      const r26 = by26.get(r.id)!;
      const missing = !r.ok && r.error === 'AttributeError' && /has no attribute/.test(r.message ?? '');
      if (missing) continue;
      if (r.ok !== r26.ok || JSON.stringify(r.shapes) !== JSON.stringify(r26.shapes)) {
        differ.push(`${r.id} (1.13 ${r.ok ? JSON.stringify(r.shapes) : r.error}, 2.6 ${r26.ok ? JSON.stringify(r26.shapes) : r26.error})`);
        continue;
      }
      compared++;
      const { verdict, why } = judge(analyzed.get(r.id)!, r);
      if (verdict === 'wrong') wrong.push(`${r.id}: ${why}`);
    }
    console.log(`      torch ${torch113.torch}: ${compared} cases compared; differs from 2.6: ${differ.join('; ') || 'none'}`);
    assert.deepEqual(wrong, []);
  });
});
