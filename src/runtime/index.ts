/**
 * The runtime's public surface, shaped like `torch`: tensors and their
 * factories, `nn`, `F` (functional), random generators, safetensors I/O,
 * PyTorch checkpoint reading (`checkpoint/`), the backend types, and the
 * WebGPU backend (from a `GPUDevice` the caller obtained; nothing here
 * touches `navigator`). Generated TypeScript blocks
 * import only this module; the npm package publishes it as
 * `attention-forge/runtime`. Re-exports only.
 */

export { Tensor, tensor, tidy, observeKernels, type KernelObserver, zeros, ones, full, arange, linspace, meshgrid, cat, stack, triu, tril, whereOp as where, runKernel, copyStorage, writeStorage, inferSize, computeStride, type NestedArray, type TensorOptions } from './tensor';
export type { Backend, DType, Storage, TensorMeta, TensorView, OutputSpec } from './backend';
export { cpu, cpuReference, CpuPool } from './cpu';
export { TorchError, type TorchErrorKind } from './errors';
export { Generator, randn, rand } from './random';
export * as F from './functional';
export * as nn from './nn/index';
export * as einops from './einops';
export { einsum } from './einsum';
export { parseSafetensors, serializeSafetensors, loadStateDictFromSafetensors, SafetensorsError } from './safetensors';
export { readStateDict, loadStateDictFromFile, readTorchCheckpoint, findStateDict, CheckpointError, STATE_DICT_KEYS, type StateDictFile, type ReadStateDictOptions, type WeightsFormat, type Checkpoint, type CheckpointOptions } from './checkpoint/index';
export { KERNELS, getKernel } from './kernels/registry';
export { AttentionCapture, type CapturedAttention } from './capture';
export { traceForward, opFlops, formatShapes, type Trace, type TraceTotals, type TraceOptions, type TracedKernel, type LayerRecord, type OpRecord } from './trace';
export { WebGpuBackend, WebGpuError, WebGpuLimitError, requestWebGpuDevice, requestDeviceFrom, type WebGpuBackendOptions } from './webgpu/backend';
