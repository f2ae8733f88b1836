/** Rule: `view-size-mismatch`. See the docs below. */

import type { Rule } from '../diagnostics';

export const rule: Rule = {
  name: 'view-size-mismatch',
  summary: 'view/reshape to a shape that cannot hold the tensor\'s elements (or with two -1s or a negative size), or .item() on a tensor of several elements',
  defaultSeverity: 'error',
  docs: {
    what: 'Compares the element count of the tensor with the product of the sizes given to `view`/`reshape` (a `-1` takes what is left, which must divide evenly), rejects shapes with two `-1`s or a negative size other than `-1`, and checks that `.item()` is called on a one-element tensor (one value per sample, a tensor with a batch axis, is a warning: it runs only for a batch of one).',
    why: 'PyTorch raises ("shape \'[3, -1]\' is invalid for input of size 200", "only one dimension can be inferred", "a Tensor with 6 elements cannot be converted to Scalar"). When the sizes are symbolic the element counts are only compared when they provably differ.',
    example: 'x = torch.randn(4, 50)\ny = x.view(3, -1)          # 200 elements do not split into rows of 3',
    useInstead: 'y = x.view(4, -1)',
    fixSafety: 'No automatic fix: which size is wrong is the author\'s call.',
  },
  on: ['op'],
  check(e, ctx) {
    if (e.kind !== 'op') return;
    if (e.info.badShape) {
      ctx.report({ node: e.node, severity: 'error', message: `${e.op}: ${e.info.badShape}` });
      return;
    }
    if (e.info.itemOfBatch && !e.info.itemOf) {
      ctx.report({ node: e.node, severity: 'warning', message: `.item() needs a one-element tensor; this one has a value per sample (a batch axis of ${ctx.fmt(e.info.itemOfBatch)}), so it runs only for a batch of one` });
      return;
    }
    if (e.info.itemOfRows && !e.info.itemOf) {
      ctx.report({ node: e.node, severity: 'warning', message: `.item() needs a one-element tensor; this one counts the True cells of each row of ${e.info.itemOfRows} (a mask of at least two axes), so it runs only where ${e.info.itemOfRows} has one row (a batch of one)` });
      return;
    }
    if (e.info.itemOf) {
      ctx.report({ node: e.node, severity: ctx.severity(e.info.itemOf), message: `.item() needs a one-element tensor; this one has ${ctx.fmt(e.info.itemOf)} elements` });
      return;
    }
    // Counts that differ only once the sizes named after defaulted parameters take their
    // defaults (`n_heads` views of `n_kv_heads` heads): a warning that names the defaults.
    const u = e.info.numelUndecided;
    const m = e.info.numel ?? (u && ctx.compare(u.from, u.to) === 'ne' ? u : undefined);
    if (!m || !['view', 'reshape', 'view_as', 'reshape_as'].includes(e.op)) return;
    const message = m.inferred
      ? `${e.op}: the tensor's ${ctx.fmt(m.from)} elements do not divide into parts of ${ctx.fmt(m.to)} for the -1`
      : `${e.op}: the tensor has ${ctx.fmt(m.from)} elements but the new shape holds ${ctx.fmt(m.to)}`;
    ctx.report({ node: e.node, severity: ctx.severity(m.from, m.to), message });
  },
};
