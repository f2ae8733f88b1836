/**
 * Golden values from real torch for the runtime tests: writes the cases to a
 * temporary folder, runs `scripts/torch/goldens.py` in torch 1.13 or 2.6
 * (through `pythonCommand`, the only way tests start Python) and reads the
 * safetensors files it writes. Nothing is committed: goldens are regenerated
 * per run in a few seconds.
 */

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseSafetensors } from '../../src/runtime/safetensors';
import type { Tensor } from '../../src/runtime/tensor';
import { pythonCommand, type TorchVersion } from './torch';

const SCRIPT = path.resolve(__dirname, '../../scripts/torch/goldens.py');

export interface GoldenResult {
  id: string;
  ok: boolean;
  error?: string;
  trace?: string;
}

export interface Goldens {
  torch: string;
  results: Map<string, GoldenResult>;
  tensors(id: string): Map<string, Tensor>;
  dispose(): void;
}

export function runGoldens(version: TorchVersion, mode: 'ops' | 'blocks', cases: unknown[]): Goldens {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `af-goldens-${mode}-`));
  const input = path.join(dir, 'cases.json');
  const out = path.join(dir, 'out');
  fs.writeFileSync(input, JSON.stringify(cases));
  const [cmd, args] = pythonCommand(version, SCRIPT, [mode, input, out]);
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
  const resultsPath = path.join(out, 'results.json');
  if (r.status !== 0 || !fs.existsSync(resultsPath)) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`goldens.py in torch ${version} failed (exit ${r.status}): ${r.stderr || r.error?.message}\nRun scripts/setup/torch.sh to install torch.`);
  }
  const parsed = JSON.parse(fs.readFileSync(resultsPath, 'utf8')) as { torch: string; results: GoldenResult[] };
  return {
    torch: parsed.torch,
    results: new Map(parsed.results.map((x) => [x.id, x])),
    tensors: (id) => parseSafetensors(fs.readFileSync(path.join(out, `${id}.safetensors`))),
    dispose: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** Max abs difference; NaN and ±inf must match exactly in position. Returns Infinity on a shape mismatch. */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (!(Number.isNaN(x) && Number.isNaN(y))) return Infinity;
      continue;
    }
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      if (x !== y) return Infinity;
      continue;
    }
    m = Math.max(m, Math.abs(x - y));
  }
  return m;
}

/**
 * The worst element of `|a - b| / (atol + rtol·|b|)`, the measure `torch.testing.assert_close`
 * applies (float32 defaults: atol 1e-5, rtol 1.3e-6); ≤ 1 means close. Used for whole blocks,
 * whose outputs reach magnitudes around 10 after several layers: there one float32 ulp is ~1e-6,
 * and torch's own float32 result (the golden) differs from the exact value by several ulps, so a
 * bare 1e-5 absolute bound would judge torch's rounding, not ours. Element-wise ops keep the
 * plain absolute bound (`maxAbsDiff`). NaN and ±inf must match exactly in position.
 */
export function closeness(a: Float32Array, b: Float32Array, atol = 1e-5, rtol = 1.3e-6): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (Number.isNaN(x) || Number.isNaN(y) || !Number.isFinite(x) || !Number.isFinite(y)) {
      if (!(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)))) return Infinity;
      continue;
    }
    m = Math.max(m, Math.abs(x - y) / (atol + rtol * Math.abs(y)));
  }
  return m;
}
