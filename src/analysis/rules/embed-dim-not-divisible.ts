/** Rule: `embed-dim-not-divisible`. See the docs below. */

import { replaceNode } from '../diagnostics';
import type { Rule } from '../diagnostics';
import { constValue } from '../dims';

export const rule: Rule = {
  name: 'embed-dim-not-divisible',
  summary: 'nn.MultiheadAttention built with an embed_dim that num_heads does not divide',
  defaultSeverity: 'error',
  docs: {
    what: 'Checks that `embed_dim` is a multiple of `num_heads` where `nn.MultiheadAttention` is built.',
    why: 'Each head gets `embed_dim // num_heads` channels; PyTorch asserts divisibility in the constructor ("embed_dim must be divisible by num_heads").',
    example: 'attn = nn.MultiheadAttention(100, 8)',
    useInstead: 'attn = nn.MultiheadAttention(100, 10)  # or embed_dim 96 / 104',
    fixSafety: 'The fix replaces a literal `num_heads` with the nearest divisor of `embed_dim`; it changes the model, so it is offered, never applied silently.',
  },
  on: ['module-new'],
  check(e, ctx) {
    if (e.kind !== 'module-new' || e.module.type !== 'MultiheadAttention') return;
    const m = e.module;
    const E = m.kwargs.embed_dim ?? m.args[0];
    const H = m.kwargs.num_heads ?? m.args[1];
    if (E?.kind !== 'int' || H?.kind !== 'int') return;
    const ev = ctx.value(E.dim);
    const hv = ctx.value(H.dim);
    if (ev === undefined || hv === undefined || hv <= 0 || ev % hv === 0) return;
    let best: number | undefined;
    for (let d = 1; d <= ev; d++) if (ev % d === 0 && (best === undefined || Math.abs(d - hv) < Math.abs(best - hv))) best = d;
    const hNode = e.kwargNodes.num_heads ?? e.argNodes[1];
    const fixes = best !== undefined && hNode && hNode.type === 'integer' ? [{ title: `Use num_heads=${best}`, edits: [replaceNode(hNode, String(best))] }] : [];
    void constValue;
    ctx.report({
      node: e.node,
      severity: 'error',
      message: `embed_dim (${ev}) must be divisible by num_heads (${hv}); nearest valid num_heads: ${best}`,
      fixes,
    });
  },
};
