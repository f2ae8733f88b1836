/** Rule: `invalid-op-arguments`. See the docs below. */

import type { Rule } from '../diagnostics';
import { replaceNode } from '../diagnostics';
import type { Node } from '../parse';
import { fix } from './util';

export const rule: Rule = {
  name: 'invalid-op-arguments',
  summary: 'argument values a torch operation rejects: a pooling window larger than its input, an odd padding length, sizes that do not divide',
  defaultSeverity: 'error',
  docs: {
    what: 'Checks the argument values of functional operations against the sizes they apply to, as torch does before computing: a pooling window (with its stride and padding) that leaves no output, padding larger than half the window, `F.pad` with an odd number of sizes or more pairs than dims, reflect padding as large as the dim, `interpolate` with both or neither of `size` and `scale_factor`, `pixel_shuffle` of channels the factor squared does not divide, `fold` of a width its kernel does not divide. It reports only when the sizes are known (a call site, or constants in the code), except for a window made of the input\'s own sizes in another order (`(x.size(3), x.size(2))` over an (H, W) map): that runs only where the sizes the code does not fix are equal, a warning that says so, with the window put back in the map\'s order as the fix.',
    why: 'PyTorch raises ("Output size is too small", "Padding length must be divisible by 2"…).',
    example: '# x: (128, 8, 12) — a (C, H, W) map\nF.avg_pool2d(x, (x.size(3), x.size(2)))   # a 12×8 window on an 8×12 map',
    useInstead: 'F.avg_pool2d(x, (x.size(2), x.size(3)))',
    fixSafety: 'No automatic fix: which argument is wrong is the author\'s call.',
  },
  on: ['op'],
  check(e, ctx) {
    if (e.kind === 'op' && e.info.raised) ctx.report({ node: e.node, severity: 'error', message: `torch raises here: ${e.info.raised}` });
    if (e.kind === 'op' && e.info.swappedWindow) {
      const w = e.info.swappedWindow;
      if (ctx.compare(w.size, w.window) === 'eq') return;
      // The window's items (and a stride written the same way) put back in the map's order.
      const reorder = (n: Node | undefined) => {
        const items = n && (n.type === 'tuple' || n.type === 'list') ? n.namedChildren.filter((c) => c.type !== 'comment') : [];
        if (items.length !== w.order.length) return undefined;
        const text = w.order.map((_, axis) => items[w.order.indexOf(axis)].text).join(', ');
        return replaceNode(n!, n!.type === 'tuple' ? `(${text})` : `[${text}]`);
      };
      const kernel = e.argNodes[1] ?? e.kwargNodes.kernel_size;
      const stride = e.argNodes[2] ?? e.kwargNodes.stride;
      ctx.report({
        node: e.node,
        severity: 'warning',
        message: `${w.what}: the window along axis ${w.axis} is ${ctx.fmt(w.window)}, the size of another axis of the input, over an axis of ${ctx.fmt(w.size)}: it runs only where ${ctx.fmt(w.size)} == ${ctx.fmt(w.window)} (torch raises "Output size is too small" on the other axis otherwise)`,
        fixes: fix('Take the window in the input\'s axis order', reorder(kernel), stride && kernel && stride.text === kernel.text ? reorder(stride) : undefined),
      });
    }
  },
};
