/**
 * The extension manifest agrees with the code that generates it (beyond the command table,
 * which manifest.test.ts checks): every rule of the analyzer's registry has its severity
 * setting and there is no setting for a rule that does not exist; snippets cover every block
 * in both languages; the walkthrough's media exist; restricted mode is declared; the
 * .vscodeignore keeps sources out. Also: the pure Check Workspace loop.
 */

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RULES } from '../../src/analysis';
import type { Analysis } from '../../src/analysis';
import { allBlocks } from '../../src/blocks/catalog';
import { ruleSettingKey } from '../../src/extension/analysis-view';
import { checkFiles, summaryMessage } from '../../src/extension/check-workspace';

const ROOT = path.resolve(__dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

function jsonc(file: string): Record<string, { prefix: string; body: string[] }> {
  return JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8').replace(/^\/\/.*\n/, ''));
}

describe('extension manifest', function () {
  it('has a severity setting for every rule and none for unknown rules', function () {
    const props = Object.keys(pkg.contributes.configuration.properties as object);
    const ruleProps = props.filter((p) => p.startsWith('attentionForge.rules.'));
    assert.deepEqual(ruleProps.sort(), RULES.map((r) => ruleSettingKey(r.name)).sort());
    for (const p of ruleProps) assert.equal(pkg.contributes.configuration.properties[p].default, 'default');
  });

  it('contributes attn- snippets for every block in Python and TypeScript', function () {
    const files = pkg.contributes.snippets as { language: string; path: string }[];
    assert.deepEqual(files.map((f) => f.language).sort(), ['python', 'typescript']);
    for (const f of files) {
      const s = jsonc(f.path);
      assert.deepEqual(Object.values(s).map((x) => x.prefix).sort(), allBlocks().map((b) => `attn-${b.id}`).sort());
    }
    const py = Object.values(jsonc('snippets/python.json')).find((x) => x.prefix === 'attn-cnn-mha')!;
    assert.ok(py.body.some((l) => l.includes('embed_dim: int = ${1:64}')), 'main parameters are placeholders');
  });

  it('has a walkthrough of 3-4 steps whose media exist', function () {
    const [w] = pkg.contributes.walkthroughs as { steps: { media: { markdown: string } }[] }[];
    assert.ok(w.steps.length >= 3 && w.steps.length <= 4);
    for (const s of w.steps) assert.ok(fs.existsSync(path.join(ROOT, s.media.markdown)), s.media.markdown);
  });

  it('supports restricted mode (all but Compare with PyTorch, whose interpreter setting is restricted, and the TypeScript module preview) and activates on Python and TypeScript files', function () {
    assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
    assert.match(pkg.capabilities.untrustedWorkspaces.description, /Compare with PyTorch.*Preview module on TypeScript files/);
    assert.ok(pkg.activationEvents.includes('onLanguage:typescript'));
    assert.deepEqual(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations, ['attentionForge.python.interpreter']);
    assert.ok(pkg.contributes.configuration.properties['attentionForge.python.interpreter']);
    assert.ok(pkg.activationEvents.includes('onLanguage:python'));
  });

  it('packages only built files (.vscodeignore is an allow-list)', function () {
    const lines = fs.readFileSync(path.join(ROOT, '.vscodeignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    assert.equal(lines[0], '**');
    assert.ok(lines.slice(1).every((l) => l.startsWith('!') && !/\.ts$|\.map$|^!(src|test|webview)\//.test(l)), lines.join(' '));
  });

  it('packages every bundle the build writes for the editor (the CLI and the runtime package ship otherwise)', function () {
    const allowed = new Set(fs.readFileSync(path.join(ROOT, '.vscodeignore'), 'utf8').split('\n').filter((l) => l.startsWith('!')).map((l) => l.slice(1)));
    const outfiles = [...fs.readFileSync(path.join(ROOT, 'scripts/build.mjs'), 'utf8').matchAll(/outfile: '(dist\/[^']+)'/g)].map((m) => m[1]);
    const editor = outfiles.filter((f) => !f.startsWith('dist/runtime/') && f !== 'dist/cli.js');
    assert.ok(editor.length >= 8, editor.join(' '));
    assert.deepEqual(editor.filter((f) => !allowed.has(f)), []);
  });
});

describe('check workspace loop', function () {
  const none: Analysis = { diagnostics: [], shapes: [], syntaxErrors: 0, notices: [] };
  const one: Analysis = { ...none, diagnostics: [{ rule: 'r', severity: 'error', message: 'm', range: { line: 0, column: 0, endLine: 0, endColumn: 1 }, fixes: [] }] };

  it('analyses every file, counts unreadable ones and reports progress', async function () {
    const progress: number[] = [];
    const published: string[] = [];
    const s = await checkFiles(['a.py', 'b.py', 'gone.py'], {
      read: async (f) => {
        if (f === 'gone.py') throw new Error('ENOENT');
        return f;
      },
      analyze: (t) => (t === 'a.py' ? one : none),
      isCancelled: () => false,
      progress: (d) => progress.push(d),
      publish: (f) => published.push(f),
    });
    assert.deepEqual(progress, [1, 2, 3]);
    assert.deepEqual(published, ['a.py', 'b.py']);
    assert.deepEqual(s, { files: 3, analysed: 2, unreadable: 1, failed: 0, diagnostics: 1, filesWithProblems: 1, cancelled: false });
    assert.equal(summaryMessage(s), 'Checked 2 Python files: 1 problem in 1 file (1 unreadable).');
  });

  it('stops between files when cancelled', async function () {
    let n = 0;
    const s = await checkFiles(['a', 'b', 'c'], { read: async (f) => f, analyze: () => none, isCancelled: () => n >= 1, progress: () => n++, publish: () => {} });
    assert.equal(s.analysed, 1);
    assert.ok(s.cancelled);
    assert.match(summaryMessage(s), /cancelled after 1 of 3/);
  });
});
