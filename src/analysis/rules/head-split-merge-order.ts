/** Rule: `head-split-merge-order`. See the docs below. */

import type { Rule } from '../diagnostics';
import { replaceNode } from '../diagnostics';
import type { TextEdit } from '../diagnostics';
import type { Node } from '../parse';
import { shapeOf } from './util';

/** The pattern literal with the group of `names` on one side replaced by `group`. */
function regroup(literal: Node, side: 'left' | 'right', names: string[], group: string): TextEdit | undefined {
  const text = literal.text;
  const arrow = text.indexOf('->');
  if (arrow < 0) return undefined;
  const re = new RegExp(`\\(\\s*${names.join('\\s+')}\\s*\\)`);
  const [from, to] = side === 'left' ? [0, arrow] : [arrow, text.length];
  const m = re.exec(text.slice(from, to));
  if (!m) return undefined;
  const at = from + m.index;
  return replaceNode(literal, text.slice(0, at) + group + text.slice(at + m[0].length));
}

export const rule: Rule = {
  name: 'head-split-merge-order',
  summary: 'view/reshape that splits or merges heads without the transpose that puts the axes in order',
  defaultSeverity: 'warning',
  docs: {
    what: 'Groups the old and new sizes of every `view`/`reshape` row-major. When no grouping exists but the sizes are the same factors in another order, the reshape scrambles axes: typically (B, H, L, D) merged to (B, L, H·D) without `.transpose(1, 2)`, or (B, L, C) split straight to (B, H, L, D). Symbolic sizes count too (`C // H` is its own factor, so (L, B, C) to (L, B·H, C // H) keeps the order) when the element counts are equal without assuming it. Also reports a flattened grid (h·w) split back as (w, h) (a `flatten` and a `cat` of k pieces of one size, laid out (k, f), are merges too), two operands that meet on an axis each made of the same two parts in opposite orders (a mask tiled per head with `repeat`, copies outermost, against scores whose heads were folded into the batch after it), an einops merge of axes a split made in another order than the split\'s (`b n (h d) -> b h n d` then `b h n d -> b n (d h)`), reported at the one of the two that does not put the heads first where the other does, with its group in the other\'s order as the fix, and a split that leaves the heads axis where the positions should be, found where the scores q @ k^T (contracting the head dim, heads as queries and keys) are normalised: reported at the permute that put the heads there.',
    why: 'The element count matches, so nothing raises; each output row mixes heads and positions (or rows and columns), and attention over (…, L, H, D) attends across heads.',
    example: 'out = (attn @ v).reshape(B, L, C)  # attn @ v is (B, H, L, D)',
    useInstead: 'out = (attn @ v).transpose(1, 2).reshape(B, L, C)',
    fixSafety: 'Where one operand was tiled with `repeat` along one axis, replacing it by `repeat_interleave` on that axis gives the order of the other operand (safe); no automatic fix otherwise.',
  },
  on: ['op', 'binary'],
  check(e, ctx) {
    if (e.kind === 'op' && e.info.headsAttended) {
      ctx.report({ node: e.info.headsAttended, severity: 'warning', message: 'this leaves the heads axis where the positions should be: q @ k^T contracts the head dim with heads as queries and keys, and the softmax then attends across heads, not positions' });
      return;
    }
    const merge = e.kind === 'op' && e.info.mergeOrder;
    if (merge) {
      // Reported where the order departs from the other's, the one that does not put the heads
      // first where the other does (the merge when neither or both do).
      const { split, order, names } = merge;
      const atSplit = merge.headsFirst.merge && !merge.headsFirst.split;
      const splitText = `(${split.names.join(' ')})`;
      const mergeText = `(${names.join(' ')})`;
      const line = (n: Node) => n.startPosition.row + 1;
      // The group rewritten in the other's order: the split's members in merge order, or the merge's in split order.
      const fixed = atSplit ? `(${order.map((k) => split.names[k]).join(' ')})` : `(${order.map((_, i) => names[order.indexOf(i)]).join(' ')})`;
      const node = atSplit ? split.pattern : merge.pattern;
      const edit = node && regroup(node, atSplit ? 'left' : 'right', atSplit ? split.names : names, fixed);
      ctx.report({
        node: atSplit ? split.node : e.node,
        severity: 'warning',
        message: atSplit
          ? `this splits the features as ${splitText} but line ${line(e.node)} merges them back as ${mergeText}: each output feature comes from another place than it was split from, so the heads are mixed into the head dims`
          : `this merges the axes as ${mergeText} but line ${line(split.node)} split them as ${splitText}: the features come back in another order than they were split in, so the heads are mixed into the head dims`,
        fixes: edit ? [{ title: `Use ${fixed}`, edits: [edit] }] : [],
      });
      return;
    }
    const swapped = (e.kind === 'op' || e.kind === 'binary') && e.info.partsSwapped;
    if (swapped) {
      // One operand's axis is (p, q), the other's (q, p): row k of one is not row k of the other.
      const [p, q] = swapped.parts.map((d) => ctx.fmt(d));
      const t = swapped.tiled;
      ctx.report({
        node: t?.node ?? e.node,
        severity: 'warning',
        message: `these operands meet on an axis each made of the same two parts in opposite orders, (${p}, ${q}) in one and (${q}, ${p}) in the other, so rows are paired with the wrong rows${t ? ' (repeat lays its copies outermost, repeat_interleave innermost)' : ''}`,
        fixes: t ? [{ title: `Use ${t.other.replace(/^.*\.(repeat_interleave)/, '$1')}`, edits: [replaceNode(t.node, t.other)], safe: true }] : [],
      });
      return;
    }
    if (e.kind !== 'op' || !['view', 'reshape'].includes(e.op) || !e.info.reorder) return;
    const t = e.args[0];
    const r = e.result;
    const dims = [t, r].flatMap((v) => (v.kind === 'tensor' && v.axes ? v.axes.map((a) => a.size) : []));
    const what = e.info.partsOrder ? 'splits a merged axis into its parts in another order: the axes it was made of (rows and columns, heads and positions) get mixed' : 'reorders axes without a transpose: heads and positions get mixed';
    ctx.report({ node: e.node, severity: ctx.severity(...dims), message: `${e.op} ${t.kind === 'tensor' ? shapeOf(t, ctx) : ''} -> ${r.kind === 'tensor' ? shapeOf(r, ctx) : ''} ${what}` });
  },
};
