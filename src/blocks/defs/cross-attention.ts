/**
 * `cross-attention`: multi-head attention whose queries come from one
 * sequence and keys/values from another (an encoder's output, text
 * embeddings, image tokens), each with its own width.
 */

import { divisible } from '../checks';
import { divisibleGuard } from '../py';
import type { BlockDef, PyArg, TensorSpec } from '../types';
import { tsDivisibleGuard } from '../ts';
import type { TsArg } from '../types';

export const crossAttention: BlockDef = {
  id: 'cross-attention',
  title: 'Cross-attention',
  summary: 'Multi-head attention from a query sequence (N, L, E) to a context sequence (N, S, context_dim).',
  docs: [
    'Queries come from `x` (N, L, embed_dim) and keys and values from a second sequence `context` (N, S, context_dim) that may have another length and width: the encoder–decoder attention of the Transformer, the text conditioning of diffusion U-Nets, the latent array reading the input in Perceiver. `q_proj` maps `embed_dim`, `k_proj`/`v_proj` map `context_dim` to `embed_dim`; heads are split, scores scaled by `1 / sqrt(head_dim)`, and `out_proj` returns to `embed_dim`. The output has the query\'s shape; the weights are (N, num_heads, L, S).',
    'With `context_padding_mask`, `forward` takes a `context_padding_mask` (N, S) bool where **True marks padded context positions to ignore** (`nn.MultiheadAttention` polarity); keep at least one context position visible per sample or its weights are NaN. With `use_sdpa` the attention runs in `F.scaled_dot_product_attention` (torch ≥ 2.0) and the weights are not returned.',
  ].join('\n\n'),
  citation: { title: 'Attention Is All You Need', authors: 'Vaswani et al.', year: 2017, url: 'https://arxiv.org/abs/1706.03762' },
  layout: '(N, L, E) queries, (N, S, C) context',
  params: [
    { name: 'embed_dim', type: 'int', default: 64, min: 1, main: true, doc: 'Width E of the queries, the attention and the output; must be divisible by num_heads.' },
    { name: 'context_dim', type: 'int', default: 32, min: 1, main: true, doc: 'Width C of the context the keys and values are projected from.' },
    { name: 'num_heads', type: 'int', default: 8, min: 1, main: true, doc: 'Number of heads H; head_dim = embed_dim // num_heads.' },
    { name: 'dropout', type: 'float', default: 0.0, min: 0, max: 1, doc: 'Dropout probability on the attention weights (training only).' },
    { name: 'bias', type: 'bool', default: true, doc: 'Add bias to the q/k/v and output projections.' },
    { name: 'context_padding_mask', type: 'bool', default: false, baked: true, doc: 'forward takes context_padding_mask (N, S) bool, True marking padded context positions to ignore.' },
    { name: 'use_sdpa', type: 'bool', default: false, baked: true, doc: 'Use F.scaled_dot_product_attention (torch >= 2.0); the attention weights are then not returned.' },
  ],
  dims: [
    { name: 'N', doc: 'batch', default: 2, odd: 3 },
    { name: 'L', doc: 'query length', default: 16, odd: 7 },
    { name: 'S', doc: 'context length', default: 12, odd: 5 },
  ],
  validate: (p) => divisible('embed_dim', p.embed_dim as number, 'num_heads', p.num_heads as number),
  contract: (p) => {
    const inputs: TensorSpec[] = [
      { name: 'x', shape: ['N', 'L', 'embed_dim'], doc: 'queries' },
      { name: 'context', shape: ['N', 'S', 'context_dim'], doc: 'keys and values are computed from it' },
    ];
    if (p.context_padding_mask) {
      inputs.push({ name: 'context_padding_mask', shape: ['N', 'S'], dtype: 'bool', fill: 'padding', optional: true, doc: 'True marks padded context positions, which are ignored' });
    }
    return {
      inputs,
      outputs: [
        { name: 'output', shape: ['N', 'L', 'embed_dim'], doc: 'queries updated with context' },
        ...(p.use_sdpa ? [] : [{ name: 'attn', shape: ['N', 'num_heads', 'L', 'S'], doc: 'per-head weights over the context' }]),
      ],
    };
  },
  pytorch: (p) => {
    const forwardArgs: PyArg[] = [
      { name: 'x', annotation: 'torch.Tensor' },
      { name: 'context', annotation: 'torch.Tensor' },
    ];
    if (p.context_padding_mask) forwardArgs.push({ name: 'context_padding_mask', annotation: 'Optional[torch.Tensor]', default: 'None' });
    const dropoutLine = 'dropout_p = self.dropout if self.training else 0.0  # attention dropout only while training';
    const sdpa = p.context_padding_mask
      ? [
          '# (N, S) -> (N, 1, 1, S), flipped to SDPA polarity: True = may attend',
          'keep = None if context_padding_mask is None else ~context_padding_mask[:, None, None, :]',
          'out = F.scaled_dot_product_attention(q, k, v, attn_mask=keep, dropout_p=dropout_p)  # (N, H, L, D)',
        ]
      : ['out = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)  # (N, H, L, D)'];
    const attention = p.use_sdpa
      ? [dropoutLine, ...sdpa]
      : [
          'scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dim)  # (N, H, L, D) @ (N, H, D, S) -> (N, H, L, S)',
          ...(p.context_padding_mask
            ? [
                'if context_padding_mask is not None:',
                '    # (N, S) -> (N, 1, 1, S): True = padded, hidden from every head and query',
                '    scores = scores.masked_fill(context_padding_mask[:, None, None, :], float("-inf"))',
              ]
            : []),
          'attn = scores.softmax(dim=-1)  # normalise over the context',
          'out = self.attn_dropout(attn) @ v  # (N, H, L, S) @ (N, H, S, D) -> (N, H, L, D)',
        ];
    return {
      name: 'CrossAttention',
      summary: 'Multi-head cross-attention from queries x to a context sequence.',
      init: [
        ...divisibleGuard('embed_dim', 'num_heads'),
        'self.num_heads = num_heads',
        'self.head_dim = embed_dim // num_heads',
        'self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)',
        'self.k_proj = nn.Linear(context_dim, embed_dim, bias=bias)  # context width -> attention width',
        'self.v_proj = nn.Linear(context_dim, embed_dim, bias=bias)',
        'self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)',
        p.use_sdpa ? 'self.dropout = dropout' : 'self.attn_dropout = nn.Dropout(dropout)',
      ],
      forwardArgs,
      returns: p.use_sdpa ? 'torch.Tensor' : 'Tuple[torch.Tensor, torch.Tensor]',
      forward: [
        'N, L, E = x.shape',
        'S = context.size(1)',
        'q = self.q_proj(x).view(N, L, self.num_heads, self.head_dim).transpose(1, 2)  # (N, L, E) -> (N, H, L, D)',
        'k = self.k_proj(context).view(N, S, self.num_heads, self.head_dim).transpose(1, 2)  # (N, S, C) -> (N, H, S, D)',
        'v = self.v_proj(context).view(N, S, self.num_heads, self.head_dim).transpose(1, 2)',
        ...attention,
        'out = out.transpose(1, 2).contiguous().view(N, L, E)  # (N, H, L, D) -> (N, L, H, D) -> (N, L, E)',
        p.use_sdpa ? 'return self.out_proj(out)' : 'return self.out_proj(out), attn',
      ],
    };
  },
  torch2Only: (p) => (p.use_sdpa ? 'use_sdpa calls F.scaled_dot_product_attention, added in torch 2.0; generate with use_sdpa = false for torch 1.x' : undefined),
  typescript: (p) => {
    const forwardArgs: TsArg[] = [
      { name: 'x', type: 'Tensor' },
      { name: 'context', type: 'Tensor' },
    ];
    if (p.context_padding_mask) forwardArgs.push({ name: 'context_padding_mask', type: 'Tensor | null', default: 'null' });
    const dropoutLine = 'const dropout_p = this.training ? this.dropout : 0.0; // attention dropout only while training';
    const sdpa = p.context_padding_mask
      ? [
          '// (N, S) -> (N, 1, 1, S), flipped to SDPA polarity: True = may attend',
          'const keep = context_padding_mask === null ? null : context_padding_mask.unsqueeze(1).unsqueeze(1).logicalNot();',
          'let out = F.scaledDotProductAttention(q, k, v, { attnMask: keep, dropoutP: dropout_p }); // (N, H, L, D)',
        ]
      : ['let out = F.scaledDotProductAttention(q, k, v, { dropoutP: dropout_p }); // (N, H, L, D)'];
    const attention = p.use_sdpa
      ? [dropoutLine, ...sdpa]
      : [
          'let scores = q.matmul(k.transpose(-2, -1)).div(Math.sqrt(this.head_dim)); // (N, H, L, D) @ (N, H, D, S) -> (N, H, L, S)',
          ...(p.context_padding_mask
            ? [
                'if (context_padding_mask !== null) {',
                '  // (N, S) -> (N, 1, 1, S): True = padded, hidden from every head and query',
                '  scores = scores.maskedFill(context_padding_mask.unsqueeze(1).unsqueeze(1), -Infinity);',
                '}',
              ]
            : []),
          'const attn = scores.softmax(-1); // normalise over the context',
          'let out = this.attn_dropout.forward(attn).matmul(v); // (N, H, L, S) @ (N, H, S, D) -> (N, H, L, D)',
        ];
    return {
      name: 'CrossAttention',
      summary: 'Multi-head cross-attention from queries x to a context sequence.',
      fields: ['num_heads: number', 'head_dim: number', 'q_proj: nn.Linear', 'k_proj: nn.Linear', 'v_proj: nn.Linear', 'out_proj: nn.Linear', p.use_sdpa ? 'dropout: number' : 'attn_dropout: nn.Dropout'],
      init: [
        ...tsDivisibleGuard('embed_dim', 'num_heads'),
        'this.num_heads = num_heads;',
        'this.head_dim = Math.floor(embed_dim / num_heads);',
        'this.q_proj = new nn.Linear(embed_dim, embed_dim, { bias, generator, device });',
        'this.k_proj = new nn.Linear(context_dim, embed_dim, { bias, generator, device }); // context width -> attention width',
        'this.v_proj = new nn.Linear(context_dim, embed_dim, { bias, generator, device });',
        'this.out_proj = new nn.Linear(embed_dim, embed_dim, { bias, generator, device });',
        p.use_sdpa ? 'this.dropout = dropout;' : 'this.attn_dropout = new nn.Dropout(dropout);',
      ],
      forwardArgs,
      returns: p.use_sdpa ? 'Tensor' : '[Tensor, Tensor]',
      forward: [
        'const [N, L, E] = x.shape;',
        'const S = context.size(1);',
        'const q = this.q_proj.forward(x).view(N, L, this.num_heads, this.head_dim).transpose(1, 2); // (N, L, E) -> (N, H, L, D)',
        'const k = this.k_proj.forward(context).view(N, S, this.num_heads, this.head_dim).transpose(1, 2); // (N, S, C) -> (N, H, S, D)',
        'const v = this.v_proj.forward(context).view(N, S, this.num_heads, this.head_dim).transpose(1, 2);',
        ...attention,
        'out = out.transpose(1, 2).contiguous().view(N, L, E); // (N, H, L, D) -> (N, L, H, D) -> (N, L, E)',
        p.use_sdpa ? 'return this.out_proj.forward(out);' : 'return [this.out_proj.forward(out), attn];',
      ],
    };
  },
  examples: [
    { embed_dim: 6, context_dim: 5, num_heads: 3, context_padding_mask: true },
    { embed_dim: 6, context_dim: 5, num_heads: 3, context_padding_mask: true, use_sdpa: true, bias: false },
    { context_dim: 64, num_heads: 1, dropout: 0.5 },
    { embed_dim: 1, context_dim: 1, num_heads: 1 },
  ],
  invalid: [
    { params: { embed_dim: 100, num_heads: 8 }, message: 'embed_dim (100) must be divisible by num_heads (8): try num_heads 10, 5 or 4, or embed_dim 96 or 104', torch: 'raises' },
  ],
};
