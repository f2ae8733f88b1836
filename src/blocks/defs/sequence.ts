/** Sequence attention blocks: inputs laid out as sequences of tokens (or 1-D conv features). */

import type { BlockDef } from '../types';
import { cnnMha } from './cnn-mha';

export const SEQUENCE_BLOCKS: readonly BlockDef[] = [cnnMha];
