/**
 * `causal-self-attention`: the masked multi-head self-attention of GPT-style
 * decoders (the layout of nanoGPT's `CausalSelfAttention`): one fused
 * `c_attn` projection, a causal mask, attention and residual dropout, and the
 * `c_proj` output projection.
 */

import { divisible } from '../checks';
import { divisibleGuard } from '../py';
import type { BlockDef, ValidationIssue } from '../types';
import { tsDivisibleGuard } from '../ts';

export const causalSelfAttention: BlockDef = {
  id: 'causal-self-attention',
  title: 'Causal self-attention (GPT-style)',
  summary: 'GPT-style masked multi-head self-attention: fused c_attn, causal mask, dropout, c_proj.',
  docs: [
    'The attention layer of a decoder-only language model: each position attends only to itself and earlier positions, so the model can be trained on all next-token predictions of a sequence at once. A fused `c_attn = nn.Linear(embed_dim, 3 * embed_dim)` yields q, k and v, which are split into `num_heads` heads; the scores `q @ kᵀ / sqrt(head_dim)` are masked above the diagonal, softmaxed, dropped out (`attn_dropout`), and the merged heads go through `c_proj` and `resid_dropout`. Parameter names follow GPT-2 / nanoGPT so pretrained weights map over.',
    'The (L, L) causal mask is built in `forward` from the input length, so unlike nanoGPT there is no `block_size` buffer and no maximum length. With `use_sdpa` the attention runs in `F.scaled_dot_product_attention(..., is_causal=True)` (torch ≥ 2.0, fused flash/memory-efficient kernels). `need_weights` also returns the per-head weights (N, H, L, L) and needs the explicit path (`use_sdpa = false`).',
  ].join('\n\n'),
  citation: { title: 'Language Models are Unsupervised Multitask Learners', authors: 'Radford et al.', year: 2019, url: 'https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf' },
  layout: '(N, L, E)',
  params: [
    { name: 'embed_dim', type: 'int', default: 64, min: 1, main: true, doc: 'Model width E (n_embd); must be divisible by num_heads.' },
    { name: 'num_heads', type: 'int', default: 8, min: 1, main: true, doc: 'Number of heads H (n_head); each has head_dim = embed_dim // num_heads.' },
    { name: 'dropout', type: 'float', default: 0.0, min: 0, max: 1, doc: 'Dropout probability on the attention weights and on the output (training only).' },
    { name: 'bias', type: 'bool', default: true, doc: 'Add bias to c_attn and c_proj (GPT-2 does; many newer models do not).' },
    { name: 'need_weights', type: 'bool', default: false, baked: true, doc: 'Also return the per-head attention weights (N, num_heads, L, L); needs use_sdpa = false.' },
    { name: 'use_sdpa', type: 'bool', default: false, baked: true, doc: 'Use F.scaled_dot_product_attention with is_causal=True (torch >= 2.0); weights are not returned.' },
  ],
  dims: [
    { name: 'N', doc: 'batch', default: 2, odd: 3 },
    { name: 'L', doc: 'sequence length', default: 16, odd: 7 },
  ],
  validate: (p) => {
    const issues: ValidationIssue[] = [...divisible('embed_dim', p.embed_dim as number, 'num_heads', p.num_heads as number)];
    if (p.need_weights && p.use_sdpa) {
      issues.push({
        param: 'need_weights',
        message: 'F.scaled_dot_product_attention does not return the attention weights: set need_weights = false to keep use_sdpa, or use_sdpa = false to get the weights',
      });
    }
    return issues;
  },
  contract: (p) => ({
    inputs: [{ name: 'x', shape: ['N', 'L', 'embed_dim'], doc: 'token features' }],
    outputs: [
      { name: 'output', shape: ['N', 'L', 'embed_dim'], doc: 'attended features (position i uses positions ≤ i)' },
      ...(p.need_weights ? [{ name: 'attn', shape: ['N', 'num_heads', 'L', 'L'], doc: 'per-head attention weights, zero above the diagonal' }] : []),
    ],
  }),
  pytorch: (p) => ({
    name: 'CausalSelfAttention',
    summary: 'GPT-style causal multi-head self-attention.',
    init: [
      ...divisibleGuard('embed_dim', 'num_heads'),
      'self.num_heads = num_heads',
      'self.head_dim = embed_dim // num_heads',
      'self.c_attn = nn.Linear(embed_dim, 3 * embed_dim, bias=bias)  # q, k, v for all heads at once',
      'self.c_proj = nn.Linear(embed_dim, embed_dim, bias=bias)',
      ...(p.use_sdpa ? ['self.dropout = dropout'] : ['self.attn_dropout = nn.Dropout(dropout)']),
      'self.resid_dropout = nn.Dropout(dropout)',
    ],
    forwardArgs: [{ name: 'x', annotation: 'torch.Tensor' }],
    returns: p.need_weights ? 'Tuple[torch.Tensor, torch.Tensor]' : 'torch.Tensor',
    forward: [
      'N, L, E = x.shape',
      'q, k, v = self.c_attn(x).split(E, dim=2)  # (N, L, 3E) -> 3 x (N, L, E)',
      '# (N, L, E) -> (N, L, H, D) -> (N, H, L, D)',
      'q = q.view(N, L, self.num_heads, self.head_dim).transpose(1, 2)',
      'k = k.view(N, L, self.num_heads, self.head_dim).transpose(1, 2)',
      'v = v.view(N, L, self.num_heads, self.head_dim).transpose(1, 2)',
      ...(p.use_sdpa
        ? [
            'dropout_p = self.dropout if self.training else 0.0  # attention dropout only while training',
            'y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=True)  # (N, H, L, D)',
          ]
        : [
            'scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dim)  # (N, H, L, D) @ (N, H, D, L) -> (N, H, L, L)',
            'causal = torch.ones(L, L, dtype=torch.bool, device=x.device).tril()  # (L, L), query i sees keys <= i',
            'scores = scores.masked_fill(~causal, float("-inf"))',
            'attn = scores.softmax(dim=-1)',
            'y = self.attn_dropout(attn) @ v  # (N, H, L, L) @ (N, H, L, D) -> (N, H, L, D)',
          ]),
      'y = y.transpose(1, 2).contiguous().view(N, L, E)  # (N, H, L, D) -> (N, L, H, D) -> (N, L, E)',
      'y = self.resid_dropout(self.c_proj(y))',
      p.need_weights ? 'return y, attn' : 'return y',
    ],
  }),
  torch2Only: (p) => (p.use_sdpa ? 'use_sdpa calls F.scaled_dot_product_attention, added in torch 2.0; generate with use_sdpa = false for torch 1.x' : undefined),
  typescript: (p) => ({
    name: 'CausalSelfAttention',
    summary: 'GPT-style causal multi-head self-attention.',
    fields: ['num_heads: number', 'head_dim: number', 'c_attn: nn.Linear', 'c_proj: nn.Linear', ...(p.use_sdpa ? ['dropout: number'] : ['attn_dropout: nn.Dropout']), 'resid_dropout: nn.Dropout'],
    init: [
      ...tsDivisibleGuard('embed_dim', 'num_heads'),
      'this.num_heads = num_heads;',
      'this.head_dim = Math.floor(embed_dim / num_heads);',
      'this.c_attn = new nn.Linear(embed_dim, 3 * embed_dim, { bias, generator, device }); // q, k, v for all heads at once',
      'this.c_proj = new nn.Linear(embed_dim, embed_dim, { bias, generator, device });',
      ...(p.use_sdpa ? ['this.dropout = dropout;'] : ['this.attn_dropout = new nn.Dropout(dropout);']),
      'this.resid_dropout = new nn.Dropout(dropout);',
    ],
    forwardArgs: [{ name: 'x', type: 'Tensor' }],
    returns: p.need_weights ? '[Tensor, Tensor]' : 'Tensor',
    forward: [
      'const [N, L, E] = x.shape;',
      'let [q, k, v] = this.c_attn.forward(x).split(E, 2); // (N, L, 3E) -> 3 x (N, L, E)',
      '// (N, L, E) -> (N, L, H, D) -> (N, H, L, D)',
      'q = q.view(N, L, this.num_heads, this.head_dim).transpose(1, 2);',
      'k = k.view(N, L, this.num_heads, this.head_dim).transpose(1, 2);',
      'v = v.view(N, L, this.num_heads, this.head_dim).transpose(1, 2);',
      ...(p.use_sdpa
        ? [
            'const dropout_p = this.training ? this.dropout : 0.0; // attention dropout only while training',
            'let y = F.scaledDotProductAttention(q, k, v, { dropoutP: dropout_p, isCausal: true }); // (N, H, L, D)',
          ]
        : [
            'let scores = q.matmul(k.transpose(-2, -1)).div(Math.sqrt(this.head_dim)); // (N, H, L, D) @ (N, H, D, L) -> (N, H, L, L)',
            "const causal = tril(ones([L, L], { dtype: 'bool', device: x.device })); // (L, L), query i sees keys <= i",
            'scores = scores.maskedFill(causal.logicalNot(), -Infinity);',
            'const attn = scores.softmax(-1);',
            'let y = this.attn_dropout.forward(attn).matmul(v); // (N, H, L, L) @ (N, H, L, D) -> (N, H, L, D)',
          ]),
      'y = y.transpose(1, 2).contiguous().view(N, L, E); // (N, H, L, D) -> (N, L, H, D) -> (N, L, E)',
      'y = this.resid_dropout.forward(this.c_proj.forward(y));',
      p.need_weights ? 'return [y, attn];' : 'return y;',
    ],
  }),
  examples: [
    { embed_dim: 6, num_heads: 3, need_weights: true, bias: false },
    { embed_dim: 6, num_heads: 3, use_sdpa: true, dropout: 0.1 },
    { embed_dim: 5, num_heads: 1, need_weights: true },
    { embed_dim: 1, num_heads: 1, use_sdpa: true },
  ],
  invalid: [
    { params: { embed_dim: 100, num_heads: 8 }, message: 'embed_dim (100) must be divisible by num_heads (8): try num_heads 10, 5 or 4, or embed_dim 96 or 104', torch: 'raises' },
    { params: { embed_dim: 48, num_heads: 7 }, message: 'embed_dim (48) must be divisible by num_heads (7)', torch: 'raises' },
  ],
};
