/**
 * Differential tests of the runtime's ops against real torch 1.13 and 2.6:
 * each case names a torch call and the runtime call that mirrors it; torch
 * writes the inputs and outputs (scripts/torch/goldens.py), the runtime runs
 * on the same inputs and must match within the tolerance of the kernels the
 * case ran (each kernel's own `tolerance.cpu`, on both the default backend,
 * which runs kernels' WASM fast paths where they have one, and the
 * TypeScript references), or raise the same kind of error where torch raises.
 * Also checks that every registered kernel is exercised by at least one case
 * and that a case runs only the kernels it declares (the WebGPU side of the
 * same cases reads its tolerance from that list).
 */

import * as assert from 'node:assert/strict';
import { KERNELS, Tensor, TorchError, cpu, cpuReference, type Backend } from '../../src/runtime/index';
import { CASES, EINOPS_CASES, SDPA_CASES, errorKind, toPy, type OpCase } from '../helpers/op-cases';
import { runGoldens, maxAbsDiff, type Goldens } from '../helpers/goldens';
import { TORCH_VERSIONS } from '../helpers/torch';
import { kernelsTolerance, withKernels } from '../helpers/tolerance';

function runTs(c: OpCase, inputs: Tensor[]): Tensor[] {
  const out = c.ts(inputs);
  return Array.isArray(out) ? out : [out];
}

function check(c: OpCase, g: Goldens, device: Backend): void {
  const r = g.results.get(c.id);
  assert.ok(r, 'no golden result');
  const t = g.tensors(c.id);
  const inputs = c.inputs.map((_, i) => (t.get(`in${i}`) as Tensor).to(device));
  if (!r.ok) {
    assert.throws(() => runTs(c, inputs), (e: unknown) => {
      assert.ok(e instanceof TorchError, `expected a TorchError like torch's ${r.error}, got ${String(e)}`);
      assert.equal(e.kind, errorKind(r.error), `torch raised ${r.error}; the runtime raised ${e.kind}: ${e.message}`);
      return true;
    }, `torch raised (${r.error}) but the runtime did not`);
    return;
  }
  const { result: outs, kernels } = withKernels(() => runTs(c, inputs));
  const undeclared = [...kernels].filter((k) => !c.kernels.includes(k));
  assert.deepEqual(undeclared, [], `the case ran kernels it does not declare: ${undeclared.join(', ')}`);
  const tol = kernelsTolerance(kernels, 'cpu');
  const expected = [...t.keys()].filter((k) => k.startsWith('out')).sort().map((k) => t.get(k) as Tensor);
  assert.equal(outs.length, expected.length, 'number of outputs');
  outs.forEach((o, i) => {
    assert.deepEqual(o.shape, expected[i].shape, `output ${i} shape`);
    assert.equal(o.dtype === 'bool', expected[i].dtype === 'bool', `output ${i} dtype ${o.dtype} vs ${expected[i].dtype}`);
    const d = maxAbsDiff(o.dataSync(), expected[i].dataSync());
    assert.ok(d <= tol, `output ${i} max abs error ${d} > ${tol} (the tolerance of ${[...kernels].join(', ') || 'no kernel'})`);
  });
}

describe('runtime ops vs torch goldens', function () {
  it('every kernel in the registry is exercised by a case', function () {
    const used = new Set([...CASES, ...SDPA_CASES, ...EINOPS_CASES].flatMap((c) => c.kernels));
    const missing = [...KERNELS.keys()].filter((k) => !used.has(k));
    assert.deepEqual(missing, [], `kernels without a golden case: ${missing.join(', ')}`);
  });

  for (const version of TORCH_VERSIONS) {
    describe(`runtime ops in torch ${version}`, function () {
      const cases = version === '1.13' ? CASES : [...CASES, ...SDPA_CASES, ...EINOPS_CASES];
      let g: Goldens;
      before(function () {
        g = runGoldens(version, 'ops', cases.map(toPy));
      });
      after(function () {
        g?.dispose();
      });
      it(`reports torch ${version}`, function () {
        assert.ok(g.torch.startsWith(version), g.torch);
      });
      for (const c of cases) {
        it(c.id, function () {
          // The default CPU backend (WASM SIMD where it has a kernel) and the TypeScript references.
          check(c, g, cpu);
          check(c, g, cpuReference);
        });
      }
    });
  }
});
