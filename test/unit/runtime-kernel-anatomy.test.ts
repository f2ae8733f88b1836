/**
 * The kernel anatomy and CONTRIBUTING's "Add a runtime kernel" recipe, checked as the recipe
 * states them: every op is one file under src/runtime/kernels/ops/ holding its output-shape rule
 * (`outputs`), CPU reference, WGSL program, FLOP count and tolerance (a looser one than the
 * defaults says why), with its optional fast path as a property of the kernel; the registry
 * (`ops/index.ts`) lists each file on one line and is the only list of ops — no other runtime,
 * webview, CLI or script module keeps a table of op names, and no kernel or WebGPU module restates
 * the workgroup limit beside `MAX_GROUPS_PER_DIM`.
 */

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KERNELS } from '../../src/runtime/index';
import { DEFAULT_TOLERANCE } from '../../src/runtime/kernels/kernel';

const ROOT = path.resolve(__dirname, '../..');
const OPS = path.join(ROOT, 'src/runtime/kernels/ops');

function sources(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (/\.(ts|mjs)$/.test(e.name) && !e.name.endsWith('.generated.ts')) out.push(p);
  }
  return out;
}

describe('runtime kernel anatomy', function () {
  it('every registry entry has its name, outputs, cpu, wgsl, flops and a tolerance (justified when loose)', function () {
    assert.ok(KERNELS.size > 0);
    for (const [name, k] of KERNELS) {
      assert.equal(k.name, name);
      for (const slot of ['outputs', 'cpu', 'wgsl', 'flops'] as const) assert.equal(typeof k[slot], 'function', `${name}.${slot}`);
      if (k.fast !== undefined) assert.equal(typeof k.fast, 'function', `${name}.fast`);
      const t = k.tolerance;
      for (const b of ['cpu', 'webgpu'] as const) assert.ok(Number.isFinite(t?.[b]) && t[b] >= 0, `${name}.tolerance.${b}`);
      if (t.cpu > DEFAULT_TOLERANCE.cpu || t.webgpu > DEFAULT_TOLERANCE.webgpu) assert.ok(t.why && t.why.length > 20, `${name}: a tolerance looser than the defaults says why`);
    }
  });

  it('adding an op is its file plus one registry line: ops/index.ts has exactly one line per file and per kernel', function () {
    const index = fs.readFileSync(path.join(OPS, 'index.ts'), 'utf8');
    const lines = [...index.matchAll(/^export \{ (\w+) \} from '\.\/([\w-]+)';$/gm)].map((m) => ({ symbol: m[1], file: m[2] }));
    const files = fs.readdirSync(OPS).filter((f) => f.endsWith('.ts') && f !== 'index.ts').map((f) => f.replace(/\.ts$/, '')).sort();
    assert.deepEqual(lines.map((l) => l.file).sort(), files, 'every op file is registered, once');
    assert.equal(index.split('\n').filter((l) => /^(export|import)\b/.test(l)).length, lines.length, 'ops/index.ts holds nothing but the registry lines');
    assert.equal(lines.length, KERNELS.size, 'one kernel per line');
    for (const { symbol, file } of lines) {
      const text = fs.readFileSync(path.join(OPS, `${file}.ts`), 'utf8');
      const m = new RegExp(`export const ${symbol}: Kernel<[^=]+= \\{\\n  name: '([\\w]+)'`).exec(text);
      assert.ok(m, `${file}.ts defines the kernel ${symbol}`);
      assert.ok(KERNELS.has(m[1]), `${file}.ts: '${m[1]}' is in the registry`);
      assert.equal((text.match(/^export const \w+: Kernel</gm) ?? []).length, 1, `${file}.ts defines one kernel`);
    }
  });

  it('no other module keeps a list of op names, a second fast-path table or a restated workgroup limit', function () {
    const names = [...KERNELS.keys()];
    const files = [...sources(path.join(ROOT, 'src/runtime')), ...sources(path.join(ROOT, 'src/cli')), ...sources(path.join(ROOT, 'webview')), ...sources(path.join(ROOT, 'scripts'))].filter(
      (f) => !f.startsWith(OPS + path.sep),
    );
    const tables: string[] = [];
    for (const f of files) {
      const text = fs.readFileSync(f, 'utf8');
      const rel = path.relative(ROOT, f);
      // Naming a few kernels in code is using them (the preview keeps attention maps from
      // `softmax`, SDPA and sigmoid gates); naming four or more is a table that a new op would
      // have to be added to (the old fast-path map named seven). Comments may name any.
      const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
      const named = names.filter((n) => new RegExp(`['"]${n}['"]`).test(code));
      if (named.length >= 4) tables.push(`${rel}: ${named.join(', ')}`);
      assert.ok(!/\bFAST_CPU\b/.test(text), `${rel}: a second table of fast paths`);
      // The dispatch limit is stated once, in kernels/wgsl.ts; kernels and the WebGPU backend use it.
      const gpuCode = /^src\/runtime\/(kernels|webgpu)\//.test(rel.split(path.sep).join('/')) && !rel.endsWith(path.join('kernels', 'wgsl.ts'));
      if (gpuCode) assert.ok(!/\b65535\b/.test(text), `${rel}: 65535 restated (use MAX_GROUPS_PER_DIM)`);
    }
    assert.deepEqual(tables, [], 'modules that list op names');
  });
});
