/**
 * `self-attention`: the smallest complete self-attention layer — one fused
 * q/k/v projection, scaled dot-product attention over a single head, and an
 * output projection. The teaching version of what `mha-scratch` splits into
 * heads.
 */

import type { BlockDef } from '../types';

export const selfAttention: BlockDef = {
  id: 'self-attention',
  title: 'Single-head self-attention',
  summary: 'Single-head scaled dot-product self-attention with a fused q/k/v projection.',
  docs: [
    'Every position of a sequence (N, L, E) attends to every other: one `nn.Linear(embed_dim, 3 * embed_dim)` produces queries, keys and values, the scores `q @ kᵀ / sqrt(embed_dim)` are softmaxed over the keys, the values are mixed by those weights and an output projection maps back to `embed_dim`. It returns the output and the (N, L, L) attention weights.',
    'Use it to learn or debug attention, or where one head is enough (small models, attention pooling); for several heads use `mha-scratch` or `multihead-attention`. With `use_sdpa` the attention runs in `F.scaled_dot_product_attention` (torch ≥ 2.0, fused and memory-efficient), which does not return the weights.',
  ].join('\n\n'),
  differences: 'The reference einsum `SelfAttention` post scales the scores by `1 / sqrt(embed_size)` of the full model width even when it splits heads; we scale by `1 / sqrt(head_dim)`, which for this single-head block is `1 / sqrt(embed_dim)`, matching Vaswani et al. and `F.scaled_dot_product_attention`.',
  citation: { title: 'Attention Is All You Need', authors: 'Vaswani et al.', year: 2017, url: 'https://arxiv.org/abs/1706.03762' },
  layout: '(N, L, E)',
  params: [
    { name: 'embed_dim', type: 'int', default: 64, min: 1, main: true, doc: 'Feature size E of the tokens; also the single head\'s width.' },
    { name: 'dropout', type: 'float', default: 0.0, min: 0, max: 1, doc: 'Dropout probability on the attention weights (training only).' },
    { name: 'bias', type: 'bool', default: true, doc: 'Add bias to the q/k/v and output projections.' },
    { name: 'use_sdpa', type: 'bool', default: false, baked: true, doc: 'Use F.scaled_dot_product_attention (torch >= 2.0); the attention weights are then not returned.' },
  ],
  dims: [
    { name: 'N', doc: 'batch', default: 2, odd: 3 },
    { name: 'L', doc: 'sequence length', default: 16, odd: 7 },
  ],
  validate: () => [],
  contract: (p) => ({
    inputs: [{ name: 'x', shape: ['N', 'L', 'embed_dim'], doc: 'token features' }],
    outputs: [
      { name: 'output', shape: ['N', 'L', 'embed_dim'], doc: 'attended features' },
      ...(p.use_sdpa ? [] : [{ name: 'attn', shape: ['N', 'L', 'L'], doc: 'attention weights (rows sum to 1)' }]),
    ],
  }),
  pytorch: (p) => ({
    name: 'SelfAttention',
    summary: 'Single-head scaled dot-product self-attention.',
    init: [
      'self.qkv = nn.Linear(embed_dim, 3 * embed_dim, bias=bias)',
      'self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)',
      ...(p.use_sdpa
        ? ['self.dropout = dropout']
        : [
            'self.attn_dropout = nn.Dropout(dropout)',
            '# One head: head_dim == embed_dim',
            'self.scale = 1.0 / math.sqrt(embed_dim)',
          ]),
    ],
    forwardArgs: [{ name: 'x', annotation: 'torch.Tensor' }],
    returns: p.use_sdpa ? 'torch.Tensor' : 'Tuple[torch.Tensor, torch.Tensor]',
    forward: [
      'q, k, v = self.qkv(x).chunk(3, dim=-1)  # (N, L, 3E) -> 3 x (N, L, E)',
      ...(p.use_sdpa
        ? [
            'dropout_p = self.dropout if self.training else 0.0  # attention dropout only while training',
            'out = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)  # (N, L, E)',
            'return self.out_proj(out)',
          ]
        : [
            'scores = (q @ k.transpose(-2, -1)) * self.scale  # (N, L, E) @ (N, E, L) -> (N, L, L)',
            'attn = scores.softmax(dim=-1)  # normalise over the keys',
            'out = self.attn_dropout(attn) @ v  # (N, L, L) @ (N, L, E) -> (N, L, E)',
            'return self.out_proj(out), attn',
          ]),
    ],
  }),
  torch2Only: (p) => (p.use_sdpa ? 'use_sdpa calls F.scaled_dot_product_attention, added in torch 2.0; generate with use_sdpa = false for torch 1.x' : undefined),
  typescript: (p) => ({
    name: 'SelfAttention',
    summary: 'Single-head scaled dot-product self-attention.',
    fields: ['qkv: nn.Linear', 'out_proj: nn.Linear', ...(p.use_sdpa ? ['dropout: number'] : ['attn_dropout: nn.Dropout', 'scale: number'])],
    init: [
      'this.qkv = new nn.Linear(embed_dim, 3 * embed_dim, { bias, generator, device });',
      'this.out_proj = new nn.Linear(embed_dim, embed_dim, { bias, generator, device });',
      ...(p.use_sdpa
        ? ['this.dropout = dropout;']
        : ['this.attn_dropout = new nn.Dropout(dropout);', '// One head: head_dim == embed_dim', 'this.scale = 1.0 / Math.sqrt(embed_dim);']),
    ],
    forwardArgs: [{ name: 'x', type: 'Tensor' }],
    returns: p.use_sdpa ? 'Tensor' : '[Tensor, Tensor]',
    forward: [
      'const [q, k, v] = this.qkv.forward(x).chunk(3, -1); // (N, L, 3E) -> 3 x (N, L, E)',
      ...(p.use_sdpa
        ? [
            'const dropout_p = this.training ? this.dropout : 0.0; // attention dropout only while training',
            'const out = F.scaledDotProductAttention(q, k, v, { dropoutP: dropout_p }); // (N, L, E)',
            'return this.out_proj.forward(out);',
          ]
        : [
            'const scores = q.matmul(k.transpose(-2, -1)).mul(this.scale); // (N, L, E) @ (N, E, L) -> (N, L, L)',
            'const attn = scores.softmax(-1); // normalise over the keys',
            'const out = this.attn_dropout.forward(attn).matmul(v); // (N, L, L) @ (N, L, E) -> (N, L, E)',
            'return [this.out_proj.forward(out), attn];',
          ]),
    ],
  }),
  examples: [
    { embed_dim: 1, bias: false },
    { embed_dim: 7, dropout: 0.5 },
    { embed_dim: 7, dropout: 0.5, use_sdpa: true, bias: false },
  ],
  // No cross-parameter constraint: a single head takes any width ≥ 1 (checked per parameter).
  invalid: [],
};
