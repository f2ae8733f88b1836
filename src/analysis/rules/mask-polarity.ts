/** Rule: `mask-polarity`. See the docs below. */

import type { Rule } from '../diagnostics';
import { replaceNode } from '../diagnostics';
import type { Node } from '../parse';
import type { Value } from '../values';
import { negated } from './util';

export const rule: Rule = {
  name: 'mask-polarity',
  summary: 'a boolean mask whose True means "attend" given where True means "ignore", or the reverse',
  defaultSeverity: 'warning',
  docs: {
    what: 'Follows what True means in a boolean mask: `torch.triu(ones, 1)`, `tokens == pad` mark positions to ignore; `torch.tril(ones)` and `arange(S) < lengths` mark positions to keep (`>=` marks padding); `~`, `== 0` and `logical_not` flip it. `nn.MultiheadAttention` masks (and `masked_fill` with -inf) need True = ignore; `F.scaled_dot_product_attention` needs True = attend.',
    why: 'The two APIs use opposite conventions. A mask of the wrong polarity runs without error and lets each query see exactly the positions it should not (often producing NaN rows).',
    example: 'causal = torch.tril(torch.ones(L, L, dtype=torch.bool))\nself.attn(x, x, x, attn_mask=causal)',
    useInstead: 'self.attn(x, x, x, attn_mask=~causal)',
    fixSafety: 'Negating the mask with `~` is exact for boolean masks.',
  },
  on: ['module-call', 'op'],
  check(e, ctx) {
    const flag = (mask: Value | undefined, node: Node | undefined, want: 'ignore' | 'keep', where: string) => {
      if (mask?.kind !== 'tensor' || mask.dtype !== 'bool' || !mask.mask || mask.mask.polarity === want) return;
      ctx.report({
        node: e.node,
        severity: 'warning',
        message: `${where} expects True to mean "${want === 'ignore' ? 'ignore this position' : 'attend to this position'}", but this mask is True where positions should be ${want === 'ignore' ? 'kept' : 'ignored'}`,
        fixes: node ? [{ title: 'Negate the mask', edits: [replaceNode(node, negated(node))] }] : [],
      });
    };
    if (e.kind === 'module-call' && e.module.type === 'MultiheadAttention') {
      flag(e.kwargs.attn_mask ?? e.args[5], e.kwargNodes.attn_mask ?? e.argNodes[5], 'ignore', 'nn.MultiheadAttention attn_mask');
      flag(e.kwargs.key_padding_mask ?? e.args[3], e.kwargNodes.key_padding_mask ?? e.argNodes[3], 'ignore', 'nn.MultiheadAttention key_padding_mask');
    } else if (e.kind === 'op' && e.op === 'multi_head_attention_forward') {
      // The functional form shares the module's convention (key_padding_mask is argument 14, attn_mask 16).
      flag(e.kwargs.attn_mask ?? e.args[16], e.kwargNodes.attn_mask ?? e.argNodes[16], 'ignore', 'F.multi_head_attention_forward attn_mask');
      flag(e.kwargs.key_padding_mask ?? e.args[14], e.kwargNodes.key_padding_mask ?? e.argNodes[14], 'ignore', 'F.multi_head_attention_forward key_padding_mask');
    } else if (e.kind === 'op' && e.op === 'sdpa') {
      flag(e.kwargs.attn_mask ?? e.args[3], e.kwargNodes.attn_mask ?? e.argNodes[3], 'keep', 'F.scaled_dot_product_attention attn_mask');
    } else if (e.kind === 'op' && (e.op === 'masked_fill' || e.op === 'masked_fill_')) {
      const value = e.kwargs.value ?? e.args[2];
      const v = value?.kind === 'num' ? value.value : value?.kind === 'int' ? ctx.value(value.dim) : undefined;
      if (v === undefined || v > -1e3) return;
      flag(e.kwargs.mask ?? e.args[1], e.kwargNodes.mask ?? e.argNodes[1], 'ignore', `masked_fill with ${v === -Infinity ? '-inf' : v}`);
    }
  },
};
