/**
 * `mha-scratch`: multi-head self-attention written out by hand — separate
 * q/k/v/out projections, the head split and merge, scaling, masking and
 * softmax — so every reshape is visible and can be modified.
 */

import { divisible } from '../checks';
import { divisibleGuard } from '../py';
import type { BlockDef, PyArg, TensorSpec } from '../types';
import { tsDivisibleGuard } from '../ts';
import type { TsArg } from '../types';

export const mhaScratch: BlockDef = {
  id: 'mha-scratch',
  title: 'Multi-head attention from scratch',
  summary: 'Multi-head self-attention with explicit q/k/v/out projections, head split/merge and masking.',
  docs: [
    'The multi-head self-attention of the Transformer written out step by step: `q_proj`, `k_proj`, `v_proj` map (N, L, E) to (N, L, E); each is split into `num_heads` heads of `head_dim = embed_dim // num_heads` with `view(N, L, H, D).transpose(1, 2)`; scores `q @ kᵀ / sqrt(head_dim)` are masked and softmaxed over the keys; the heads are merged back with `transpose(1, 2).contiguous().view(N, L, E)` and `out_proj` mixes them. Returns the output and the per-head weights (N, H, L, L).',
    'Use it when you need to change attention internals (relative position biases, custom masks, logging of weights) that `nn.MultiheadAttention` hides. Masks: `key_padding` takes `key_padding_mask` (N, L) bool with **True = padded key, ignored** (as `nn.MultiheadAttention`); `attn_mask` takes an (L, L) bool mask with **True = may attend** (as `F.scaled_dot_product_attention`); `causal` builds the lower-triangular mask inside `forward`. A query whose keys are all masked gets NaN weights, so keep at least one key visible per row. With `use_sdpa` the attention runs in `F.scaled_dot_product_attention` (torch ≥ 2.0) and the weights are not returned.',
  ].join('\n\n'),
  differences: 'The reference image-MHA post merges heads with `.view` straight after `.transpose(1, 2)`, which raises "view size is not compatible with input tensor\'s size and stride" because the transposed tensor is not contiguous; we call `.contiguous()` before `.view`. Scores are scaled by `1 / sqrt(head_dim)`, not by the full width.',
  citation: { title: 'Attention Is All You Need', authors: 'Vaswani et al.', year: 2017, url: 'https://arxiv.org/abs/1706.03762' },
  layout: '(N, L, E)',
  params: [
    { name: 'embed_dim', type: 'int', default: 64, min: 1, main: true, doc: 'Feature size E of the tokens; must be divisible by num_heads.' },
    { name: 'num_heads', type: 'int', default: 8, min: 1, main: true, doc: 'Number of heads H; each has head_dim = embed_dim // num_heads.' },
    { name: 'dropout', type: 'float', default: 0.0, min: 0, max: 1, doc: 'Dropout probability on the attention weights (training only).' },
    { name: 'bias', type: 'bool', default: true, doc: 'Add bias to the q/k/v and output projections.' },
    {
      name: 'mask',
      type: 'enum',
      default: 'none',
      choices: ['none', 'key_padding', 'attn_mask', 'causal'],
      baked: true,
      doc: 'none; key_padding = forward takes key_padding_mask (N, L) bool, True = padded key; attn_mask = forward takes (L, L) bool, True = may attend; causal = lower-triangular mask built in forward.',
    },
    { name: 'use_sdpa', type: 'bool', default: false, baked: true, doc: 'Use F.scaled_dot_product_attention (torch >= 2.0); the attention weights are then not returned.' },
  ],
  dims: [
    { name: 'N', doc: 'batch', default: 2, odd: 3 },
    { name: 'L', doc: 'sequence length', default: 16, odd: 7 },
  ],
  validate: (p) => divisible('embed_dim', p.embed_dim as number, 'num_heads', p.num_heads as number),
  contract: (p) => {
    const inputs: TensorSpec[] = [{ name: 'x', shape: ['N', 'L', 'embed_dim'], doc: 'token features' }];
    if (p.mask === 'key_padding') inputs.push({ name: 'key_padding_mask', shape: ['N', 'L'], dtype: 'bool', fill: 'padding', optional: true, doc: 'True marks padded keys, which are ignored' });
    if (p.mask === 'attn_mask') inputs.push({ name: 'attn_mask', shape: ['L', 'L'], dtype: 'bool', fill: 'causal-keep', optional: true, doc: 'True marks query/key pairs that may attend' });
    return {
      inputs,
      outputs: [
        { name: 'output', shape: ['N', 'L', 'embed_dim'], doc: 'attended features' },
        ...(p.use_sdpa ? [] : [{ name: 'attn', shape: ['N', 'num_heads', 'L', 'L'], doc: 'per-head attention weights' }]),
      ],
    };
  },
  pytorch: (p) => {
    const forwardArgs: PyArg[] = [{ name: 'x', annotation: 'torch.Tensor' }];
    if (p.mask === 'key_padding') forwardArgs.push({ name: 'key_padding_mask', annotation: 'Optional[torch.Tensor]', default: 'None' });
    if (p.mask === 'attn_mask') forwardArgs.push({ name: 'attn_mask', annotation: 'Optional[torch.Tensor]', default: 'None' });

    const dropoutLine = 'dropout_p = self.dropout if self.training else 0.0  # attention dropout only while training';
    let attention: string[];
    if (p.use_sdpa) {
      // SDPA's bool attn_mask has True = may attend, broadcast to (N, H, L, L).
      const call = {
        none: ['out = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)  # (N, H, L, D)'],
        key_padding: [
          '# (N, L) -> (N, 1, 1, L), flipped to True = may attend',
          'keep = None if key_padding_mask is None else ~key_padding_mask[:, None, None, :]',
          'out = F.scaled_dot_product_attention(q, k, v, attn_mask=keep, dropout_p=dropout_p)  # (N, H, L, D)',
        ],
        attn_mask: ['out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=dropout_p)  # (N, H, L, D)'],
        causal: ['out = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=True)  # (N, H, L, D)'],
      }[p.mask as 'none' | 'key_padding' | 'attn_mask' | 'causal'];
      attention = [dropoutLine, ...call];
    } else {
      const masking = {
        none: [],
        key_padding: [
          'if key_padding_mask is not None:',
          '    # (N, L) -> (N, 1, 1, L): True = padded key, hidden from every head and query',
          '    scores = scores.masked_fill(key_padding_mask[:, None, None, :], float("-inf"))',
        ],
        attn_mask: [
          'if attn_mask is not None:',
          '    # (L, L), True = may attend; broadcasts over (N, H)',
          '    scores = scores.masked_fill(~attn_mask, float("-inf"))',
        ],
        causal: [
          'causal = torch.ones(L, L, dtype=torch.bool, device=x.device).tril()  # (L, L), query i sees keys <= i',
          'scores = scores.masked_fill(~causal, float("-inf"))',
        ],
      }[p.mask as 'none' | 'key_padding' | 'attn_mask' | 'causal'];
      attention = [
        'scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dim)  # (N, H, L, D) @ (N, H, D, L) -> (N, H, L, L)',
        ...masking,
        'attn = scores.softmax(dim=-1)  # normalise over the keys',
        'out = self.attn_dropout(attn) @ v  # (N, H, L, L) @ (N, H, L, D) -> (N, H, L, D)',
      ];
    }

    return {
      name: 'MultiHeadAttention',
      summary: 'Multi-head self-attention with explicit projections, head split and merge.',
      init: [
        ...divisibleGuard('embed_dim', 'num_heads'),
        'self.num_heads = num_heads',
        'self.head_dim = embed_dim // num_heads',
        'self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)',
        'self.k_proj = nn.Linear(embed_dim, embed_dim, bias=bias)',
        'self.v_proj = nn.Linear(embed_dim, embed_dim, bias=bias)',
        'self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)',
        p.use_sdpa ? 'self.dropout = dropout' : 'self.attn_dropout = nn.Dropout(dropout)',
      ],
      forwardArgs,
      returns: p.use_sdpa ? 'torch.Tensor' : 'Tuple[torch.Tensor, torch.Tensor]',
      forward: [
        'N, L, E = x.shape',
        '# (N, L, E) -> (N, L, H, D) -> (N, H, L, D)',
        'q = self.q_proj(x).view(N, L, self.num_heads, self.head_dim).transpose(1, 2)',
        'k = self.k_proj(x).view(N, L, self.num_heads, self.head_dim).transpose(1, 2)',
        'v = self.v_proj(x).view(N, L, self.num_heads, self.head_dim).transpose(1, 2)',
        ...attention,
        '# (N, H, L, D) -> (N, L, H, D) -> (N, L, E); transposed is non-contiguous: .contiguous() before .view',
        'out = out.transpose(1, 2).contiguous().view(N, L, E)',
        p.use_sdpa ? 'return self.out_proj(out)' : 'return self.out_proj(out), attn',
      ],
    };
  },
  torch2Only: (p) => (p.use_sdpa ? 'use_sdpa calls F.scaled_dot_product_attention, added in torch 2.0; generate with use_sdpa = false for torch 1.x' : undefined),
  typescript: (p) => {
    const forwardArgs: TsArg[] = [{ name: 'x', type: 'Tensor' }];
    if (p.mask === 'key_padding') forwardArgs.push({ name: 'key_padding_mask', type: 'Tensor | null', default: 'null' });
    if (p.mask === 'attn_mask') forwardArgs.push({ name: 'attn_mask', type: 'Tensor | null', default: 'null' });
    const dropoutLine = 'const dropout_p = this.training ? this.dropout : 0.0; // attention dropout only while training';
    let attention: string[];
    if (p.use_sdpa) {
      const call = {
        none: ['let out = F.scaledDotProductAttention(q, k, v, { dropoutP: dropout_p }); // (N, H, L, D)'],
        key_padding: [
          '// (N, L) -> (N, 1, 1, L), flipped to True = may attend',
          'const keep = key_padding_mask === null ? null : key_padding_mask.unsqueeze(1).unsqueeze(1).logicalNot();',
          'let out = F.scaledDotProductAttention(q, k, v, { attnMask: keep, dropoutP: dropout_p }); // (N, H, L, D)',
        ],
        attn_mask: ['let out = F.scaledDotProductAttention(q, k, v, { attnMask: attn_mask, dropoutP: dropout_p }); // (N, H, L, D)'],
        causal: ['let out = F.scaledDotProductAttention(q, k, v, { dropoutP: dropout_p, isCausal: true }); // (N, H, L, D)'],
      }[p.mask as 'none' | 'key_padding' | 'attn_mask' | 'causal'];
      attention = [dropoutLine, ...call];
    } else {
      const masking = {
        none: [],
        key_padding: [
          'if (key_padding_mask !== null) {',
          '  // (N, L) -> (N, 1, 1, L): True = padded key, hidden from every head and query',
          '  scores = scores.maskedFill(key_padding_mask.unsqueeze(1).unsqueeze(1), -Infinity);',
          '}',
        ],
        attn_mask: [
          'if (attn_mask !== null) {',
          '  // (L, L), True = may attend; broadcasts over (N, H)',
          '  scores = scores.maskedFill(attn_mask.logicalNot(), -Infinity);',
          '}',
        ],
        causal: [
          "const causal = tril(ones([L, L], { dtype: 'bool', device: x.device })); // (L, L), query i sees keys <= i",
          'scores = scores.maskedFill(causal.logicalNot(), -Infinity);',
        ],
      }[p.mask as 'none' | 'key_padding' | 'attn_mask' | 'causal'];
      attention = [
        'let scores = q.matmul(k.transpose(-2, -1)).div(Math.sqrt(this.head_dim)); // (N, H, L, D) @ (N, H, D, L) -> (N, H, L, L)',
        ...masking,
        'const attn = scores.softmax(-1); // normalise over the keys',
        'let out = this.attn_dropout.forward(attn).matmul(v); // (N, H, L, L) @ (N, H, L, D) -> (N, H, L, D)',
      ];
    }
    return {
      name: 'MultiHeadAttention',
      summary: 'Multi-head self-attention with explicit projections, head split and merge.',
      fields: ['num_heads: number', 'head_dim: number', 'q_proj: nn.Linear', 'k_proj: nn.Linear', 'v_proj: nn.Linear', 'out_proj: nn.Linear', p.use_sdpa ? 'dropout: number' : 'attn_dropout: nn.Dropout'],
      init: [
        ...tsDivisibleGuard('embed_dim', 'num_heads'),
        'this.num_heads = num_heads;',
        'this.head_dim = Math.floor(embed_dim / num_heads);',
        'this.q_proj = new nn.Linear(embed_dim, embed_dim, { bias, generator, device });',
        'this.k_proj = new nn.Linear(embed_dim, embed_dim, { bias, generator, device });',
        'this.v_proj = new nn.Linear(embed_dim, embed_dim, { bias, generator, device });',
        'this.out_proj = new nn.Linear(embed_dim, embed_dim, { bias, generator, device });',
        p.use_sdpa ? 'this.dropout = dropout;' : 'this.attn_dropout = new nn.Dropout(dropout);',
      ],
      forwardArgs,
      returns: p.use_sdpa ? 'Tensor' : '[Tensor, Tensor]',
      forward: [
        'const [N, L, E] = x.shape;',
        '// (N, L, E) -> (N, L, H, D) -> (N, H, L, D)',
        'const q = this.q_proj.forward(x).view(N, L, this.num_heads, this.head_dim).transpose(1, 2);',
        'const k = this.k_proj.forward(x).view(N, L, this.num_heads, this.head_dim).transpose(1, 2);',
        'const v = this.v_proj.forward(x).view(N, L, this.num_heads, this.head_dim).transpose(1, 2);',
        ...attention,
        '// (N, H, L, D) -> (N, L, H, D) -> (N, L, E); transposed is non-contiguous: .contiguous() before .view',
        'out = out.transpose(1, 2).contiguous().view(N, L, E);',
        p.use_sdpa ? 'return this.out_proj.forward(out);' : 'return [this.out_proj.forward(out), attn];',
      ],
    };
  },
  examples: [
    { embed_dim: 6, num_heads: 3, mask: 'key_padding' },
    { embed_dim: 6, num_heads: 3, mask: 'key_padding', use_sdpa: true },
    { embed_dim: 6, num_heads: 3, mask: 'attn_mask', use_sdpa: true, bias: false },
    { embed_dim: 6, num_heads: 3, mask: 'causal', use_sdpa: true, dropout: 0.5 },
    { embed_dim: 5, num_heads: 1, mask: 'causal' },
    { embed_dim: 1, num_heads: 1, mask: 'attn_mask' },
  ],
  invalid: [
    { params: { embed_dim: 100, num_heads: 8 }, message: 'embed_dim (100) must be divisible by num_heads (8): try num_heads 10, 5 or 4, or embed_dim 96 or 104', torch: 'raises' },
    { params: { embed_dim: 6, num_heads: 4 }, message: 'embed_dim (6) must be divisible by num_heads (4): try num_heads 3, 2 or 6, or embed_dim 4 or 8', torch: 'raises' },
  ],
};
