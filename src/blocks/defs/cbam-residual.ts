/**
 * `cbam-residual`: a ResNet basic block with CBAM on its residual branch —
 * two 3×3 conv + BN layers (the first strided), CBAM's channel and spatial
 * gates, then the addition with the shortcut (identity, or a strided 1×1
 * conv + BN when the shape changes) and a ReLU. Reuses the `ChannelGate`
 * and `SpatialGate` helper classes.
 */

import { reducedWidth } from '../checks';
import type { BlockDef } from '../types';
import { CBAM_CITATION, channelGateClass } from './cbam-channel';
import { oddKernel, oddKernelGuard, spatialGateClass } from './cbam-spatial';
import { reducedWidthGuard } from '../py';
import { tsReducedWidthGuard } from '../ts';
import { tsChannelGateClass } from './cbam-channel';
import { tsOddKernelGuard, tsSpatialGateClass } from './cbam-spatial';

export const cbamResidual: BlockDef = {
  id: 'cbam-residual',
  title: 'ResNet block with CBAM',
  summary: 'ResNet basic block (two 3×3 conv + BN, optional stride) with CBAM before the residual addition.',
  docs: [
    'A drop-in residual stage: `conv3×3(stride) → BN → ReLU → conv3×3 → BN → channel gate → spatial gate`, added to the shortcut and passed through a ReLU. This is how the CBAM paper integrates the module into ResNet: the gates refine the residual branch, not the sum.',
    'The shortcut is the identity when `stride` is 1 and `in_channels == out_channels`; otherwise it is a strided 1×1 convolution + BatchNorm (ResNet\'s projection shortcut), so both paths give (N, out_channels, (H - 1) // stride + 1, (W - 1) // stride + 1). Use `stride` 2 with `out_channels = 2 * in_channels` to downsample like a ResNet stage transition.',
    'BatchNorm needs more than one value per channel in training mode, so train with batches of at least 2 (or maps larger than 1×1).',
  ].join('\n\n'),
  differences: [
    'The reference post\'s `CBAtten_Res` has bugs this block avoids: its shortcut pools with `nn.MaxPool2d(3, stride=stride, padding=kernel_size // 2)`, which raises "pad should be at most half of kernel size" for the kernel sizes 5 and 7 its docstring offers; and its main convolution reuses the spatial gate\'s `kernel_size`.',
    'It also differs by design: the post uses a single conv + BN + ReLU before the gates and always projects the shortcut (max-pool + 1×1 conv without BN), and has a `batch_first=False` option. This block follows the paper and the authors\' code (ResNet basic block: two 3×3 convs, identity shortcut when shapes match, strided 1×1 conv + BN otherwise) and takes (N, C, H, W).',
  ].join(' '),
  citation: CBAM_CITATION,
  layout: '(N, C, H, W)',
  params: [
    { name: 'in_channels', type: 'int', default: 64, min: 1, main: true, doc: 'Channels of the incoming feature map.' },
    { name: 'out_channels', type: 'int', default: 64, min: 1, main: true, doc: 'Channels of the output (and of the gates).' },
    { name: 'stride', type: 'int', default: 1, min: 1, max: 4, doc: 'Stride of the first 3×3 conv and of the projection shortcut; 2 halves H and W.' },
    { name: 'reduction', type: 'int', default: 16, min: 1, doc: 'Bottleneck ratio of the channel gate\'s MLP: hidden width out_channels // reduction (≥ 1).' },
    { name: 'kernel_size', type: 'int', default: 7, min: 1, max: 31, doc: 'Odd size of the spatial gate\'s convolution (paper: 7; 3 is the other size it compares).' },
    { name: 'bias', type: 'bool', default: true, doc: 'Biases in the channel gate\'s MLP; false matches bias-free reference checkpoints.' },
  ],
  dims: [
    { name: 'N', doc: 'batch', default: 2, odd: 3 },
    { name: 'H', doc: 'height', default: 8, odd: 5 },
    { name: 'W', doc: 'width', default: 8, odd: 7 },
  ],
  validate: (p) => [
    ...reducedWidth('out_channels', p.out_channels as number, 'reduction', p.reduction as number),
    ...oddKernel(p.kernel_size as number),
  ],
  contract: () => ({
    inputs: [{ name: 'x', shape: ['N', 'in_channels', 'H', 'W'], doc: 'feature map' }],
    outputs: [{ name: 'output', shape: ['N', 'out_channels', '(H - 1) // stride + 1', '(W - 1) // stride + 1'], doc: 'refined, possibly downsampled feature map' }],
  }),
  pytorch: () => ({
    name: 'CBAMResidualBlock',
    summary: 'ResNet basic block with CBAM (channel then spatial gate) on the residual branch.',
    helpers: [channelGateClass({ main: false, returnWeights: false }), spatialGateClass({ main: false, returnWeights: false })],
    init: [
      ...reducedWidthGuard('out_channels', 'reduction'),
      ...oddKernelGuard(),
      '# H -> (H - 1) // stride + 1 (3x3, padding 1)',
      'self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)',
      'self.bn1 = nn.BatchNorm2d(out_channels)',
      'self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)',
      'self.bn2 = nn.BatchNorm2d(out_channels)',
      'self.relu = nn.ReLU(inplace=True)',
      'self.channel_gate = ChannelGate(out_channels, reduction, bias)',
      'self.spatial_gate = SpatialGate(kernel_size)',
      'if stride != 1 or in_channels != out_channels:',
      '    # projection: a strided 1x1 conv gives the same (N, out_channels, H\', W\') as the branch',
      '    self.shortcut = nn.Sequential(',
      '        nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),',
      '        nn.BatchNorm2d(out_channels),',
      '    )',
      'else:',
      '    self.shortcut = nn.Identity()',
    ],
    forwardArgs: [{ name: 'x', annotation: 'torch.Tensor' }],
    returns: 'torch.Tensor',
    forward: [
      'out = self.relu(self.bn1(self.conv1(x)))  # (N, out_channels, H\', W\')',
      'out = self.bn2(self.conv2(out))',
      'out = self.spatial_gate(self.channel_gate(out))  # CBAM refines the residual branch',
      'return self.relu(out + self.shortcut(x))',
    ],
  }),
  typescript: () => ({
    name: 'CBAMResidualBlock',
    summary: 'ResNet basic block with CBAM (channel then spatial gate) on the residual branch.',
    helpers: [tsChannelGateClass({ main: false, returnWeights: false }), tsSpatialGateClass({ main: false, returnWeights: false })],
    fields: ['conv1: nn.Conv2d', 'bn1: nn.BatchNorm2d', 'conv2: nn.Conv2d', 'bn2: nn.BatchNorm2d', 'relu: nn.ReLU', 'channel_gate: ChannelGate', 'spatial_gate: SpatialGate', 'shortcut: nn.Sequential | nn.Identity'],
    init: [
      ...tsReducedWidthGuard('out_channels', 'reduction'),
      ...tsOddKernelGuard(),
      "// H -> (H - 1) // stride + 1 (3x3, padding 1)",
      'this.conv1 = new nn.Conv2d(in_channels, out_channels, 3, { stride, padding: 1, bias: false, generator, device });',
      'this.bn1 = new nn.BatchNorm2d(out_channels, { device });',
      'this.conv2 = new nn.Conv2d(out_channels, out_channels, 3, { padding: 1, bias: false, generator, device });',
      'this.bn2 = new nn.BatchNorm2d(out_channels, { device });',
      'this.relu = new nn.ReLU({ inplace: true });',
      'this.channel_gate = new ChannelGate(out_channels, reduction, bias, { generator, device });',
      'this.spatial_gate = new SpatialGate(kernel_size, { generator, device });',
      'if (stride !== 1 || in_channels !== out_channels) {',
      "  // projection: a strided 1x1 conv gives the same (N, out_channels, H', W') as the branch",
      '  this.shortcut = new nn.Sequential(',
      '    new nn.Conv2d(in_channels, out_channels, 1, { stride, bias: false, generator, device }),',
      '    new nn.BatchNorm2d(out_channels, { device }),',
      '  );',
      '} else {',
      '  this.shortcut = new nn.Identity();',
      '}',
    ],
    forwardArgs: [{ name: 'x', type: 'Tensor' }],
    returns: 'Tensor',
    forward: [
      "let out = this.relu.forward(this.bn1.forward(this.conv1.forward(x))); // (N, out_channels, H', W')",
      'out = this.bn2.forward(this.conv2.forward(out));',
      'out = this.spatial_gate.forward(this.channel_gate.forward(out)); // CBAM refines the residual branch',
      'return this.relu.forward(out.add(this.shortcut.forward(x)));',
    ],
  }),
  examples: [
    { in_channels: 8, out_channels: 16, stride: 1, reduction: 2, kernel_size: 3 },
    { in_channels: 8, out_channels: 16, stride: 2, reduction: 2, kernel_size: 7 },
    { in_channels: 16, out_channels: 16, stride: 2, reduction: 4, kernel_size: 3, bias: false },
    { in_channels: 3, out_channels: 5, stride: 3, reduction: 5, kernel_size: 1 },
    { in_channels: 64, out_channels: 128, stride: 2, reduction: 16, kernel_size: 7 },
  ],
  invalid: [
    { params: { out_channels: 8, reduction: 16 }, message: 'out_channels // reduction = 8 // 16 = 0 leaves no channels: use reduction ≤ 8 or out_channels ≥ 16', torch: 'degenerate' },
    { params: { kernel_size: 4 }, message: 'kernel_size (4) must be odd so that padding kernel_size // 2 keeps H and W: try 3 or 5', torch: 'raises' },
  ],
};
