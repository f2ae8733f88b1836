/** Rule: `cat-dim-mismatch`. See the docs below. */

import type { Rule } from '../diagnostics';

export const rule: Rule = {
  name: 'cat-dim-mismatch',
  summary: 'torch.cat / torch.stack of tensors that differ outside the joined dimension, or in rank',
  defaultSeverity: 'error',
  docs: {
    what: 'Checks that the tensors given to `torch.cat` agree on every axis but `dim` (and on rank), and that `torch.stack` gets tensors of one shape.',
    why: 'PyTorch raises ("Sizes of tensors must match except in dimension 1").',
    example: 'torch.cat([avg, mx], dim=2)  # (B, 1, H, W) and (B, 1, H, W): joins H, not the channels',
    useInstead: 'torch.cat([avg, mx], dim=1)',
    fixSafety: 'No automatic fix.',
  },
  on: ['op'],
  check(e, ctx) {
    if (e.kind !== 'op' || (e.op !== 'cat' && e.op !== 'stack') || !e.info.catMismatch) return;
    const m = e.info.catMismatch;
    if ('rankA' in m) {
      ctx.report({ node: e.node, severity: 'error', message: `${e.op} of tensors with different ranks (${m.rankA} and ${m.rankB})` });
      return;
    }
    if (ctx.compare(m.a, m.b) !== 'ne') return;
    ctx.report({ node: e.node, severity: ctx.severity(m.a, m.b), message: `${e.op}: sizes differ on axis ${m.axis} (${ctx.fmt(m.a)} vs ${ctx.fmt(m.b)})${e.op === 'cat' ? ', which is not the joined dimension' : ''}` });
  },
};
