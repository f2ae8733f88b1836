/**
 * Small helpers the rules share: text edits for the usual fixes and the message formatting of
 * shapes. No rule logic lives here.
 */

import type { Fix, RuleContext, TextEdit } from '../diagnostics';
import { replaceNode } from '../diagnostics';
import type { Node } from '../parse';
import type { Role, TensorV, TorchModuleV } from '../values';

export function shapeOf(t: TensorV, ctx: RuleContext): string {
  return t.axes ? ctx.fmtShape(t.axes.map((a) => a.size)) : '?';
}

/** Sets a keyword argument on a constructor call: replaces its value or appends it. */
export function setKeyword(m: TorchModuleV, name: string, value: string): TextEdit | undefined {
  const list = m.node.childForFieldName('arguments');
  if (!list) return undefined;
  for (const c of list.namedChildren) {
    if (c?.type === 'keyword_argument' && c.childForFieldName('name')?.text === name) {
      const v = c.childForFieldName('value');
      return v ? replaceNode(v, value) : undefined;
    }
  }
  const close = list.children[list.children.length - 1];
  if (!close || close.text !== ')') return undefined;
  const hasArgs = list.namedChildren.some((c) => c && c.type !== 'comment');
  const last = [...list.children].reverse().find((c) => c && c.text !== ')' && c.type !== 'comment');
  const trailingComma = last?.text === ',';
  const text = `${hasArgs && !trailingComma ? ', ' : ''}${name}=${value}`;
  const pos = { line: close.startPosition.row, column: close.startPosition.column };
  return { range: { line: pos.line, column: pos.column, endLine: pos.line, endColumn: pos.column }, newText: text };
}

export function fix(title: string, ...edits: (TextEdit | undefined)[]): Fix[] {
  const ok = edits.filter((e): e is TextEdit => !!e);
  return ok.length === edits.length && ok.length > 0 ? [{ title, edits: ok }] : [];
}

/** `~mask` for a simple expression, `~(expr)` otherwise; `~mask` negated is `mask`. */
export function negated(n: Node): string {
  const inner = n.type === 'unary_operator' && n.text.startsWith('~') ? n.namedChildren[0] : undefined;
  if (inner) return inner.type === 'parenthesized_expression' ? inner.text.slice(1, -1).trim() : inner.text;
  return /^[\w.]+$/.test(n.text) ? `~${n.text}` : `~(${n.text})`;
}

export function levenshtein(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) dp[i][j] = Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return dp[a.length][b.length];
}

/** How a message names an axis of each role. */
export const ROLE_NAMES: Record<Role, string> = { batch: 'batch axis', seq: 'sequence axis', chan: 'channels', head: 'heads axis', hdim: 'head dim', space: 'spatial axis', query: 'query axis', key: 'key axis' };
