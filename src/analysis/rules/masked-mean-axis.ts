/** Rule: `masked-mean-axis`. See the docs below. */

import type { Rule } from '../diagnostics';
import { replaceNode } from '../diagnostics';

export const rule: Rule = {
  name: 'masked-mean-axis',
  summary: "a padding mask counted across the batch instead of along its tokens (the denominator of a masked mean)",
  defaultSeverity: 'warning',
  docs: {
    what: 'Reports a sum of a mask over tokens (a bool mask, or its 0/1 float copy, with a batch axis and a sequence axis: `(~pad).unsqueeze(-1).float()` of a padding mask made from lengths) taken along its batch axis. A masked mean divides the masked sum by this count, and each sample\'s count of real tokens is a sum along the sequence axis.',
    why: 'Summed along the batch, the count is how many samples reach each position: the mean pools the samples together, position by position, and runs without error whenever the other sizes line up.',
    example: 'keep = (~pad).unsqueeze(-1).float()        # (B, L, 1)\npooled = (x * keep).sum(dim=0) / keep.sum(dim=0)',
    useInstead: 'pooled = (x * keep).sum(dim=1) / keep.sum(dim=1)',
    fixSafety: 'Counts along the sequence axis; offered, not preferred (the masked sum it divides needs the same axis).',
  },
  on: ['op'],
  check(e, ctx) {
    if (e.kind !== 'op' || e.op !== 'sum') return;
    const t = e.args[0];
    if (t?.kind !== 'tensor' || !t.axes || !t.mask || t.mask.additive || (t.dtype !== 'bool' && !t.mask.values01)) return;
    const dimValue = e.kwargs.dim ?? e.args[1];
    const dimNode = e.kwargNodes.dim ?? e.argNodes[1];
    const d0 = dimValue?.kind === 'int' ? ctx.value(dimValue.dim) : undefined;
    if (d0 === undefined || !Number.isInteger(d0) || !dimNode) return;
    const rank = t.axes.length;
    const d = d0 < 0 ? d0 + rank : d0;
    if (d < 0 || d >= rank || t.axes[d].role !== 'batch') return;
    const seq = t.axes.findIndex((a) => a.role === 'seq');
    if (seq < 0 || t.axes.some((a, i) => i !== d && a.role === 'batch')) return;
    ctx.report({
      node: e.node,
      severity: 'warning',
      message: `this counts the mask's True cells across the batch (axis ${d0}), not along its tokens (axis ${seq}): a masked mean divides by each sample's count of real tokens`,
      fixes: [{ title: `Count along the tokens (dim=${seq})`, edits: [replaceNode(dimNode, String(seq))] }],
    });
  },
};
