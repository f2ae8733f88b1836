/**
 * TypeScript codegen: every catalog block with a TypeScript twin is emitted
 * over its parameter grid, type-checks under `tsc --strict`, and — loaded
 * with the state_dict of the generated PyTorch module (written by torch as
 * safetensors, scripts/torch/goldens.py) — computes the same outputs as
 * PyTorch on the CPU backend within torch.testing.assert_close's float32
 * bound (1e-5 + 1.3e-6·|expected|, see `closeness`), in torch 1.13 and 2.6
 * (blocks that need torch ≥ 2.0 only in 2.6). Every block has a TypeScript twin.
 */

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allBlocks } from '../../src/blocks/catalog';
import { renderTypeScript } from '../../src/codegen/typescript';
import { nn, Tensor } from '../../src/runtime/index';
import { torchBlockCase, withPrefix } from '../helpers/blocks';
import { gridCases, type GridCase } from '../helpers/grid';
import { closeness, maxAbsDiff, runGoldens, type Goldens } from '../helpers/goldens';
import { TORCH_VERSIONS } from '../helpers/torch';

const REPO = path.resolve(__dirname, '../..');
const RUNTIME = path.join(REPO, 'src/runtime/index');


/**
 * Known deviations, each bounded: LayerNorm over a single feature (cnn-mha
 * with embed_dim = 1) normalises x - mean = 0 exactly here, while torch 1.13's
 * fused CPU kernel folds the mean into a rounded shift, leaving float32
 * rounding noise of x amplified by 1/sqrt(eps) ≈ 316 (torch 2.6 agrees with
 * the exact result). FIXME(issue 3): emulate torch 1.13's folding if it matters.
 */
const KNOWN_DEVIATIONS: { match: RegExp; version: string; bound: number }[] = [
  { match: /^cnn-mha \{embed_dim=1, num_heads=1\}/, version: '1.13', bound: 5e-5 },
];

function tsClassName(code: string): string {
  const names = [...code.matchAll(/^export class (\w+) extends nn\.Module/gm)].map((m) => m[1]);
  return names[names.length - 1];
}

interface Case {
  id: string;
  g: GridCase;
  ts: string;
  tsFile: string;
  torch2: boolean;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-ts-blocks-'));
const cases: Case[] = [];
const byCode = new Map<string, string>();
for (const b of allBlocks()) {
  if (!b.typescript) continue;
  for (const g of gridCases(b)) {
    const ts = renderTypeScript(b, g.params, RUNTIME);
    let tsFile = byCode.get(ts);
    if (!tsFile) {
      tsFile = path.join(dir, `block${byCode.size}.ts`);
      fs.writeFileSync(tsFile, ts);
      byCode.set(ts, tsFile);
    }
    cases.push({ id: `case${cases.length}`, g, ts, tsFile, torch2: b.torch2Only?.(g.params) !== undefined });
  }
}

function torchCase(c: Case) {
  return torchBlockCase(c.id, c.g);
}

type Ctor = new (...args: unknown[]) => nn.Module & { forward(...a: (Tensor | null)[]): Tensor | Tensor[] };

function runBlock(c: Case, g: Goldens, version: string): void {
  const r = g.results.get(c.id);
  assert.ok(r, 'no golden result');
  assert.ok(r.ok, `torch failed: ${r.error}\n${r.trace ?? ''}`);
  const t = g.tensors(c.id);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(c.tsFile) as Record<string, Ctor>;
  const Block = mod[tsClassName(c.ts)];
  const block = new Block();
  block.eval();
  block.loadStateDict(withPrefix(t, 'state.'));
  const inputs = c.g.block.contract(c.g.params).inputs.map((s) => t.get(`input.${s.name}`) as Tensor);
  const out = block.forward(...inputs);
  const outs = Array.isArray(out) ? out : [out];
  const expected = [...t.keys()].filter((k) => k.startsWith('output.')).sort().map((k) => t.get(k) as Tensor);
  assert.equal(outs.length, expected.length, 'number of outputs');
  outs.forEach((o, i) => {
    assert.deepEqual(o.shape, expected[i].shape, `output ${i} shape`);
    const d = maxAbsDiff(o.dataSync(), expected[i].dataSync());
    const known = KNOWN_DEVIATIONS.find((k) => k.version === version && k.match.test(c.g.label));
    if (known) {
      assert.ok(d <= known.bound, `output ${i}: max abs error ${d} > ${known.bound} (known deviation bound)`);
      return;
    }
    // torch.testing.assert_close's float32 bound (atol 1e-5 + rtol 1.3e-6·|expected|): see `closeness`.
    const close = closeness(o.dataSync(), expected[i].dataSync());
    assert.ok(close <= 1, `output ${i}: max abs error ${d}, ${close.toFixed(2)}× the bound 1e-5 + 1.3e-6·|expected|`);
  });
}

describe('typescript codegen', function () {
  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('every block has a TypeScript twin', function () {
    assert.deepEqual(allBlocks().filter((b) => !b.typescript).map((b) => b.id), []);
  });

  it(`every emitted block type-checks under tsc --strict (${byCode.size} files)`, function () {
    const tsconfig = path.join(dir, 'tsconfig.json');
    fs.writeFileSync(
      tsconfig,
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module: 'commonjs', moduleResolution: 'node10', skipLibCheck: true, types: [], noUnusedLocals: true, noUnusedParameters: true, noImplicitReturns: true, ignoreDeprecations: '6.0' },
        files: [...byCode.values()],
      }),
    );
    const r = spawnSync(process.execPath, [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  });

  for (const version of TORCH_VERSIONS) {
    describe(`typescript codegen: TS blocks match PyTorch in torch ${version}`, function () {
      const mine = cases.filter((c) => !(c.torch2 && version === '1.13'));
      let g: Goldens;
      before(function () {
        g = runGoldens(version, 'blocks', mine.map(torchCase));
      });
      after(function () {
        g?.dispose();
      });
      for (const c of mine) {
        it(c.g.label, function () {
          runBlock(c, g, version);
        });
      }
    });
  }
});
