/** Rule: `embed-dim-channel-mismatch`. See the docs below. */

import type { Rule } from '../diagnostics';
import { shapeOf } from './util';

export const rule: Rule = {
  name: 'embed-dim-channel-mismatch',
  summary: "a layer's embed_dim / channels / normalized_shape differs from the tensor's channel axis",
  defaultSeverity: 'error',
  docs: {
    what: "Compares the feature size a module was built for (`nn.MultiheadAttention`'s `embed_dim`, `ConvNd`'s `in_channels`, a norm's `num_features`/`num_channels`/`normalized_shape`) with the size of the axis it reads. Where no caller built the module, two different expressions of the sizes its constructor's caller chooses (`dim` and `hidden_dim`, `in_channels` and `n_heads * d_head`), each as computed rather than a seeded input's size found equal to one, are reported as a warning that says where the code runs (`it runs only where hidden_dim == dim`).",
    why: 'PyTorch raises at the first forward pass ("was expecting embedding dimension of 64, but got 32", "expected input to have 64 channels").',
    example: 'self.attn = nn.MultiheadAttention(embed_dim=128, num_heads=8, batch_first=True)\nx = feats.flatten(2).transpose(1, 2)  # (B, HW, 64)\nself.attn(x, x, x)',
    useInstead: 'self.attn = nn.MultiheadAttention(embed_dim=64, num_heads=8, batch_first=True)',
    fixSafety: 'No automatic fix: either the layer or the data may be the one that is wrong.',
  },
  on: ['module-call'],
  check(e, ctx) {
    if (e.kind !== 'module-call' || !e.info.expectedSize) return;
    const s = e.info.expectedSize;
    if (ctx.compare(s.expected, s.got, true) !== 'ne') return;
    const x = s.arg?.value ?? e.args[0];
    ctx.report({
      node: e.node,
      severity: ctx.severity(s.expected, s.got),
      message: `${e.module.type} expects ${ctx.fmt(s.expected)} on axis ${s.axis} (${s.what}) but the ${s.arg ? s.arg.name : 'input'} ${x?.kind === 'tensor' ? shapeOf(x, ctx) : ''} has ${ctx.fmt(s.got)}`,
    });
  },
};
