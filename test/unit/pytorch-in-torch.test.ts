/**
 * Every block, over its parameter grid, generates PyTorch that runs in real
 * torch 1.13 and 2.6 and returns exactly the shapes its contract states.
 * Cases that need torch >= 2.0 (use_sdpa, the is_causal hint) must run on
 * 2.6 and must fail on 1.13, which proves the documented requirement.
 * Invalid parameter combinations the catalog rejects are shown to fail in
 * torch too (or documented as degenerate) by running the code without the guard.
 */

import * as assert from 'node:assert/strict';
import { allBlocks, concreteShapes, resolveParams } from '../../src/blocks/catalog';
import { renderPyTorch } from '../../src/codegen/pytorch';
import { gridCases, type GridCase } from '../helpers/grid';
import { runTorchCases, TORCH_VERSIONS, type TorchCase, type TorchResult } from '../helpers/torch';

function className(code: string): string {
  const names = [...code.matchAll(/^class (\w+)\(nn\.Module\)/gm)].map((m) => m[1]);
  return names[names.length - 1];
}

function toTorchCase(id: string, g: GridCase, code: string): TorchCase {
  const shapes = concreteShapes(g.block, g.params, g.dims);
  const c = g.block.contract(g.params);
  return {
    id,
    code,
    className: className(code),
    inputs: c.inputs.map((t) => ({ name: t.name, shape: shapes.inputs[t.name], dtype: t.dtype, fill: t.fill })),
  };
}

const grid: GridCase[] = allBlocks().flatMap((b) => gridCases(b));
const cases = new Map<string, { g: GridCase; torch: TorchCase; torch2: string | undefined }>();
grid.forEach((g, i) => {
  const id = `case${i}`;
  const code = renderPyTorch(g.block, g.params);
  const torch2 = g.block.torch2Only?.(g.params);
  cases.set(id, { g, torch: toTorchCase(id, g, code), torch2 });
});

/** Invalid examples rendered without validation: torch itself must reject the 'raises' ones. */
const invalidCases: { id: string; label: string; torch: TorchCase }[] = [];
for (const b of allBlocks()) {
  b.invalid.forEach((inv, i) => {
    if (inv.torch !== 'raises') return;
    const params = { ...resolveParams(b, {}).params, ...inv.params };
    const code = renderPyTorch(b, params)
      // Drop our own guards so torch's own checks are what is tested.
      .replace(/^( *)if [^\n]*:\n\1 {4}raise ValueError\(f?"[^\n]*"\)\n/gm, '');
    const g: GridCase = { block: b, params, dims: {}, label: '' };
    let tc: TorchCase;
    try {
      tc = toTorchCase(`invalid-${b.id}-${i}`, g, code);
    } catch {
      // The contract cannot even be evaluated (e.g. a zero division): feed a nominal input.
      tc = { id: `invalid-${b.id}-${i}`, code, className: className(code), inputs: [] };
    }
    invalidCases.push({ id: tc.id, label: `${b.id} ${JSON.stringify(inv.params)}`, torch: tc });
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
          return;
        }
        assert.ok(r.ok, `${r.error}\n${r.trace ?? ''}`);
        const expected = concreteShapes(c.g.block, c.g.params, c.g.dims).outputs;
        const names = c.g.block.contract(c.g.params).outputs.map((o) => o.name);
        assert.deepEqual(r.outputs, names.map((n) => expected[n]), 'output shapes differ from the contract');
        assert.ok(r.finite, 'outputs contain NaN or inf');
      });
    }

    for (const inv of invalidCases) {
      it(`rejects ${inv.label} like the catalog does`, function () {
        const r = results.get(inv.id);
        assert.ok(r, 'no result');
        assert.equal(r.ok, false, 'torch accepted parameters the catalog marks as raising');
      });
    }
  });
}
