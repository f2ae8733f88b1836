/**
 * `channel-self-attention`: DANet's channel attention module — a C×C
 * attention map between the channels of an (N, C, H, W) feature map computed
 * from the features themselves (no projections), mixed back into the input
 * through a zero-initialised gamma.
 */

import type { BlockDef } from '../types';

export const channelSelfAttention: BlockDef = {
  id: 'channel-self-attention',
  title: 'Channel self-attention (DANet CAM)',
  summary: 'C×C self-attention between the channels of (N, C, H, W) maps, gamma residual (DANet channel attention).',
  docs: [
    'Models dependencies between channels rather than pixels: each channel is flattened to an H·W vector, the energy is the Gram matrix X·Xᵀ (N, C, C), a softmax turns each row into weights, and every output channel is a weighted sum of all input channels, added to the input as `gamma * out + x`. `gamma` is a learned scalar initialised to zero, so the block starts as the identity. It has no projections, so it works for any channel count and costs C² per image regardless of resolution — cheap next to pixel attention on large maps. DANet runs it in parallel with a position (pixel) attention module and sums the two.',
    '`energy` chooses what the softmax sees. `max_minus` is the official DANet code: `max(E, dim=-1) - E`. Because softmax is invariant to a per-row shift, this equals `softmax(-E)`: each channel draws most from the channels it is *least* correlated with (the max subtraction is not a numerical-stability trick — softmax already does that). `plain` is `softmax(E)`, ordinary similarity attention, in which each channel mostly attends to itself (its own Gram entry, ‖x_i‖², is usually the largest). Neither is scaled, so on large, high-magnitude maps the weights saturate toward one-hot.',
  ].join('\n\n'),
  differences: [
    'The reference post\'s Self_Attn_Channel is the author\'s own variant, not DANet: it adds 1×1 query/key/value convolutions to `out_dim` channels, applies plain `softmax(E)` (no max subtraction), and adds a fourth 1×1 conv of the input as the residual (`gamma * out + x_conv(x)`).',
    'That residual is a bug in spirit: with gamma = 0 the block outputs a random projection of x instead of x, so it does not start as the identity and cannot be inserted into a pretrained network; here the residual is x itself, as in DANet.',
    'The default `energy` here is DANet\'s `max_minus`; `plain` reproduces the post\'s softmax (without its projections).',
  ].join(' '),
  citation: { title: 'Dual Attention Network for Scene Segmentation', authors: 'Fu, Liu, Tian, Li, Bao, Fang, Lu', year: 2019, url: 'https://arxiv.org/abs/1809.02983' },
  layout: '(N, C, H, W)',
  params: [
    {
      name: 'energy',
      type: 'enum',
      default: 'max_minus',
      choices: ['max_minus', 'plain'],
      baked: true,
      doc: "What the softmax normalises: 'max_minus' = max(E) - E as in DANet's code (equivalent to softmax(-E)); 'plain' = softmax(E).",
    },
  ],
  dims: [
    { name: 'N', doc: 'batch', default: 2, odd: 3 },
    { name: 'C', doc: 'channels (any number; the block has no projections)', default: 16, odd: 5 },
    { name: 'H', doc: 'height', default: 8, odd: 5 },
    { name: 'W', doc: 'width', default: 6, odd: 7 },
  ],
  validate: () => [],
  contract: () => ({
    inputs: [{ name: 'x', shape: ['N', 'C', 'H', 'W'], doc: 'feature map' }],
    outputs: [
      { name: 'output', shape: ['N', 'C', 'H', 'W'], doc: 'gamma * attention + x, same layout' },
      { name: 'attn', shape: ['N', 'C', 'C'], doc: 'weights of each output channel (row) over the input channels (columns); rows sum to 1' },
    ],
  }),
  pytorch: (p) => ({
    name: 'ChannelSelfAttention',
    summary: 'Channel self-attention (DANet CAM) over an (N, C, H, W) feature map.',
    init: [
      '# Starts at 0: the block is the identity until training gives attention a weight.',
      'self.gamma = nn.Parameter(torch.zeros(1))',
    ],
    forwardArgs: [{ name: 'x', annotation: 'torch.Tensor' }],
    returns: 'Tuple[torch.Tensor, torch.Tensor]',
    forward: [
      'n, c, h, w = x.shape',
      'feat = x.flatten(2)  # (N, C, H, W) -> (N, C, HW)',
      'energy = torch.bmm(feat, feat.transpose(1, 2))  # (N, C, C): energy[:, i, j] = x_i · x_j',
      ...(p.energy === 'max_minus'
        ? [
            "# DANet: max - energy. Softmax ignores a per-row shift, so this is softmax(-energy):",
            '# each channel draws most from the channels least correlated with it.',
            'energy = torch.amax(energy, dim=-1, keepdim=True) - energy',
          ]
        : []),
      'attn = F.softmax(energy, dim=-1)  # (N, C, C), rows sum to 1',
      'out = torch.bmm(attn, feat).reshape(n, c, h, w)  # (N, C, HW) -> (N, C, H, W)',
      'return self.gamma * out + x, attn',
    ],
  }),
  typescript: (p) => ({
    name: 'ChannelSelfAttention',
    summary: 'Channel self-attention (DANet CAM) over an (N, C, H, W) feature map.',
    fields: ['gamma: nn.Parameter'],
    init: [
      '// Starts at 0: the block is the identity until training gives attention a weight.',
      'this.gamma = new nn.Parameter(zeros([1], { device }));',
      'void generator;',
    ],
    forwardArgs: [{ name: 'x', type: 'Tensor' }],
    returns: '[Tensor, Tensor]',
    forward: [
      'const [n, c, h, w] = x.shape;',
      'const feat = x.flatten(2); // (N, C, H, W) -> (N, C, HW)',
      'let energy = feat.bmm(feat.transpose(1, 2)); // (N, C, C): energy[:, i, j] = x_i · x_j',
      ...(p.energy === 'max_minus'
        ? [
            '// DANet: max - energy. Softmax ignores a per-row shift, so this is softmax(-energy):',
            '// each channel draws most from the channels least correlated with it.',
            'energy = energy.amax(-1, true).sub(energy);',
          ]
        : []),
      'const attn = F.softmax(energy, -1); // (N, C, C), rows sum to 1',
      'const out = attn.bmm(feat).reshape(n, c, h, w); // (N, C, HW) -> (N, C, H, W)',
      'return [this.gamma.mul(out).add(x), attn];',
    ],
  }),
  examples: [{ energy: 'plain' }],
  // No parameter combination is invalid: the block has no widths to get wrong.
  invalid: [],
};
