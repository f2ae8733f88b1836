/**
 * The analyzer where users are: third-party code installed on this machine and module files
 * nobody calls. Nothing of it is copied into the repository; it is checked in place.
 *
 * - Zero findings on torch's installed package (Debian python3-torch), torchvision's (Debian
 *   python3-torchvision) and einops (python3-einops in the trixie chroot), all correct code, and
 *   on our own driverless real-style modules (test/fixtures/realstyle/modules). Findings per
 *   1,000 lines are printed.
 * - Shape coverage against a torch trace: test/fixtures/realstyle/harness/ runs every module in
 *   torch 2.6 (scripts/torch/trace_shapes.py records each tensor-valued local name and its
 *   shape); the analyzer, which sees only the module files, must give a shape to at least the
 *   recorded floor of those names (test/fixtures/realstyle/coverage.json: raise it when coverage
 *   improves, never lower it) and no shape that contradicts the trace (rank, or a literal size);
 *   SHAPE_MISSING=1 lists the names without a shape.
 */

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runTorchScript, trixieRoot } from '../helpers/torch';

const CLI = path.resolve(__dirname, '../../dist/cli.js');
const REALSTYLE = path.resolve(__dirname, '../fixtures/realstyle');
const FLOOR = path.join(REALSTYLE, 'coverage.json');

interface Finding { file: string; line: number; rule: string; message: string }

function pyLines(dir: string): { files: number; lines: number } {
  let files = 0;
  let lines = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.py')) {
        files++;
        lines += fs.readFileSync(p, 'utf8').split('\n').length;
      }
    }
  };
  walk(dir);
  return { files, lines };
}

function check(dir: string): { findings: Finding[]; code: number | null; err: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [CLI, 'check', dir, '--format', 'json'], { encoding: 'utf8', maxBuffer: 256 << 20 });
  return { findings: JSON.parse(r.stdout) as Finding[], code: r.status, err: r.stderr, ms: Date.now() - t0 };
}

function gate(label: string, dir: () => string) {
  it(`finds nothing in ${label}`, function () {
    const d = dir();
    assert.ok(fs.existsSync(d), `${d} is missing: run npm run setup`);
    const { files, lines } = pyLines(d);
    const r = check(d);
    const perK = (r.findings.length / lines) * 1000;
    console.log(`      ${label}: ${files} files, ${lines} lines, ${r.findings.length} findings (${perK.toFixed(2)} per 1,000 lines), ${r.ms} ms`);
    assert.doesNotMatch(r.err, /internal error|\n\s+at /, r.err);
    assert.deepEqual(r.findings.map((f) => `${path.relative(d, f.file)}:${f.line} [${f.rule}] ${f.message}`), []);
    assert.equal(r.code, 0);
  });
}

/** `(B, n_head, T, 8)` → ['B', 'n_head', 'T', '8']; '?' → undefined. */
function parts(shape: string): string[] | undefined {
  const m = /^\((.*)\)$/.exec(shape.trim());
  if (!m) return undefined;
  if (m[1].trim() === '') return [];
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of m[1]) {
    if (ch === '(' || ch === '[') depth++;
    if (ch === ')' || ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

/** The last line (1-based) of the statement that starts on each line: brackets and backslashes continue it. */
function statementEnds(source: string): Map<number, number> {
  const lines = source.split('\n');
  const ends = new Map<number, number>();
  for (let i = 0; i < lines.length; i++) {
    let depth = 0;
    let j = i;
    for (; j < lines.length; j++) {
      const code = lines[j].replace(/(["'])(?:\\.|(?!\1).)*\1/g, '""').replace(/#.*$/, '');
      for (const ch of code) {
        if ('([{'.includes(ch)) depth++;
        else if (')]}'.includes(ch)) depth--;
      }
      if (depth <= 0 && !code.trimEnd().endsWith('\\')) break;
    }
    ends.set(i + 1, Math.min(j, lines.length - 1) + 1);
  }
  return ends;
}

describe('analyzer on real code (installed packages, driverless modules)', function () {
  before(function () {
    assert.ok(fs.existsSync(CLI), 'dist/cli.js missing: run npm run build');
  });

  gate("torch's installed package", () => '/usr/lib/python3/dist-packages/torch');
  gate("torchvision's installed package", () => '/usr/lib/python3/dist-packages/torchvision');
  gate("torch 2.6's installed package (trixie chroot)", () => path.join(trixieRoot(), 'usr/lib/python3/dist-packages/torch'));
  gate('functorch 2.6 (trixie chroot)', () => path.join(trixieRoot(), 'usr/lib/python3/dist-packages/functorch'));
  gate('einops (trixie chroot)', () => path.join(trixieRoot(), 'usr/lib/python3/dist-packages/einops'));
  gate('our driverless real-style modules', () => path.join(REALSTYLE, 'modules'));

  it('gives a shape, never a wrong one, to the tensor-valued names a torch 2.6 trace records', function () {
    const traced = JSON.parse(runTorchScript('2.6', 'trace_shapes.py', [path.join(REALSTYLE, 'modules'), path.join(REALSTYLE, 'harness')])) as Record<string, { cases: number; errors: string[]; names: { line: number; name: string; shapes: number[][] }[] }>;
    let total = 0;
    let covered = 0;
    const wrong: string[] = [];
    const errors: string[] = [];
    const perFile: string[] = [];
    const missing: string[] = [];
    for (const [file, t] of Object.entries(traced)) {
      errors.push(...t.errors.map((e) => `${file}: ${e}`));
      const r = spawnSync(process.execPath, [CLI, 'shapes', path.join(REALSTYLE, 'modules', file), '--json'], { encoding: 'utf8' });
      const ours = JSON.parse(r.stdout) as { line: number; name: string; shape: string }[];
      const ends = statementEnds(fs.readFileSync(path.join(REALSTYLE, 'modules', file), 'utf8'));
      let fileCovered = 0;
      for (const n of t.names) {
        total++;
        // The trace attributes a binding to the last line event before it: the statement's
        // first line or one of its continuation lines.
        const mine = ours.find((o) => o.name === n.name && o.line <= n.line && n.line <= (ends.get(o.line) ?? o.line));
        const p = mine ? parts(mine.shape) : undefined;
        if (!p) {
          missing.push(`${file}:${n.line} ${n.name}: torch ${n.shapes.map((s) => `(${s.join(', ')})`).join(' | ')}`);
          continue;
        }
        covered++;
        fileCovered++;
        for (const s of n.shapes) {
          const bad = p.length !== s.length || p.some((x, i) => /^\d+$/.test(x) && Number(x) !== s[i]);
          if (bad) wrong.push(`${file}:${n.line} ${n.name}: ours ${mine!.shape}, torch (${s.join(', ')})`);
        }
      }
      perFile.push(`${file} ${fileCovered}/${t.names.length}`);
    }
    const coverage = total ? covered / total : 0;
    const floor = (JSON.parse(fs.readFileSync(FLOOR, 'utf8')) as { floor: number }).floor;
    console.log(`      shape coverage against the torch trace: ${covered} of ${total} tensor-valued names (${(coverage * 100).toFixed(1)} %, floor ${(floor * 100).toFixed(1)} %), ${wrong.length} wrong`);
    console.log(`      ${perFile.join('; ')}`);
    // SHAPE_MISSING=1 lists the traced names the analyzer gives no shape.
    if (process.env.SHAPE_MISSING) console.log(`      without a shape:\n        ${missing.join('\n        ')}`);
    assert.deepEqual(errors, [], 'every harness case runs in torch');
    assert.ok(total > 0, 'the trace recorded tensor-valued names');
    assert.deepEqual(wrong, []);
    assert.ok(coverage >= floor, `coverage ${coverage.toFixed(3)} fell below the floor ${floor}`);
  });
});
