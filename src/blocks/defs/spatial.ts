/** Spatial and image attention blocks: attention across the pixels or channels of feature maps. */

import type { BlockDef } from '../types';
import { channelSelfAttention } from './channel-self-attention';
import { imageMha } from './image-mha';
import { nonLocal } from './non-local';
import { saganSpatial } from './sagan-spatial';
import { windowAttention } from './window-attention';

export const SPATIAL_BLOCKS: readonly BlockDef[] = [saganSpatial, channelSelfAttention, nonLocal, imageMha, windowAttention];
