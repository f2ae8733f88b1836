/** Channel and CNN attention blocks: gates and reweightings of (N, C, H, W) feature maps. */

import type { BlockDef } from '../types';
import { cbam } from './cbam';
import { cbamChannel } from './cbam-channel';
import { cbamResidual } from './cbam-residual';
import { cbamSpatial } from './cbam-spatial';
import { coordinateAttention } from './coordinate-attention';
import { eca } from './eca';
import { se } from './se';
import { selectiveKernel } from './selective-kernel';

export const CHANNEL_BLOCKS: readonly BlockDef[] = [
  se,
  eca,
  cbamChannel,
  cbamSpatial,
  cbam,
  cbamResidual,
  selectiveKernel,
  coordinateAttention,
];
