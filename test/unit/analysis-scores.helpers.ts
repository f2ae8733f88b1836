/**
 * Scores the analyzer on a labelled set of programs: per-rule true positives, false positives
 * and misses (a diagnostic matches a label when rule and line agree), printed as a table, with
 * the false alarms (marked when on a correct program) and the misses listed.
 */

import { RULES } from '../../src/analysis';
import type { CorpusProgram } from './analysis.helpers';
import { analyzeSource } from './analysis.helpers';

export interface RuleScore {
  rule: string;
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
}

export interface Scores {
  rows: RuleScore[];
  total: RuleScore;
  alarms: string[];
  misses: string[];
  /** False alarms on programs that have no label at all. */
  correctAlarms: string[];
}

export function score(progs: CorpusProgram[]): Scores {
  const stats = new Map<string, { tp: number; fp: number; fn: number }>();
  const st = (r: string) => stats.get(r) ?? (stats.set(r, { tp: 0, fp: 0, fn: 0 }), stats.get(r)!);
  const alarms: string[] = [];
  const misses: string[] = [];
  for (const p of progs) {
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
  const ratio = (a: number, b: number) => (b ? a / b : 1);
  const rows = RULES.map((r) => {
    const s = stats.get(r.name) ?? { tp: 0, fp: 0, fn: 0 };
    return { rule: r.name, ...s, precision: ratio(s.tp, s.tp + s.fp), recall: ratio(s.tp, s.tp + s.fn) };
  });
  const t = rows.reduce((a, r) => ({ tp: a.tp + r.tp, fp: a.fp + r.fp, fn: a.fn + r.fn }), { tp: 0, fp: 0, fn: 0 });
  const total = { rule: 'all', ...t, precision: ratio(t.tp, t.tp + t.fp), recall: ratio(t.tp, t.tp + t.fn) };
  return { rows, total, alarms, misses, correctAlarms: alarms.filter((a) => a.endsWith('(correct program)')) };
}

export function printScores(title: string, s: Scores): void {
  console.log(`      ${title}`);
  console.log('      rule                          labels  tp  fp  fn  precision  recall');
  for (const r of [...s.rows, s.total]) console.log(`      ${r.rule.padEnd(30)}${String(r.tp + r.fn).padStart(6)}${String(r.tp).padStart(4)}${String(r.fp).padStart(4)}${String(r.fn).padStart(4)}${r.precision.toFixed(2).padStart(11)}${r.recall.toFixed(2).padStart(8)}`);
  console.log(`      false alarms: ${s.alarms.length ? s.alarms.join(', ') : 'none'}`);
  console.log(`      misses: ${s.misses.length ? s.misses.join(', ') : 'none'}`);
}
