/**
 * The real-style corpus's values on WebGPU (Dawn on lavapipe, in the child process of
 * test/helpers/webgpu.ts): the cases interpret-corpus.test.ts compares on the CPU, on the same
 * torch 2.6 dumps (scripts/torch/dump_values.py: state_dict, tensor arguments, outputs). The
 * child builds each case's modules and inputs on the CPU, loads torch's state_dict, moves the
 * interpreter, the modules and the tensor arguments to the device (`Interpreter.to`,
 * `Module.to`, `moveValue`), runs the forward there and reads the outputs back; this process
 * compares them with torch's within 1e-3 of the output's scale, and the attention maps the
 * preview captures with the ones torch computed. Every case must run on the device (a Python
 * number read from a small device tensor, `int(position_ids.max())`, comes from its host mirror;
 * a KV cache written through an index tensor is the `index_copy` kernel). The cases that draw
 * from torch's random stream are the CPU test's shape-only ones and are left out here too.
 */

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseSafetensors } from '../../src/runtime/index';
import { compareOutputs, REALSTYLE, type ValueOutcome } from '../helpers/realstyle';
import { runTorchScript } from '../helpers/torch';
import { WebGpuChild } from '../helpers/webgpu';

/**
 * WebGPU tolerance for values, on the output's scale (|ours - torch| <= TOL * max(1, max|torch|)):
 * ten times the CPU test's, as the kernels' own WebGPU tolerances are looser than their CPU ones
 * (lavapipe's transcendental functions and reduction orders differ from torch's).
 */
const TOL = 1e-3;

describe('interpreter on the real-style corpus on WebGPU (lavapipe), against torch 2.6', function () {
  let dir: string;
  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-values-webgpu-'));
  });
  after(function () {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('computes torch\'s values and attention maps on torch\'s weights and inputs on the device, every case within 1e-3 of its scale', async function () {
    // Every file's run has its own limit (below); the corpus as a whole takes 5 to 10 minutes on
    // two cores, longer on a loaded machine, so the test's own limit is the sum's, not one file's.
    this.timeout(1_800_000);
    const report = JSON.parse(runTorchScript('2.6', 'dump_values.py', [path.join(REALSTYLE, 'modules'), path.join(REALSTYLE, 'harness'), dir])) as Record<string, { cases: number; errors: string[]; random: number[]; scripted: number[] }>;
    assert.deepEqual(Object.entries(report).flatMap(([f, r]) => r.errors.map((e) => `${f}: ${e}`)), []);
    const all: ValueOutcome[] = [];
    for (const [file, r] of Object.entries(report)) {
      const dumpPath = path.join(dir, file.replace(/\.py$/, '.safetensors'));
      // One device per file: a Dawn device on lavapipe that has run hundreds of pipelines and
      // thousands of dispatches slows down by one or two orders of magnitude (see
      // ARCHITECTURE.md, WebGPU backend), which a fresh child process does not.
      const gpu = new WebGpuChild();
      let got;
      try {
        got = await gpu.call('runRealstyleFile', [file, dumpPath, r.cases, r.random], 600_000);
      } finally {
        await gpu.close();
      }
      const dump = parseSafetensors(fs.readFileSync(dumpPath));
      const outcomes = got.cases.map((c) => (c.outputs ? compareOutputs(file, c.case, c.outputs, dump, TOL, r.scripted.includes(c.case) ? null : c.maps ?? []) : { file, case: c.case, problem: c.problem ?? 'no outputs', worst: 0, maxAbs: 0, elements: 0, maps: null }));
      all.push(...outcomes);
      const compared = outcomes.filter((o) => o.problem === null);
      console.log(`      ${file}: ${compared.filter((o) => o.worst <= 1).length}/${outcomes.length} within, largest difference ${Math.max(0, ...compared.map((o) => o.maxAbs)).toExponential(2)} (${(Math.max(0, ...compared.map((o) => o.worst)) * TOL).toExponential(2)} of its scale); ${got.dispatches} dispatches, ${got.pipelines} pipelines, ${got.submits} submits, ${(got.ms / 1000).toFixed(1)} s`);
    }
    const compared = all.filter((o) => o.problem === null);
    const within = compared.filter((o) => o.worst <= 1);
    const random = Object.entries(report).flatMap(([f, r]) => r.random.map((i) => `${f} case ${i}`));
    console.log(`      ${all.length + random.length} cases, ${random.length} drawing from torch's random stream (left out: ${random.join(', ')}): ${compared.length} compared on WebGPU (${compared.reduce((n, o) => n + o.elements, 0)} output elements), ${within.length} within |ours - torch| <= ${TOL}·max(1, max|torch|); largest difference ${Math.max(0, ...compared.map((o) => o.maxAbs)).toExponential(2)}, ${(Math.max(0, ...compared.map((o) => o.worst)) * TOL).toExponential(2)} of its output's scale`);
    console.log(`      attention maps: ${compared.reduce((n, o) => n + (o.maps ?? 0), 0)} captured on WebGPU, each equal to torch's (count and values, within the same tolerance)`);
    const off = all.filter((o) => o.problem !== null || o.worst > 1);
    for (const o of off) console.log(`        ${o.file} case ${o.case}: ${o.problem ?? `max |diff| ${o.maxAbs.toExponential(2)} (${o.worst.toFixed(1)}× the tolerance)`}`);
    assert.deepEqual(off.map((o) => `${o.file} case ${o.case}: ${o.problem ?? `${o.worst.toFixed(1)}× the tolerance`}`), [], 'cases not within tolerance or not run on WebGPU');
  });
});
