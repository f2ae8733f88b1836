/**
 * Every block, over its parameter grid, generates PyTorch that runs in real
 * torch 1.13 and 2.6 and returns exactly the shapes its contract states.
 * Cases that need torch >= 2.0 (use_sdpa, the is_causal hint) must run on
 * 2.6 and must fail on 1.13 with the generated guard's RuntimeError, which
 * proves the documented requirement and that the user is told.
 * Torch must not warn while building or running any of them.
 * A `use_sdpa` variant must compute the same output as its explicit twin
 * with the same weights (max abs difference ≤ 1e-5).
 * Invalid parameter combinations the catalog rejects are shown to fail in
 * torch too (or documented as degenerate) by running the code without the guard.
 */

import * as assert from 'node:assert/strict';
import { allBlocks, concreteShapes, resolveParams } from '../../src/blocks/catalog';
import { renderPyTorch } from '../../src/codegen/pytorch';
import { pyClassName, torchBlockCase } from '../helpers/blocks';
import { gridCases, type GridCase } from '../helpers/grid';
import { runTorchCases, TORCH_VERSIONS, type TorchCase, type TorchResult } from '../helpers/torch';

function toTorchCase(id: string, g: GridCase, code: string): TorchCase {
  return torchBlockCase(id, g, code);
}

const grid: GridCase[] = allBlocks().flatMap((b) => gridCases(b));
const cases = new Map<string, { g: GridCase; torch: TorchCase; torch2: string | undefined }>();
grid.forEach((g, i) => {
  const id = `case${i}`;
  const code = renderPyTorch(g.block, g.params);
  const torch2 = g.block.torch2Only?.(g.params);
  const tc = toTorchCase(id, g, code);
  if (g.params.use_sdpa === true) {
    const twinCode = renderPyTorch(g.block, { ...g.params, use_sdpa: false });
    tc.twin = { code: twinCode, className: pyClassName(twinCode) };
  }
  cases.set(id, { g, torch: tc, torch2 });
});

/**
 * Invalid examples rendered without our guards: torch itself must reject the
 * 'raises' ones (for a reason other than a malformed call) and accept the
 * 'degenerate' ones. When the contract cannot be evaluated at those
 * parameters (say, a zero width), only construction is exercised.
 */
const invalidCases: { id: string; label: string; expect: 'raises' | 'degenerate'; torch: TorchCase }[] = [];
for (const b of allBlocks()) {
  b.invalid.forEach((inv, i) => {
    const params = { ...resolveParams(b, {}).params, ...inv.params };
    const code = renderPyTorch(b, params).replace(/^( *)if [^\n]*:\n\1 {4}raise ValueError\(f?"[^\n]*"\)\n/gm, '');
    const g: GridCase = { block: b, params, dims: {}, label: '' };
    const id = `invalid-${b.id}-${i}`;
    let tc: TorchCase;
    try {
      tc = toTorchCase(id, g, code);
    } catch {
      tc = { id, code, className: pyClassName(code), inputs: [], constructOnly: true };
    }
    invalidCases.push({ id, label: `${b.id} ${JSON.stringify(inv.params)}`, expect: inv.torch, torch: tc });
  });
}

for (const version of TORCH_VERSIONS) {
  describe(`generated PyTorch in torch ${version}`, function () {
    let results: Map<string, TorchResult>;
    let torchVersion = '';
    before(function () {
      const r = runTorchCases(version, [...[...cases.values()].map((c) => c.torch), ...invalidCases.map((c) => c.torch)]);
      results = r.results;
      torchVersion = r.torch;
    });

    it(`reports torch ${version}`, function () {
      assert.ok(torchVersion.startsWith(version), `expected torch ${version}, got ${torchVersion}`);
    });

    for (const [id, c] of cases) {
      const needs2 = c.torch2 !== undefined && version === '1.13';
      it(`${c.g.label}${needs2 ? ` fails: needs torch >= 2.0 (${c.torch2})` : ''}`, function () {
        const r = results.get(id);
        assert.ok(r, 'no result');
        if (needs2) {
          assert.equal(r.ok, false, 'expected torch 1.13 to reject code documented as needing torch >= 2.0');
          // The generated constructor says why, rather than a bare AttributeError later on.
          assert.match(r.error ?? '', /^RuntimeError: \w+ needs torch >= 2\.0 \(.+\), found torch 1\.13/);
          return;
        }
        assert.ok(r.ok, `${r.error}\n${r.trace ?? ''}`);
        const expected = concreteShapes(c.g.block, c.g.params, c.g.dims).outputs;
        const names = c.g.block.contract(c.g.params).outputs.map((o) => o.name);
        assert.deepEqual(r.outputs, names.map((n) => expected[n]), 'output shapes differ from the contract');
        assert.ok(r.finite, 'outputs contain NaN or inf');
        // Generated code runs clean: no deprecation or mask-mismatch warnings from torch.
        assert.deepEqual(r.warnings ?? [], [], 'torch warned');
        if (c.torch.twin) {
          assert.ok(r.twinMaxAbsDiff !== undefined && r.twinMaxAbsDiff <= 1e-5, `use_sdpa output differs from the explicit twin by ${r.twinMaxAbsDiff}`);
        }
      });
    }

    for (const inv of invalidCases) {
      const what = inv.expect === 'raises' ? 'rejects' : 'accepts (degenerate)';
      it(`${what} ${inv.label} without our guard, as the catalog documents`, function () {
        const r = results.get(inv.id);
        assert.ok(r, 'no result');
        if (inv.expect === 'raises') {
          assert.equal(r.ok, false, 'torch accepted parameters the catalog marks as raising');
          assert.doesNotMatch(r.error ?? '', /required positional argument|takes \d+ positional argument/, 'failed only because the call was malformed');
        } else {
          assert.ok(r.ok, `torch rejected parameters the catalog calls degenerate: ${r.error}`);
        }
      });
    }
  });
}
