/**
 * `gqa`: grouped-query attention — `num_heads` query heads share
 * `num_kv_heads` key/value heads in groups, shrinking the key/value
 * projections and the inference-time KV cache. `num_kv_heads = num_heads` is
 * ordinary multi-head attention, `num_kv_heads = 1` multi-query attention.
 */

import { divisible } from '../checks';
import { divisibleGuard } from '../py';
import type { BlockDef } from '../types';
import { tsDivisibleGuard } from '../ts';

export const gqa: BlockDef = {
  id: 'gqa',
  title: 'Grouped-query attention (GQA / MQA)',
  summary: 'Self-attention where groups of query heads share key/value heads (num_kv_heads = 1 is multi-query).',
  docs: [
    'Grouped-query attention keeps `num_heads` query heads but projects only `num_kv_heads` key and value heads; each key/value head serves a group of `num_heads // num_kv_heads` consecutive query heads (repeated with `repeat_interleave` before the scores). The key/value projections and the KV cache shrink by that factor, which is what makes decoding of large models (Llama 2 70B, Mistral) memory-bandwidth friendly, while quality stays close to full multi-head attention.',
    '`num_kv_heads = num_heads` is standard multi-head attention; `num_kv_heads = 1` is multi-query attention (Shazeer 2019, "Fast Transformer Decoding: One Write-Head is All You Need", https://arxiv.org/abs/1911.02150). Scores are scaled by `1 / sqrt(head_dim)`. `causal` masks future positions for decoders. With `use_sdpa` the attention runs in `F.scaled_dot_product_attention` (torch ≥ 2.0) and the weights are not returned; K/V are still repeated explicitly so the code runs on every 2.x (SDPA\'s own `enable_gqa` needs torch ≥ 2.5).',
  ].join('\n\n'),
  citation: {
    title: 'GQA: Training Generalized Multi-Query Transformer Models from Multi-Head Checkpoints',
    authors: 'Ainslie et al.',
    year: 2023,
    url: 'https://arxiv.org/abs/2305.13245',
  },
  layout: '(N, L, E)',
  params: [
    { name: 'embed_dim', type: 'int', default: 64, min: 1, main: true, doc: 'Model width E; must be divisible by num_heads.' },
    { name: 'num_heads', type: 'int', default: 8, min: 1, main: true, doc: 'Number of query heads H; head_dim = embed_dim // num_heads.' },
    { name: 'num_kv_heads', type: 'int', default: 2, min: 1, main: true, doc: 'Number of key/value heads; must divide num_heads (1 = multi-query, num_heads = multi-head).' },
    { name: 'dropout', type: 'float', default: 0.0, min: 0, max: 1, doc: 'Dropout probability on the attention weights (training only).' },
    { name: 'bias', type: 'bool', default: false, doc: 'Add bias to the projections (Llama-style models use none).' },
    { name: 'causal', type: 'bool', default: false, baked: true, doc: 'Mask future positions: query i attends keys <= i.' },
    { name: 'use_sdpa', type: 'bool', default: false, baked: true, doc: 'Use F.scaled_dot_product_attention (torch >= 2.0); the attention weights are then not returned.' },
  ],
  dims: [
    { name: 'N', doc: 'batch', default: 2, odd: 3 },
    { name: 'L', doc: 'sequence length', default: 16, odd: 7 },
  ],
  validate: (p) => [
    ...divisible('embed_dim', p.embed_dim as number, 'num_heads', p.num_heads as number),
    ...divisible('num_heads', p.num_heads as number, 'num_kv_heads', p.num_kv_heads as number),
  ],
  contract: (p) => ({
    inputs: [{ name: 'x', shape: ['N', 'L', 'embed_dim'], doc: 'token features' }],
    outputs: [
      { name: 'output', shape: ['N', 'L', 'embed_dim'], doc: 'attended features' },
      ...(p.use_sdpa ? [] : [{ name: 'attn', shape: ['N', 'num_heads', 'L', 'L'], doc: 'per-query-head attention weights' }]),
    ],
  }),
  pytorch: (p) => {
    const dropoutLine = 'dropout_p = self.dropout if self.training else 0.0  # attention dropout only while training';
    const attention = p.use_sdpa
      ? [
          dropoutLine,
          `out = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p${p.causal ? ', is_causal=True' : ''})  # (N, H, L, D)`,
        ]
      : [
          'scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dim)  # (N, H, L, D) @ (N, H, D, L) -> (N, H, L, L)',
          ...(p.causal
            ? [
                'causal = torch.ones(L, L, dtype=torch.bool, device=x.device).tril()  # (L, L), query i sees keys <= i',
                'scores = scores.masked_fill(~causal, float("-inf"))',
              ]
            : []),
          'attn = scores.softmax(dim=-1)',
          'out = self.attn_dropout(attn) @ v  # (N, H, L, L) @ (N, H, L, D) -> (N, H, L, D)',
        ];
    return {
      name: 'GroupedQueryAttention',
      summary: 'Grouped-query self-attention: groups of query heads share key/value heads.',
      init: [
        ...divisibleGuard('embed_dim', 'num_heads'),
        ...divisibleGuard('num_heads', 'num_kv_heads'),
        'self.num_heads = num_heads',
        'self.num_kv_heads = num_kv_heads',
        'self.head_dim = embed_dim // num_heads',
        'self.q_proj = nn.Linear(embed_dim, num_heads * self.head_dim, bias=bias)',
        '# Fewer key/value heads: these projections are num_heads // num_kv_heads times smaller',
        'self.k_proj = nn.Linear(embed_dim, num_kv_heads * self.head_dim, bias=bias)',
        'self.v_proj = nn.Linear(embed_dim, num_kv_heads * self.head_dim, bias=bias)',
        'self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)',
        p.use_sdpa ? 'self.dropout = dropout' : 'self.attn_dropout = nn.Dropout(dropout)',
      ],
      forwardArgs: [{ name: 'x', annotation: 'torch.Tensor' }],
      returns: p.use_sdpa ? 'torch.Tensor' : 'Tuple[torch.Tensor, torch.Tensor]',
      forward: [
        'N, L, E = x.shape',
        'q = self.q_proj(x).view(N, L, self.num_heads, self.head_dim).transpose(1, 2)  # (N, L, E) -> (N, H, L, D)',
        'k = self.k_proj(x).view(N, L, self.num_kv_heads, self.head_dim).transpose(1, 2)  # (N, L, Hkv*D) -> (N, Hkv, L, D)',
        'v = self.v_proj(x).view(N, L, self.num_kv_heads, self.head_dim).transpose(1, 2)',
        '# Each key/value head serves num_heads // num_kv_heads consecutive query heads',
        'group = self.num_heads // self.num_kv_heads',
        'k = k.repeat_interleave(group, dim=1)  # (N, Hkv, L, D) -> (N, H, L, D)',
        'v = v.repeat_interleave(group, dim=1)',
        ...attention,
        'out = out.transpose(1, 2).contiguous().view(N, L, E)  # (N, H, L, D) -> (N, L, H, D) -> (N, L, E)',
        p.use_sdpa ? 'return self.out_proj(out)' : 'return self.out_proj(out), attn',
      ],
    };
  },
  torch2Only: (p) => (p.use_sdpa ? 'use_sdpa calls F.scaled_dot_product_attention, added in torch 2.0; generate with use_sdpa = false for torch 1.x' : undefined),
  typescript: (p) => {
    const dropoutLine = 'const dropout_p = this.training ? this.dropout : 0.0; // attention dropout only while training';
    const attention = p.use_sdpa
      ? [dropoutLine, `let out = F.scaledDotProductAttention(q, k, v, { dropoutP: dropout_p${p.causal ? ', isCausal: true' : ''} }); // (N, H, L, D)`]
      : [
          'let scores = q.matmul(k.transpose(-2, -1)).div(Math.sqrt(this.head_dim)); // (N, H, L, D) @ (N, H, D, L) -> (N, H, L, L)',
          ...(p.causal
            ? [
                "const causal = tril(ones([L, L], { dtype: 'bool', device: x.device })); // (L, L), query i sees keys <= i",
                'scores = scores.maskedFill(causal.logicalNot(), -Infinity);',
              ]
            : []),
          'const attn = scores.softmax(-1);',
          'let out = this.attn_dropout.forward(attn).matmul(v); // (N, H, L, L) @ (N, H, L, D) -> (N, H, L, D)',
        ];
    return {
      name: 'GroupedQueryAttention',
      summary: 'Grouped-query self-attention: groups of query heads share key/value heads.',
      fields: ['num_heads: number', 'num_kv_heads: number', 'head_dim: number', 'q_proj: nn.Linear', 'k_proj: nn.Linear', 'v_proj: nn.Linear', 'out_proj: nn.Linear', p.use_sdpa ? 'dropout: number' : 'attn_dropout: nn.Dropout'],
      init: [
        ...tsDivisibleGuard('embed_dim', 'num_heads'),
        ...tsDivisibleGuard('num_heads', 'num_kv_heads'),
        'this.num_heads = num_heads;',
        'this.num_kv_heads = num_kv_heads;',
        'this.head_dim = Math.floor(embed_dim / num_heads);',
        'this.q_proj = new nn.Linear(embed_dim, num_heads * this.head_dim, { bias, generator, device });',
        '// Fewer key/value heads: these projections are num_heads / num_kv_heads times smaller',
        'this.k_proj = new nn.Linear(embed_dim, num_kv_heads * this.head_dim, { bias, generator, device });',
        'this.v_proj = new nn.Linear(embed_dim, num_kv_heads * this.head_dim, { bias, generator, device });',
        'this.out_proj = new nn.Linear(embed_dim, embed_dim, { bias, generator, device });',
        p.use_sdpa ? 'this.dropout = dropout;' : 'this.attn_dropout = new nn.Dropout(dropout);',
      ],
      forwardArgs: [{ name: 'x', type: 'Tensor' }],
      returns: p.use_sdpa ? 'Tensor' : '[Tensor, Tensor]',
      forward: [
        'const [N, L, E] = x.shape;',
        'const q = this.q_proj.forward(x).view(N, L, this.num_heads, this.head_dim).transpose(1, 2); // (N, L, E) -> (N, H, L, D)',
        'let k = this.k_proj.forward(x).view(N, L, this.num_kv_heads, this.head_dim).transpose(1, 2); // (N, L, Hkv*D) -> (N, Hkv, L, D)',
        'let v = this.v_proj.forward(x).view(N, L, this.num_kv_heads, this.head_dim).transpose(1, 2);',
        '// Each key/value head serves num_heads / num_kv_heads consecutive query heads',
        'const group = Math.floor(this.num_heads / this.num_kv_heads);',
        'k = k.repeatInterleave(group, 1); // (N, Hkv, L, D) -> (N, H, L, D)',
        'v = v.repeatInterleave(group, 1);',
        ...attention,
        'out = out.transpose(1, 2).contiguous().view(N, L, E); // (N, H, L, D) -> (N, L, H, D) -> (N, L, E)',
        p.use_sdpa ? 'return this.out_proj.forward(out);' : 'return [this.out_proj.forward(out), attn];',
      ],
    };
  },
  examples: [
    // Multi-query (one K/V head), full multi-head, odd sizes.
    { num_kv_heads: 1, causal: true },
    { num_kv_heads: 8, bias: true },
    { embed_dim: 6, num_heads: 3, num_kv_heads: 1, causal: true, use_sdpa: true },
    { embed_dim: 6, num_heads: 3, num_kv_heads: 3, use_sdpa: true, dropout: 0.1 },
    { embed_dim: 12, num_heads: 6, num_kv_heads: 3, causal: true },
    { embed_dim: 5, num_heads: 1, num_kv_heads: 1 },
  ],
  invalid: [
    { params: { num_heads: 8, num_kv_heads: 3 }, message: 'num_heads (8) must be divisible by num_kv_heads (3): try num_kv_heads 2, 4 or 1, or num_heads 9 or 6', torch: 'raises' },
    { params: { num_heads: 8, num_kv_heads: 16 }, message: 'num_heads (8) must be divisible by num_kv_heads (16)', torch: 'raises' },
    { params: { embed_dim: 100, num_heads: 8, num_kv_heads: 2 }, message: 'embed_dim (100) must be divisible by num_heads (8): try num_heads 10, 5 or 4, or embed_dim 96 or 104', torch: 'raises' },
  ],
};
