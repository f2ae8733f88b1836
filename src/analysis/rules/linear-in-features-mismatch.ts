/** Rule: `linear-in-features-mismatch`. See the docs below. */

import type { Rule } from '../diagnostics';
import { shapeOf } from './util';

export const rule: Rule = {
  name: 'linear-in-features-mismatch',
  summary: "nn.Linear (or F.linear) applied to a tensor whose last dimension is not its in_features",
  defaultSeverity: 'error',
  docs: {
    what: "Compares the last dimension of the input of every `nn.Linear` call with the layer's `in_features`, and of every `F.linear(x, weight)` call with the weight's second dimension (a weight is `(out_features, in_features)`). Where no caller built the module, two different expressions of the sizes its constructor's caller chooses (`dim` and `hidden_dim`, `in_channels` and `n_heads * d_head`), each as computed rather than a seeded input's size found equal to one, are reported as a warning that says where the code runs (`it runs only where hidden_dim == dim`).",
    why: 'PyTorch raises "mat1 and mat2 shapes cannot be multiplied" at the first forward pass.',
    example: 'self.qkv = nn.Linear(dim, dim)\nq, k, v = self.qkv(x).chunk(3, dim=-1)',
    useInstead: 'self.qkv = nn.Linear(dim, 3 * dim)',
    fixSafety: 'No automatic fix: the layer or the data may be the one that is wrong.',
  },
  on: ['module-call', 'op'],
  check(e, ctx) {
    const applies = (e.kind === 'module-call' && e.module.type === 'Linear') || (e.kind === 'op' && e.op === 'linear');
    if (!applies || !e.info.contracted) return;
    const [got, want] = e.info.contracted;
    if (ctx.compare(got, want, true) !== 'ne') return;
    const x = e.args[0];
    ctx.report({ node: e.node, severity: ctx.severity(got, want), message: `${e.kind === 'op' ? 'F.linear (weight of shape (out_features, in_features))' : 'Linear'} expects in_features = ${ctx.fmt(want)} but the input ${x?.kind === 'tensor' ? shapeOf(x, ctx) : ''} has ${ctx.fmt(got)} features in its last dimension` });
  },
};
