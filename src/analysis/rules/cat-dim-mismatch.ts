/** Rule: `cat-dim-mismatch`. See the docs below. */

import type { Fix, Rule } from '../diagnostics';
import { replaceNode } from '../diagnostics';
import { ROLE_NAMES } from './util';

export const rule: Rule = {
  name: 'cat-dim-mismatch',
  summary: 'torch.cat / torch.stack of tensors that differ outside the joined dimension, or in rank',
  defaultSeverity: 'error',
  docs: {
    what: 'Checks that the tensors given to `torch.cat` agree on every axis but `dim` (and on rank), and that `torch.stack` gets tensors of one shape. Where no caller built the module, two different expressions of the sizes its constructor\'s caller chooses, each as computed, are reported as a warning that says where the code runs. A single token `(B, 1, E)` (a class token) joined to tokens `(B, N, E)` along another axis than the tokens\' is reported even where N is a symbol: the pieces differ only on the token axis, so `dim=1` is the one join that runs, and the fix. Pieces whose axes off the joined one have unrelated roles (channel-major patches `(B, C, N)` joined to a `(B, 1, C)` class token) are a warning whatever the sizes.',
    why: 'PyTorch raises ("Sizes of tensors must match except in dimension 1").',
    example: 'torch.cat([avg, mx], dim=2)  # (B, 1, H, W) and (B, 1, H, W): joins H, not the channels',
    useInstead: 'torch.cat([avg, mx], dim=1)',
    fixSafety: 'A class token joined along the wrong axis is fixed by `dim=1`, the only axis the pieces differ on (safe); other mismatches have no automatic fix.',
  },
  on: ['op'],
  check(e, ctx) {
    if (e.kind !== 'op' || (e.op !== 'cat' && e.op !== 'stack') || !e.info.catMismatch) return;
    const m = e.info.catMismatch;
    if ('rankA' in m) {
      ctx.report({ node: e.node, severity: 'error', message: `${e.op} of tensors with different ranks (${m.rankA} and ${m.rankB})` });
      return;
    }
    if (m.token) {
      // The token axis is the only one where the pieces differ: joining there is the only cat that runs.
      const dimNode = e.kwargNodes.dim ?? e.argNodes[1];
      const fixes: Fix[] = dimNode ? [{ title: 'Use dim=1 (the token axis)', edits: [replaceNode(dimNode, '1')], safe: true }] : [];
      ctx.report({ node: e.node, severity: 'warning', message: `cat joins one token (${ctx.fmt(m.a)} position) and ${ctx.fmt(m.b)} tokens along another axis than the tokens': they differ on axis 1, so only dim=1 joins them`, fixes });
      return;
    }
    if (m.roles && ctx.compare(m.a, m.b) === 'unknown') {
      const [ra, rb] = m.roles;
      ctx.report({ node: e.node, severity: 'warning', message: `${e.op} lines up the ${ROLE_NAMES[ra]} of one piece (${ctx.fmt(m.a)}) with the ${ROLE_NAMES[rb]} of another (${ctx.fmt(m.b)}) on axis ${m.axis}: it only runs where they happen to be equal` });
      return;
    }
    if (ctx.compare(m.a, m.b, true) !== 'ne') return;
    ctx.report({ node: e.node, severity: ctx.severity(m.a, m.b), message: `${e.op}: sizes differ on axis ${m.axis} (${ctx.fmt(m.a)} vs ${ctx.fmt(m.b)})${e.op === 'cat' ? ', which is not the joined dimension' : ''}` });
  },
};
