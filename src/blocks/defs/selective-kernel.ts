/**
 * `selective-kernel`: SKNet's selective kernel convolution. M grouped conv
 * branches with growing receptive fields (split), their sum pooled to a
 * compact descriptor (fuse), and a per-channel softmax across the branches
 * that weights them (select).
 */

import { divisible } from '../checks';
import { divisibleGuard } from '../py';
import type { BlockDef } from '../types';
import { tsDivisibleGuard } from '../ts';

export const selectiveKernel: BlockDef = {
  id: 'selective-kernel',
  title: 'Selective Kernel convolution (SKNet)',
  summary: 'M conv branches with growing receptive fields, mixed per channel by a softmax attention across branches.',
  docs: [
    'Lets each channel choose its receptive field. **Split:** M branches convolve the (N, C, H, W) input with 3×3 grouped convolutions of dilation 1, 2, …, M (receptive fields 3×3, 5×5, 7×7…), each followed by BN and ReLU. **Fuse:** the branch outputs are summed and globally average-pooled to (N, C), then compressed by a fully connected layer + BN + ReLU to d = max(channels // reduction, L). **Select:** one FC per branch maps the d-vector back to C logits; a softmax across the M branches (per channel) gives weights that sum to 1, and the output is the weighted sum of the branches.',
    'Branch i uses a dilated 3×3 kernel (dilation and padding 1 + i) rather than a (3 + 2i)×(3 + 2i) kernel: the paper does the same for its 5×5 branch, for the same receptive field at the cost of a 3×3. Padding 1 + i keeps every branch at the same size, (H - 1) // stride + 1 by (W - 1) // stride + 1, so `stride` 2 downsamples. Channels are kept (C in, C out); `G` groups must divide `channels`.',
    'Use it in place of a 3×3 convolution in a ResNeXt-style bottleneck when objects appear at varying scales. BatchNorm needs more than one value per channel in training mode, so train with batches of at least 2.',
  ].join('\n\n'),
  differences: [
    'The reference post\'s `SKEConv` has bugs this block fixes: it stores `self.M = 2` whatever `M` is passed (its loops use `M`, so the attribute misreports the branch count); its `batch_first=False` path calls `x.permutation(1, 0, 2, 3)`, which does not exist on tensors (AttributeError; the method is `permute`); and the output shape it prints for `SKEConv(8, stride=2)` on a (4, 8, 20, 20) input, `[4, 16, 10, 10]`, is wrong: the convolutions keep in_channels = 8, so the output is (4, 8, 10, 10).',
    'By design, branch i here is a dilated 3×3 conv (the post uses kernel 3 + 2i with padding 1 + i, the same output size at more cost), the compression FC is followed by BN + ReLU as in the paper (the post has a bare Linear), and the `batch_first` option is dropped: the block takes (N, C, H, W).',
  ].join(' '),
  citation: { title: 'Selective Kernel Networks', authors: 'Li, Wang, Hu, Yang', year: 2019, url: 'https://arxiv.org/abs/1903.06586' },
  layout: '(N, C, H, W)',
  params: [
    { name: 'channels', type: 'int', default: 64, min: 1, main: true, doc: 'Channels C of the input and the output.' },
    { name: 'M', type: 'int', default: 2, min: 1, max: 8, main: true, doc: 'Number of branches; branch i is a 3×3 conv with dilation 1 + i.' },
    { name: 'G', type: 'int', default: 32, min: 1, doc: 'Groups of every branch convolution; must divide channels.' },
    { name: 'stride', type: 'int', default: 1, min: 1, max: 4, doc: 'Stride of the branch convolutions; 2 halves H and W.' },
    { name: 'L', type: 'int', default: 32, min: 1, doc: 'Minimum width d of the compact descriptor (paper: 32).' },
    { name: 'reduction', type: 'int', default: 16, min: 1, doc: 'Compression ratio: d = max(channels // reduction, L).' },
    { name: 'return_weights', type: 'bool', default: false, baked: true, doc: 'Also return the branch weights (N, M, C), a softmax over M, for inspection.' },
  ],
  dims: [
    { name: 'N', doc: 'batch', default: 2, odd: 3 },
    { name: 'H', doc: 'height', default: 8, odd: 5 },
    { name: 'W', doc: 'width', default: 8, odd: 7 },
  ],
  validate: (p) => divisible('channels', p.channels as number, 'G', p.G as number),
  contract: (p) => ({
    inputs: [{ name: 'x', shape: ['N', 'channels', 'H', 'W'], doc: 'feature map' }],
    outputs: [
      { name: 'output', shape: ['N', 'channels', '(H - 1) // stride + 1', '(W - 1) // stride + 1'], doc: 'branches mixed by their per-channel weights' },
      ...(p.return_weights ? [{ name: 'attn', shape: ['N', 'M', 'channels'], doc: 'branch weights, softmax across M' }] : []),
    ],
  }),
  pytorch: (p) => ({
    name: 'SelectiveKernelConv',
    summary: 'Selective kernel convolution: M dilated branches mixed by a softmax attention across branches.',
    init: [
      ...divisibleGuard('channels', 'G'),
      'd = max(channels // reduction, L)',
      'self.branches = nn.ModuleList([',
      '    nn.Sequential(',
      '        # branch i: 3x3 conv with dilation 1 + i (receptive field 3 + 2i);',
      '        # padding 1 + i gives every branch (H - 1) // stride + 1 rows',
      '        nn.Conv2d(channels, channels, 3, stride=stride, padding=1 + i, dilation=1 + i, groups=G, bias=False),',
      '        nn.BatchNorm2d(channels),',
      '        nn.ReLU(inplace=True),',
      '    )',
      '    for i in range(M)',
      '])',
      'self.fc = nn.Sequential(  # fuse: C -> d',
      '    nn.Linear(channels, d, bias=False),',
      '    nn.BatchNorm1d(d),',
      '    nn.ReLU(inplace=True),',
      ')',
      'self.fcs = nn.ModuleList([nn.Linear(d, channels) for _ in range(M)])  # select: d -> C per branch',
    ],
    forwardArgs: [{ name: 'x', annotation: 'torch.Tensor' }],
    returns: p.return_weights ? 'Tuple[torch.Tensor, torch.Tensor]' : 'torch.Tensor',
    forward: [
      'feats = torch.stack([branch(x) for branch in self.branches], dim=1)  # split: (N, M, C, H\', W\')',
      's = feats.sum(dim=1).mean(dim=(2, 3))  # fuse: sum branches, global average pool -> (N, C)',
      'z = self.fc(s)  # (N, d)',
      'attn = torch.stack([fc(z) for fc in self.fcs], dim=1).softmax(dim=1)  # (N, M, C), softmax across branches',
      'out = (feats * attn[:, :, :, None, None]).sum(dim=1)  # select: (N, C, H\', W\')',
      p.return_weights ? 'return out, attn' : 'return out',
    ],
  }),
  typescript: (p) => ({
    name: 'SelectiveKernelConv',
    summary: 'Selective kernel convolution: M dilated branches mixed by a softmax attention across branches.',
    fields: ['branches: nn.ModuleList<nn.Sequential>', 'fc: nn.Sequential', 'fcs: nn.ModuleList<nn.Linear>'],
    init: [
      ...tsDivisibleGuard('channels', 'G'),
      'const d = Math.max(Math.floor(channels / reduction), L);',
      'this.branches = new nn.ModuleList(',
      '  Array.from({ length: M }, (_, i) =>',
      '    new nn.Sequential(',
      '      // branch i: 3x3 conv with dilation 1 + i (receptive field 3 + 2i);',
      '      // padding 1 + i gives every branch (H - 1) // stride + 1 rows',
      '      new nn.Conv2d(channels, channels, 3, { stride, padding: 1 + i, dilation: 1 + i, groups: G, bias: false, generator, device }),',
      '      new nn.BatchNorm2d(channels, { device }),',
      '      new nn.ReLU({ inplace: true }),',
      '    ),',
      '  ),',
      ');',
      'this.fc = new nn.Sequential( // fuse: C -> d',
      '  new nn.Linear(channels, d, { bias: false, generator, device }),',
      '  new nn.BatchNorm1d(d, { device }),',
      '  new nn.ReLU({ inplace: true }),',
      ');',
      'this.fcs = new nn.ModuleList(Array.from({ length: M }, () => new nn.Linear(d, channels, { generator, device }))); // select: d -> C per branch',
    ],
    forwardArgs: [{ name: 'x', type: 'Tensor' }],
    returns: p.return_weights ? '[Tensor, Tensor]' : 'Tensor',
    forward: [
      "const feats = stack([...this.branches].map((branch) => branch.forward(x)), 1); // split: (N, M, C, H', W')",
      'const s = feats.sum(1).mean([2, 3]); // fuse: sum branches, global average pool -> (N, C)',
      'const z = this.fc.forward(s); // (N, d)',
      'const attn = stack([...this.fcs].map((fc) => fc.forward(z)), 1).softmax(1); // (N, M, C), softmax across branches',
      "const out = feats.mul(attn.unsqueeze(3).unsqueeze(4)).sum(1); // select: (N, C, H', W')",
      p.return_weights ? 'return [out, attn];' : 'return out;',
    ],
  }),
  examples: [
    // The reference post's example: (4, 8, 20, 20) -> (4, 8, 10, 10).
    { channels: 8, M: 2, G: 2, stride: 2, L: 32, reduction: 2 },
    { channels: 64, M: 3, G: 32, stride: 1, return_weights: true },
    { channels: 6, M: 4, G: 3, stride: 3, L: 2, reduction: 2, return_weights: true },
    { channels: 1, M: 1, G: 1, stride: 1, L: 1, reduction: 1 },
    { channels: 5, M: 2, G: 5, stride: 2, L: 1, reduction: 1 },
  ],
  invalid: [
    { params: { channels: 64, G: 24 }, message: 'channels (64) must be divisible by G (24): try G 16, 32 or 8, or channels 72 or 48', torch: 'raises' },
    { params: { M: 0 }, message: 'M (0) must be ≥ 1', torch: 'raises' },
  ],
};
