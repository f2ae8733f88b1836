/** Spatial and image attention blocks: attention across the pixels or channels of feature maps. */

import type { BlockDef } from '../types';

export const SPATIAL_BLOCKS: readonly BlockDef[] = [];
