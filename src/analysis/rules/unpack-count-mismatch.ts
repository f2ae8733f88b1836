/** Rule: `unpack-count-mismatch`. See the docs below. */

import type { Rule } from '../diagnostics';
import * as D from '../dims';
import { shapeOf } from './util';

export const rule: Rule = {
  name: 'unpack-count-mismatch',
  summary: 'q, k, v = … unpacks a tensor, or the tensors of an unbind, whose count is not the number of names',
  defaultSeverity: 'error',
  docs: {
    what: 'Reports `q, k, v = t.unbind(0)` and `q, k, v = t` where the axis being unpacked (the unbound axis, or a tensor\'s first axis) provably does not hold as many indices as there are names: a number that differs, or a size that differs once the constructor\'s own defaults are taken (`num_heads = 8`).',
    why: 'Unpacking iterates the axis: Python raises `ValueError: too many values to unpack` (or not enough). The usual cause is a fused projection split in the wrong order, `reshape(B, N, heads, 3, d)` for `reshape(B, N, 3, heads, d)`, which puts the heads where q, k and v should be.',
    example: "qkv = self.qkv(x).reshape(B, N, self.num_heads, 3, self.head_dim).permute(2, 0, 3, 1, 4)\nq, k, v = qkv.unbind(0)  # unbinds num_heads tensors",
    useInstead: "qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)\nq, k, v = qkv.unbind(0)",
    fixSafety: 'No automatic fix: the axis order that made the tensor must be changed, not the unpacking.',
  },
  on: ['unpack'],
  check(e, ctx) {
    if (e.kind !== 'unpack' || e.source.hypothetical || e.source.failed) return;
    const names = D.dconst(e.names);
    if (ctx.compare(e.count, names) !== 'ne') return;
    const what = e.from === 'unbind' ? `unbind gives one tensor per index of the axis, ${ctx.fmt(e.count)} of them` : `iterating the tensor ${shapeOf(e.source, ctx)} gives one item per index of its first axis, ${ctx.fmt(e.count)} of them`;
    ctx.report({ node: e.node, severity: ctx.severity(e.count), message: `${e.names} names unpack ${ctx.fmt(e.count)} values: ${what}` });
  },
};
