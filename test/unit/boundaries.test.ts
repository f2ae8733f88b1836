/**
 * Architectural boundaries, checked on the import graph of the sources:
 * only src/extension/ imports 'vscode'; webview/ imports only protocol/,
 * runtime/ and the compiled twins (src/twins/, src/generated/twins/, which
 * import only the runtime); the catalog imports nothing outside src/blocks/; the analyzer
 * never imports the extension; the interpreter (src/interpret/) imports only the runtime and the
 * analyzer's syntax layer. A synthetic violation proves the checker bites.
 */

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

function sourceFiles(dir: string): string[] {
  const abs = path.join(ROOT, dir);
  if (!fs.existsSync(abs)) return [];
  return fs.readdirSync(abs, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|tsx|mts|js|mjs)$/.test(f))
    .map((f) => path.join(dir, f));
}

/** Module specifiers imported or required by a source text. */
export function importsOf(text: string): string[] {
  const out: string[] = [];
  const re = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|require\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;
  for (const m of text.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
  return out;
}

interface Violation { file: string; spec: string; why: string }

export function violations(files: { file: string; text: string }[]): Violation[] {
  const out: Violation[] = [];
  for (const { file, text } of files) {
    const rel = file.split(path.sep).join('/');
    for (const spec of importsOf(text)) {
      const target = spec.startsWith('.') ? path.posix.normalize(path.posix.join(path.posix.dirname(rel), spec)) : spec;
      if (spec === 'vscode' && !rel.startsWith('src/extension/')) out.push({ file: rel, spec, why: "only src/extension/ may import 'vscode'" });
      if (rel.startsWith('src/blocks/') && spec.startsWith('.') && !target.startsWith('src/blocks')) out.push({ file: rel, spec, why: 'the catalog imports nothing outside src/blocks/' });
      if (rel.startsWith('src/analysis/') && target.startsWith('src/extension')) out.push({ file: rel, spec, why: 'analysis never imports the extension' });
      if (rel.startsWith('webview/') && spec.startsWith('.') && !/^(webview|src\/protocol|src\/runtime|src\/twins|src\/generated\/twins)(\/|$)/.test(target)) out.push({ file: rel, spec, why: 'webview/ imports only protocol/, runtime/ and the compiled twins' });
      if (rel.startsWith('src/interpret/') && spec.startsWith('.') && !/^src\/(interpret|runtime|analysis\/(parse|syntax))(\/|\.|$)/.test(target)) out.push({ file: rel, spec, why: 'the interpreter imports only the runtime and the analyzer\'s syntax layer' });
      if (/^src\/(twins|generated)\//.test(rel) && spec.startsWith('.') && !/^src\/(runtime|twins|generated)(\/|$)/.test(target)) out.push({ file: rel, spec, why: 'the compiled twins import only the runtime' });
    }
  }
  return out;
}

describe('architectural boundaries', function () {
  it('holds for every source file', function () {
    const files = [...sourceFiles('src'), ...sourceFiles('webview'), ...sourceFiles('scripts')].map((f) => ({ file: f, text: fs.readFileSync(path.join(ROOT, f), 'utf8') }));
    assert.ok(files.length > 5, 'no sources found');
    assert.deepEqual(violations(files), []);
  });

  it('detects a vscode import outside src/extension/', function () {
    const v = violations([
      { file: 'src/analysis/x.ts', text: "import * as vscode from 'vscode';" },
      { file: 'src/blocks/y.ts', text: "const v = require('vscode');\nimport { a } from '../codegen/pytorch';" },
      { file: 'src/extension/ok.ts', text: "import * as vscode from 'vscode';" },
    ]);
    assert.deepEqual(v.map((x) => `${x.file}:${x.spec}`), ['src/analysis/x.ts:vscode', 'src/blocks/y.ts:vscode', 'src/blocks/y.ts:../codegen/pytorch']);
  });
});
