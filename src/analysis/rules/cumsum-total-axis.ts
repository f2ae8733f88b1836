/** Rule: `cumsum-total-axis`. See the docs below. */

import type { Fix, Rule } from '../diagnostics';
import { replaceNode } from '../diagnostics';

export const rule: Rule = {
  name: 'cumsum-total-axis',
  summary: 'a cumulative sum divided by its last entries along another axis than the one it summed',
  defaultSeverity: 'warning',
  docs: {
    what: 'Follows a `cumsum(dim)` to a division by its own last entries (`c[:, -1:, :]`, what normalises a running sum to end at 1, as the sine position embedding of DETR and its descendants does for each image\'s unpadded height and width) and checks that the `-1:` stands on the summed axis.',
    why: 'The total of a running sum is its last entry along the summed axis. Divided by the last entries along another axis, the result runs without error but is not normalised: the position embedding of a padded image is then scaled by the wrong side.',
    example: 'y_embed = not_mask.cumsum(1)\ny_embed = y_embed / (y_embed[:, :, -1:] + eps)',
    useInstead: 'y_embed = not_mask.cumsum(1)\ny_embed = y_embed / (y_embed[:, -1:, :] + eps)',
    fixSafety: 'The fix moves the `-1:` of the index to the summed axis (an index of full slices and that one). It is exact for the normalisation; not marked safe, since the cumsum\'s axis may be the mistake instead.',
  },
  on: ['binary'],
  check(e, ctx) {
    if (e.kind !== 'binary' || !e.info.cumsumTotal) return;
    const { summed, last, index } = e.info.cumsumTotal;
    const subs = index.childrenForFieldName('subscript');
    const value = index.childForFieldName('value');
    const fixes: Fix[] = value && subs.length > summed ? [{ title: `Take the last entries along axis ${summed}, the summed one`, edits: [replaceNode(index, `${value.text}[${subs.map((_, i) => (i === summed ? '-1:' : ':')).join(', ')}]`)] }] : [];
    ctx.report({ node: e.node, severity: 'warning', message: `divides a cumulative sum over axis ${summed} by its last entries along axis ${last}: its total is the last entry along axis ${summed}`, fixes });
  },
};
