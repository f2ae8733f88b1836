/**
 * The analyzer's entry point: `initAnalyzer()` once (loads the wasm parser), then
 * `analyze(source)` synchronously, as often as the editor likes. It runs the layers in order —
 * parse (`parse.ts`), bind (`bind.ts`), evaluate shapes (`evaluate.ts`), check (`rules/`) — and
 * returns diagnostics (deduplicated, suppressions applied) and the inferred shapes of named
 * tensors. It never throws on user code: a rule that fails is skipped for that event.
 *
 * Invariant: nothing under src/analysis imports `vscode`.
 */

import { bind } from './bind';
import type { Diagnostic, Range, RuleContext, Severity } from './diagnostics';
import { rangeOf } from './diagnostics';
import * as D from './dims';
import { Evaluator } from './evaluate';
import type { ShapeRecord } from './evaluate';
import type { Event } from './events';
import { initParser, parse, parserReady } from './parse';
import { RULES } from './rules';

export type { Diagnostic, Fix, Range, Severity, TextEdit, Rule } from './diagnostics';
export type { ShapeRecord } from './evaluate';
export { RULES, getRule } from './rules';

export interface AnalyzeOptions {
  /** Only these rules (all when absent). */
  rules?: readonly string[];
}

export interface Analysis {
  diagnostics: Diagnostic[];
  shapes: ShapeRecord[];
  /** Number of syntax error nodes in the tree (the analysis still ran). */
  syntaxErrors: number;
}

export const initAnalyzer = initParser;
export const analyzerReady = parserReady;

export function analyze(source: string, options: AnalyzeOptions = {}): Analysis {
  const tree = parse(source);
  try {
    const root = tree.rootNode;
    const binding = bind(root);
    const rules = options.rules ? RULES.filter((r) => options.rules!.includes(r.name)) : RULES;
    const byKind = new Map<Event['kind'], typeof rules[number][]>();
    for (const r of rules) for (const k of r.on) byKind.set(k, [...(byKind.get(k) ?? []), r]);
    const found = new Map<string, Diagnostic>();
    let current = '';
    // The context reads the evaluator through this holder: the two refer to each other.
    const holder: { ev?: Evaluator } = {};
    const ctx: RuleContext = {
      compare: (a, b) => holder.ev!.compare(a, b),
      same: (a, b) => holder.ev!.same(a, b),
      severity: (...dims) => (dims.every((d) => D.isConst(holder.ev!.norm(d))) ? 'error' : 'warning'),
      fmt: (d) => D.format(holder.ev!.norm(d)),
      fmtShape: (dims) => `(${dims.map((d) => D.format(holder.ev!.norm(d))).join(', ')})`,
      value: (d) => D.constValue(holder.ev!.norm(d)),
      source,
      report: ({ node, severity, message, fixes }) => {
        const range = rangeOf(node);
        const key = `${current}:${range.line}:${range.column}:${range.endLine}:${range.endColumn}`;
        const prev = found.get(key);
        if (prev && (prev.severity === 'error' || severity === 'warning')) return;
        found.set(key, { rule: current, severity, message, range, fixes: fixes ?? [] });
      },
    };
    const emit = (e: Event) => {
      for (const r of byKind.get(e.kind) ?? []) {
        current = r.name;
        try {
          r.check(e, ctx);
        } catch {
          // A rule that trips on unusual code reports nothing for that event.
        }
      }
    };
    const ev = new Evaluator(root, binding, emit);
    holder.ev = ev;
    try {
      ev.run();
    } catch {
      // The evaluator guards itself; this is the last line of defence.
    }
    const diagnostics = [...found.values()]
      .filter((d) => !suppressed(binding.suppressions, d.range, d.rule))
      .sort((a, b) => a.range.line - b.range.line || a.range.column - b.range.column || a.rule.localeCompare(b.rule));
    let syntaxErrors = 0;
    if (root.hasError) {
      const walk = (n: typeof root) => {
        if (n.isError || n.isMissing) syntaxErrors++;
        else if (n.hasError) for (const c of n.children) if (c) walk(c);
      };
      walk(root);
    }
    return { diagnostics, shapes: [...ev.records].sort((a, b) => a.line - b.line || a.column - b.column), syntaxErrors };
  } finally {
    tree.delete();
  }
}

function suppressed(map: Map<number, Set<string>>, r: Range, rule: string): boolean {
  for (let l = r.line; l <= r.endLine; l++) {
    const s = map.get(l);
    if (s && (s.has('*') || s.has(rule))) return true;
  }
  return false;
}

export type { Severity as DiagnosticSeverity };
