/**
 * The runtime's op cases (test/helpers/op-cases.ts) on WebGPU against real torch 1.13 and 2.6:
 * torch writes each case's inputs and outputs (scripts/torch/goldens.py), the WebGPU child
 * process (Dawn on lavapipe: see test/helpers/webgpu.ts) runs the case through the tensor API
 * on those inputs, and the outputs must equal torch's within the WebGPU tolerance of the
 * kernels the case declares (each kernel's own `tolerance.webgpu`; runtime-ops.test.ts checks
 * that a case runs no other), or the case must raise the same kind of error torch raises. The CPU side of the same
 * cases is runtime-ops.test.ts.
 */

import * as assert from 'node:assert/strict';
import type { Tensor } from '../../src/runtime/index';
import { maxAbsDiff, runGoldens, type Goldens } from '../helpers/goldens';
import { CASES, EINOPS_CASES, SDPA_CASES, errorKind, toPy } from '../helpers/op-cases';
import { TORCH_VERSIONS } from '../helpers/torch';
import { kernelsTolerance } from '../helpers/tolerance';
import { WebGpuChild } from '../helpers/webgpu';

describe('runtime ops on WebGPU (lavapipe) vs torch goldens', function () {
  let gpu: WebGpuChild;
  before(function () {
    gpu = new WebGpuChild();
  });
  after(async function () {
    await gpu?.close();
  });

  for (const version of TORCH_VERSIONS) {
    describe(`torch ${version}`, function () {
      const cases = version === '1.13' ? CASES : [...CASES, ...SDPA_CASES, ...EINOPS_CASES];
      let g: Goldens;
      before(function () {
        g = runGoldens(version, 'ops', cases.map(toPy));
      });
      after(function () {
        g?.dispose();
      });
      for (const c of cases) {
        it(c.id, async function () {
          const r = g.results.get(c.id);
          assert.ok(r, 'no golden result');
          const t = g.tensors(c.id);
          const inputs = c.inputs.map((_, i) => {
            const x = t.get(`in${i}`) as Tensor;
            return { data: x.dataSync(), shape: [...x.shape], dtype: x.dtype };
          });
          const got = await gpu.call('runOpCase', [c.id, inputs], 180_000);
          if (!r.ok) {
            assert.ok(got.error, `torch raised (${r.error}) but the runtime did not`);
            assert.equal(got.error.kind, errorKind(r.error), `torch raised ${r.error}; the runtime raised ${got.error.kind}: ${got.error.message}`);
            return;
          }
          assert.equal(got.error, undefined, `the runtime raised ${got.error?.kind}: ${got.error?.message}`);
          const expected = [...t.keys()].filter((k) => k.startsWith('out')).sort().map((k) => t.get(k) as Tensor);
          assert.equal(got.outputs!.length, expected.length, 'number of outputs');
          const tol = kernelsTolerance(c.kernels, 'webgpu');
          got.outputs!.forEach((o, i) => {
            assert.deepEqual([...o.shape], [...expected[i].shape], `output ${i} shape`);
            assert.equal(o.dtype === 'bool', expected[i].dtype === 'bool', `output ${i} dtype ${o.dtype} vs ${expected[i].dtype}`);
            const d = maxAbsDiff(o.data, expected[i].dataSync());
            assert.ok(d <= tol, `output ${i} max abs error ${d} > ${tol} (the tolerance of ${c.kernels.join(', ') || 'no kernel'})`);
          });
        });
      }
    });
  }
});
