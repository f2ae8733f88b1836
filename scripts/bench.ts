/**
 * `npm run bench`: analysis time per 1,000 lines of Python, cold (a fresh process: wasm start,
 * grammar load, first analysis) and warm (re-analysis after a one-line edit, median of many),
 * side by side with pyright (the npm package) checking the same file, the reference every
 * VS Code Python user knows. The file is the labelled corpus concatenated (each program inside
 * its own `if True:` block would change it; instead programs are appended with unique class
 * names left as they are — Python allows redefinition). Prints a table and writes
 * test-results/bench.json.
 */

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const REPO = path.resolve(__dirname, '..');
const CORPUS = path.join(REPO, 'test/fixtures/corpus');

function buildFile(minLines: number): string {
  const progs = fs.readdirSync(CORPUS).filter((f) => f.endsWith('.py')).sort().map((f) => fs.readFileSync(path.join(CORPUS, f), 'utf8'));
  const parts: string[] = [];
  let lines = 0;
  for (let i = 0; lines < minLines; i++) {
    const p = progs[i % progs.length];
    parts.push(p);
    lines += p.split('\n').length;
  }
  return parts.join('\n\n');
}

function child(mode: 'cold' | 'warm', file: string, reps: number): { ms: number } {
  const code = `
    const fs = require('fs');
    const t0 = performance.now();
    const { analyze, initAnalyzer } = require(${JSON.stringify(path.join(REPO, 'src/analysis'))});
    (async () => {
      const src = fs.readFileSync(${JSON.stringify(file)}, 'utf8');
      await initAnalyzer();
      analyze(src);
      const cold = performance.now() - t0;
      if (${JSON.stringify(mode)} === 'cold') { process.stdout.write(JSON.stringify({ ms: cold })); return; }
      const lines = src.split('\\n');
      const times = [];
      for (let i = 0; i < ${reps}; i++) {
        const at = (i * 7919) % lines.length;
        const edited = [...lines.slice(0, at), lines[at] + '  # edit ' + i, ...lines.slice(at + 1)].join('\\n');
        const s = performance.now();
        analyze(edited);
        times.push(performance.now() - s);
      }
      times.sort((a, b) => a - b);
      process.stdout.write(JSON.stringify({ ms: times[Math.floor(times.length / 2)] }));
    })();
  `;
  const r = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), '-e', code], { encoding: 'utf8', cwd: REPO });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as { ms: number };
}

function pyright(file: string): { ms: number; diagnostics: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [path.join(REPO, 'node_modules/pyright/index.js'), '--outputjson', file], { encoding: 'utf8', cwd: path.dirname(file), maxBuffer: 64 << 20 });
  const ms = performance.now() - t0;
  let diagnostics = -1;
  try {
    diagnostics = (JSON.parse(r.stdout) as { generalDiagnostics: unknown[] }).generalDiagnostics.length;
  } catch {
    // pyright printed no JSON (it failed to start); reported as -1.
  }
  return { ms, diagnostics };
}

function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-bench-'));
  const results: Record<string, unknown>[] = [];
  try {
    for (const target of [1000, 5000]) {
      const file = path.join(dir, `bench_${target}.py`);
      const src = buildFile(target);
      fs.writeFileSync(file, src);
      const lines = src.split('\n').length;
      const per = (ms: number) => (ms * 1000) / lines;
      const cold = [0, 1, 2].map(() => child('cold', file, 0).ms).sort((a, b) => a - b)[1];
      const warm = child('warm', file, 50).ms;
      const py = pyright(file);
      results.push({ lines, coldMs: cold, warmMs: warm, pyrightMs: py.ms, coldPer1000: per(cold), warmPer1000: per(warm), pyrightPer1000: per(py.ms), pyrightDiagnostics: py.diagnostics });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const f = (x: unknown) => (x as number).toFixed(1).padStart(10);
  console.log('lines   | attention-forge cold | warm (1-line edit) | pyright (cold CLI) |   ms per 1,000 lines: cold / warm / pyright');
  for (const r of results) console.log(`${String(r.lines).padEnd(7)} | ${f(r.coldMs)} ms        | ${f(r.warmMs)} ms      | ${f(r.pyrightMs)} ms      | ${f(r.coldPer1000)} /${f(r.warmPer1000)} /${f(r.pyrightPer1000)}`);
  const out = path.join(REPO, 'test-results/bench.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ node: process.version, cpus: os.cpus().length, results }, null, 2) + '\n');
  console.log(`written ${path.relative(REPO, out)}`);
}

main();
