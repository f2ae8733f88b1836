/** Rule: `softmax-wrong-axis`. See the docs below. */

import type { Rule } from '../diagnostics';

export const rule: Rule = {
  name: 'softmax-wrong-axis',
  summary: 'attention weights normalised over one axis and contracted with the values over another',
  defaultSeverity: 'warning',
  docs: {
    what: 'Remembers which axis a softmax normalised (through transposes and permutes) and checks that the product with the values sums over that same axis.',
    why: 'Each query\'s weights must sum to one over the keys. Normalising over the queries (e.g. `dim=1` or `dim=-2` on (B, L, S) scores) runs without error and produces wrong attention.',
    example: 'attn = (q @ k.transpose(-2, -1)).softmax(dim=-2)\nout = attn @ v',
    useInstead: 'attn = (q @ k.transpose(-2, -1)).softmax(dim=-1)',
    fixSafety: 'No automatic fix: the dim argument may be written in several forms.',
  },
  on: ['op'],
  check(e, ctx) {
    if (e.kind !== 'op' || !e.info.softmaxMisused) return;
    const dims = e.args.flatMap((v) => (v.kind === 'tensor' && v.axes ? v.axes.map((a) => a.size) : []));
    ctx.report({
      node: e.info.softmaxMisused,
      severity: ctx.severity(...dims),
      message: 'softmax normalises an axis that is not the one summed over with the values (normalising over queries instead of keys)',
    });
  },
};
