/**
 * `image-mha`: multi-head self-attention over the pixels of a (B, C, H, W)
 * feature map — flatten to (B, HW, C) tokens, explicit q/k/v projections,
 * scaled dot-product attention per head, output projection, and back to
 * (B, C, H, W).
 */

import { divisible } from '../checks';
import { divisibleGuard } from '../py';
import type { BlockDef, ValidationIssue } from '../types';
import { tsDivisibleGuard } from '../ts';

export const imageMha: BlockDef = {
  id: 'image-mha',
  title: 'Image multi-head self-attention',
  summary: 'Multi-head self-attention over the H·W pixels of (B, C, H, W) maps, ViT-style q/k/v projections.',
  docs: [
    'Treats every pixel of a feature map as a token: (B, C, H, W) is flattened to (B, HW, C), projected to queries, keys and values, split into `num_heads` heads of C / num_heads channels, attended with softmax(q·kᵀ / √head_dim), merged, projected, and reshaped back to (B, C, H, W). It is the attention of a ViT encoder layer applied to CNN features (a patch embedding\'s output is such a map); add your own residual and normalisation around it.',
    '`embed_dim` must equal the channel count C and be divisible by `num_heads`. Memory grows with (H·W)² per head, so use it on downsampled maps. `use_sdpa` computes the same attention with `F.scaled_dot_product_attention` (torch ≥ 2.0), which can use fused FlashAttention / memory-efficient kernels but returns no attention weights — it requires `need_weights` false.',
  ].join('\n\n'),
  differences: [
    'The reference post\'s ImageMultiHeadAttention computes the same function and merges heads correctly (`.transpose(1, 2).contiguous().view(...)`); here the merge is `.transpose(1, 2).reshape(B, HW, C)`.',
    'Its input reshape `x.view(B, C, H * W)` raises for feature maps whose H and W cannot be merged without a copy (for example a transposed or cropped map); `x.flatten(2)` copies only when needed.',
    'Added: a `qkv_bias` switch, attention dropout, the returned per-head weights, the SDPA path, and a ValueError with suggested values instead of an `assert` (which `python -O` strips).',
  ].join(' '),
  citation: { title: 'An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale', authors: 'Dosovitskiy et al.', year: 2021, url: 'https://arxiv.org/abs/2010.11929' },
  layout: '(B, C, H, W)',
  params: [
    { name: 'embed_dim', type: 'int', default: 64, min: 1, main: true, doc: 'Channels C of the feature map; the attention width.' },
    { name: 'num_heads', type: 'int', default: 8, min: 1, main: true, doc: 'Number of heads; must divide embed_dim.' },
    { name: 'qkv_bias', type: 'bool', default: true, doc: 'Bias in the query, key and value projections.' },
    { name: 'dropout', type: 'float', default: 0.0, min: 0, max: 1, doc: 'Dropout on the attention weights (training only).' },
    {
      name: 'use_sdpa',
      type: 'bool',
      default: false,
      baked: true,
      doc: 'Use F.scaled_dot_product_attention (fused kernels, torch >= 2.0); returns no attention weights.',
    },
    { name: 'need_weights', type: 'bool', default: true, baked: true, doc: 'Also return the per-head attention weights (B, num_heads, HW, HW).' },
  ],
  dims: [
    { name: 'B', doc: 'batch', default: 2, odd: 3 },
    { name: 'H', doc: 'height', default: 8, odd: 5 },
    { name: 'W', doc: 'width', default: 6, odd: 7 },
  ],
  validate: (p) => {
    const issues: ValidationIssue[] = divisible('embed_dim', p.embed_dim as number, 'num_heads', p.num_heads as number);
    if (p.use_sdpa && p.need_weights) {
      issues.push({
        param: 'need_weights',
        message: 'use_sdpa (F.scaled_dot_product_attention) does not return attention weights: set need_weights to false, or use_sdpa to false to get them',
      });
    }
    return issues;
  },
  contract: (p) => ({
    inputs: [{ name: 'x', shape: ['B', 'embed_dim', 'H', 'W'], doc: 'feature map' }],
    outputs: [
      { name: 'output', shape: ['B', 'embed_dim', 'H', 'W'], doc: 'attended features, same layout' },
      ...(p.need_weights ? [{ name: 'attn', shape: ['B', 'num_heads', 'H * W', 'H * W'], doc: 'per-head attention of each query pixel over all key pixels; rows sum to 1' }] : []),
    ],
  }),
  torch2Only: (p) => (p.use_sdpa ? 'use_sdpa calls F.scaled_dot_product_attention, added in torch 2.0; generate with use_sdpa = false for torch 1.x' : undefined),
  pytorch: (p) => ({
    name: 'ImageMultiheadAttention',
    summary: 'Multi-head self-attention over the pixels of a (B, C, H, W) feature map.',
    init: [
      ...divisibleGuard('embed_dim', 'num_heads'),
      'self.num_heads = num_heads',
      'self.head_dim = embed_dim // num_heads',
      ...(p.use_sdpa ? ['self.dropout = dropout'] : ['self.scale = 1.0 / math.sqrt(self.head_dim)', 'self.attn_drop = nn.Dropout(dropout)']),
      'self.q_proj = nn.Linear(embed_dim, embed_dim, bias=qkv_bias)',
      'self.k_proj = nn.Linear(embed_dim, embed_dim, bias=qkv_bias)',
      'self.v_proj = nn.Linear(embed_dim, embed_dim, bias=qkv_bias)',
      'self.out_proj = nn.Linear(embed_dim, embed_dim)',
    ],
    forwardArgs: [{ name: 'x', annotation: 'torch.Tensor' }],
    returns: p.need_weights ? 'Tuple[torch.Tensor, torch.Tensor]' : 'torch.Tensor',
    forward: [
      'b, c, h, w = x.shape',
      'tokens = x.flatten(2).transpose(1, 2)  # (B, C, H, W) -> (B, HW, C)',
      'n = tokens.size(1)',
      '# Split heads: (B, HW, C) -> (B, heads, HW, head_dim)',
      'q = self.q_proj(tokens).view(b, n, self.num_heads, self.head_dim).transpose(1, 2)',
      'k = self.k_proj(tokens).view(b, n, self.num_heads, self.head_dim).transpose(1, 2)',
      'v = self.v_proj(tokens).view(b, n, self.num_heads, self.head_dim).transpose(1, 2)',
      ...(p.use_sdpa
        ? [
            '# Scales by 1 / sqrt(head_dim) itself; may dispatch to a fused kernel.',
            'out = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0)',
          ]
        : [
            'attn = torch.matmul(q, k.transpose(-2, -1)) * self.scale  # (B, heads, HW, HW)',
            'attn = F.softmax(attn, dim=-1)',
            'out = torch.matmul(self.attn_drop(attn), v)  # (B, heads, HW, head_dim)',
          ]),
      '# Merge heads: (B, heads, HW, head_dim) -> (B, HW, C); reshape copies, as the transpose is not viewable.',
      'out = self.out_proj(out.transpose(1, 2).reshape(b, n, c))',
      'out = out.transpose(1, 2).reshape(b, c, h, w)  # (B, HW, C) -> (B, C, H, W)',
      p.need_weights ? 'return out, attn' : 'return out',
    ],
  }),
  typescript: (p) => ({
    name: 'ImageMultiheadAttention',
    summary: 'Multi-head self-attention over the pixels of a (B, C, H, W) feature map.',
    fields: ['num_heads: number', 'head_dim: number', ...(p.use_sdpa ? ['dropout: number'] : ['scale: number', 'attn_drop: nn.Dropout']), 'q_proj: nn.Linear', 'k_proj: nn.Linear', 'v_proj: nn.Linear', 'out_proj: nn.Linear'],
    init: [
      ...tsDivisibleGuard('embed_dim', 'num_heads'),
      'this.num_heads = num_heads;',
      'this.head_dim = Math.floor(embed_dim / num_heads);',
      ...(p.use_sdpa ? ['this.dropout = dropout;'] : ['this.scale = 1.0 / Math.sqrt(this.head_dim);', 'this.attn_drop = new nn.Dropout(dropout);']),
      'this.q_proj = new nn.Linear(embed_dim, embed_dim, { bias: qkv_bias, generator, device });',
      'this.k_proj = new nn.Linear(embed_dim, embed_dim, { bias: qkv_bias, generator, device });',
      'this.v_proj = new nn.Linear(embed_dim, embed_dim, { bias: qkv_bias, generator, device });',
      'this.out_proj = new nn.Linear(embed_dim, embed_dim, { generator, device });',
    ],
    forwardArgs: [{ name: 'x', type: 'Tensor' }],
    returns: p.need_weights ? '[Tensor, Tensor]' : 'Tensor',
    forward: [
      'const [b, c, h, w] = x.shape;',
      'const tokens = x.flatten(2).transpose(1, 2); // (B, C, H, W) -> (B, HW, C)',
      'const n = tokens.size(1);',
      '// Split heads: (B, HW, C) -> (B, heads, HW, head_dim)',
      'const q = this.q_proj.forward(tokens).view(b, n, this.num_heads, this.head_dim).transpose(1, 2);',
      'const k = this.k_proj.forward(tokens).view(b, n, this.num_heads, this.head_dim).transpose(1, 2);',
      'const v = this.v_proj.forward(tokens).view(b, n, this.num_heads, this.head_dim).transpose(1, 2);',
      ...(p.use_sdpa
        ? [
            '// Scales by 1 / sqrt(head_dim) itself.',
            'let out = F.scaledDotProductAttention(q, k, v, { dropoutP: this.training ? this.dropout : 0.0 });',
          ]
        : [
            'let attn = q.matmul(k.transpose(-2, -1)).mul(this.scale); // (B, heads, HW, HW)',
            'attn = F.softmax(attn, -1);',
            'let out = this.attn_drop.forward(attn).matmul(v); // (B, heads, HW, head_dim)',
          ]),
      '// Merge heads: (B, heads, HW, head_dim) -> (B, HW, C); reshape copies, as the transpose is not viewable.',
      'out = this.out_proj.forward(out.transpose(1, 2).reshape(b, n, c));',
      'out = out.transpose(1, 2).reshape(b, c, h, w); // (B, HW, C) -> (B, C, H, W)',
      p.need_weights ? 'return [out, attn];' : 'return out;',
    ],
  }),
  examples: [
    { use_sdpa: true, need_weights: false },
    { use_sdpa: true, need_weights: false, embed_dim: 6, num_heads: 3, dropout: 0.1, qkv_bias: false },
    { embed_dim: 64, num_heads: 1 },
    { embed_dim: 1, num_heads: 1 },
    { embed_dim: 12, num_heads: 12, need_weights: false },
  ],
  invalid: [
    { params: { embed_dim: 100, num_heads: 8 }, message: 'embed_dim (100) must be divisible by num_heads (8): try num_heads 10, 5 or 4, or embed_dim 96 or 104', torch: 'raises' },
  ],
};
