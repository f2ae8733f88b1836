/** Rule: `invalid-permutation`. See the docs below. */

import type { Rule } from '../diagnostics';

export const rule: Rule = {
  name: 'invalid-permutation',
  summary: 'permute with repeated or missing axes, or as many axes as the tensor does not have',
  defaultSeverity: 'error',
  docs: {
    what: "Checks that `permute`'s arguments are a permutation of the tensor's axes.",
    why: 'PyTorch raises ("number of dims don\'t match in permute", "repeated dim in permute").',
    example: 'x = x.permute(0, 2, 2, 1)',
    useInstead: 'x = x.permute(0, 3, 1, 2)',
    fixSafety: 'No automatic fix: which axis was meant cannot be known.',
  },
  on: ['op'],
  check(e, ctx) {
    if (e.kind !== 'op' || e.op !== 'permute' || !e.info.badPermutation) return;
    ctx.report({ node: e.node, severity: 'error', message: e.info.badPermutation });
  },
};
