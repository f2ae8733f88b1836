/** Sequence attention blocks: inputs laid out as sequences of tokens (or 1-D conv features). */

import type { BlockDef } from '../types';
import { causalSelfAttention } from './causal-self-attention';
import { cnnMha } from './cnn-mha';
import { crossAttention } from './cross-attention';
import { gqa } from './gqa';
import { mhaScratch } from './mha-scratch';
import { multiheadAttention } from './multihead-attention';
import { selfAttention } from './self-attention';

export const SEQUENCE_BLOCKS: readonly BlockDef[] = [
  cnnMha,
  multiheadAttention,
  selfAttention,
  mhaScratch,
  causalSelfAttention,
  gqa,
  crossAttention,
];
