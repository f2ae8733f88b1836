/** Channel and CNN attention blocks: gates and reweightings of (N, C, H, W) feature maps. */

import type { BlockDef } from '../types';

export const CHANNEL_BLOCKS: readonly BlockDef[] = [];
