/**
 * The registry: every kernel, one line each (adding an op is its file in this
 * folder plus its line here). `../registry.ts` turns this list into the lookup
 * by name that backends, the tracer and the tests use; nothing else lists ops.
 */

export { adaptivePool } from './adaptive-pool';
export { batchNorm } from './batch-norm';
export { binary } from './binary';
export { cat } from './cat';
export { conv } from './conv';
export { copy } from './copy';
export { cumsum } from './cumsum';
export { gather } from './gather';
export { indexCopy } from './index-copy';
export { indexSelect } from './index-select';
export { interpolate } from './interpolate';
export { layerNorm } from './layer-norm';
export { maskedFill } from './masked-fill';
export { matmul } from './matmul';
export { pool } from './pool';
export { reduce } from './reduce';
export { sdpa } from './sdpa';
export { softmax } from './softmax';
export { topk } from './topk';
export { unary } from './unary';
export { unfold } from './unfold';
export { where } from './where';
