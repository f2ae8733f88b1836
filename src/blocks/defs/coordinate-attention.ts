/**
 * `coordinate-attention`: Coordinate Attention. Pools along each spatial axis
 * separately, so the channel gates keep positional information: one gate map
 * (N, C, H, 1) along the height and one (N, C, 1, W) along the width.
 */

import type { BlockDef } from '../types';

export const coordinateAttention: BlockDef = {
  id: 'coordinate-attention',
  title: 'Coordinate Attention',
  summary: 'Channel gates that keep position: pool along H and along W, shared 1×1 conv, two direction-aware gates.',
  docs: [
    'Instead of squeezing a (N, C, H, W) map to one number per channel like SE, it pools along the width, giving (N, C, H, 1), and along the height, giving (N, C, 1, W). The two are concatenated along the spatial axis (N, C, H + W, 1), compressed by a shared 1×1 conv to mip = max(8, channels // reduction) channels with BN and h-swish, split back, and turned by two 1×1 convs + sigmoid into gates along H and along W. The output is x · gate_H · gate_W, the same shape as the input.',
    'Each gate therefore says which channels matter *at which row* or *at which column*, which helps localisation (detection, segmentation) at nearly SE\'s cost. H and W need not be equal. BatchNorm needs more than one value per channel in training mode, so train with batches of at least 2.',
  ].join('\n\n'),
  citation: { title: 'Coordinate Attention for Efficient Mobile Network Design', authors: 'Hou, Zhou, Feng', year: 2021, url: 'https://arxiv.org/abs/2103.02907' },
  layout: '(N, C, H, W)',
  params: [
    { name: 'channels', type: 'int', default: 64, min: 1, main: true, doc: 'Channels C of the incoming feature map (and of the gates).' },
    { name: 'reduction', type: 'int', default: 32, min: 1, main: true, doc: 'Compression ratio of the shared 1×1 conv: mip = max(8, channels // reduction) (paper: 32).' },
  ],
  dims: [
    { name: 'N', doc: 'batch', default: 2, odd: 3 },
    { name: 'H', doc: 'height', default: 8, odd: 5 },
    { name: 'W', doc: 'width', default: 12, odd: 7 },
  ],
  validate: () => [],
  contract: () => ({
    inputs: [{ name: 'x', shape: ['N', 'channels', 'H', 'W'], doc: 'feature map (H and W may differ)' }],
    outputs: [{ name: 'output', shape: ['N', 'channels', 'H', 'W'], doc: 'feature map gated along H and along W' }],
  }),
  pytorch: () => ({
    name: 'CoordinateAttention',
    summary: 'Coordinate Attention: direction-aware channel gates along the height and the width.',
    init: [
      'mip = max(8, channels // reduction)',
      'self.conv = nn.Conv2d(channels, mip, 1)  # shared: C -> mip',
      'self.bn = nn.BatchNorm2d(mip)',
      'self.act = nn.Hardswish()',
      'self.conv_h = nn.Conv2d(mip, channels, 1)  # mip -> C, gate along H',
      'self.conv_w = nn.Conv2d(mip, channels, 1)  # mip -> C, gate along W',
    ],
    forwardArgs: [{ name: 'x', annotation: 'torch.Tensor' }],
    returns: 'torch.Tensor',
    forward: [
      'h, w = x.shape[2], x.shape[3]',
      'x_h = x.mean(dim=3, keepdim=True)  # pool along W: (N, C, H, 1)',
      'x_w = x.mean(dim=2, keepdim=True).permute(0, 1, 3, 2)  # pool along H: (N, C, 1, W) -> (N, C, W, 1)',
      'y = self.act(self.bn(self.conv(torch.cat([x_h, x_w], dim=2))))  # (N, mip, H + W, 1)',
      'y_h, y_w = torch.split(y, [h, w], dim=2)  # (N, mip, H, 1), (N, mip, W, 1)',
      'a_h = torch.sigmoid(self.conv_h(y_h))  # (N, C, H, 1)',
      'a_w = torch.sigmoid(self.conv_w(y_w.permute(0, 1, 3, 2)))  # (N, C, 1, W)',
      'return x * a_h * a_w',
    ],
  }),
  typescript: () => ({
    name: 'CoordinateAttention',
    summary: 'Coordinate Attention: direction-aware channel gates along the height and the width.',
    fields: ['conv: nn.Conv2d', 'bn: nn.BatchNorm2d', 'act: nn.Hardswish', 'conv_h: nn.Conv2d', 'conv_w: nn.Conv2d'],
    init: [
      'const mip = Math.max(8, Math.floor(channels / reduction));',
      'this.conv = new nn.Conv2d(channels, mip, 1, { generator, device }); // shared: C -> mip',
      'this.bn = new nn.BatchNorm2d(mip, { device });',
      'this.act = new nn.Hardswish();',
      'this.conv_h = new nn.Conv2d(mip, channels, 1, { generator, device }); // mip -> C, gate along H',
      'this.conv_w = new nn.Conv2d(mip, channels, 1, { generator, device }); // mip -> C, gate along W',
    ],
    forwardArgs: [{ name: 'x', type: 'Tensor' }],
    returns: 'Tensor',
    forward: [
      'const [h, w] = [x.shape[2], x.shape[3]];',
      'const x_h = x.mean(3, true); // pool along W: (N, C, H, 1)',
      'const x_w = x.mean(2, true).permute(0, 1, 3, 2); // pool along H: (N, C, 1, W) -> (N, C, W, 1)',
      'const y = this.act.forward(this.bn.forward(this.conv.forward(cat([x_h, x_w], 2)))); // (N, mip, H + W, 1)',
      'const [y_h, y_w] = y.split([h, w], 2); // (N, mip, H, 1), (N, mip, W, 1)',
      'const a_h = this.conv_h.forward(y_h).sigmoid(); // (N, C, H, 1)',
      'const a_w = this.conv_w.forward(y_w.permute(0, 1, 3, 2)).sigmoid(); // (N, C, 1, W)',
      'return x.mul(a_h).mul(a_w);',
    ],
  }),
  examples: [
    { channels: 256, reduction: 32 },
    { channels: 3, reduction: 1 },
    { channels: 1, reduction: 64 },
    { channels: 96, reduction: 4 },
  ],
  invalid: [
    { params: { reduction: 0 }, message: 'reduction (0) must be ≥ 1', torch: 'raises' },
  ],
};
