/** Rule: `invalid-op-arguments`. See the docs below. */

import type { Rule } from '../diagnostics';

export const rule: Rule = {
  name: 'invalid-op-arguments',
  summary: 'argument values a torch operation rejects: a pooling window larger than its input, an odd padding length, sizes that do not divide',
  defaultSeverity: 'error',
  docs: {
    what: 'Checks the argument values of functional operations against the sizes they apply to, as torch does before computing: a pooling window (with its stride and padding) that leaves no output, padding larger than half the window, `F.pad` with an odd number of sizes or more pairs than dims, reflect padding as large as the dim, `interpolate` with both or neither of `size` and `scale_factor`, `pixel_shuffle` of channels the factor squared does not divide, `fold` of a width its kernel does not divide. It reports only when the sizes are known (a call site, or constants in the code).',
    why: 'PyTorch raises ("Output size is too small", "Padding length must be divisible by 2"…).',
    example: '# x: (128, 8, 12) — a (C, H, W) map\nF.avg_pool2d(x, (x.size(3), x.size(2)))   # a 12×8 window on an 8×12 map',
    useInstead: 'F.avg_pool2d(x, (x.size(2), x.size(3)))',
    fixSafety: 'No automatic fix: which argument is wrong is the author\'s call.',
  },
  on: ['op'],
  check(e, ctx) {
    if (e.kind === 'op' && e.info.raised) ctx.report({ node: e.node, severity: 'error', message: `torch raises here: ${e.info.raised}` });
  },
};
