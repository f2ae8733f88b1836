/**
 * The interpreter on the real-style corpus (test/fixtures/realstyle/: 32 driverless module files
 * in the idioms of the big public code bases, each with a harness whose `cases(mod)` builds the
 * modules with concrete arguments and inputs). Each module file runs with its harness appended,
 * as the user's file would with a driver: every case is called on the bundled runtime and its
 * output shapes are compared with what torch 2.6 returned for the same case
 * (scripts/torch/trace_shapes.py). Prints how many cases preview (run with torch's shapes), how
 * many stop at an unsupported construct (and which, most frequent first) and how many raise;
 * the previewed share may not fall below the floor in realstyle/preview.json, and no case may
 * return a shape torch does not.
 */

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InterpretError, PyComplex, PyDict, PyNamespace, PyTuple, runFile, type PyValue } from '../../src/interpret/index';
import { Module } from '../../src/runtime/nn/module';
import { Tensor } from '../../src/runtime/index';
import { runTorchScript } from '../helpers/torch';

const REALSTYLE = path.resolve(__dirname, '../fixtures/realstyle');
const FLOOR = JSON.parse(fs.readFileSync(path.join(REALSTYLE, 'preview.json'), 'utf8')) as { previewed: number };

type Outcome = { kind: 'ok' } | { kind: 'unsupported' | 'python' | 'limit' | 'wrong'; detail: string };

function shapesOf(v: PyValue): number[][] {
  if (v instanceof Tensor || v instanceof PyComplex) return [[...v.shape]];
  if (v instanceof PyTuple) return v.items.flatMap(shapesOf);
  if (Array.isArray(v)) return v.flatMap(shapesOf);
  return [];
}

function failure(e: unknown): Outcome {
  if (e instanceof InterpretError) return { kind: e.kind, detail: e.kind === 'unsupported' ? e.detail : e.message };
  return { kind: 'python', detail: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
}

/** Runs every case of one module file's harness; one outcome per case torch ran. */
async function runCases(file: string, expected: (number[][] | null)[]): Promise<Outcome[]> {
  const source = `${fs.readFileSync(path.join(REALSTYLE, 'modules', file), 'utf8')}\n\n${fs.readFileSync(path.join(REALSTYLE, 'harness', file), 'utf8')}`;
  let cases: readonly PyValue[];
  let call: (f: PyValue, pos: PyValue[], kw: Map<string, PyValue>) => PyValue;
  try {
    const interp = await runFile(source, { file, maxSteps: 5_000_000 });
    call = (f, pos, kw) => interp.call(f, pos, kw);
    const list = interp.call(interp.globals.vars.get('cases')!, [new PyNamespace('mod', interp.globals.vars)]);
    cases = Array.isArray(list) ? list : [];
  } catch (e) {
    return expected.map(() => failure(e));
  }
  return expected.map((want, i) => {
    const c = cases[i];
    if (!(c instanceof PyTuple) || want === null) return { kind: 'python', detail: `case ${i} is not (callable, args, kwargs)` };
    const [fn, args, kwargs] = c.items;
    try {
      const out = call(fn, [...(args as PyTuple).items], new Map([...(kwargs as PyDict).map].map(([k, v]) => [String(k), v])));
      const got = shapesOf(out instanceof Module ? null : out);
      return JSON.stringify(got) === JSON.stringify(want) ? { kind: 'ok' } : { kind: 'wrong', detail: `case ${i}: ${JSON.stringify(got)} where torch gives ${JSON.stringify(want)}` };
    } catch (e) {
      return failure(e);
    }
  });
}

describe('interpreter on the real-style corpus, against torch 2.6', function () {
  let traced: Record<string, { cases: number; errors: string[]; outputs: (number[][] | null)[] }>;
  const results = new Map<string, Outcome[]>();

  before(async function () {
    traced = JSON.parse(runTorchScript('2.6', 'trace_shapes.py', [path.join(REALSTYLE, 'modules'), path.join(REALSTYLE, 'harness')]));
    for (const [file, t] of Object.entries(traced)) results.set(file, await runCases(file, t.outputs));
  });

  it('torch ran every case of the corpus', function () {
    const errors = Object.entries(traced).flatMap(([f, t]) => t.errors.map((e) => `${f}: ${e}`));
    assert.deepEqual(errors, []);
    assert.ok(Object.keys(traced).length >= 30, `${Object.keys(traced).length} module files`);
  });

  it('previews the cases with the shapes torch gives, never another shape (floor in realstyle/preview.json)', function () {
    const all = [...results.values()].flat();
    const count = (k: Outcome['kind']) => all.filter((o) => o.kind === k).length;
    const reasons = new Map<string, number>();
    for (const o of all) if (o.kind === 'unsupported') reasons.set(o.detail, (reasons.get(o.detail) ?? 0) + 1);
    const files = [...results].filter(([, os]) => os.every((o) => o.kind === 'ok')).length;
    const previewed = count('ok') / all.length;
    console.log(`      ${all.length} cases in ${results.size} module files: ${count('ok')} previewed (${(previewed * 100).toFixed(1)} %, floor ${(FLOOR.previewed * 100).toFixed(1)} %), ${count('unsupported')} stopped at an unsupported construct, ${count('python')} raised, ${count('limit')} hit a bound, ${count('wrong')} wrong shapes; ${files} files preview every case`);
    for (const [r, n] of [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`        unsupported ×${n}: ${r}`);
    const raised = new Map<string, number>();
    for (const [f, os] of results) for (const o of os) if (o.kind === 'python' || o.kind === 'limit' || o.kind === 'wrong') raised.set(`${o.kind} in ${f}: ${o.detail}`, (raised.get(`${o.kind} in ${f}: ${o.detail}`) ?? 0) + 1);
    for (const [r, n] of raised) console.log(`        ×${n} ${r}`);
    assert.deepEqual(all.filter((o) => o.kind === 'wrong'), [], 'a shape torch does not give');
    assert.ok(previewed >= FLOOR.previewed, `${(previewed * 100).toFixed(1)} % previewed, below the floor ${(FLOOR.previewed * 100).toFixed(1)} %`);
  });
});
