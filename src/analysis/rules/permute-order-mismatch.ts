/** Rule: `permute-order-mismatch`. See the docs below. */

import type { Fix, Rule } from '../diagnostics';
import { replaceNode } from '../diagnostics';
import type { Node } from '../parse';
import type { TensorV, Value } from '../values';

/**
 * The permute that gives the permuted operand the other's axis order (read from the axes'
 * identities, so it is the inverse of the permute that was never undone): a transpose when it
 * swaps two axes.
 */
function wayBack(bin: Node, side: 'left' | 'right', permuted: TensorV, other: Value): Fix[] {
  const operand = bin.childForFieldName(side);
  if (!operand || operand.startPosition.row !== operand.endPosition.row || other.kind !== 'tensor' || !other.axes || !permuted.axes) return [];
  const from = permuted.axes.map((a) => a.label);
  const perm = other.axes.map((a) => from.indexOf(a.label));
  if (perm.some((i) => i < 0) || new Set(perm).size !== perm.length) return [];
  const moved = perm.map((p, i) => [p, i]).filter(([p, i]) => p !== i);
  const call = moved.length === 2 ? `transpose(${moved[0][1]}, ${moved[1][1]})` : `permute(${perm.join(', ')})`;
  const simple = /^(identifier|attribute|call|subscript|parenthesized_expression)$/.test(operand.type);
  return [{ title: `Use ${simple ? operand.text : `(${operand.text})`}.${call} (the axes in the other operand's order)`, edits: [replaceNode(operand, `${simple ? operand.text : `(${operand.text})`}.${call}`)], safe: true }];
}

export const rule: Rule = {
  name: 'permute-order-mismatch',
  summary: 'a permute back that is not the inverse of the permute there: axes end up in the wrong order',
  defaultSeverity: 'warning',
  docs: {
    what: 'Tracks the identity of every axis through permutes and transposes. Reports a permute or transpose whose result meets a tensor holding the same axes in another order (a residual add; where nothing permuted it back, the combination is reported, as the place a permute back is missing), or leaves `forward` with the input\'s axes reordered after a round trip, and a second `permute` (rank 4 or more) that puts the axis the first one moved farthest back in place but not all the others, e.g. `(0, 2, 3, 1)` there and `(0, 3, 2, 1)` back, which swaps H and W (a warning: the way back is inferred from the axes it restores).',
    why: 'Using the same permutation twice, e.g. `(0, 2, 3, 1)` there and back, is not the inverse for rank > 2: channels stay where the sequence or a spatial axis should be. When sizes coincide nothing raises and the block silently mixes axes.',
    example: 'y = x.permute(0, 2, 3, 1)   # (B, H, W, C)\ny = self.norm(y)\ny = y.permute(0, 2, 3, 1)   # meant (B, C, H, W); is (B, W, C, H)\nreturn x + y',
    useInstead: 'y = y.permute(0, 3, 1, 2)',
    fixSafety: 'No automatic fix yet: the intended order is usually clear to a reader but several permutations can restore one axis.',
  },
  on: ['binary', 'return', 'op'],
  check(e, ctx) {
    if (e.kind === 'op' && e.info.partialRoundTrip) {
      // The intent (a way back) is read from the axes it restores, not proven, so a warning.
      const t = e.info.partialRoundTrip;
      const pos = t.before.map((l) => t.after.indexOf(l));
      ctx.report({
        node: e.node,
        severity: 'warning',
        message: `this permute puts some axes back where they were before the previous permute but not all (original axis i ends at position ${pos.join(', ')}): the way back is not the inverse permutation`,
      });
      return;
    }
    if (e.kind === 'binary' && e.info.permutedOperands) {
      const l = e.left;
      const r = e.right;
      const dims = [l, r].flatMap((v) => (v.kind === 'tensor' && v.axes ? v.axes.map((a) => a.size) : []));
      const culprit = [l, r].find((v) => v.kind === 'tensor' && v.lastPermute === e.info.permutedOperands);
      if (culprit?.kind === 'tensor' && culprit.permutes === 1) {
        // One permute and no way back: the mistake is the combination, where a permute back is missing.
        ctx.report({
          node: e.node,
          severity: ctx.severity(...dims),
          message: `these tensors hold the same axes in different orders: the permute on line ${e.info.permutedOperands.startPosition.row + 1} is never undone before they are combined`,
          fixes: wayBack(e.node, culprit === l ? 'left' : 'right', culprit, culprit === l ? r : l),
        });
        return;
      }
      ctx.report({
        node: e.info.permutedOperands,
        severity: ctx.severity(...dims),
        message: 'this permute leaves the axes in a different order from the tensor it is combined with: the way back is not the inverse permutation',
      });
    }
    if (e.kind === 'return' && e.forward && e.value.kind === 'tensor' && e.value.axes && (e.value.permutes ?? 0) >= 2 && e.value.lastPermute) {
      const out = e.value.axes.map((a) => a.label);
      for (const p of e.params) {
        if (p.kind !== 'tensor' || !p.axes || p.axes.length !== out.length || p === e.value) continue;
        const inp = p.axes.map((a) => a.label);
        if (!inp.every(Boolean) || !out.every(Boolean)) continue;
        if (inp.join() !== out.join() && [...inp].sort().join() === [...out].sort().join()) {
          ctx.report({
            node: e.value.lastPermute,
            severity: ctx.severity(...e.value.axes.map((a) => a.size)),
            message: "after permuting there and back, the output's axes are a reordering of the input's: the way back is not the inverse permutation",
          });
          return;
        }
      }
    }
  },
};
