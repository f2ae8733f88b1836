/** Rule: `broadcast-mismatch`. See the docs below. */

import type { Rule } from '../diagnostics';
import { isMask } from './mask-shape-mismatch';
import { ROLE_NAMES, shapeOf } from './util';

export const rule: Rule = {
  name: 'broadcast-mismatch',
  summary: 'an elementwise operation between tensors whose shapes do not broadcast',
  defaultSeverity: 'error',
  docs: {
    what: 'Aligns shapes from the right for `+ - * /`, comparisons and `torch.where` and reports a pair of sizes that differ with neither being 1 (or, where no caller built the module, two different expressions of the sizes its constructor\'s caller chooses, as a warning that says where it runs: `dim//num_heads == num_heads (or one of them is 1)`), and an `expand`/`expand_as` of an axis that is not 1 to another size. Masks are left to `mask-shape-mismatch`. When both operands reached the operation unchanged through the arguments of the calls being evaluated (a helper adding a position embedding), the finding is at the outermost call that paired them. Axes of unrelated roles lined up where their sizes are not known to be equal (channels against positions, a batch axis against tokens, heads against positions: `(b, t, C) + (b, C)` of positions counted along the batch, `(b, 1, 1, c)` weights `expand_as`-ed over `(b, c, h, w)`) are a warning whatever the sizes: the code runs only where they happen to be equal.',
    why: 'PyTorch raises "The size of tensor a (64) must match the size of tensor b (49) at non-singleton dimension 2". Typically a residual added in the other layout.',
    example: 'return x + out  # x (B, C, H, W), out (B, HW, C)',
    useInstead: 'return x + out.transpose(1, 2).reshape(B, C, H, W)',
    fixSafety: 'No automatic fix.',
  },
  on: ['binary', 'op'],
  check(e, ctx) {
    if (e.kind === 'binary' && e.info.broadcastRoles && !e.info.broadcast && !e.info.permutedOperands && !isMask(e.left, e.right)) {
      const { a, b, roles, axis } = e.info.broadcastRoles;
      if (ctx.compare(a, b) !== 'unknown') return;
      const site = ctx.blame([e.left, e.right]);
      const inside = site ? ` (in the call, at line ${e.node.startPosition.row + 1})` : '';
      ctx.report({ node: site ?? e.node, severity: 'warning', message: `lines up the ${ROLE_NAMES[roles[0]]} of ${e.left.kind === 'tensor' ? shapeOf(e.left, ctx) : 'one operand'} (${ctx.fmt(a)}) with the ${ROLE_NAMES[roles[1]]} of ${e.right.kind === 'tensor' ? shapeOf(e.right, ctx) : 'the other'} (${ctx.fmt(b)}) at axis ${axis}: it only runs where they happen to be equal${inside}` });
      return;
    }
    if (e.kind === 'binary') {
      if (!e.info.broadcast || e.info.permutedOperands || isMask(e.left, e.right)) return;
      const [a, b] = e.info.broadcast;
      // Proven apart, or chosen apart: the comparison makes the finding say where it runs.
      ctx.compare(a, b, 'broadcast');
      // Both operands handed down unchanged by a caller: the caller's call is where they were paired.
      const site = ctx.blame([e.left, e.right]);
      const inside = site ? ` (in the call, at line ${e.node.startPosition.row + 1})` : '';
      ctx.report({ node: site ?? e.node, severity: ctx.severity(a, b), message: `shapes ${e.left.kind === 'tensor' ? shapeOf(e.left, ctx) : ''} and ${e.right.kind === 'tensor' ? shapeOf(e.right, ctx) : ''} do not broadcast: ${ctx.fmt(a)} vs ${ctx.fmt(b)}${inside}` });
    } else if (e.kind === 'op' && e.info.broadcastRoles && (e.op === 'expand' || e.op === 'expand_as')) {
      const { a, b, roles, axis } = e.info.broadcastRoles;
      if (ctx.compare(a, b) !== 'unknown') return;
      ctx.report({ node: e.node, severity: 'warning', message: `${e.op}: axis ${axis} is the ${ROLE_NAMES[roles[0]]} (${ctx.fmt(a)}) and is expanded as the ${ROLE_NAMES[roles[1]]} (${ctx.fmt(b)}): it only runs where they happen to be equal` });
    } else if (e.kind === 'op' && e.info.broadcast && !['masked_fill', 'masked_fill_'].includes(e.op)) {
      const [a, b] = e.info.broadcast;
      ctx.report({ node: e.node, severity: ctx.severity(a, b), message: `${e.op}: sizes ${ctx.fmt(a)} and ${ctx.fmt(b)} do not broadcast` });
    } else if (e.kind === 'op' && e.info.expectedSize?.what === 'expand') {
      // Only a size-1 axis expands: torch raises "The expanded size of the tensor (128) must
      // match the existing size (64) at non-singleton dimension 1".
      const { axis, expected, got } = e.info.expectedSize;
      ctx.report({ node: e.node, severity: ctx.severity(expected, got), message: `${e.op}: axis ${axis} has size ${ctx.fmt(got)}, which cannot expand to ${ctx.fmt(expected)} (only size-1 axes expand)` });
    }
  },
};
