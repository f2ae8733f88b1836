/**
 * `cbam-channel`: CBAM's channel attention module. Average- and max-pooled
 * channel descriptors go through one shared bottleneck MLP; their sum, through
 * a sigmoid, gates the channels. `channelGateClass()` is also the helper class
 * the `cbam` and `cbam-residual` blocks build on.
 */

import { reducedWidth } from '../checks';
import type { BlockDef, PyClassSpec } from '../types';
import { reducedWidthGuard } from '../py';
import { tsReducedWidthGuard } from '../ts';
import type { TsClassSpec } from '../types';

export const CBAM_CITATION = {
  title: 'CBAM: Convolutional Block Attention Module',
  authors: 'Woo, Park, Lee, Kweon',
  year: 2018,
  url: 'https://arxiv.org/abs/1807.06521',
} as const;

/**
 * The `ChannelGate` class. As a helper (`main: false`) it takes
 * `(channels, reduction=16)`; as a block's main class its arguments are the
 * block's parameters.
 */
export function channelGateClass(opts: { main: boolean; returnWeights: boolean }): PyClassSpec {
  return {
    name: 'ChannelGate',
    summary: 'CBAM channel attention: gates channels from average- and max-pooled descriptors via a shared MLP.',
    ...(opts.main ? {} : {
      initArgs: [
        { name: 'channels', annotation: 'int' },
        { name: 'reduction', annotation: 'int', default: '16' },
        { name: 'bias', annotation: 'bool', default: 'True' },
      ],
      doc: ['Shape: (N, C, H, W) -> (N, C, H, W).'],
    }),
    init: [
      ...reducedWidthGuard('channels', 'reduction'),
      'hidden = channels // reduction',
      'self.mlp = nn.Sequential(  # shared by both descriptors',
      '    nn.Linear(channels, hidden, bias=bias),  # C -> C // reduction',
      '    nn.ReLU(inplace=True),',
      '    nn.Linear(hidden, channels, bias=bias),  # C // reduction -> C',
      ')',
    ],
    forwardArgs: [{ name: 'x', annotation: 'torch.Tensor' }],
    returns: opts.returnWeights ? 'Tuple[torch.Tensor, torch.Tensor]' : 'torch.Tensor',
    forward: [
      'avg = self.mlp(x.mean(dim=(2, 3)))  # average-pooled descriptor: (N, C, H, W) -> (N, C)',
      'mx = self.mlp(x.amax(dim=(2, 3)))  # max-pooled descriptor: (N, C)',
      'w = torch.sigmoid(avg + mx)  # (N, C)',
      'out = x * w[:, :, None, None]  # (N, C, 1, 1) broadcasts over H, W',
      opts.returnWeights ? 'return out, w' : 'return out',
    ],
  };
}

export const cbamChannel: BlockDef = {
  id: 'cbam-channel',
  title: 'CBAM channel attention',
  summary: 'CBAM\'s channel gate: avg- and max-pooled descriptors through a shared MLP, sigmoid, rescale.',
  docs: [
    'The first half of CBAM. Every channel of the (N, C, H, W) map is summarised twice, by its spatial mean and its spatial max; both (N, C) descriptors pass through the same bottleneck MLP `C → C // reduction → C`, the two results are added, and a sigmoid turns them into one gate per channel. Shape is unchanged.',
    'Compared with SE, the extra max-pooled descriptor keeps information about the most salient activation of each channel, which the paper finds helps. Use `cbam` for the full module (channel then spatial gate).',
  ].join('\n\n'),
  differences: 'The reference post\'s `batch_first=False` option is dropped: the block takes (N, C, H, W). Its shared MLP is written with 1×1 convolutions without bias; here it is `nn.Linear` (the same function on (N, C)), with bias by default as in the authors\' code, and without it for `bias = false`.',
  citation: CBAM_CITATION,
  layout: '(N, C, H, W)',
  params: [
    { name: 'channels', type: 'int', default: 64, min: 1, main: true, doc: 'Channels C of the incoming feature map.' },
    { name: 'reduction', type: 'int', default: 16, min: 1, main: true, doc: 'Bottleneck ratio of the shared MLP: hidden width channels // reduction (≥ 1).' },
    { name: 'bias', type: 'bool', default: true, doc: 'Biases in the shared MLP\'s linear layers; false matches bias-free reference checkpoints.' },
    { name: 'return_weights', type: 'bool', default: false, baked: true, doc: 'Also return the channel gates (N, C) for inspection.' },
  ],
  dims: [
    { name: 'N', doc: 'batch', default: 2, odd: 3 },
    { name: 'H', doc: 'height', default: 8, odd: 5 },
    { name: 'W', doc: 'width', default: 8, odd: 7 },
  ],
  validate: (p) => reducedWidth('channels', p.channels as number, 'reduction', p.reduction as number),
  contract: (p) => ({
    inputs: [{ name: 'x', shape: ['N', 'channels', 'H', 'W'], doc: 'feature map' }],
    outputs: [
      { name: 'output', shape: ['N', 'channels', 'H', 'W'], doc: 'channel-reweighted feature map' },
      ...(p.return_weights ? [{ name: 'attn', shape: ['N', 'channels'], doc: 'channel gates in (0, 1)' }] : []),
    ],
  }),
  pytorch: (p) => channelGateClass({ main: true, returnWeights: p.return_weights === true }),
  typescript: (p) => tsChannelGateClass({ main: true, returnWeights: p.return_weights === true }),
  examples: [
    { channels: 32, reduction: 4, return_weights: true },
    { channels: 3, reduction: 2, bias: false },
    { channels: 1, reduction: 1 },
  ],
  invalid: [
    { params: { channels: 8, reduction: 16 }, message: 'channels // reduction = 8 // 16 = 0 leaves no channels: use reduction ≤ 8 or channels ≥ 16', torch: 'degenerate' },
    { params: { reduction: 0 }, message: 'reduction (0) must be ≥ 1', torch: 'raises' },
  ],
};

/** The `ChannelGate` class for the TypeScript runtime, mirroring `channelGateClass`. */
export function tsChannelGateClass(opts: { main: boolean; returnWeights: boolean }): TsClassSpec {
  return {
    name: 'ChannelGate',
    summary: 'CBAM channel attention: gates channels from average- and max-pooled descriptors via a shared MLP.',
    ...(opts.main ? {} : { ctorArgs: [{ name: 'channels', type: 'number' }, { name: 'reduction', type: 'number', default: '16' }, { name: 'bias', type: 'boolean', default: 'true' }] }),
    fields: ['mlp: nn.Sequential'],
    init: [
      ...tsReducedWidthGuard('channels', 'reduction'),
      'const hidden = Math.floor(channels / reduction);',
      'this.mlp = new nn.Sequential( // shared by both descriptors',
      '  new nn.Linear(channels, hidden, { bias, generator, device }), // C -> C // reduction',
      '  new nn.ReLU({ inplace: true }),',
      '  new nn.Linear(hidden, channels, { bias, generator, device }), // C // reduction -> C',
      ');',
    ],
    forwardArgs: [{ name: 'x', type: 'Tensor' }],
    returns: opts.returnWeights ? '[Tensor, Tensor]' : 'Tensor',
    forward: [
      'const avg = this.mlp.forward(x.mean([2, 3])); // average-pooled descriptor: (N, C, H, W) -> (N, C)',
      'const mx = this.mlp.forward(x.amax([2, 3])); // max-pooled descriptor: (N, C)',
      'const w = avg.add(mx).sigmoid(); // (N, C)',
      'const out = x.mul(w.unsqueeze(2).unsqueeze(3)); // (N, C, 1, 1) broadcasts over H, W',
      opts.returnWeights ? 'return [out, w];' : 'return out;',
    ],
  };
}
