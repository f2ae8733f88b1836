/**
 * Diagnostics and fixes as plain data, and the rule interface. Positions are 0-based lines and
 * columns (UTF-16 code units would need the source; tree-sitter columns are bytes, equal for
 * ASCII code); the CLI converts to 1-based. Nothing here evaluates shapes.
 */

import type { Node } from './parse';
import type { Cmp, Dim } from './dims';
import type { Event } from './events';
import type { Value } from './values';

export type Severity = 'error' | 'warning';

export interface Range {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface TextEdit {
  range: Range;
  newText: string;
}

export interface Fix {
  /** What the fix changes, as the editor lists it (`Use num_heads=10`); never its safety. */
  title: string;
  edits: TextEdit[];
  /**
   * True when the edit changes only what the diagnostic proves wrong, so it may be applied
   * without review (the editor prefers it, an auto-fix may apply it). Absent or false: the fix
   * changes the model in a way the author must confirm (one of several candidate values, a
   * scale added), so it is offered, never preferred.
   */
  safe?: boolean;
}

export interface Diagnostic {
  rule: string;
  severity: Severity;
  message: string;
  range: Range;
  fixes: Fix[];
}

export function rangeOf(n: Node): Range {
  return { line: n.startPosition.row, column: n.startPosition.column, endLine: n.endPosition.row, endColumn: n.endPosition.column };
}

export function replaceNode(n: Node, newText: string): TextEdit {
  return { range: rangeOf(n), newText };
}

/** What a rule may ask of the evaluator while checking an event. */
export interface RuleContext {
  /**
   * Compares two dimensions after the unifications made so far; 'ne' also when they differ once
   * the parameters they are named after take their defaults (the finding then says so). With
   * `raises` (torch raises when the two differ), 'ne' also for two different expressions of the
   * sizes a constructor's caller chooses (`dim` vs `hidden_dim`): the finding says when it runs
   * ('broadcast': sizes that meet in a broadcast, which also runs where one of them is 1).
   */
  compare(a: Dim, b: Dim, raises?: boolean | 'broadcast'): Cmp;
  /**
   * An expression of sizes a constructor's caller chooses (`dim_head`, `n_heads * head_dim`), as
   * computed, not a seeded input's size found equal to one (see `compare` with `raises`).
   */
  chosen(d: Dim): boolean;
  /** Equal under the generic assumption (distinct symbols stand for distinct values). */
  same(a: Dim, b: Dim): boolean;
  /** 'error' when every dimension is a number, else 'warning'. */
  severity(...dims: Dim[]): Severity;
  fmt(d: Dim): string;
  fmtShape(dims: Dim[]): string;
  /** The value of a dimension after unification, when it is a number. */
  value(d: Dim): number | undefined;
  /**
   * `value`, or else the value once the parameters it is named after take their defaults (no
   * caller gave them); a finding that relies on one is reported as a warning that names them.
   */
  valueAtDefaults(d: Dim): number | undefined;
  /** A dimension after the unifications made so far (canonical: equal dimensions are equal objects' terms). */
  norm(d: Dim): Dim;
  report(d: { node: Node; severity: Severity; message: string; fixes?: Fix[] }): void;
  /**
   * The call to report at when every one of these values reached the mistake unchanged through
   * the arguments of the calls being evaluated (the outermost such call), else undefined. With
   * `carries`, a value also counts as handed on when an argument of the call carries what the
   * finding is about (the same axes in the same places), though the value itself was computed.
   */
  blame(values: Value[], carries?: (v: Value, passed: Value) => boolean): Node | undefined;
  /** The name the file imports a module under (`math` for `import math`, `m` for `import math as m`), if it does. */
  moduleAlias(module: string): string | undefined;
}

export interface RuleDocs {
  what: string;
  why: string;
  example: string;
  useInstead: string;
  fixSafety: string;
}

export interface Rule {
  name: string;
  summary: string;
  /** The severity of a literal-proven finding; symbolic findings are warnings. */
  defaultSeverity: Severity;
  docs: RuleDocs;
  on: Event['kind'][];
  check(e: Event, ctx: RuleContext): void;
}
