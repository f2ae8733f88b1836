/**
 * `se`: Squeeze-and-Excitation. Global average pooling squeezes each channel
 * of an (N, C, H, W) map to one number, a two-layer bottleneck MLP turns the
 * C numbers into C gates in (0, 1), and the input is rescaled channel-wise.
 */

import { reducedWidth } from '../checks';
import { reducedWidthGuard } from '../py';
import type { BlockDef } from '../types';
import { tsReducedWidthGuard } from '../ts';

/**
 * The guard matching `reducedWidth()`: `channels // reduction` must keep at
 * least one channel. (Shared by the channel blocks; a candidate for py.ts.)
 */
export const se: BlockDef = {
  id: 'se',
  title: 'Squeeze-and-Excitation (SE)',
  summary: 'Channel gating of (N, C, H, W) maps: global average pool, bottleneck MLP, sigmoid, rescale.',
  docs: [
    'Recalibrates channels. Each channel is squeezed to its spatial mean (N, C), a bottleneck MLP `C → C // reduction → C` with ReLU and a sigmoid produces one gate per channel, and the input is multiplied by the gates. Shape is unchanged, so the block drops in after any convolution (in SE-ResNet: on the residual branch, before the addition).',
    'Use it as a cheap, global "which channels matter for this image" signal. `reduction` trades parameters (2·C²/reduction) for capacity; the paper uses 16. With few channels pick a smaller reduction so that `channels // reduction` is at least 1 (better: several).',
  ].join('\n\n'),
  differences: 'The reference post\'s `batch_first=False` option (channel-first input permuted to (N, C, H, W) and back) is dropped: the block takes (N, C, H, W). Its FC layers have `bias=False`; here `bias` chooses, defaulting to PyTorch\'s bias like the authors\' released models (`bias = false` loads the post\'s checkpoints strictly).',
  citation: { title: 'Squeeze-and-Excitation Networks', authors: 'Hu, Shen, Sun', year: 2018, url: 'https://arxiv.org/abs/1709.01507' },
  layout: '(N, C, H, W)',
  params: [
    { name: 'channels', type: 'int', default: 64, min: 1, main: true, doc: 'Channels C of the incoming feature map.' },
    { name: 'reduction', type: 'int', default: 16, min: 1, main: true, doc: 'Bottleneck ratio: the MLP\'s hidden width is channels // reduction (≥ 1).' },
    { name: 'bias', type: 'bool', default: true, doc: 'Biases in the two linear layers; false matches bias-free reference checkpoints (the post\'s `bias=False`).' },
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
  pytorch: (p) => ({
    name: 'SqueezeExcitation',
    summary: 'Squeeze-and-Excitation: rescales each channel by a gate computed from global context.',
    init: [
      ...reducedWidthGuard('channels', 'reduction'),
      'hidden = channels // reduction',
      'self.fc = nn.Sequential(',
      '    nn.Linear(channels, hidden, bias=bias),  # squeeze: C -> C // reduction',
      '    nn.ReLU(inplace=True),',
      '    nn.Linear(hidden, channels, bias=bias),  # excite: C // reduction -> C',
      '    nn.Sigmoid(),',
      ')',
    ],
    forwardArgs: [{ name: 'x', annotation: 'torch.Tensor' }],
    returns: p.return_weights ? 'Tuple[torch.Tensor, torch.Tensor]' : 'torch.Tensor',
    forward: [
      'w = self.fc(x.mean(dim=(2, 3)))  # global average pool: (N, C, H, W) -> (N, C)',
      'out = x * w[:, :, None, None]  # (N, C, 1, 1) broadcasts over H, W',
      p.return_weights ? 'return out, w' : 'return out',
    ],
  }),
  typescript: (p) => ({
    name: 'SqueezeExcitation',
    summary: 'Squeeze-and-Excitation: rescales each channel by a gate computed from global context.',
    fields: ['fc: nn.Sequential'],
    init: [
      ...tsReducedWidthGuard('channels', 'reduction'),
      'const hidden = Math.floor(channels / reduction);',
      'this.fc = new nn.Sequential(',
      '  new nn.Linear(channels, hidden, { bias, generator, device }), // squeeze: C -> C // reduction',
      '  new nn.ReLU({ inplace: true }),',
      '  new nn.Linear(hidden, channels, { bias, generator, device }), // excite: C // reduction -> C',
      '  new nn.Sigmoid(),',
      ');',
    ],
    forwardArgs: [{ name: 'x', type: 'Tensor' }],
    returns: p.return_weights ? '[Tensor, Tensor]' : 'Tensor',
    forward: [
      'const w = this.fc.forward(x.mean([2, 3])); // global average pool: (N, C, H, W) -> (N, C)',
      'const out = x.mul(w.unsqueeze(2).unsqueeze(3)); // (N, C, 1, 1) broadcasts over H, W',
      p.return_weights ? 'return [out, w];' : 'return out;',
    ],
  }),
  examples: [
    { channels: 8, reduction: 2, return_weights: true },
    { channels: 3, reduction: 3, bias: false, return_weights: false },
    { channels: 1, reduction: 1, return_weights: false },
    { channels: 100, reduction: 16, return_weights: false },
  ],
  invalid: [
    { params: { channels: 8, reduction: 16 }, message: 'channels // reduction = 8 // 16 = 0 leaves no channels: use reduction ≤ 8 or channels ≥ 16', torch: 'degenerate' },
    { params: { reduction: 0 }, message: 'reduction (0) must be ≥ 1', torch: 'raises' },
  ],
};
