/**
 * `cbam-spatial`: CBAM's spatial attention module. Channel-wise mean and max
 * maps (N, 2, H, W) go through one k×k convolution and a sigmoid, giving a
 * gate per position. `spatialGateClass()` is also the helper class the `cbam`
 * and `cbam-residual` blocks build on.
 */

import { guard } from '../py';
import type { BlockDef, PyClassSpec, ValidationIssue } from '../types';
import { CBAM_CITATION } from './cbam-channel';
import { tsGuard } from '../ts';
import type { TsClassSpec } from '../types';

/** Odd spatial kernel check shared by the CBAM blocks. */
export function oddKernel(k: number, param = 'kernel_size'): ValidationIssue[] {
  if (k % 2 === 1) return [];
  return [{ param, message: `${param} (${k}) must be odd so that padding ${param} // 2 keeps H and W: try ${k - 1} or ${k + 1} (the paper uses 7)` }];
}

export function oddKernelGuard(param = 'kernel_size'): string[] {
  return guard(`${param} % 2 == 0`, `${param} ({${param}}) must be odd so that padding ${param} // 2 keeps H and W: try {${param} - 1} or {${param} + 1} (the paper uses 7)`);
}

/**
 * The `SpatialGate` class. As a helper (`main: false`) it takes
 * `(kernel_size=7)`; as a block's main class its arguments are the block's
 * parameters.
 */
export function spatialGateClass(opts: { main: boolean; returnWeights: boolean }): PyClassSpec {
  return {
    name: 'SpatialGate',
    summary: 'CBAM spatial attention: gates positions from channel-wise mean and max maps via one conv.',
    ...(opts.main ? {} : {
      initArgs: [{ name: 'kernel_size', annotation: 'int', default: '7' }],
      doc: ['Shape: (N, C, H, W) -> (N, C, H, W).'],
    }),
    init: [
      ...oddKernelGuard(),
      'self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)',
    ],
    forwardArgs: [{ name: 'x', annotation: 'torch.Tensor' }],
    returns: opts.returnWeights ? 'Tuple[torch.Tensor, torch.Tensor]' : 'torch.Tensor',
    forward: [
      'pooled = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)  # (N, 2, H, W)',
      'w = torch.sigmoid(self.conv(pooled))  # (N, 1, H, W): padding kernel_size // 2 keeps H, W',
      'out = x * w  # broadcasts over channels',
      opts.returnWeights ? 'return out, w' : 'return out',
    ],
  };
}

export const cbamSpatial: BlockDef = {
  id: 'cbam-spatial',
  title: 'CBAM spatial attention',
  summary: 'CBAM\'s spatial gate: channel-wise mean and max maps, one k×k conv, sigmoid, rescale.',
  docs: [
    'The second half of CBAM. The (N, C, H, W) map is summarised across channels by its mean and its max at every position; the two maps (N, 2, H, W) go through a single k×k convolution (padding k // 2, so k must be odd) and a sigmoid, and every position of every channel is multiplied by its gate. Shape is unchanged and the block has only 2·k² weights, independent of C.',
    'It tells the network where to look. The paper finds k = 7 better than 3. Use `cbam` for the full module (channel gate first, then this one).',
  ].join('\n\n'),
  differences: 'The reference post\'s `batch_first=False` option is dropped: the block takes (N, C, H, W). It asserts kernel_size in (3, 5, 7); here any odd size is accepted. The authors\' released code adds a BatchNorm after the convolution; this block follows the paper (conv, then sigmoid).',
  citation: CBAM_CITATION,
  layout: '(N, C, H, W)',
  params: [
    { name: 'kernel_size', type: 'int', default: 7, min: 1, max: 31, main: true, doc: 'Odd size of the convolution over the mean/max maps (paper: 7).' },
    { name: 'return_weights', type: 'bool', default: false, baked: true, doc: 'Also return the spatial gate map (N, 1, H, W) for inspection.' },
  ],
  dims: [
    { name: 'N', doc: 'batch', default: 2, odd: 3 },
    { name: 'C', doc: 'channels (any)', default: 16, odd: 3 },
    { name: 'H', doc: 'height', default: 8, odd: 5 },
    { name: 'W', doc: 'width', default: 8, odd: 7 },
  ],
  validate: (p) => oddKernel(p.kernel_size as number),
  contract: (p) => ({
    inputs: [{ name: 'x', shape: ['N', 'C', 'H', 'W'], doc: 'feature map' }],
    outputs: [
      { name: 'output', shape: ['N', 'C', 'H', 'W'], doc: 'position-reweighted feature map' },
      ...(p.return_weights ? [{ name: 'attn', shape: ['N', '1', 'H', 'W'], doc: 'spatial gate in (0, 1)' }] : []),
    ],
  }),
  pytorch: (p) => spatialGateClass({ main: true, returnWeights: p.return_weights === true }),
  typescript: (p) => tsSpatialGateClass({ main: true, returnWeights: p.return_weights === true }),
  examples: [
    { kernel_size: 3, return_weights: true },
    { kernel_size: 9 },
    { kernel_size: 1 },
  ],
  invalid: [
    { params: { kernel_size: 4 }, message: 'kernel_size (4) must be odd so that padding kernel_size // 2 keeps H and W: try 3 or 5', torch: 'raises' },
  ],
};

/** The `SpatialGate` class for the TypeScript runtime, mirroring `spatialGateClass`. */
export function tsSpatialGateClass(opts: { main: boolean; returnWeights: boolean }): TsClassSpec {
  return {
    name: 'SpatialGate',
    summary: 'CBAM spatial attention: gates positions from channel-wise mean and max maps via one conv.',
    ...(opts.main ? {} : { ctorArgs: [{ name: 'kernel_size', type: 'number', default: '7' }] }),
    fields: ['conv: nn.Conv2d'],
    init: [
      ...tsOddKernelGuard(),
      'this.conv = new nn.Conv2d(2, 1, kernel_size, { padding: Math.floor(kernel_size / 2), bias: false, generator, device });',
    ],
    forwardArgs: [{ name: 'x', type: 'Tensor' }],
    returns: opts.returnWeights ? '[Tensor, Tensor]' : 'Tensor',
    forward: [
      'const pooled = cat([x.mean(1, true), x.amax(1, true)], 1); // (N, 2, H, W)',
      'const w = this.conv.forward(pooled).sigmoid(); // (N, 1, H, W): padding kernel_size // 2 keeps H, W',
      'const out = x.mul(w); // broadcasts over channels',
      opts.returnWeights ? 'return [out, w];' : 'return out;',
    ],
  };
}

export function tsOddKernelGuard(param = 'kernel_size'): string[] {
  return tsGuard(`${param} % 2 === 0`, `${param} (\${${param}}) must be odd so that padding ${param} // 2 keeps H and W: try \${${param} - 1} or \${${param} + 1} (the paper uses 7)`);
}
