/**
 * The list of catalog blocks, in the order pickers and listings show them.
 * Blocks are grouped by family, one index file per family under defs/;
 * adding a block = adding its file and one line in its family's index.
 */

import type { BlockDef } from './types';
import { SEQUENCE_BLOCKS } from './defs/sequence';
import { CHANNEL_BLOCKS } from './defs/channel';
import { SPATIAL_BLOCKS } from './defs/spatial';

export const BLOCKS: readonly BlockDef[] = [...SEQUENCE_BLOCKS, ...CHANNEL_BLOCKS, ...SPATIAL_BLOCKS];
