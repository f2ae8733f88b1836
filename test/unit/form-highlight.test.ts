/**
 * The form's syntax highlighting (webview/form/highlight.ts) over what the emitters write: the
 * tokens give back the source exactly, for every block in both languages, and keywords,
 * strings (docstrings spanning lines), comments, numbers, constants and defined names get
 * their classes, while properties named like keywords stay plain.
 */

import * as assert from 'node:assert/strict';
import { allBlocks } from '../../src/blocks/catalog';
import { generatePyTorch } from '../../src/codegen/pytorch';
import { generateTypeScript } from '../../src/codegen/typescript';
import { highlight } from '../../webview/form/highlight';
import type { Token, TokenKind } from '../../webview/form/highlight';

function kinds(tokens: Token[], kind: TokenKind): string[] {
  return tokens.filter((t) => t.kind === kind).map((t) => t.text);
}

describe('form: syntax highlighting', function () {
  it('classifies Python tokens', function () {
    const src = 'class SE(nn.Module):\n    """Doc\n    more."""\n\n    @staticmethod\n    def forward(self, x: Tensor) -> None:  # note\n        y = x.mean(dim=-1) * 0.5 if True else None\n        return f"{y}" + r\'\\d\'\n';
    const t = highlight(src, 'pytorch');
    assert.equal(t.map((x) => x.text).join(''), src);
    assert.deepEqual(kinds(t, 'keyword'), ['class', 'def', 'if', 'else', 'return']);
    assert.deepEqual(kinds(t, 'def'), ['SE', 'forward']);
    assert.deepEqual(kinds(t, 'string'), ['"""Doc\n    more."""', 'f"{y}"', "r'\\d'"]);
    assert.deepEqual(kinds(t, 'comment'), ['# note']);
    assert.deepEqual(kinds(t, 'number'), ['1', '0.5']);
    assert.deepEqual(kinds(t, 'constant'), ['self', 'None', 'True', 'None']);
    assert.deepEqual(kinds(t, 'decorator'), ['@staticmethod']);
    assert.ok(kinds(t, 'type').includes('Tensor'));
  });

  it('classifies TypeScript tokens, and a property named like a keyword stays plain', function () {
    const src = "import { nn } from 'attention-forge/runtime';\n/** Doc. */\nexport class A extends nn.Module {\n  forward(x: Tensor): number { return x.type ? this.n : 1e-5; } // done\n}\n";
    const t = highlight(src, 'typescript');
    assert.equal(t.map((x) => x.text).join(''), src);
    assert.deepEqual(kinds(t, 'keyword'), ['import', 'from', 'export', 'class', 'extends', 'return']);
    assert.deepEqual(kinds(t, 'def'), ['A']);
    assert.deepEqual(kinds(t, 'comment'), ['/** Doc. */', '// done']);
    assert.deepEqual(kinds(t, 'string'), ["'attention-forge/runtime'"]);
    assert.deepEqual(kinds(t, 'number'), ['1e-5']);
    assert.deepEqual(kinds(t, 'constant'), ['this']);
    assert.ok(t.some((x) => x.kind === 'text' && x.text.includes('type')));
  });

  it('gives back every generated block exactly, in both languages', function () {
    for (const b of allBlocks()) {
      for (const [language, code] of [['pytorch', generatePyTorch(b, {})], ['typescript', generateTypeScript(b, {})]] as const) {
        const t = highlight(code, language);
        assert.equal(t.map((x) => x.text).join(''), code, `${b.id} ${language}`);
        assert.ok(kinds(t, 'keyword').includes('class'), `${b.id} ${language}`);
        assert.ok(!kinds(t, 'string').some((s) => s.includes('\n') && language === 'typescript'), `${b.id}: a TypeScript string ran over a line`);
      }
    }
  });
});
