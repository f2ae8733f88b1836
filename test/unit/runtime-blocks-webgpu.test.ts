/**
 * Every catalog block on WebGPU against real torch: torch 1.13 and 2.6 build the generated
 * PyTorch module at its defaults (at the block's default dims and at its odd test dims) and
 * with spectral normalisation where a block offers it, and
 * write its state_dict, inputs and outputs (scripts/torch/goldens.py); `attention-forge run
 * <block> --backend webgpu --weights … --input … --output …` (the built CLI, Dawn on lavapipe in
 * its own process) runs the compiled TypeScript twin on those weights and inputs, and its
 * outputs must equal torch's within the WebGPU bound, 1e-4 + 1.3e-6·|expected| (the kernels'
 * stated 1e-4 with assert_close's relative term for block-sized magnitudes, as on the CPU).
 * The CPU side of the same comparison, over every grid point, is runtime-blocks.test.ts; this
 * also proves `run` works on the WebGPU backend for every block.
 */

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allBlocks } from '../../src/blocks/catalog';
import { parseSafetensors, serializeSafetensors } from '../../src/runtime/index';
import { torchBlockCase, withPrefix } from '../helpers/blocks';
import { closeness, maxAbsDiff, runGoldens, type Goldens } from '../helpers/goldens';
import { gridCases, type GridCase } from '../helpers/grid';
import { TORCH_VERSIONS } from '../helpers/torch';

const CLI = path.resolve(__dirname, '../../dist/cli.js');

interface Case {
  id: string;
  g: GridCase;
  torch2: boolean;
}

const cases: Case[] = [];
for (const b of allBlocks()) {
  // The defaults, at the default dims and at the odd test dims; and spectral normalisation,
  // whose constructor runs its power iteration on the device (no synchronous read there).
  const picked = gridCases(b).filter((x) => x.label.includes('{defaults}') || x.params.spectral_norm === true);
  for (const g of picked) cases.push({ id: `case${cases.length}`, g, torch2: b.torch2Only?.(g.params) !== undefined });
}

describe('catalog blocks on WebGPU (lavapipe) against torch', function () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-blocks-webgpu-'));

  before(function () {
    assert.ok(fs.existsSync(CLI), 'dist/cli.js missing: run npm run build');
  });

  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const version of TORCH_VERSIONS) {
    describe(`torch ${version}`, function () {
      const mine = cases.filter((c) => !(c.torch2 && version === '1.13'));
      let g: Goldens;
      before(function () {
        g = runGoldens(version, 'blocks', mine.map((c) => torchBlockCase(c.id, c.g)));
      });
      after(function () {
        g?.dispose();
      });
      for (const c of mine) {
        it(`${c.g.label}`, function () {
          const r = g.results.get(c.id);
          assert.ok(r?.ok, `torch failed: ${r?.error}`);
          const t = g.tensors(c.id);
          const base = path.join(dir, `${version}-${c.id}`);
          fs.writeFileSync(`${base}.weights.safetensors`, serializeSafetensors(withPrefix(t, 'state.')));
          fs.writeFileSync(`${base}.input.safetensors`, serializeSafetensors(withPrefix(t, 'input.')));
          const sets = Object.entries(c.g.params).flatMap(([k, v]) => ['--set', `${k}=${v === null ? 'None' : v}`]);
          const run = spawnSync(process.execPath, [CLI, 'run', c.g.block.id, ...sets, '--backend', 'webgpu', '--weights', `${base}.weights.safetensors`, '--input', `${base}.input.safetensors`, '--output', `${base}.out.safetensors`, '--json'], { encoding: 'utf8', timeout: 300000 });
          assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
          const report = JSON.parse(run.stdout) as { backend: string };
          assert.equal(report.backend, 'webgpu');
          const got = parseSafetensors(fs.readFileSync(`${base}.out.safetensors`));
          const want = [...withPrefix(t, 'output.').entries()].sort(([a], [b]) => Number(a) - Number(b)).map(([, v]) => v);
          const names = c.g.block.contract(c.g.params).outputs.map((o) => o.name);
          assert.deepEqual([...got.keys()].sort(), [...names].sort());
          names.forEach((name, i) => {
            const o = got.get(name)!;
            assert.deepEqual([...o.shape], [...want[i].shape], `${name} shape`);
            const close = closeness(o.dataSync(), want[i].dataSync(), 1e-4, 1.3e-6);
            assert.ok(close <= 1, `${name}: max abs error ${maxAbsDiff(o.dataSync(), want[i].dataSync())}, ${close.toFixed(2)}× the bound 1e-4 + 1.3e-6·|expected|`);
          });
        });
      }
    });
  }
});
