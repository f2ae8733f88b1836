/** Rule: `matmul-inner-dim-mismatch`. See the docs below. */

import type { Rule } from '../diagnostics';
import { ROLE_NAMES, shapeOf } from './util';

export const rule: Rule = {
  name: 'matmul-inner-dim-mismatch',
  summary: 'matmul / bmm / @ / einsum / SDPA whose contracted dimensions differ',
  defaultSeverity: 'error',
  docs: {
    what: 'Compares the contracted dimensions of matrix products (including the product inside `torch.baddbmm` / `torch.addmm`): the last axis of the left operand with the second-to-last of the right one, repeated einsum letters, and query/key feature sizes in `F.scaled_dot_product_attention`. Where no caller built the module, two different expressions of the sizes its constructor\'s caller chooses, each as computed, are reported as a warning that says where the code runs. Where the sizes are symbols not known to differ, it compares what the axes hold: a feature axis (the head dim, channels) contracted with a positional one (heads, sequence, batch, space), or a batch or heads axis contracted at all, is reported as a warning, since the product runs only for the sizes where the two happen to be equal.',
    why: 'PyTorch raises ("mat1 and mat2 shapes cannot be multiplied", "Expected size for first two dimensions of batch2 tensor ..."). Usually a forgotten `.transpose(-2, -1)` on the keys.',
    example: 'scores = q @ k  # (B, L, D) @ (B, S, D)',
    useInstead: 'scores = q @ k.transpose(-2, -1)',
    fixSafety: 'No automatic fix.',
  },
  on: ['op'],
  check(e, ctx) {
    if (e.kind !== 'op' || !['matmul', 'einsum', 'sdpa'].includes(e.op) || !e.info.contracted) return;
    const [a, b] = e.info.contracted;
    if (e.info.contractedRoles && ctx.compare(a, b) === 'unknown') {
      const [ra, rb] = e.info.contractedRoles;
      const shapes = e.args.filter((v) => v.kind === 'tensor').map((v) => shapeOf(v as import('../values').TensorV, ctx));
      ctx.report({ node: e.node, severity: 'warning', message: `contracts ${ra ? `the ${ROLE_NAMES[ra]}` : 'the last axis'} of the left operand (${ctx.fmt(a)}) with ${rb ? `the ${ROLE_NAMES[rb]}` : 'the second-to-last axis'} of the right one (${ctx.fmt(b)}): the product only runs where they happen to be equal (${shapes.join(' @ ')})` });
      return;
    }
    if (ctx.compare(a, b, true) !== 'ne') return;
    const shapes = e.args.filter((v) => v.kind === 'tensor').map((v) => shapeOf(v as import('../values').TensorV, ctx));
    ctx.report({ node: e.node, severity: ctx.severity(a, b), message: `inner dimensions differ: ${ctx.fmt(a)} vs ${ctx.fmt(b)} (${shapes.join(' @ ')})` });
  },
};
