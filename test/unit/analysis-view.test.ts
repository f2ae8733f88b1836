/**
 * How analyzer results are shown (src/extension/analysis-view.ts): severities under the rule
 * settings, code-action planning (at most one preferred, never an unsafe one; titles say what
 * changes, safety is metadata), suppression
 * edits, shape hints inside `forward` only, hovers, and the rule docs pages.
 */

import * as assert from 'node:assert/strict';
import { RULES } from '../../src/analysis';
import type { Diagnostic, Fix, ShapeRecord } from '../../src/analysis';
import {
  forwardRanges,
  nameAt,
  parseRuleLevel,
  planCodeActions,
  resourceFromDocsQuery,
  ruleDocsMarkdown,
  ruleDocsUri,
  ruleFromDocsPath,
  shapeAt,
  shapeHints,
  shownSeverity,
  suppressionEdit,
} from '../../src/extension/analysis-view';
import { analyzeSource, ready } from './analysis.helpers';

function diag(rule: string, line: number, fixes: Fix[] = []): Diagnostic {
  return { rule, severity: 'error', message: 'm', range: { line, column: 0, endLine: line, endColumn: 4 }, fixes };
}

const edit = { range: { line: 0, column: 0, endLine: 0, endColumn: 1 }, newText: 'x' };

describe('analysis view: severities', function () {
  it('maps rule levels, defaulting anything unknown to the rule severity', function () {
    assert.equal(shownSeverity({ severity: 'warning' }, parseRuleLevel('default')), 'warning');
    assert.equal(shownSeverity({ severity: 'warning' }, parseRuleLevel('error')), 'error');
    assert.equal(shownSeverity({ severity: 'error' }, parseRuleLevel('hint')), 'hint');
    assert.equal(shownSeverity({ severity: 'error' }, parseRuleLevel('off')), undefined);
    assert.equal(parseRuleLevel('loud'), 'default');
    assert.equal(parseRuleLevel(3), 'default');
  });
});

describe('analysis view: code actions', function () {
  const lines = ['a = 1', 'b = 2  # note', 'c = 3  # attention-forge: ignore[x-rule]'];

  it('prefers at most one fix, and only a fix marked safe', function () {
    const safe = { title: 'safe', edits: [edit], safe: true } as Fix;
    const safe2 = { title: 'safe2', edits: [edit], safe: true } as Fix;
    const unsafe = { title: 'unsafe', edits: [edit] };
    const plan = planCodeActions([diag('r1', 0, [unsafe, safe]), diag('r2', 1, [safe2])], lines);
    assert.deepEqual(plan.filter((p) => p.preferred).map((p) => p.title), ['safe']);
    assert.ok(plan.every((p) => p.kind === 'quickfix'));
    // Titles say what the fix changes; safety is metadata, never a title suffix.
    assert.deepEqual(plan.map((p) => [p.title, p.safe]), [['unsafe', false], ['safe', true], ['safe2', true], ['Ignore r1 on this line', true], ['Ignore r2 on this line', true]]);
  });

  it('offers every repair of nn.MultiheadAttention(100, 8), titled by the change, none preferred', async function () {
    await ready();
    const src = 'import torch.nn as nn\nattn = nn.MultiheadAttention(100, 8)\n';
    const plan = planCodeActions(analyzeSource(src).diagnostics, src.split('\n'));
    assert.deepEqual(plan.map((p) => p.title), ['Use num_heads=10', 'Use num_heads=5', 'Use num_heads=4', 'Use embed_dim=96', 'Use embed_dim=104', 'Ignore embed-dim-not-divisible on this line']);
    assert.ok(plan.every((p) => !p.preferred && !/review|unsafe/.test(p.title)));
    assert.deepEqual(plan.slice(0, 5).map((p) => p.edits[0].newText), ['10', '5', '4', '96', '104']);
  });

  it('prefers the proven softmax axis fix', async function () {
    await ready();
    const src = 'import torch\nq = torch.randn(2, 5, 8)\nw = torch.softmax(q @ q.transpose(1, 2) / 8 ** 0.5, dim=1)\no = w @ q\n';
    const plan = planCodeActions(analyzeSource(src).diagnostics, src.split('\n'));
    assert.deepEqual(plan.map((p) => [p.title, p.preferred, p.safe]), [['Use dim=-1 (the axis summed with the values)', true, true], ['Ignore softmax-wrong-axis on this line', false, true]]);
  });

  it('never prefers an unmarked fix (the analyzer does not mark fixes yet)', function () {
    const plan = planCodeActions([diag('r1', 0, [{ title: 'f', edits: [edit] }])], lines);
    assert.equal(plan.filter((p) => p.preferred).length, 0);
  });

  it('offers one ignore action per rule, appending to an existing suppression', function () {
    const plan = planCodeActions([diag('r1', 0), diag('r1', 0), diag('r2', 2)], lines);
    assert.deepEqual(plan.map((p) => p.title), ['Ignore r1 on this line', 'Ignore r2 on this line']);
    assert.equal(plan[1].edits[0].newText, '[x-rule, r2]');
  });

  it('builds suppression comments after the code', function () {
    assert.deepEqual(suppressionEdit(lines, 0, 'r'), { range: { line: 0, column: 5, endLine: 0, endColumn: 5 }, newText: '  # attention-forge: ignore[r]' });
    assert.equal(suppressionEdit(lines, 2, 'x-rule'), undefined);
    assert.equal(suppressionEdit(['y  # attention-forge: ignore'], 0, 'r'), undefined);
    assert.equal(suppressionEdit(lines, 9, 'r'), undefined);
  });
});

describe('analysis view: shapes', function () {
  const src = [
    'class M(nn.Module):',
    '    def forward(self, x):',
    '        y = x.flatten(2)  # comment',
    '',
    '        q, k = y, y',
    '        return y',
    '',
    'z = torch.randn(2, 3)',
  ];
  const shapes: ShapeRecord[] = [
    { line: 2, column: 8, name: 'y', shape: '(B, C, L)' },
    { line: 4, column: 8, name: 'q', shape: '(B, C, L)' },
    { line: 4, column: 11, name: 'k', shape: '(B, C, L)' },
    { line: 7, column: 0, name: 'z', shape: '(2, 3)' },
  ];

  it('finds forward bodies by indentation', function () {
    assert.deepEqual(forwardRanges(src), [[1, 5]]);
  });

  it('puts hints at the end of assignments in forward only, before comments', function () {
    assert.deepEqual(shapeHints(shapes, src), [
      { line: 2, character: '        y = x.flatten(2)'.length, label: ': (B, C, L)' },
      { line: 4, character: src[4].length, label: ' q: (B, C, L), k: (B, C, L)' },
    ]);
  });

  it('hovers the latest assignment of the name under the cursor', function () {
    assert.equal(shapeAt(shapes, src, 5, 16)?.shape, '(B, C, L)');
    assert.equal(shapeAt(shapes, src, 7, 0)?.shape, '(2, 3)');
    assert.equal(shapeAt(shapes, src, 5, 9), undefined, '`return` is no tensor');
    assert.deepEqual(nameAt('    self.attn(x)', 10), { name: 'self.attn', start: 4, end: 13 });
  });
});

describe('analysis view: rule docs', function () {
  it('renders a page with the ruff-style sections for every rule', function () {
    for (const r of RULES) {
      const md = ruleDocsMarkdown(r);
      for (const h of ['## What it does', '## Why is this bad?', '## Example', '## Use instead', '## Fix safety']) assert.ok(md.includes(h), `${r.name}: ${h}`);
      const uri = ruleDocsUri(r.name);
      assert.equal(ruleFromDocsPath(uri.slice(uri.indexOf(':') + 1)), r.name);
    }
    assert.equal(ruleFromDocsPath('/rules/../x.md'), undefined);
  });

  it('is formatted Markdown: a title, sections, fenced Python examples', function () {
    for (const r of RULES) {
      const md = ruleDocsMarkdown(r);
      assert.match(md, new RegExp(`^# ${r.name}\n`), r.name);
      const fences = md.split('\n').filter((l) => l.startsWith('```'));
      assert.equal(fences.length % 2, 0, `${r.name}: an unclosed code block`);
      assert.deepEqual(fences.filter((_, i) => i % 2 === 0), ['```python', '```python', '```python'], r.name);
      assert.ok(!/Default severity/.test(md), `${r.name}: the page states the severity the editor uses, not a bare default`);
    }
  });

  it('states the severity the editor uses: the rule\'s own (literal vs symbolic), or the setting\'s', function () {
    const error = RULES.find((r) => r.defaultSeverity === 'error')!;
    const warning = RULES.find((r) => r.defaultSeverity === 'warning')!;
    const line = (md: string) => md.split('\n').find((l) => l.startsWith('Severity in the editor:'));
    // What shownSeverity gives a literal (error) and a symbolic (warning) finding of an error rule.
    assert.equal(shownSeverity({ severity: 'error' }, 'default'), 'error');
    assert.match(line(ruleDocsMarkdown(error))!, /^Severity in the editor: \*\*error\*\* when the sizes involved are literal numbers, \*\*warning\*\* when one is symbolic \(the rule's own severity; `attentionForge\.rules\./);
    assert.match(line(ruleDocsMarkdown(warning, 'default'))!, /^Severity in the editor: \*\*warning\*\* \(the rule's own/);
    for (const level of ['error', 'warning', 'information', 'hint'] as const) {
      assert.equal(shownSeverity({ severity: 'error' }, level), level);
      assert.match(line(ruleDocsMarkdown(error, level))!, new RegExp(`^Severity in the editor: \\*\\*${level}\\*\\*, set by \`attentionForge\\.rules\\.${error.name}\``));
    }
    assert.equal(shownSeverity({ severity: 'error' }, 'off'), undefined);
    assert.match(line(ruleDocsMarkdown(warning, 'off'))!, /^Severity in the editor: \*\*off\*\*, set by .*does not report this rule/);
  });

  it('links from a diagnostic carry its file, whose settings the page reads', function () {
    const file = 'file:///w/a b/model.py';
    const uri = ruleDocsUri('embed-dim-not-divisible', file);
    const [, rest] = uri.split(':/');
    const [p, query] = rest.split('?');
    assert.equal(ruleFromDocsPath(`/${p}`), 'embed-dim-not-divisible');
    assert.equal(resourceFromDocsQuery(query), file);
    assert.equal(resourceFromDocsQuery(''), undefined);
    assert.equal(ruleDocsUri('x'), 'attention-forge-docs:/rules/x.md');
  });
});
