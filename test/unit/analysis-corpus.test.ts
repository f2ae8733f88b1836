/**
 * The analyzer on its labelled corpus: per-rule precision, recall and false alarms, printed
 * as a table, against the targets (precision >= 0.95, recall >= 0.9, no diagnostic at all on
 * a correct program). A diagnostic matches a label when rule and line agree.
 */

import * as assert from 'node:assert/strict';
import { RULES } from '../../src/analysis';
import { analyzeSource, corpus, ready } from './analysis.helpers';

describe('analyzer corpus scores', function () {
  before(ready);

  it('has at least 60 programs, a third of them correct, and labels naming real rules', function () {
    const progs = corpus();
    assert.ok(progs.length >= 60, `${progs.length} programs`);
    const correct = progs.filter((p) => p.labels.length === 0);
    assert.ok(correct.length * 3 >= progs.length, `${correct.length} correct of ${progs.length}`);
    for (const p of progs) for (const l of p.labels) assert.ok(RULES.some((r) => r.name === l.rule), `${p.name}: unknown rule ${l.rule}`);
    for (const p of progs) assert.equal(p.labels.length > 0, p.expect.kind !== 'runs', `${p.name}: labels and '# expect' disagree`);
  });

  it('meets precision >= 0.95 and recall >= 0.9 per rule, with no false alarm on correct programs', function () {
    const stats = new Map<string, { tp: number; fp: number; fn: number }>();
    const st = (r: string) => stats.get(r) ?? (stats.set(r, { tp: 0, fp: 0, fn: 0 }), stats.get(r)!);
    const alarms: string[] = [];
    const misses: string[] = [];
    for (const p of corpus()) {
      const diags = analyzeSource(p.source).diagnostics;
      const want = new Set(p.labels.map((l) => `${l.line}:${l.rule}`));
      const got = new Set(diags.map((d) => `${d.range.line}:${d.rule}`));
      for (const g of got) {
        const [line, rule] = g.split(':');
        if (want.has(g)) st(rule).tp++;
        else {
          st(rule).fp++;
          alarms.push(`${p.name}:${Number(line) + 1} [${rule}]${p.labels.length === 0 ? ' (correct program)' : ''}`);
        }
      }
      for (const w of want) {
        if (got.has(w)) continue;
        const [line, rule] = w.split(':');
        st(rule).fn++;
        misses.push(`${p.name}:${Number(line) + 1} [${rule}]`);
      }
    }
    const rows = RULES.map((r) => {
      const s = stats.get(r.name) ?? { tp: 0, fp: 0, fn: 0 };
      const precision = s.tp + s.fp ? s.tp / (s.tp + s.fp) : 1;
      const recall = s.tp + s.fn ? s.tp / (s.tp + s.fn) : 1;
      return { rule: r.name, ...s, precision, recall };
    });
    const total = rows.reduce((a, r) => ({ tp: a.tp + r.tp, fp: a.fp + r.fp, fn: a.fn + r.fn }), { tp: 0, fp: 0, fn: 0 });
    console.log('      rule                          labels  tp  fp  fn  precision  recall');
    for (const r of rows) console.log(`      ${r.rule.padEnd(30)}${String(r.tp + r.fn).padStart(6)}${String(r.tp).padStart(4)}${String(r.fp).padStart(4)}${String(r.fn).padStart(4)}${r.precision.toFixed(2).padStart(11)}${r.recall.toFixed(2).padStart(8)}`);
    const P = total.tp / Math.max(1, total.tp + total.fp);
    const R = total.tp / Math.max(1, total.tp + total.fn);
    console.log(`      ${'all'.padEnd(30)}${String(total.tp + total.fn).padStart(6)}${String(total.tp).padStart(4)}${String(total.fp).padStart(4)}${String(total.fn).padStart(4)}${P.toFixed(2).padStart(11)}${R.toFixed(2).padStart(8)}`);
    console.log(`      false alarms: ${alarms.length ? alarms.join(', ') : 'none'}; misses: ${misses.length ? misses.join(', ') : 'none'}`);
    assert.deepEqual(alarms.filter((a) => a.endsWith('(correct program)')), [], 'false alarms on correct programs');
    for (const r of rows) {
      assert.ok(r.precision >= 0.95, `${r.rule}: precision ${r.precision.toFixed(2)}`);
      assert.ok(r.recall >= 0.9, `${r.rule}: recall ${r.recall.toFixed(2)}`);
    }
  });

  it('every rule has complete docs and at least one labelled corpus program', function () {
    const labelled = new Set(corpus().flatMap((p) => p.labels.map((l) => l.rule)));
    for (const r of RULES) {
      for (const k of ['what', 'why', 'example', 'useInstead', 'fixSafety'] as const) assert.ok(r.docs[k].length > 10, `${r.name}: docs.${k}`);
      assert.match(r.name, /^[a-z]+(-[a-z0-9]+)+$/);
      assert.ok(labelled.has(r.name), `${r.name} has no labelled corpus program`);
    }
  });
});
