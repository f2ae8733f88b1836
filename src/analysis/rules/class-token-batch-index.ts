/** Rule: `class-token-batch-index`. See the docs below. */

import type { Rule } from '../diagnostics';
import { replaceNode } from '../diagnostics';

export const rule: Rule = {
  name: 'class-token-batch-index',
  summary: '`x[0]` of (B, 1 + N, E) tokens led by a class token: the first sample, where every sample\'s class token `x[:, 0]` was meant',
  defaultSeverity: 'warning',
  docs: {
    what: 'Follows a token joined in front of a sequence by `torch.cat((cls, x), dim=1)` on (B, N, E) tokens, through residual blocks and norms, and reports `x[0]` of the result: an integer index on the batch axis (axis 0 of a batch of token sequences) where the class token sits at position 0 of axis 1.',
    why: 'Both index the same tensor and run: `x[0]` is the first sample\'s (1 + N, E) tokens, so a classifier head returns logits per token of one sample instead of one row per sample.',
    example: 'x = torch.cat((self.cls_token.expand(B, -1, -1), x), dim=1)\nx = self.blocks(x)\nreturn self.head(x[0])',
    useInstead: 'return self.head(x[:, 0])',
    fixSafety: 'Safe: `x[:, 0]` is the class token of every sample, the token the `cat` put in front.',
  },
  on: ['module-call', 'return'],
  check(e, ctx) {
    // Only where the row is handed on as the module's answer (given to one of its layers, or
    // returned by forward): one sample's tokens kept aside (`first = x[0]`) may be meant.
    const handed = e.kind === 'module-call' ? [e.args[0], e.argNodes[0]] as const : e.kind === 'return' && e.forward ? [e.value, e.node.namedChildren[0]] as const : undefined;
    const [v, node] = handed ?? [];
    if (v?.kind !== 'tensor' || !v.batchRow || !node || v.batchRow !== node) return;
    const value = node.childForFieldName('value');
    ctx.report({
      node,
      severity: 'warning',
      message: 'this takes the first sample\'s tokens (axis 0 is the batch); the class token joined in front of every sample\'s tokens is [:, 0]',
      fixes: value ? [{ title: `Use ${value.text}[:, 0]`, edits: [replaceNode(node, `${value.text}[:, 0]`)], safe: true }] : [],
    });
  },
};
