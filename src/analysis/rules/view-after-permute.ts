/** Rule: `view-after-permute`. See the docs below. */

import type { Rule } from '../diagnostics';
import { replaceNode } from '../diagnostics';
import { shapeOf } from './util';

export const rule: Rule = {
  name: 'view-after-permute',
  summary: '.view on a tensor whose memory layout (after permute/transpose) cannot hold the new shape',
  defaultSeverity: 'error',
  docs: {
    what: 'Tracks strides through permute, transpose and expand and runs PyTorch\'s view-compatibility test on every `.view`.',
    why: 'PyTorch raises "view size is not compatible with input tensor\'s size and stride ... Use .reshape(...) instead."',
    example: 'out = out.transpose(1, 2).view(B, L, C)',
    useInstead: 'out = out.transpose(1, 2).reshape(B, L, C)  # or .contiguous().view(B, L, C)',
    fixSafety: 'Replacing `view` by `reshape` is safe: reshape returns the same values, copying only when a view is impossible.',
  },
  on: ['op'],
  check(e, ctx) {
    if (e.kind !== 'op' || (e.op !== 'view' && e.op !== 'view_as') || !e.info.notViewable) return;
    const t = e.args[0];
    const dims = t?.kind === 'tensor' && t.axes ? t.axes.map((a) => a.size) : [];
    ctx.report({
      node: e.node,
      severity: ctx.severity(...dims),
      message: `.view on a non-contiguous tensor ${t?.kind === 'tensor' ? shapeOf(t, ctx) : ''} (after permute/transpose) cannot produce this shape; use .reshape or .contiguous().view`,
      fixes: e.nameNode.text === 'view' ? [{ title: 'Use .reshape', edits: [replaceNode(e.nameNode, 'reshape')], safe: true }] : [],
    });
  },
};
