/**
 * Shape inference fixtures: every `# revealed: (…)` comment in test/fixtures/shapes/*.py is the
 * shape the analyzer must infer for the name assigned on that line (the data behind hovers and
 * `attention-forge shapes`). Also: suppression comments and that fixes apply cleanly.
 */

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeSource, ready, session, SHAPES } from './analysis.helpers';

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

  it('still reports the mistakes in the complete parts of a file with a syntax error elsewhere', function () {
    // Half-typed files, as the editor sees them mid-edit: the broken statement is an error node,
    // every complete statement around it is still analysed, and the editor's incremental path
    // agrees with a cold analysis.
    const cases: { src: string[]; want: [string, number, string][] }[] = [
      {
        // An unclosed call on the last line; the buggy function above it is complete.
        src: [
          'import torch',
          'import torch.nn as nn',
          '',
          'class Good(nn.Module):',
          '    def __init__(self, dim):',
          '        super().__init__()',
          '        self.proj = nn.Linear(dim, dim)',
          '',
          '    def forward(self, x):',
          '        return self.proj(x)',
          '',
          'def attend(q, k):',
          '    s = torch.matmul(q, k)',
          '    return s.softmax(dim=-1)',
          '',
          'out = attend(torch.randn(2, 10, 16), torch.randn(2, 10, 16))',
          'y = Good(16)(torch.randn(2, 5, 16)',
        ],
        want: [['matmul-inner-dim-mismatch', 13, 'error']],
      },
      {
        // A missing parenthesis in a later class swallows the rest of the file, the call site
        // included: the helper before it is still checked, from its own shapes (a warning).
        src: [
          'import torch',
          'import torch.nn as nn',
          '',
          'def merge(x):',
          '    b, h, n, d = x.shape',
          '    return x.permute(0, 2, 1, 3).view(b, n, h * d)',
          '',
          'class Half(nn.Module):',
          '    def __init__(self, dim):',
          '        super().__init__()',
          '        self.qkv = nn.Linear(dim, 3 * dim',
          '        self.out = nn.Linear(dim, dim)',
          '',
          'm = merge(torch.randn(2, 4, 6, 8))',
        ],
        want: [['view-after-permute', 6, 'warning']],
      },
      {
        // An unfinished `if` inside the method, after its return: the rest of the method is intact.
        src: [
          'import torch',
          'import torch.nn as nn',
          '',
          'class Attn(nn.Module):',
          '    def __init__(self, dim, heads):',
          '        super().__init__()',
          '        self.h = heads',
          '        self.qkv = nn.Linear(dim, dim * 3)',
          '        self.o = nn.Linear(dim * 2, dim)',
          '',
          '    def forward(self, x):',
          '        b, n, c = x.shape',
          '        q, k, v = self.qkv(x).reshape(b, n, 3, self.h, c // self.h).permute(2, 0, 3, 1, 4)',
          '        a = (q @ k.transpose(-2, -1) * (c // self.h) ** -0.5).softmax(dim=-1)',
          '        return self.o((a @ v).transpose(1, 2).reshape(b, n, c))',
          '        if x.dim() == 3 and',
          '            pass',
          '',
          'r = Attn(32, 4)(torch.randn(2, 7, 32))',
        ],
        want: [['linear-in-features-mismatch', 15, 'error']],
      },
    ];
    for (const c of cases) {
      const src = c.src.join('\n') + '\n';
      const cold = analyzeSource(src).diagnostics.map((x) => [x.rule, x.range.line + 1, x.severity]);
      assert.deepEqual(cold, c.want);
      // The editor's path: the same text reached by typing its last line into an earlier version.
      const s = session();
      try {
        s.analyze(src.replace(/\n[^\n]*\n$/, '\n'));
        assert.deepEqual(s.analyze(src).diagnostics.map((x) => [x.rule, x.range.line + 1, x.severity]), cold);
      } finally {
        s.dispose();
      }
    }
  });
  it('without a call site: a product that sums a heads axis is reported, the transposed keys are not', function () {
    const module = (keys: string) =>
      [
        'import math',
        'import torch',
        'import torch.nn as nn',
        '',
        'class CausalSelfAttention(nn.Module):',
        '    def __init__(self, n_embd, n_head):',
        '        super().__init__()',
        '        self.n_head = n_head',
        '        self.c_attn = nn.Linear(n_embd, 3 * n_embd)',
        '',
        '    def forward(self, x):',
        '        B, T, C = x.size()',
        '        q, k, v = self.c_attn(x).split(C, dim=2)',
        '        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)',
        '        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)',
        `        att = (q @ ${keys}) * (1.0 / math.sqrt(k.size(-1)))`,
        '        return att.softmax(dim=-1)',
        '',
      ].join('\n');
    const found = analyzeSource(module('k.transpose(1, 2)')).diagnostics.map((d) => [d.rule, d.range.line + 1, d.severity]);
    assert.deepEqual(found, [['matmul-inner-dim-mismatch', 16, 'warning']]);
    assert.match(analyzeSource(module('k.transpose(1, 2)')).diagnostics[0].message, /heads axis of the right one \(n_head\)/);
    assert.deepEqual(analyzeSource(module('k.transpose(-2, -1)')).diagnostics, []);
  });

  it('follows modules cloned with copy.deepcopy, zip over a module list, and sizes chosen by a branch', function () {
    const src = [
      'import copy',
      'import torch',
      'import torch.nn as nn',
      '',
      'def clones(module, n):',
      '    return nn.ModuleList([copy.deepcopy(module) for _ in range(n)])',
      '',
      'class M(nn.Module):',
      '    def __init__(self, d, inter=None):',
      '        super().__init__()',
      '        self.inter = d // 2 if inter is None else inter',
      '        if self.inter == 0:',
      '            self.inter = 1',
      '        self.linears = clones(nn.Linear(d, d), 3)',
      '        self.proj = nn.Conv1d(d, self.inter, 1)',
      '',
      '    def forward(self, a, b, c):',
      '        a, b, c = [lin(t) for lin, t in zip(self.linears, (a, b, c))]  # revealed: (2, 5, 16)',
      '        for i, lin in enumerate(self.linears):',
      '            c = lin(c)',
      '        y = self.proj(c.transpose(1, 2))',
      '        return y.view(y.size(0), self.inter, -1)',
      '',
      'out = M(16)(torch.randn(2, 5, 16), torch.randn(2, 5, 16), torch.randn(2, 5, 16))',
    ].join('\n');
    const r = analyzeSource(src);
    assert.deepEqual(r.diagnostics, []);
    const shape = (line: number, name: string) => r.shapes.find((x) => x.line === line - 1 && x.name === name)?.shape;
    assert.equal(shape(18, 'a'), '(2, 5, 16)');
    assert.equal(shape(18, 'c'), '(2, 5, 16)');
    assert.equal(shape(20, 'c'), '(2, 5, 16)');
    assert.equal(shape(21, 'y'), '(2, 8, 5)');
    // With no caller the width is `d // 2` or 1: one size, the same in the conv and the view.
    const driverless = src.split('\n').slice(0, -1).join('\n').replace('def forward(self, a, b, c):', 'def forward(self, a, b, c):\n        # c: (B, L, d)');
    const r2 = analyzeSource(driverless);
    assert.deepEqual(r2.diagnostics, []);
    assert.match(r2.shapes.find((x) => x.name === 'y')?.shape ?? '', /^\(B, inter, L\)$/);
  });

  it('stops at an operation torch rejects: nothing computed from its result is reported', function () {
    const src = [
      'import torch',
      'import torch.nn as nn',
      '',
      'class L(nn.Module):',
      '    def __init__(self):',
      '        super().__init__()',
      '        self.attn = nn.MultiheadAttention(64, 4)',
      '',
      '    def forward(self, src, pos):',
      '        q = src + pos',
      '        return self.attn(q, q, src)[0].view(2, 64, 4, 6)',
      '',
      'out = L()(torch.randn(2, 24, 64), torch.randn(24, 2, 64))',
    ].join('\n');
    assert.deepEqual(analyzeSource(src).diagnostics.map((d) => [d.rule, d.range.line + 1]), [['broadcast-mismatch', 10]]);
  });
});
