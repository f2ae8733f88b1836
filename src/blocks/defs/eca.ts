/**
 * `eca`: Efficient Channel Attention. Like SE, one gate per channel from the
 * globally average-pooled map, but the gates come from a 1-D convolution
 * across neighbouring channels instead of a bottleneck MLP: no dimensionality
 * reduction and only k weights. k adapts to the channel count.
 */

import { guard } from '../py';
import type { BlockDef, ValidationIssue } from '../types';
import { tsGuard } from '../ts';

/** The paper's adaptive kernel size: |log2(C) / gamma + b / gamma| rounded to an odd number (as the authors' code does). */
export function ecaKernelSize(channels: number, gamma: number, b: number): number {
  const t = Math.trunc(Math.abs((Math.log2(channels) + b) / gamma));
  return t % 2 === 1 ? t : t + 1;
}

export const eca: BlockDef = {
  id: 'eca',
  title: 'Efficient Channel Attention (ECA)',
  summary: 'Channel gating of (N, C, H, W) maps with a 1-D conv across channels instead of an MLP.',
  docs: [
    'Computes one gate per channel like SE, but without the bottleneck: the pooled descriptor (N, C) is treated as a length-C signal and convolved with a single `Conv1d(1, 1, k)`, so each gate looks at its k neighbouring channels ("local cross-channel interaction"). It costs k weights regardless of C.',
    'By default k is derived from the channel count, k = |log2(C) / gamma + b / gamma| made odd (C = 64 gives 3, C = 256 gives 5); set `kernel_size` to fix it. k must be odd so that padding (k - 1) // 2 keeps all C channels.',
    'Use it where SE would do but parameters or the information loss of the bottleneck matter, e.g. in every block of a mobile network.',
  ].join('\n\n'),
  citation: { title: 'ECA-Net: Efficient Channel Attention for Deep Convolutional Neural Networks', authors: 'Wang, Wu, Zhu, Li, Zuo, Hu', year: 2020, url: 'https://arxiv.org/abs/1910.03151' },
  layout: '(N, C, H, W)',
  params: [
    { name: 'channels', type: 'int', default: 64, min: 1, main: true, doc: 'Channels C of the incoming feature map; sets the adaptive kernel size.' },
    { name: 'gamma', type: 'int', default: 2, min: 1, doc: 'Slope of the channels-to-kernel-size mapping (paper: 2).' },
    { name: 'b', type: 'int', default: 1, min: 0, doc: 'Offset of the channels-to-kernel-size mapping (paper: 1).' },
    { name: 'kernel_size', type: 'int', default: null, min: 1, nullable: true, doc: 'Odd Conv1d kernel size; None derives it from channels, gamma and b.' },
    { name: 'return_weights', type: 'bool', default: false, baked: true, doc: 'Also return the channel gates (N, C) for inspection.' },
  ],
  dims: [
    { name: 'N', doc: 'batch', default: 2, odd: 3 },
    { name: 'H', doc: 'height', default: 8, odd: 5 },
    { name: 'W', doc: 'width', default: 8, odd: 7 },
  ],
  validate: (p) => {
    const k = p.kernel_size as number | null;
    const issues: ValidationIssue[] = [];
    if (k !== null && k % 2 === 0) {
      issues.push({ param: 'kernel_size', message: `kernel_size (${k}) must be odd so that padding (kernel_size - 1) // 2 keeps all channels: try ${k - 1} or ${k + 1}, or None for the adaptive size` });
    }
    return issues;
  },
  contract: (p) => ({
    inputs: [{ name: 'x', shape: ['N', 'channels', 'H', 'W'], doc: 'feature map' }],
    outputs: [
      { name: 'output', shape: ['N', 'channels', 'H', 'W'], doc: 'channel-reweighted feature map' },
      ...(p.return_weights ? [{ name: 'attn', shape: ['N', 'channels'], doc: 'channel gates in (0, 1)' }] : []),
    ],
  }),
  pytorch: (p) => ({
    name: 'EfficientChannelAttention',
    summary: 'ECA: channel gates from a 1-D convolution over the pooled channel descriptor.',
    init: [
      'if kernel_size is None:',
      '    # adaptive size: |log2(C) / gamma + b / gamma|, rounded up to an odd number',
      '    t = int(abs((math.log2(channels) + b) / gamma))',
      '    kernel_size = t if t % 2 == 1 else t + 1',
      ...guard('kernel_size % 2 == 0', 'kernel_size ({kernel_size}) must be odd so that padding (kernel_size - 1) // 2 keeps all channels: try {kernel_size - 1} or {kernel_size + 1}, or None for the adaptive size'),
      'self.kernel_size = kernel_size',
      'self.conv = nn.Conv1d(1, 1, kernel_size, padding=(kernel_size - 1) // 2, bias=False)',
    ],
    forwardArgs: [{ name: 'x', annotation: 'torch.Tensor' }],
    returns: p.return_weights ? 'Tuple[torch.Tensor, torch.Tensor]' : 'torch.Tensor',
    forward: [
      'y = x.mean(dim=(2, 3)).unsqueeze(1)  # global average pool: (N, C, H, W) -> (N, 1, C)',
      'w = torch.sigmoid(self.conv(y)).squeeze(1)  # conv across channels: (N, 1, C) -> (N, C)',
      'out = x * w[:, :, None, None]  # (N, C, 1, 1) broadcasts over H, W',
      p.return_weights ? 'return out, w' : 'return out',
    ],
    doc: [
      p.kernel_size === null
        ? `At channels=${p.channels as number}, gamma=${p.gamma as number}, b=${p.b as number} the adaptive kernel size is ${ecaKernelSize(p.channels as number, p.gamma as number, p.b as number)}.`
        : `The kernel size is fixed at ${p.kernel_size as number}.`,
    ],
  }),
  typescript: (p) => ({
    name: 'EfficientChannelAttention',
    summary: 'ECA: channel gates from a 1-D convolution over the pooled channel descriptor.',
    fields: ['kernel_size: number', 'conv: nn.Conv1d'],
    init: [
      'if (kernel_size === null) {',
      '  // adaptive size: |log2(C) / gamma + b / gamma|, rounded up to an odd number',
      '  const t = Math.trunc(Math.abs((Math.log2(channels) + b) / gamma));',
      '  kernel_size = t % 2 === 1 ? t : t + 1;',
      '}',
      ...tsGuard('kernel_size % 2 === 0', 'kernel_size (${kernel_size}) must be odd so that padding (kernel_size - 1) // 2 keeps all channels: try ${kernel_size - 1} or ${kernel_size + 1}, or None for the adaptive size'),
      'this.kernel_size = kernel_size;',
      'this.conv = new nn.Conv1d(1, 1, kernel_size, { padding: Math.floor((kernel_size - 1) / 2), bias: false, generator, device });',
    ],
    forwardArgs: [{ name: 'x', type: 'Tensor' }],
    returns: p.return_weights ? '[Tensor, Tensor]' : 'Tensor',
    forward: [
      'const y = x.mean([2, 3]).unsqueeze(1); // global average pool: (N, C, H, W) -> (N, 1, C)',
      'const w = this.conv.forward(y).sigmoid().squeeze(1); // conv across channels: (N, 1, C) -> (N, C)',
      'const out = x.mul(w.unsqueeze(2).unsqueeze(3)); // (N, C, 1, 1) broadcasts over H, W',
      p.return_weights ? 'return [out, w];' : 'return out;',
    ],
  }),
  examples: [
    { channels: 256, kernel_size: null, return_weights: true },
    { channels: 1, kernel_size: null },
    { channels: 5, kernel_size: 7 },
    { channels: 64, kernel_size: 1 },
    { channels: 2048, gamma: 1, b: 0 },
  ],
  invalid: [
    { params: { kernel_size: 4 }, message: 'kernel_size (4) must be odd so that padding (kernel_size - 1) // 2 keeps all channels: try 3 or 5', torch: 'raises' },
    { params: { gamma: 0 }, message: 'gamma (0) must be ≥ 1', torch: 'raises' },
  ],
};
