/**
 * `sagan-spatial`: the SAGAN self-attention layer — every pixel of an
 * (N, C, H, W) feature map attends to every other pixel through 1×1-conv
 * query/key projections of width C // k, and the result is added back to the
 * input scaled by a learned gamma that starts at zero.
 */

import { reducedWidth } from '../checks';
import { reducedWidthGuard } from '../py';
import type { BlockDef } from '../types';
import { tsReducedWidthGuard } from '../ts';

export const saganSpatial: BlockDef = {
  id: 'sagan-spatial',
  title: 'SAGAN spatial self-attention',
  summary: 'Pixel-to-pixel self-attention over (N, C, H, W) maps with a zero-initialised gamma residual (SAGAN).',
  docs: [
    'Self-attention across all H·W positions of a convolutional feature map, as in Self-Attention GANs. Queries and keys are 1×1 convolutions down to C // k channels, values a 1×1 convolution keeping all C channels; the attention map (N, HW, HW) is a softmax over keys, and the attended values are added to the input as `gamma * out + x`.',
    '`gamma` is a learned scalar initialised to zero, so the layer starts as the identity and the network learns how much non-local evidence to mix in — it can be dropped into a pretrained CNN without disturbing it. Use it on low-resolution feature maps: the attention map costs (H·W)² memory per image (a 64×64 map already needs 16.7M entries).',
    '`in_channels` must be the channel count C of the incoming features, and `in_channels // k` must leave at least one channel. `spectral_norm` wraps the three convolutions in spectral normalisation, as SAGAN does in both the generator and the discriminator.',
  ].join('\n\n'),
  differences: [
    'The reference post\'s Self_Attn_Spatial takes the query/key width `out_dim` directly; here it is `in_channels // k` (k = 8 as in the paper) and validated to be at least 1 — with 0 channels the convolution fails only at the first forward pass.',
    'The post names the spatial dims `width, height` although PyTorch lays them out (N, C, H, W); the code was still correct because it unpacks and re-packs them in the same order. Here they are `h, w`, and the reshapes use `flatten(2)` / `transpose` instead of `view` + `permute` on the conv output.',
    'Like the post and the widely used PyTorch port, the value path is one C→C 1×1 conv; the paper\'s formulation routes values through a C/k bottleneck (W_h) followed by an output 1×1 conv (W_v).',
  ].join(' '),
  citation: { title: 'Self-Attention Generative Adversarial Networks', authors: 'Zhang, Goodfellow, Metaxas, Odena', year: 2019, url: 'https://arxiv.org/abs/1805.08318' },
  layout: '(N, C, H, W)',
  params: [
    { name: 'in_channels', type: 'int', default: 64, min: 1, main: true, doc: 'Channels C of the incoming feature map.' },
    { name: 'k', type: 'int', default: 8, min: 1, doc: 'Query/key reduction: they have in_channels // k channels (8 in the paper).' },
    { name: 'spectral_norm', type: 'bool', default: false, doc: 'Wrap the query, key and value convolutions in spectral normalisation (as SAGAN does).' },
  ],
  dims: [
    { name: 'N', doc: 'batch', default: 2, odd: 3 },
    { name: 'H', doc: 'height', default: 8, odd: 5 },
    { name: 'W', doc: 'width', default: 6, odd: 7 },
  ],
  validate: (p) => reducedWidth('in_channels', p.in_channels as number, 'k', p.k as number),
  contract: () => ({
    inputs: [{ name: 'x', shape: ['N', 'in_channels', 'H', 'W'], doc: 'feature map' }],
    outputs: [
      { name: 'output', shape: ['N', 'in_channels', 'H', 'W'], doc: 'gamma * attention + x, same layout' },
      { name: 'attn', shape: ['N', 'H * W', 'H * W'], doc: 'attention of each query pixel (row) over all key pixels (columns); rows sum to 1' },
    ],
  }),
  pytorch: () => ({
    name: 'SAGANSelfAttention',
    summary: 'SAGAN self-attention over the pixels of an (N, C, H, W) feature map.',
    init: [
      ...reducedWidthGuard('in_channels', 'k'),
      'sn = nn.utils.parametrizations.spectral_norm if spectral_norm else (lambda m: m)',
      'self.query_conv = sn(nn.Conv2d(in_channels, in_channels // k, kernel_size=1))',
      'self.key_conv = sn(nn.Conv2d(in_channels, in_channels // k, kernel_size=1))',
      'self.value_conv = sn(nn.Conv2d(in_channels, in_channels, kernel_size=1))',
      '# Starts at 0: the layer is the identity until training gives attention a weight.',
      'self.gamma = nn.Parameter(torch.zeros(1))',
    ],
    forwardArgs: [{ name: 'x', annotation: 'torch.Tensor' }],
    returns: 'Tuple[torch.Tensor, torch.Tensor]',
    forward: [
      'n, c, h, w = x.shape',
      'query = self.query_conv(x).flatten(2).transpose(1, 2)  # (N, C // k, H, W) -> (N, HW, C // k)',
      'key = self.key_conv(x).flatten(2)  # (N, C // k, H, W) -> (N, C // k, HW)',
      'energy = torch.bmm(query, key)  # (N, HW, HW): energy[:, i, j] = q_i · k_j',
      'attn = F.softmax(energy, dim=-1)  # normalise over the keys j',
      'value = self.value_conv(x).flatten(2)  # (N, C, H, W) -> (N, C, HW)',
      'out = torch.bmm(value, attn.transpose(1, 2))  # (N, C, HW): column i = sum_j attn[i, j] * v_j',
      'out = out.reshape(n, c, h, w)  # (N, C, HW) -> (N, C, H, W)',
      'return self.gamma * out + x, attn',
    ],
  }),
  typescript: () => ({
    name: 'SAGANSelfAttention',
    summary: 'SAGAN self-attention over the pixels of an (N, C, H, W) feature map.',
    fields: ['query_conv: nn.Conv2d', 'key_conv: nn.Conv2d', 'value_conv: nn.Conv2d', 'gamma: nn.Parameter'],
    init: [
      ...tsReducedWidthGuard('in_channels', 'k'),
      'const sn = spectral_norm ? nn.utils.spectralNorm : <M extends nn.Module>(m: M, _o?: object): M => m;',
      'this.query_conv = sn(new nn.Conv2d(in_channels, Math.floor(in_channels / k), 1, { generator, device }), { generator });',
      'this.key_conv = sn(new nn.Conv2d(in_channels, Math.floor(in_channels / k), 1, { generator, device }), { generator });',
      'this.value_conv = sn(new nn.Conv2d(in_channels, in_channels, 1, { generator, device }), { generator });',
      '// Starts at 0: the layer is the identity until training gives attention a weight.',
      'this.gamma = new nn.Parameter(zeros([1], { device }));',
    ],
    forwardArgs: [{ name: 'x', type: 'Tensor' }],
    returns: '[Tensor, Tensor]',
    forward: [
      'const [n, c, h, w] = x.shape;',
      'const query = this.query_conv.forward(x).flatten(2).transpose(1, 2); // (N, C // k, H, W) -> (N, HW, C // k)',
      'const key = this.key_conv.forward(x).flatten(2); // (N, C // k, H, W) -> (N, C // k, HW)',
      'const energy = query.bmm(key); // (N, HW, HW): energy[:, i, j] = q_i · k_j',
      'const attn = F.softmax(energy, -1); // normalise over the keys j',
      'const value = this.value_conv.forward(x).flatten(2); // (N, C, H, W) -> (N, C, HW)',
      'let out = value.bmm(attn.transpose(1, 2)); // (N, C, HW): column i = sum_j attn[i, j] * v_j',
      'out = out.reshape(n, c, h, w); // (N, C, HW) -> (N, C, H, W)',
      'return [this.gamma.mul(out).add(x), attn];',
    ],
  }),
  examples: [
    { in_channels: 8, k: 8 },
    { in_channels: 3, k: 1 },
    { in_channels: 10, k: 3, spectral_norm: true },
    { in_channels: 1, k: 1 },
  ],
  invalid: [
    { params: { in_channels: 4, k: 8 }, message: 'in_channels // k = 4 // 8 = 0 leaves no channels: use k ≤ 4 or in_channels ≥ 8', torch: 'raises' },
  ],
};
