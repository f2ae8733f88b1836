/**
 * The registry of every rule, in documentation order. The extension generates its settings and
 * the docs their pages from this list; the CLI's `--rule` accepts these names.
 */

import type { Rule } from '../diagnostics';
import { rule as attentionScaleMismatch } from './attention-scale-mismatch';
import { rule as batchFirstMismatch } from './batch-first-mismatch';
import { rule as broadcastMismatch } from './broadcast-mismatch';
import { rule as catDimMismatch } from './cat-dim-mismatch';
import { rule as classTokenBatchIndex } from './class-token-batch-index';
import { rule as convGroupsNotDivisible } from './conv-groups-not-divisible';
import { rule as cumsumTotalAxis } from './cumsum-total-axis';
import { rule as embedDimChannelMismatch } from './embed-dim-channel-mismatch';
import { rule as embedDimNotDivisible } from './embed-dim-not-divisible';
import { rule as headSplitMergeOrder } from './head-split-merge-order';
import { rule as inputRankMismatch } from './input-rank-mismatch';
import { rule as inputWidthUnused } from './input-width-unused';
import { rule as invalidOpArguments } from './invalid-op-arguments';
import { rule as invalidPermutation } from './invalid-permutation';
import { rule as kdimVdimMismatch } from './kdim-vdim-mismatch';
import { rule as linearInFeaturesMismatch } from './linear-in-features-mismatch';
import { rule as maskDtype } from './mask-dtype';
import { rule as maskedMeanAxis } from './masked-mean-axis';
import { rule as maskPolarity } from './mask-polarity';
import { rule as maskShapeMismatch } from './mask-shape-mismatch';
import { rule as matmulInnerDimMismatch } from './matmul-inner-dim-mismatch';
import { rule as permuteOrderMismatch } from './permute-order-mismatch';
import { rule as reductionToZeroChannels } from './reduction-to-zero-channels';
import { rule as softmaxWrongAxis } from './softmax-wrong-axis';
import { rule as splitAxisMismatch } from './split-axis-mismatch';
import { rule as swappedArguments } from './swapped-arguments';
import { rule as unknownTensorMethod } from './unknown-tensor-method';
import { rule as unpackCountMismatch } from './unpack-count-mismatch';
import { rule as viewAfterPermute } from './view-after-permute';
import { rule as viewSizeMismatch } from './view-size-mismatch';

export const RULES: readonly Rule[] = [
  embedDimNotDivisible,
  batchFirstMismatch,
  embedDimChannelMismatch,
  permuteOrderMismatch,
  invalidPermutation,
  viewAfterPermute,
  viewSizeMismatch,
  softmaxWrongAxis,
  attentionScaleMismatch,
  cumsumTotalAxis,
  maskShapeMismatch,
  maskPolarity,
  maskDtype,
  maskedMeanAxis,
  kdimVdimMismatch,
  convGroupsNotDivisible,
  reductionToZeroChannels,
  linearInFeaturesMismatch,
  inputWidthUnused,
  matmulInnerDimMismatch,
  headSplitMergeOrder,
  classTokenBatchIndex,
  inputRankMismatch,
  invalidOpArguments,
  broadcastMismatch,
  catDimMismatch,
  splitAxisMismatch,
  swappedArguments,
  unpackCountMismatch,
  unknownTensorMethod,
];

export function getRule(name: string): Rule | undefined {
  return RULES.find((r) => r.name === name);
}
