/** Rule: `input-rank-mismatch`. See the docs below. */

import type { Rule } from '../diagnostics';

export const rule: Rule = {
  name: 'input-rank-mismatch',
  summary: 'a tensor with the wrong number of dimensions for a module or operation, or a dim out of range',
  defaultSeverity: 'error',
  docs: {
    what: 'Checks ranks: `ConvNd` takes (N, C, …) with N+2 dims, `BatchNorm2d` 4-d, `nn.MultiheadAttention` 2-d or 3-d, `bmm` 3-d, einsum operands as many dims as their letters; and every `dim=` argument is inside the tensor\'s rank.',
    why: 'PyTorch raises ("Expected 3D (unbatched) or 4D (batched) input", "Dimension out of range").',
    example: 'x = x.flatten(2)        # (B, C, HW)\ny = self.conv(x)        # Conv2d',
    useInstead: 'y = self.conv(x.view(B, C, H, W))',
    fixSafety: 'No automatic fix.',
  },
  on: ['module-call', 'op'],
  check(e, ctx) {
    if (e.kind === 'module-call' && e.info.rank) {
      ctx.report({ node: e.node, severity: 'error', message: `${e.module.type} expects a ${e.info.rank.expected} but got a ${e.info.rank.got}-d tensor` });
    } else if (e.kind === 'op' && e.info.rank) {
      ctx.report({ node: e.node, severity: 'error', message: `${e.op} expects ${e.info.rank.expected} but got a ${e.info.rank.got}-d tensor` });
    } else if (e.kind === 'op' && e.info.dimOutOfRange) {
      const { dim, rank } = e.info.dimOutOfRange;
      ctx.report({ node: e.node, severity: 'error', message: `dim ${dim} is out of range for a ${rank}-d tensor (expected in [${-rank}, ${rank - 1}])` });
    }
  },
};
