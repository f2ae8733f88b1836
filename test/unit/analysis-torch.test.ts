/**
 * Every corpus and held-out label confirmed by real torch (1.13 and 2.6, one Python process each through
 * scripts/torch/run_corpus.py): a correct program runs; a buggy one raises the error type its
 * `# expect:` line names, or runs and computes something different from its fixed twin.
 * Programs marked `# requires: torch>=2` (scaled_dot_product_attention; masked_fill's bool check)
 * are confirmed in 2.6 only.
 */

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pythonCommand, TORCH_VERSIONS } from '../helpers/torch';
import { corpus, HELDOUT } from './analysis.helpers';

const SCRIPT = path.resolve(__dirname, '../../scripts/torch/run_corpus.py');

interface CorpusRun {
  torch: string;
  results: { file: string; ok: boolean; errorType?: string; error?: string }[];
  twins: { buggy: string; fixed: string; maxAbsDiff: number | null }[];
}

function runCorpus(version: (typeof TORCH_VERSIONS)[number], files: string[], twins: [string, string][]): CorpusRun {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-corpus-'));
  try {
    const req = path.join(dir, 'req.json');
    const res = path.join(dir, 'res.json');
    fs.writeFileSync(req, JSON.stringify({ files, twins }));
    const [cmd, args] = pythonCommand(version, SCRIPT, [req, res]);
    const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
    if (r.status !== 0 || !fs.existsSync(res)) throw new Error(`torch ${version} corpus run failed (exit ${r.status}): ${r.stderr}`);
    return JSON.parse(fs.readFileSync(res, 'utf8')) as CorpusRun;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('analyzer corpus labels confirmed in torch', function () {
  for (const version of TORCH_VERSIONS) {
    it(`torch ${version}: correct programs run, buggy ones raise or differ from their twin (corpus and held-out set)`, function () {
      const progs = [...corpus(), ...corpus(HELDOUT)].filter((p) => version !== '1.13' || !p.torch2Only);
      const twins = progs.flatMap((p) => (p.expect.kind === 'differs' ? [[p.file, p.expect.twin] as [string, string]] : []));
      const run = runCorpus(version, progs.map((p) => p.file), twins);
      const byFile = new Map(run.results.map((r) => [r.file, r]));
      const problems: string[] = [];
      for (const p of progs) {
        const r = byFile.get(p.file)!;
        if (p.expect.kind === 'runs' && !r.ok) problems.push(`${p.name} should run but raised ${r.errorType}: ${r.error}`);
        if (p.expect.kind === 'raises' && (r.ok || !p.expect.types.includes(r.errorType!))) problems.push(`${p.name} should raise ${p.expect.types.join('|')} but ${r.ok ? 'ran' : `raised ${r.errorType}`}`);
        if (p.expect.kind === 'differs') {
          if (!r.ok) problems.push(`${p.name} should run (and differ) but raised ${r.errorType}: ${r.error}`);
          const t = run.twins.find((x) => x.buggy === p.file);
          if (!t || t.maxAbsDiff === null || t.maxAbsDiff < 1e-4) problems.push(`${p.name} computes the same as its twin (diff ${t?.maxAbsDiff})`);
        }
      }
      console.log(`      torch ${run.torch}: ${progs.length} programs, ${twins.length} twin comparisons`);
      assert.deepEqual(problems, []);
    });
  }
});
