/**
 * `multihead-attention`: `nn.MultiheadAttention` exposed whole — every
 * constructor argument as a constructor parameter of the generated module,
 * and the forward options (masks, weights, the `is_causal` hint) as
 * generation-time choices that decide the forward signature and return value.
 */

import { divisible } from '../checks';
import { divisibleGuard } from '../py';
import type { BlockDef, Params, PyArg, TensorSpec, ValidationIssue } from '../types';
import { tsDivisibleGuard } from '../ts';
import type { TsArg } from '../types';

/** The key/value length as the attention weights see it: bias_k/v and the zero slot each add one key. */
const S_TOTAL = 'S + add_bias_kv + add_zero_attn';

function seqShape(p: Params, len: 'L' | 'S', width: string): string[] {
  return p.batch_first ? ['N', len, width] : [len, 'N', width];
}

export const multiheadAttention: BlockDef = {
  id: 'multihead-attention',
  title: 'nn.MultiheadAttention (every option)',
  summary: 'torch.nn.MultiheadAttention with all constructor arguments and forward options exposed.',
  docs: [
    'Wraps `torch.nn.MultiheadAttention` so every constructor argument is a constructor argument of the generated module, and the forward options you pick (key padding mask, attention mask kind, `need_weights`, `average_attn_weights`, the `is_causal` hint) are spelled out in `forward`. Use it when you want the stock, fused PyTorch implementation and a worked example of its masks and shapes.',
    'Masks follow the `nn.MultiheadAttention` polarity: in a bool `key_padding_mask` (N, S) or `attn_mask` (L, S), **True marks positions that may not be attended**; a float `attn_mask` is added to the scores (0 = keep, `-inf` = block). With a key padding mask and a float `attn_mask`, `forward` folds the padding into the float mask (one mask dtype, as torch 2.x asks) before calling the module. With `attn_mask = causal` the module builds the (L, S) upper-triangular mask itself from the input lengths.',
    '`kdim`/`vdim` let keys and values come from a differently sized source (cross-attention); `None` means `embed_dim`. `add_bias_kv` appends one learned key/value and `add_zero_attn` one all-zero key/value, so the attention weights have `S + add_bias_kv + add_zero_attn` columns. `batch_first=False` switches all three inputs and the output to the (L, N, E) layout; masks and weights keep their batch-first shapes.',
    '`is_causal` (torch ≥ 2.0) is only a hint: when weights are not needed and there is no key padding mask, torch drops the mask and lets `scaled_dot_product_attention` apply its own top-left causal mask over all keys, so the extra `add_bias_kv`/`add_zero_attn` slots are then hidden from early queries instead of always visible.',
  ].join('\n\n'),
  citation: { title: 'Attention Is All You Need', authors: 'Vaswani et al.', year: 2017, url: 'https://arxiv.org/abs/1706.03762' },
  layout: '(N, L, E)',
  params: [
    { name: 'embed_dim', type: 'int', default: 64, min: 1, main: true, doc: 'Model width E of the queries and of the output; must be divisible by num_heads.' },
    { name: 'num_heads', type: 'int', default: 8, min: 1, main: true, doc: 'Number of parallel heads; each has head_dim = embed_dim // num_heads.' },
    { name: 'dropout', type: 'float', default: 0.0, min: 0, max: 1, doc: 'Dropout probability on the attention weights (training only).' },
    { name: 'bias', type: 'bool', default: true, doc: 'Add bias to the input and output projections.' },
    { name: 'add_bias_kv', type: 'bool', default: false, doc: 'Append a learned bias key and value: one more key position.' },
    { name: 'add_zero_attn', type: 'bool', default: false, doc: 'Append an all-zero key and value: one more key position.' },
    { name: 'kdim', type: 'int', default: null, nullable: true, min: 1, doc: 'Feature size of the keys; None means embed_dim.' },
    { name: 'vdim', type: 'int', default: null, nullable: true, min: 1, doc: 'Feature size of the values; None means embed_dim.' },
    { name: 'batch_first', type: 'bool', default: true, doc: 'Inputs and output are (N, L, E); False means (L, N, E).' },
    { name: 'key_padding_mask', type: 'bool', default: false, baked: true, doc: 'forward takes a key_padding_mask (N, S) bool, True marking padded keys to ignore.' },
    {
      name: 'attn_mask',
      type: 'enum',
      default: 'none',
      choices: ['none', 'bool', 'float', 'causal'],
      baked: true,
      doc: 'Attention mask: none; bool = forward takes an (L, S) bool mask, True = may not attend; float = forward takes an (L, S) additive mask; causal = built inside forward.',
    },
    { name: 'is_causal', type: 'bool', default: false, baked: true, doc: 'Pass the is_causal=True hint with the causal mask (torch >= 2.0 can then use a fused causal kernel); needs attn_mask = causal.' },
    { name: 'need_weights', type: 'bool', default: true, baked: true, doc: 'Also return the attention weights; False skips them (torch >= 2.0 then runs fused SDPA kernels).' },
    { name: 'average_attn_weights', type: 'bool', default: true, baked: true, doc: 'Average the returned weights over heads (N, L, S\'); False returns per-head (N, num_heads, L, S\'). Only used with need_weights.' },
  ],
  dims: [
    { name: 'N', doc: 'batch', default: 2, odd: 3 },
    { name: 'L', doc: 'query (target) length', default: 16, odd: 7 },
    { name: 'S', doc: 'key/value (source) length', default: 12, odd: 5 },
  ],
  validate: (p) => {
    const issues: ValidationIssue[] = [...divisible('embed_dim', p.embed_dim as number, 'num_heads', p.num_heads as number)];
    if (p.is_causal && p.attn_mask !== 'causal') {
      issues.push({
        param: 'is_causal',
        message: `is_causal = true needs attn_mask = causal (it only tells torch that the mask is causal; got attn_mask = ${p.attn_mask}): set attn_mask = causal or is_causal = false`,
      });
    }
    return issues;
  },
  contract: (p) => {
    const kdim = p.kdim === null ? 'embed_dim' : 'kdim';
    const vdim = p.vdim === null ? 'embed_dim' : 'vdim';
    const layout = p.batch_first ? '' : ' (batch_first=False layout)';
    const inputs: TensorSpec[] = [
      { name: 'query', shape: seqShape(p, 'L', 'embed_dim'), doc: `queries${layout}` },
      { name: 'key', shape: seqShape(p, 'S', kdim), doc: `keys${layout}` },
      { name: 'value', shape: seqShape(p, 'S', vdim), doc: `values${layout}` },
    ];
    if (p.key_padding_mask) {
      inputs.push({ name: 'key_padding_mask', shape: ['N', 'S'], dtype: 'bool', fill: 'padding', optional: true, doc: 'True marks padded keys that are ignored' });
    }
    if (p.attn_mask === 'bool') {
      inputs.push({ name: 'attn_mask', shape: ['L', 'S'], dtype: 'bool', fill: 'causal-ignore', optional: true, doc: 'True marks query/key pairs that may not attend' });
    } else if (p.attn_mask === 'float') {
      inputs.push({ name: 'attn_mask', shape: ['L', 'S'], fill: 'causal-additive', optional: true, doc: 'added to the attention scores (-inf blocks a pair)' });
    }
    const outputs: TensorSpec[] = [{ name: 'output', shape: seqShape(p, 'L', 'embed_dim'), doc: `attended queries${layout}` }];
    if (p.need_weights) {
      outputs.push(
        p.average_attn_weights
          ? { name: 'attn', shape: ['N', 'L', S_TOTAL], doc: 'attention weights averaged over heads' }
          : { name: 'attn', shape: ['N', 'num_heads', 'L', S_TOTAL], doc: 'per-head attention weights' },
      );
    }
    return { inputs, outputs };
  },
  pytorch: (p) => {
    const forwardArgs: PyArg[] = [
      { name: 'query', annotation: 'torch.Tensor' },
      { name: 'key', annotation: 'torch.Tensor' },
      { name: 'value', annotation: 'torch.Tensor' },
    ];
    if (p.key_padding_mask) forwardArgs.push({ name: 'key_padding_mask', annotation: 'Optional[torch.Tensor]', default: 'None' });
    if (p.attn_mask === 'bool' || p.attn_mask === 'float') forwardArgs.push({ name: 'attn_mask', annotation: 'Optional[torch.Tensor]', default: 'None' });

    const forward: string[] = [];
    if (p.attn_mask === 'causal') {
      forward.push(
        'seq_dim = 1 if self.mha.batch_first else 0',
        'L, S = query.size(seq_dim), key.size(seq_dim)',
        '# (L, S) bool, True above the diagonal: query i may not attend keys j > i',
        'attn_mask = torch.triu(torch.ones(L, S, dtype=torch.bool, device=query.device), diagonal=1)',
      );
    }
    if (p.key_padding_mask && p.attn_mask === 'float') {
      forward.push(
        'if key_padding_mask is not None and attn_mask is not None:',
        '    # One mask dtype: fold the bool padding mask into the float mask as -inf, as torch',
        '    # merges them (torch 2.x warns when a bool key_padding_mask meets a float attn_mask).',
        '    H = self.mha.num_heads',
        '    attn_mask = attn_mask.masked_fill(key_padding_mask[:, None, None, :], float("-inf"))  # (N, 1, L, S)',
        '    attn_mask = attn_mask.expand(-1, H, -1, -1).flatten(0, 1)  # (N * num_heads, L, S)',
        '    key_padding_mask = None',
      );
    }
    const kwargs: string[] = [];
    if (p.key_padding_mask) kwargs.push('key_padding_mask=key_padding_mask');
    kwargs.push(`need_weights=${p.need_weights ? 'True' : 'False'}`);
    if (p.attn_mask !== 'none') kwargs.push('attn_mask=attn_mask');
    if (p.need_weights) kwargs.push(`average_attn_weights=${p.average_attn_weights ? 'True' : 'False'}`);
    if (p.is_causal) kwargs.push('is_causal=True,  # hint that attn_mask is causal (torch >= 2.0)');
    const weights = p.average_attn_weights ? '(N, L, S\')' : '(N, num_heads, L, S\')';
    forward.push(
      `${p.need_weights ? 'output, attn' : 'output, _'} = self.mha(`,
      '    query,',
      '    key,',
      '    value,',
      ...kwargs.map((k) => (k.includes('#') ? `    ${k}` : `    ${k},`)),
      p.need_weights ? `)  # output like query; attn: ${weights}, S' = S + add_bias_kv + add_zero_attn` : ')  # output like query',
      p.need_weights ? 'return output, attn' : 'return output',
    );

    return {
      name: 'MultiheadAttentionBlock',
      summary: 'nn.MultiheadAttention with every constructor argument exposed.',
      init: [
        ...divisibleGuard('embed_dim', 'num_heads'),
        'self.mha = nn.MultiheadAttention(',
        '    embed_dim,',
        '    num_heads,',
        '    dropout=dropout,',
        '    bias=bias,',
        '    add_bias_kv=add_bias_kv,',
        '    add_zero_attn=add_zero_attn,',
        '    kdim=kdim,',
        '    vdim=vdim,',
        '    batch_first=batch_first,',
        ')',
      ],
      forwardArgs,
      returns: p.need_weights ? 'Tuple[torch.Tensor, torch.Tensor]' : 'torch.Tensor',
      forward,
    };
  },
  torch2Only: (p) => (p.is_causal ? 'the is_causal argument of nn.MultiheadAttention.forward was added in torch 2.0; generate with is_causal = false for torch 1.x' : undefined),
  typescript: (p) => {
    const forwardArgs: TsArg[] = [
      { name: 'query', type: 'Tensor' },
      { name: 'key', type: 'Tensor' },
      { name: 'value', type: 'Tensor' },
    ];
    if (p.key_padding_mask) forwardArgs.push({ name: 'key_padding_mask', type: 'Tensor | null', default: 'null' });
    if (p.attn_mask === 'bool' || p.attn_mask === 'float') forwardArgs.push({ name: 'attn_mask', type: 'Tensor | null', default: 'null' });
    const forward: string[] = [];
    if (p.attn_mask === 'causal') {
      forward.push(
        'const seq_dim = this.mha.batch_first ? 1 : 0;',
        'const [L, S] = [query.size(seq_dim), key.size(seq_dim)];',
        '// (L, S) bool, True above the diagonal: query i may not attend keys j > i',
        "const attn_mask = triu(ones([L, S], { dtype: 'bool', device: query.device }), 1);",
      );
    }
    if (p.key_padding_mask && p.attn_mask === 'float') {
      forward.push(
        'if (key_padding_mask && attn_mask) {',
        '  // One mask dtype: fold the bool padding mask into the float mask as -inf, as torch',
        '  // merges them (torch 2.x warns when a bool key_padding_mask meets a float attn_mask).',
        '  const H = this.mha.num_heads;',
        '  attn_mask = attn_mask.maskedFill(key_padding_mask.unsqueeze(1).unsqueeze(1), -Infinity); // (N, 1, L, S)',
        '  attn_mask = attn_mask.expand(-1, H, -1, -1).flatten(0, 1); // (N * num_heads, L, S)',
        '  key_padding_mask = null;',
        '}',
      );
    }
    const kwargs: string[] = [];
    if (p.key_padding_mask) kwargs.push('key_padding_mask');
    kwargs.push(`need_weights: ${p.need_weights ? 'true' : 'false'}`);
    if (p.attn_mask !== 'none') kwargs.push('attn_mask');
    if (p.need_weights) kwargs.push(`average_attn_weights: ${p.average_attn_weights ? 'true' : 'false'}`);
    if (p.is_causal) kwargs.push('is_causal: true');
    forward.push(
      `const [${p.need_weights ? 'output, attn' : 'output'}] = this.mha.forward(query, key, value, { ${kwargs.join(', ')} });`,
      p.need_weights ? 'return [output, attn as Tensor];' : 'return output;',
    );
    return {
      name: 'MultiheadAttentionBlock',
      summary: 'nn.MultiheadAttention with every constructor argument exposed.',
      fields: ['mha: nn.MultiheadAttention'],
      init: [
        ...tsDivisibleGuard('embed_dim', 'num_heads'),
        'this.mha = new nn.MultiheadAttention(embed_dim, num_heads, {',
        '  dropout,',
        '  bias,',
        '  add_bias_kv,',
        '  add_zero_attn,',
        '  kdim,',
        '  vdim,',
        '  batch_first,',
        '  generator,',
        '  device,',
        '});',
      ],
      forwardArgs,
      returns: p.need_weights ? '[Tensor, Tensor]' : 'Tensor',
      forward,
    };
  },
  examples: [
    // Odd sizes, separate key/value widths, both extra key slots, (L, N, E) layout, every mask.
    { embed_dim: 6, num_heads: 3, kdim: 5, vdim: 7, batch_first: false, add_bias_kv: true, add_zero_attn: true, key_padding_mask: true, attn_mask: 'bool', average_attn_weights: false },
    { embed_dim: 6, num_heads: 3, kdim: 5, vdim: 7, add_bias_kv: true, add_zero_attn: true, key_padding_mask: true, attn_mask: 'float', need_weights: false },
    { num_heads: 1, add_zero_attn: true, key_padding_mask: true, attn_mask: 'float' },
    { kdim: 32, vdim: 16, bias: false, attn_mask: 'causal', average_attn_weights: false },
    { attn_mask: 'causal', key_padding_mask: true, add_bias_kv: true, batch_first: false, need_weights: false },
    // The is_causal hint with weights (mask used as given) and without (SDPA's causal path), also with extra key slots.
    { attn_mask: 'causal', is_causal: true },
    { attn_mask: 'causal', is_causal: true, need_weights: false },
    { attn_mask: 'causal', is_causal: true, need_weights: false, add_bias_kv: true, add_zero_attn: true, batch_first: false },
    { attn_mask: 'causal', is_causal: true, key_padding_mask: true, need_weights: false, kdim: 24 },
    { embed_dim: 1, num_heads: 1, dropout: 0.5 },
  ],
  invalid: [
    { params: { embed_dim: 100, num_heads: 8 }, message: 'embed_dim (100) must be divisible by num_heads (8): try num_heads 10, 5 or 4, or embed_dim 96 or 104', torch: 'raises' },
    { params: { is_causal: true, attn_mask: 'none' }, message: 'is_causal = true needs attn_mask = causal', torch: 'raises' },
  ],
};
