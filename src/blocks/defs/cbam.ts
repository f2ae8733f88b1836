/**
 * `cbam`: the Convolutional Block Attention Module — CBAM's channel gate
 * followed by its spatial gate, built from the `ChannelGate` and
 * `SpatialGate` helper classes of `cbam-channel` and `cbam-spatial`.
 */

import { reducedWidth } from '../checks';
import type { BlockDef } from '../types';
import { CBAM_CITATION, channelGateClass } from './cbam-channel';
import { oddKernel, spatialGateClass } from './cbam-spatial';
import { tsChannelGateClass } from './cbam-channel';
import { tsSpatialGateClass } from './cbam-spatial';

export const cbam: BlockDef = {
  id: 'cbam',
  title: 'CBAM (channel + spatial attention)',
  summary: 'Convolutional Block Attention Module: a channel gate, then a spatial gate, on (N, C, H, W).',
  docs: [
    'Refines a feature map along both of its axes in sequence: first *what* (a channel gate from average- and max-pooled descriptors through a shared MLP, as in `cbam-channel`), then *where* (a spatial gate from channel-wise mean and max maps through one k×k convolution, as in `cbam-spatial`). Shape is unchanged.',
    'Drop it after a convolution stage or on the residual branch of a ResNet block (see `cbam-residual`). The paper finds channel-then-spatial better than the reverse order or a parallel arrangement, k = 7 better than 3, and uses reduction 16.',
  ].join('\n\n'),
  differences: 'The reference post\'s `batch_first=False` option is dropped: the block takes (N, C, H, W). The shared MLP is `nn.Linear`, with bias unless `bias = false` (the post uses 1×1 convolutions without bias; same function on (N, C)); the spatial gate follows the paper (conv, then sigmoid) where the authors\' code adds a BatchNorm.',
  citation: CBAM_CITATION,
  layout: '(N, C, H, W)',
  params: [
    { name: 'channels', type: 'int', default: 64, min: 1, main: true, doc: 'Channels C of the incoming feature map.' },
    { name: 'reduction', type: 'int', default: 16, min: 1, main: true, doc: 'Bottleneck ratio of the channel gate\'s MLP: hidden width channels // reduction (≥ 1).' },
    { name: 'kernel_size', type: 'int', default: 7, min: 1, max: 31, doc: 'Odd size of the spatial gate\'s convolution (paper: 7).' },
    { name: 'bias', type: 'bool', default: true, doc: 'Biases in the channel gate\'s MLP; false matches bias-free reference checkpoints.' },
  ],
  dims: [
    { name: 'N', doc: 'batch', default: 2, odd: 3 },
    { name: 'H', doc: 'height', default: 8, odd: 5 },
    { name: 'W', doc: 'width', default: 8, odd: 7 },
  ],
  validate: (p) => [
    ...reducedWidth('channels', p.channels as number, 'reduction', p.reduction as number),
    ...oddKernel(p.kernel_size as number),
  ],
  contract: () => ({
    inputs: [{ name: 'x', shape: ['N', 'channels', 'H', 'W'], doc: 'feature map' }],
    outputs: [{ name: 'output', shape: ['N', 'channels', 'H', 'W'], doc: 'refined feature map' }],
  }),
  pytorch: () => ({
    name: 'CBAM',
    summary: 'Convolutional Block Attention Module: channel gate, then spatial gate.',
    helpers: [channelGateClass({ main: false, returnWeights: false }), spatialGateClass({ main: false, returnWeights: false })],
    init: [
      'self.channel_gate = ChannelGate(channels, reduction, bias)',
      'self.spatial_gate = SpatialGate(kernel_size)',
    ],
    forwardArgs: [{ name: 'x', annotation: 'torch.Tensor' }],
    returns: 'torch.Tensor',
    forward: [
      'x = self.channel_gate(x)  # what: reweight channels',
      'return self.spatial_gate(x)  # where: reweight positions',
    ],
  }),
  typescript: () => ({
    name: 'CBAM',
    summary: 'Convolutional Block Attention Module: channel gate, then spatial gate.',
    helpers: [tsChannelGateClass({ main: false, returnWeights: false }), tsSpatialGateClass({ main: false, returnWeights: false })],
    fields: ['channel_gate: ChannelGate', 'spatial_gate: SpatialGate'],
    init: [
      'this.channel_gate = new ChannelGate(channels, reduction, bias, { generator, device });',
      'this.spatial_gate = new SpatialGate(kernel_size, { generator, device });',
    ],
    forwardArgs: [{ name: 'x', type: 'Tensor' }],
    returns: 'Tensor',
    forward: [
      'x = this.channel_gate.forward(x); // what: reweight channels',
      'return this.spatial_gate.forward(x); // where: reweight positions',
    ],
  }),
  examples: [
    { channels: 32, reduction: 8, kernel_size: 3 },
    { channels: 3, reduction: 3, kernel_size: 5, bias: false },
    { channels: 1, reduction: 1, kernel_size: 1 },
  ],
  invalid: [
    { params: { channels: 8, reduction: 16 }, message: 'channels // reduction = 8 // 16 = 0 leaves no channels: use reduction ≤ 8 or channels ≥ 16', torch: 'degenerate' },
    { params: { kernel_size: 6 }, message: 'kernel_size (6) must be odd so that padding kernel_size // 2 keeps H and W: try 5 or 7', torch: 'raises' },
  ],
};
