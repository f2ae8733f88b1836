/**
 * Runs cases in real PyTorch: torch 1.13 through Debian's /usr/bin/python3 and
 * torch 2.6 inside the trixie chroot (scripts/torch/in-trixie.sh). Both are
 * installed by scripts/setup/torch.sh, which the README's test command runs.
 * This is the only place tests start Python.
 */

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export type TorchVersion = '1.13' | '2.6';
export const TORCH_VERSIONS: readonly TorchVersion[] = ['1.13', '2.6'];

const REPO = path.resolve(__dirname, '../..');

export interface TorchCase {
  id: string;
  code: string;
  className: string;
  inputs: { name: string; shape: number[]; dtype?: string; fill?: string }[];
  /** Another module expected to compute the same first output with the same state_dict. */
  twin?: { code: string; className: string };
  /** Only build the module; do not call it. */
  constructOnly?: boolean;
}

export interface TorchResult {
  id: string;
  ok: boolean;
  outputs?: (number[] | null)[];
  finite?: boolean;
  twinMaxAbsDiff?: number;
  error?: string;
  trace?: string;
  /** Warnings torch raised while the case was built and run (`Category: message`). */
  warnings?: string[];
}

export function pythonCommand(version: TorchVersion, script: string, args: string[]): [string, string[]] {
  return version === '1.13'
    ? ['/usr/bin/python3', [script, ...args]]
    : ['bash', [path.join(REPO, 'scripts/torch/in-trixie.sh'), 'python3', script, ...args]];
}

/** Where scripts/setup/torch.sh keeps the trixie chroot (its packages are test input too). */
export function trixieRoot(): string {
  return path.join(process.env.ATTENTION_FORGE_CACHE ?? '/var/cache/attention-forge', 'trixie');
}

/** Runs a script of scripts/torch/ in one torch version and returns its standard output. */
export function runTorchScript(version: TorchVersion, script: string, args: string[]): string {
  const [cmd, argv] = pythonCommand(version, path.join(REPO, 'scripts/torch', script), args);
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
  if (r.status !== 0) throw new Error(`torch ${version} ${script} failed (exit ${r.status}): ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** Runs the cases in one Python process; throws when Python itself cannot start. */
export function runTorchCases(version: TorchVersion, cases: TorchCase[]): { torch: string; results: Map<string, TorchResult> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-torch-'));
  try {
    const input = path.join(dir, 'cases.json');
    const output = path.join(dir, 'results.json');
    fs.writeFileSync(input, JSON.stringify(cases));
    const [cmd, args] = pythonCommand(version, path.join(REPO, 'scripts/torch/run_cases.py'), [input, output]);
    const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
    if (r.status !== 0 || !fs.existsSync(output)) {
      throw new Error(`torch ${version} run failed (exit ${r.status}): ${r.stderr || r.error?.message}\nRun scripts/setup/torch.sh to install it.`);
    }
    const parsed = JSON.parse(fs.readFileSync(output, 'utf8')) as { torch: string; results: TorchResult[] };
    return { torch: parsed.torch, results: new Map(parsed.results.map((x) => [x.id, x])) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
