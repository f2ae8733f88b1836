/**
 * `cnn-mha`: multi-head self-attention over the length axis of CNN features
 * (N, C, L), the way the reference post wires it — permute to (N, L, C), run
 * `nn.MultiheadAttention(batch_first=True)`, add the residual, LayerNorm, and
 * permute back so the next convolution sees (N, C, L) again.
 */

import { divisible } from '../checks';
import { divisibleGuard } from '../py';
import type { BlockDef } from '../types';
import { tsDivisibleGuard } from '../ts';

export const cnnMha: BlockDef = {
  id: 'cnn-mha',
  title: 'Multi-head attention for CNN features',
  summary: 'Self-attention over the length of (N, C, L) conv features, with residual + LayerNorm.',
  docs: [
    'Lets every position of a 1-D feature map attend to every other position. The block permutes (N, C, L) to the (N, L, C) layout `nn.MultiheadAttention(batch_first=True)` expects, applies attention with a residual connection and LayerNorm, and permutes back, so it drops between two `Conv1d` layers.',
    '`embed_dim` must equal the channel count C of the features at this point of the network (not the raw signal\'s), and must be divisible by `num_heads`.',
  ].join('\n\n'),
  citation: { title: 'Attention Is All You Need', authors: 'Vaswani et al.', year: 2017, url: 'https://arxiv.org/abs/1706.03762' },
  layout: '(N, C, L)',
  params: [
    { name: 'embed_dim', type: 'int', default: 64, min: 1, main: true, doc: 'Channels C of the incoming features; the attention width.' },
    { name: 'num_heads', type: 'int', default: 8, min: 1, main: true, doc: 'Number of heads; must divide embed_dim.' },
    { name: 'dropout', type: 'float', default: 0.0, min: 0, max: 1, doc: 'Dropout on the attention weights (training only).' },
    { name: 'need_weights', type: 'bool', default: false, baked: true, doc: 'Also return the per-head attention weights (N, num_heads, L, L); disables the fused fast path.' },
  ],
  dims: [
    { name: 'N', doc: 'batch', default: 2, odd: 3 },
    { name: 'L', doc: 'sequence length', default: 16, odd: 7 },
  ],
  validate: (p) => divisible('embed_dim', p.embed_dim as number, 'num_heads', p.num_heads as number),
  contract: (p) => ({
    inputs: [{ name: 'x', shape: ['N', 'embed_dim', 'L'], doc: 'conv features' }],
    outputs: [
      { name: 'output', shape: ['N', 'embed_dim', 'L'], doc: 'attended features, same layout' },
      ...(p.need_weights ? [{ name: 'attn', shape: ['N', 'num_heads', 'L', 'L'], doc: 'per-head attention weights' }] : []),
    ],
  }),
  pytorch: (p) => ({
    name: 'CNNMultiheadAttention',
    summary: 'Multi-head self-attention over the length axis of (N, C, L) features.',
    init: [
      ...divisibleGuard('embed_dim', 'num_heads'),
      'self.mha = nn.MultiheadAttention(embed_dim, num_heads, dropout=dropout, batch_first=True)',
      'self.norm = nn.LayerNorm(embed_dim)',
    ],
    forwardArgs: [{ name: 'x', annotation: 'torch.Tensor' }],
    returns: p.need_weights ? 'Tuple[torch.Tensor, torch.Tensor]' : 'torch.Tensor',
    forward: [
      'x = x.permute(0, 2, 1)  # (N, C, L) -> (N, L, C)',
      p.need_weights
        ? 'attn_out, attn = self.mha(x, x, x, need_weights=True, average_attn_weights=False)  # attn: (N, heads, L, L)'
        : 'attn_out, _ = self.mha(x, x, x, need_weights=False)',
      'x = self.norm(x + attn_out)',
      p.need_weights ? 'return x.permute(0, 2, 1), attn  # (N, L, C) -> (N, C, L)' : 'return x.permute(0, 2, 1)  # (N, L, C) -> (N, C, L)',
    ],
  }),
  typescript: (p) => ({
    name: 'CNNMultiheadAttention',
    summary: 'Multi-head self-attention over the length axis of (N, C, L) features.',
    fields: ['mha: nn.MultiheadAttention', 'norm: nn.LayerNorm'],
    init: [
      ...tsDivisibleGuard('embed_dim', 'num_heads'),
      'this.mha = new nn.MultiheadAttention(embed_dim, num_heads, { dropout, batch_first: true, generator, device });',
      'this.norm = new nn.LayerNorm(embed_dim, { device });',
    ],
    forwardArgs: [{ name: 'x', type: 'Tensor' }],
    returns: p.need_weights ? '[Tensor, Tensor]' : 'Tensor',
    forward: [
      'x = x.permute(0, 2, 1); // (N, C, L) -> (N, L, C)',
      p.need_weights
        ? 'const [attn_out, attn] = this.mha.forward(x, x, x, { need_weights: true, average_attn_weights: false }); // attn: (N, heads, L, L)'
        : 'const [attn_out] = this.mha.forward(x, x, x, { need_weights: false });',
      'x = this.norm.forward(x.add(attn_out));',
      p.need_weights ? 'return [x.permute(0, 2, 1), attn as Tensor]; // (N, L, C) -> (N, C, L)' : 'return x.permute(0, 2, 1); // (N, L, C) -> (N, C, L)',
    ],
  }),
  examples: [
    { embed_dim: 64, num_heads: 1, dropout: 0.0, need_weights: true },
    { embed_dim: 6, num_heads: 3, dropout: 0.1, need_weights: false },
    { embed_dim: 1, num_heads: 1, dropout: 0.0, need_weights: false },
  ],
  invalid: [
    { params: { embed_dim: 100, num_heads: 8 }, message: 'embed_dim (100) must be divisible by num_heads (8): try num_heads 10, 5 or 4, or embed_dim 96 or 104', torch: 'raises' },
  ],
};
