/**
 * `npm run bench`: analysis time per 1,000 lines of Python, cold (a fresh process: wasm start,
 * grammar load, first analysis), warm (the editor's path: an `AnalysisSession` re-analysing
 * after a one-line edit, median of many successive edits at different lines; two kinds of
 * edit, timed apart: a comment typed at the end of a line, and a number changed in the code,
 * which re-evaluates the unit that holds it), and full (a
 * from-scratch analysis in a warm process: what an edit costs when the whole file is one unit
 * of evaluation, the worst case for the session's caches), side by side with pyright (the npm
 * package) checking the same file, the reference every VS Code Python user knows. The file is
 * the labelled corpus concatenated (programs appended as they are — Python allows
 * redefinition). Times are wall-clock medians; the machine may be shared, so the CPU time of
 * the warm edits is printed too. Prints a table and writes test-results/bench.json. This is
 * the analyzer half of `npm run bench`; scripts/bench-runtime.ts is the tensor-runtime half.
 *
 * A second table times the code users open: every file of our real-style module corpus and of
 * torch's and torchvision's installed packages (read in place, where they are installed), in one
 * warm process (the module corpus is analysed and edited once, untimed, first). Per file: cold (the file's first analysis in a fresh session, grammar already
 * loaded) and warm (median of five successive one-line edits in that session, for each kind of
 * edit). It prints the slowest file cold, and warm time per 1,000 lines over all files and for
 * the worst file.
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

interface ChildResult {
  ms: number;
  cpuMs?: number;
  codeMs?: number;
  fullMs?: number;
}

/**
 * JavaScript for the children: `commentEdit(lines, i)` types a comment at the end of one line
 * (successive edits walk through the file); `codeEdit(lines, i)` changes the first number of
 * the next line that has one outside a comment (n -> n + 1), in place.
 */
const EDITS = `
  const commentEdit = (lines, i) => { const at = (i * 7919) % lines.length; lines[at] = lines[at] + '  # edit ' + i; };
  const codeEdit = (lines, i) => {
    for (let k = 0; k < lines.length; k++) {
      const at = (i * 7919 + k) % lines.length;
      const code = lines[at].split('#')[0];
      const m = /\\b\\d+\\b/.exec(code);
      if (!m) continue;
      lines[at] = code.slice(0, m.index) + String(Number(m[0]) + 1) + lines[at].slice(m.index + m[0].length);
      return;
    }
  };
`;

function child(mode: 'cold' | 'warm', file: string, reps: number): ChildResult {
  const code = `
    const fs = require('fs');
    const t0 = performance.now();
    const { analyze, AnalysisSession, initAnalyzer } = require(${JSON.stringify(path.join(REPO, 'src/analysis'))});
    ${EDITS}
    (async () => {
      const src = fs.readFileSync(${JSON.stringify(file)}, 'utf8');
      await initAnalyzer();
      analyze(src);
      const cold = performance.now() - t0;
      if (${JSON.stringify(mode)} === 'cold') { process.stdout.write(JSON.stringify({ ms: cold })); return; }
      const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const full = [];
      for (let i = 0; i < 15; i++) { const s = performance.now(); analyze(src); full.push(performance.now() - s); }
      const session = new AnalysisSession();
      session.analyze(src);
      const lines = src.split('\\n');
      const times = [];
      const cpu = [];
      for (let i = 0; i < ${reps}; i++) {
        // Successive edits, as typing does: each one changes another line of the current text.
        commentEdit(lines, i);
        const edited = lines.join('\\n');
        const c = process.cpuUsage();
        const s = performance.now();
        session.analyze(edited);
        times.push(performance.now() - s);
        const d = process.cpuUsage(c);
        cpu.push((d.user + d.system) / 1000);
      }
      const code = [];
      for (let i = 0; i < ${reps}; i++) {
        codeEdit(lines, i);
        const edited = lines.join('\\n');
        const s = performance.now();
        session.analyze(edited);
        code.push(performance.now() - s);
      }
      session.dispose();
      process.stdout.write(JSON.stringify({ ms: median(times), cpuMs: median(cpu), codeMs: median(code), fullMs: median(full) }));
    })();
  `;
  const r = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), '-e', code], { encoding: 'utf8', cwd: REPO });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as ChildResult;
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

const REAL_CODE: [string, string][] = [
  ['real-style modules', path.join(REPO, 'test/fixtures/realstyle/modules')],
  ["torch's installed package", '/usr/lib/python3/dist-packages/torch'],
  ["torchvision's installed package", '/usr/lib/python3/dist-packages/torchvision'],
];

interface RealCodeRow {
  set: string;
  files: number;
  lines: number;
  slowestColdMs: number;
  slowestColdFile: string;
  warmPer1000: number;
  worstWarmPer1000: number;
  worstWarmFile: string;
  /** The same for code edits. */
  codePer1000: number;
  worstCodePer1000: number;
  worstCodeFile: string;
}

/** The real-code table; one child process runs every set (the grammar loads once). */
function realCode(): RealCodeRow[] {
  const sets = REAL_CODE.filter(([, dir]) => fs.existsSync(dir));
  const code = `
    const fs = require('fs');
    const path = require('path');
    const { AnalysisSession, initAnalyzer } = require(${JSON.stringify(path.join(REPO, 'src/analysis'))});
    const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? walk(path.join(d, e.name)) : e.name.endsWith('.py') ? [path.join(d, e.name)] : []);
    const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    ${EDITS}
    (async () => {
      await initAnalyzer();
      // Warm-up, untimed: the first set once over, as an editor's process has analysed files
      // before the one being typed in (the first timed files would otherwise pay for JIT compilation).
      for (const file of walk(${JSON.stringify(sets[0]?.[1] ?? '')}).sort()) {
        const lines = fs.readFileSync(file, 'utf8').split('\\n');
        const session = new AnalysisSession();
        session.analyze(lines.join('\\n'));
        for (let i = 0; i < 5; i++) { commentEdit(lines, i); session.analyze(lines.join('\\n')); codeEdit(lines, i); session.analyze(lines.join('\\n')); }
        session.dispose();
      }
      const rows = [];
      for (const [set, dir] of ${JSON.stringify(sets)}) {
        const row = { set, files: 0, lines: 0, slowestColdMs: 0, slowestColdFile: '', warmMs: 0, worstWarmPer1000: 0, worstWarmFile: '', codeMs: 0, worstCodePer1000: 0, worstCodeFile: '' };
        for (const file of walk(dir).sort()) {
          const src = fs.readFileSync(file, 'utf8');
          const lines = src.split('\\n');
          const session = new AnalysisSession();
          let s = performance.now();
          session.analyze(src);
          const cold = performance.now() - s;
          const times = [];
          const code = [];
          for (const [edit, into] of [[commentEdit, times], [codeEdit, code]]) {
            for (let i = 0; i < 5; i++) {
              edit(lines, i);
              const edited = lines.join('\\n');
              s = performance.now();
              session.analyze(edited);
              into.push(performance.now() - s);
            }
          }
          session.dispose();
          const warm = median(times);
          const codeWarm = median(code);
          const rel = path.relative(dir, file);
          row.files++;
          row.lines += lines.length;
          row.warmMs += warm;
          row.codeMs += codeWarm;
          if (cold > row.slowestColdMs) { row.slowestColdMs = cold; row.slowestColdFile = rel; }
          // Per-1,000-line rates of tiny files are dominated by fixed costs; the worst file is
          // taken over files of 200 lines or more.
          const per = warm * 1000 / lines.length;
          if (lines.length >= 200 && per > row.worstWarmPer1000) { row.worstWarmPer1000 = per; row.worstWarmFile = rel; }
          const perCode = codeWarm * 1000 / lines.length;
          if (lines.length >= 200 && perCode > row.worstCodePer1000) { row.worstCodePer1000 = perCode; row.worstCodeFile = rel; }
        }
        rows.push(row);
      }
      process.stdout.write(JSON.stringify(rows));
    })();
  `;
  const r = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), '-e', code], { encoding: 'utf8', cwd: REPO, maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(r.stderr);
  return (JSON.parse(r.stdout) as (Omit<RealCodeRow, 'warmPer1000' | 'codePer1000'> & { warmMs: number; codeMs: number })[]).map(({ warmMs, codeMs, ...row }) => ({
    ...row,
    warmPer1000: (warmMs * 1000) / row.lines,
    codePer1000: (codeMs * 1000) / row.lines,
  }));
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
      const warm = child('warm', file, 50);
      const py = pyright(file);
      results.push({
        lines,
        coldMs: cold,
        warmMs: warm.ms,
        warmCpuMs: warm.cpuMs,
        codeMs: warm.codeMs,
        fullMs: warm.fullMs,
        pyrightMs: py.ms,
        coldPer1000: per(cold),
        warmPer1000: per(warm.ms),
        warmCpuPer1000: per(warm.cpuMs!),
        codePer1000: per(warm.codeMs!),
        fullPer1000: per(warm.fullMs!),
        pyrightPer1000: per(py.ms),
        pyrightDiagnostics: py.diagnostics,
      });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const f = (x: unknown, w = 8) => (x as number).toFixed(1).padStart(w);
  console.log('lines  | attention-forge: cold (new process) | warm, comment edit | warm CPU | warm, code edit | full re-analysis | pyright (cold CLI)');
  for (const r of results) console.log(`${String(r.lines).padEnd(6)} | ${f(r.coldMs, 10)} ms ${' '.repeat(21)}| ${f(r.warmMs, 10)} ms     | ${f(r.warmCpuMs)} | ${f(r.codeMs, 10)} ms   | ${f(r.fullMs, 10)} ms    | ${f(r.pyrightMs, 10)} ms`);
  console.log('ms per 1,000 lines:');
  for (const r of results) console.log(`${String(r.lines).padEnd(6)} | cold ${f(r.coldPer1000)} | warm: comment edit ${f(r.warmPer1000)} (CPU ${f(r.warmCpuPer1000, 0)}), code edit ${f(r.codePer1000)} | full ${f(r.fullPer1000)} | pyright ${f(r.pyrightPer1000)}   (goal: warm <= 5)`);
  const real = realCode();
  console.log('real code, one warm process | files | lines | slowest file cold | warm per 1,000 lines (all files): comment edit, code edit | worst file (>= 200 lines): comment edit, code edit');
  for (const r of real) console.log(`${r.set.padEnd(32)} | ${String(r.files).padStart(5)} | ${String(r.lines).padStart(7)} | ${f(r.slowestColdMs, 7)} ms (${r.slowestColdFile}) | ${f(r.warmPer1000, 6)} ms, ${f(r.codePer1000, 6)} ms | ${f(r.worstWarmPer1000, 6)} ms (${r.worstWarmFile}), ${f(r.worstCodePer1000, 6)} ms (${r.worstCodeFile})   (goals: cold <= 1000 ms, warm <= 5)`);
  const out = path.join(REPO, 'test-results/bench.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ node: process.version, cpus: os.cpus().length, results, realCode: real }, null, 2) + '\n');
  console.log(`written ${path.relative(REPO, out)}`);
}

main();
