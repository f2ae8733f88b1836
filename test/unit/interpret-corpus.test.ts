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
 *
 * Then values: scripts/torch/dump_values.py records, per case, the state_dict of the module it
 * calls (and of modules passed as arguments), its tensor arguments and its outputs in torch 2.6;
 * the same case here loads that state_dict (strict: missing or unexpected keys fail the case),
 * takes torch's tensors for the harness's own, and must return torch's outputs within 1e-4 of
 * their scale. Cases that draw from torch's random stream (sampling, DropPath in training) are
 * listed and checked by shape only.
 */

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { InterpretError, PyComplex, PyDict, PyTuple, type PyValue } from '../../src/interpret/index';
import { Module } from '../../src/runtime/nn/module';
import { parseSafetensors, Tensor } from '../../src/runtime/index';
import { runTorchScript } from '../helpers/torch';
import { capturingMaps, compareOutputs, harnessCases, outputsOf, outputTensor, prepareCase, problemOf, REALSTYLE, type Call, type ValueOutcome } from '../helpers/realstyle';

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
  let cases: readonly PyValue[];
  let call: Call;
  try {
    ({ cases, call } = await harnessCases(file));
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

/**
 * CPU tolerance for values, on the output's scale: |ours - torch| <= TOL * max(1, max|torch|) for
 * every element. Per-element relative tolerance is no measure here: a spectrally normalised
 * generator block outputs values up to 5e4 whose sums cancel to near zero in places, where torch's
 * own float32 result is 0.025 off its float64 one.
 */
const TOL = 1e-4;

/** Every case of one file on torch's state_dict and inputs, compared with torch's outputs. */
async function runValues(file: string, dump: ReadonlyMap<string, Tensor>, count: number, random: readonly number[], scripted: readonly number[]): Promise<ValueOutcome[]> {
  const outcomes: ValueOutcome[] = [];
  const fail = (i: number, problem: string) => outcomes.push({ file, case: i, problem, worst: 0, maxAbs: 0, elements: 0, maps: null });
  let cases: readonly PyValue[];
  let call: Call;
  try {
    ({ cases, call } = await harnessCases(file));
  } catch (e) {
    for (let i = 0; i < count; i++) fail(i, failure(e).kind);
    return outcomes;
  }
  for (let i = 0; i < count; i++) {
    if (random.includes(i)) continue;
    try {
      const c = prepareCase(cases[i], i, dump);
      if ('problem' in c) {
        fail(i, c.problem);
        continue;
      }
      const { result, maps } = capturingMaps(() => call(c.fn, c.pos, c.kw));
      const outs = outputsOf(result).map(outputTensor);
      outcomes.push(compareOutputs(file, i, outs.map((o) => ({ complex: o.complex, data: o.tensor.dataSync() })), dump, TOL, scripted.includes(i) ? null : maps.map((m) => m.dataSync())));
    } catch (e) {
      fail(i, problemOf(e));
    }
  }
  return outcomes;
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

  it('computes torch\'s values and attention maps on torch\'s weights and inputs, every case within 1e-4 of its scale (scripts/torch/dump_values.py)', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-values-'));
    try {
      const report = JSON.parse(runTorchScript('2.6', 'dump_values.py', [path.join(REALSTYLE, 'modules'), path.join(REALSTYLE, 'harness'), dir])) as Record<string, { cases: number; errors: string[]; random: number[]; scripted: number[] }>;
      assert.deepEqual(Object.entries(report).flatMap(([f, r]) => r.errors.map((e) => `${f}: ${e}`)), []);
      const all: ValueOutcome[] = [];
      for (const [file, r] of Object.entries(report)) {
        const dump = parseSafetensors(fs.readFileSync(path.join(dir, file.replace(/\.py$/, '.safetensors'))));
        all.push(...(await runValues(file, dump, r.cases, r.random, r.scripted)));
      }
      const compared = all.filter((o) => o.problem === null);
      const within = compared.filter((o) => o.worst <= 1);
      const maxAbs = Math.max(0, ...compared.map((o) => o.maxAbs));
      const elements = compared.reduce((n, o) => n + o.elements, 0);
      const random = Object.entries(report).flatMap(([f, r]) => r.random.map((i) => `${f} case ${i}`));
      console.log(`      ${all.length + random.length} cases on torch's state_dict and inputs, ${random.length} of them drawing from torch's random stream (shapes only: ${random.join(', ')}): ${compared.length} compared (${elements} output elements), ${within.length} within |ours - torch| <= ${TOL}·max(1, max|torch|); largest difference ${maxAbs.toExponential(2)}, ${(Math.max(0, ...compared.map((o) => o.worst)) * TOL).toExponential(2)} of its output's scale`);
      const maps = compared.reduce((n, o) => n + (o.maps ?? 0), 0);
      const unobserved = compared.filter((o) => o.maps === null).map((o) => `${o.file} case ${o.case}`);
      console.log(`      attention maps: ${maps} captured as the preview captures them, each equal to the map torch computed in the same place (count and values, within the same tolerance); not observed in torch (TorchScript): ${unobserved.join(', ') || 'none'}`);
      const off = all.filter((o) => o.problem !== null || o.worst > 1);
      for (const o of off.slice(0, 20)) console.log(`        ${o.file} case ${o.case}: ${o.problem ?? `max |diff| ${o.maxAbs.toExponential(2)} (${o.worst.toFixed(1)}× the tolerance)`}`);
      assert.equal(off.length, 0, `${off.length} cases not within tolerance or not compared`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
