/** Rule: `split-axis-mismatch`. See the docs below. */

import { replaceNode } from '../diagnostics';
import type { Fix, Rule } from '../diagnostics';

export const rule: Rule = {
  name: 'split-axis-mismatch',
  summary: 'chunk/split into q, k, v along an axis other than the fused projection’s last axis',
  defaultSeverity: 'warning',
  docs: {
    what: "Reports `t.chunk(n, dim=d)` and `t.split(size, dim=d)` (n parts of 2 to 4) where the axis `d` is not known to hold n equal parts while the last axis provably does: a fused q/k/v (or gate/value) projection, `nn.Linear(dim, 3 * inner)`, split across the sequence or channels instead of its features.",
    why: 'The parts get different positions instead of different projections: with a sequence length n divides, every part has the same shape and the model runs and learns nonsense; otherwise the parts have different lengths and a later product raises.',
    example: "q, k, v = self.to_qkv(x).chunk(3, dim=1)  # (b, n, 3*inner): splits the sequence",
    useInstead: "q, k, v = self.to_qkv(x).chunk(3, dim=-1)",
    fixSafety: 'The fix writes the last axis (`-1`, or its index where the code counts from the front); offered, not preferred: a split of another axis may be meant.',
  },
  on: ['op'],
  check(e, ctx) {
    if (e.kind !== 'op' || (e.op !== 'chunk' && e.op !== 'split') || !e.info.packedElsewhere) return;
    const p = e.info.packedElsewhere;
    const dimNode = e.kwargNodes.dim ?? e.argNodes[2];
    const rank = e.args[0]?.kind === 'tensor' ? e.args[0].axes?.length : undefined;
    const fixes: Fix[] = [];
    if (dimNode && rank !== undefined) {
      const written = dimNode.text.trim().startsWith('-') ? '-1' : String(rank - 1);
      fixes.push({ title: `Split the last axis (dim=${written})`, edits: [replaceNode(dimNode, written)] });
    }
    ctx.report({
      node: e.node,
      severity: 'warning',
      message: `${e.op} into ${p.count} along axis ${p.axis} (${ctx.fmt(p.size)}), which ${p.count} ${ctx.value(p.size) !== undefined ? 'does not divide' : 'is not known to divide'}, while the last axis (${ctx.fmt(p.last)}) is made of ${p.count} equal parts: a fused projection split across the wrong axis`,
      fixes,
    });
  },
};
