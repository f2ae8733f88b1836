/** Rule: `mask-dtype`. See the docs below. */

import type { Rule } from '../diagnostics';
import type { Value } from '../values';

export const rule: Rule = {
  name: 'mask-dtype',
  summary: 'an integer mask where bool is required, or a 0/1 float mask that is added instead of masking',
  defaultSeverity: 'error',
  docs: {
    what: 'Checks the dtype of attention masks: `masked_fill` needs a bool mask; `nn.MultiheadAttention` and `F.scaled_dot_product_attention` take bool masks or float masks that are added to the scores; flags a float mask of 1s (keep) and 0s added to scores that then reach softmax.',
    why: 'An integer mask raises. A float mask of zeros and ones (`torch.tril(torch.ones(L, L))`) is added to the scores, shifting them by at most 1 instead of masking anything.',
    example: 'mask = torch.tril(torch.ones(L, L))\nF.scaled_dot_product_attention(q, k, v, attn_mask=mask)',
    useInstead: 'mask = torch.tril(torch.ones(L, L, dtype=torch.bool))',
    fixSafety: 'No automatic fix: the intended polarity must be chosen with the dtype.',
  },
  on: ['module-call', 'op'],
  check(e, ctx) {
    const flag = (mask: Value | undefined, where: string, floatOk: boolean) => {
      if (mask?.kind !== 'tensor') return;
      if (mask.dtype === 'long') ctx.report({ node: e.node, severity: 'error', message: `${where} got an integer mask; use a bool mask` });
      else if (mask.dtype === 'float' && !floatOk) ctx.report({ node: e.node, severity: 'error', message: `${where} needs a bool mask but got a float tensor` });
      else if (mask.dtype === 'float' && floatOk && (mask.mask?.values01 || mask.zeroOne)) ctx.report({ node: e.node, severity: 'warning', message: `${where} got a float mask of 0s and 1s: float masks are added to the scores, so this masks nothing; use a bool mask or fill with -inf` });
    };
    if (e.kind === 'module-call' && e.module.type === 'MultiheadAttention') {
      flag(e.kwargs.attn_mask ?? e.args[5], 'nn.MultiheadAttention attn_mask', true);
      flag(e.kwargs.key_padding_mask ?? e.args[3], 'nn.MultiheadAttention key_padding_mask', true);
    } else if (e.kind === 'op' && e.op === 'sdpa') flag(e.kwargs.attn_mask ?? e.args[3], 'F.scaled_dot_product_attention attn_mask', true);
    else if (e.kind === 'op' && (e.op === 'masked_fill' || e.op === 'masked_fill_')) flag(e.kwargs.mask ?? e.args[1], 'masked_fill', false);
    else if (e.kind === 'op' && e.op === 'softmax') {
      const t = e.args[0];
      const at = t?.kind === 'tensor' ? t.scores?.added01 : undefined;
      if (at) ctx.report({ node: at, severity: 'warning', message: 'a float mask of 1s (keep) and 0s is added to the scores, which shifts them by at most 1 and masks nothing; add (1 - mask) * -1e9, or use masked_fill with a bool mask' });
    }
  },
};
