/**
 * Shape inference fixtures: every `# revealed: (…)` comment in test/fixtures/shapes/*.py is the
 * shape the analyzer must infer for the name assigned on that line (the data behind hovers and
 * `attention-forge shapes`). Also: suppression comments and that fixes apply cleanly.
 */

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeSource, ready, SHAPES } from './analysis.helpers';

describe('analyzer shapes', function () {
  before(ready);

  for (const f of fs.readdirSync(SHAPES).filter((x) => x.endsWith('.py'))) {
    it(`infers the revealed shapes in ${f}`, function () {
      const src = fs.readFileSync(path.join(SHAPES, f), 'utf8');
      const shapes = analyzeSource(src).shapes;
      const wrong: string[] = [];
      let n = 0;
      src.split('\n').forEach((l, i) => {
        const m = /# revealed: (\(.*\))\s*$/.exec(l);
        if (!m) return;
        n++;
        const got = shapes.filter((s) => s.line === i).map((s) => s.shape);
        if (!got.includes(m[1])) wrong.push(`line ${i + 1}: expected ${m[1]}, got ${got.join(' | ') || 'nothing'}`);
      });
      assert.ok(n > 0);
      assert.deepEqual(wrong, []);
    });
  }

  it('honours suppression comments', function () {
    const src = 'import torch\nx = torch.randn(2, 3)\ny = x.tranpose(0, 1)  # attention-forge: ignore[unknown-tensor-method]\nz = x.tranpose(0, 1)\n';
    const d = analyzeSource(src).diagnostics;
    assert.deepEqual(d.map((x) => [x.rule, x.range.line]), [['unknown-tensor-method', 3]]);
    assert.equal(d[0].severity, 'error');
    assert.deepEqual(d[0].fixes[0].edits[0].newText, 'transpose');
  });

  it('offers batch_first=True, .reshape and ~mask fixes that apply cleanly', function () {
    const src = [
      'import torch',
      'import torch.nn as nn',
      'B, L, E = 2, 5, 8',
      'attn = nn.MultiheadAttention(E, 2)',
      'x = torch.randn(B, L, E)',
      'y, _ = attn(x, x, x)',
      'z = x.transpose(1, 2).view(B, L, E)',
      'keep = torch.tril(torch.ones(L, L, dtype=torch.bool))',
      'attn2 = nn.MultiheadAttention(E, 2, batch_first=True)',
      'w, _ = attn2(x, x, x, attn_mask=keep)',
      '',
    ].join('\n');
    const diags = analyzeSource(src).diagnostics;
    const byRule = new Map(diags.map((d) => [d.rule, d]));
    const apply = (rule: string) => {
      const d = byRule.get(rule);
      assert.ok(d, `${rule} not reported: ${diags.map((x) => x.rule).join(', ')}`);
      const e = d.fixes[0].edits[0];
      const lines = src.split('\n');
      const l = lines[e.range.line];
      lines[e.range.line] = l.slice(0, e.range.column) + e.newText + l.slice(e.range.endColumn);
      return lines[e.range.line];
    };
    assert.equal(apply('batch-first-mismatch'), 'attn = nn.MultiheadAttention(E, 2, batch_first=True)');
    assert.equal(apply('view-after-permute'), 'z = x.transpose(1, 2).reshape(B, L, E)');
    assert.equal(apply('mask-polarity'), 'w, _ = attn2(x, x, x, attn_mask=~keep)');
  });

  it('reports nothing on code it cannot type (unknown shapes stay silent)', function () {
    const src = 'import torch\n\ndef f(x, y):\n    return (x @ y).view(3, -1).permute(1, 0).softmax(dim=0) + y\n';
    assert.deepEqual(analyzeSource(src).diagnostics, []);
  });

  it('checks attribute names in a branch the call site skips, but no shapes there', function () {
    // The reference post's SKEConv: `x.permutation` sits under `if not self.batch_first:`, and
    // the only call uses batch_first=True. The name is wrong for any flag; the shape mistake in
    // the other skipped branch (a (2, 3) tensor has no axis 2) proves nothing for these flags.
    const src = [
      'import torch',
      'import torch.nn as nn',
      '',
      'class M(nn.Module):',
      '    def __init__(self, batch_first=True):',
      '        super().__init__()',
      '        self.batch_first = batch_first',
      '',
      '    def forward(self, x):',
      '        if not self.batch_first:',
      '            x = x.permutation(1, 0)',
      '        if not self.batch_first:',
      '            x = x.permute(2, 0, 1)',
      '        return x',
      '',
      'y = M()(torch.randn(2, 3))',
      '',
    ].join('\n');
    const d = analyzeSource(src).diagnostics.map((x) => [x.rule, x.range.line + 1]);
    assert.deepEqual(d, [['unknown-tensor-method', 11]]);
    // Live code afterwards still sees the values of the path that runs: no shape record of the skipped assignment.
    assert.ok(!analyzeSource(src).shapes.some((r) => r.line === 10 || r.line === 12));
  });
});
