/**
 * The `nn` namespace of the runtime (`import { nn } from 'attention-forge/runtime'`):
 * modules, `Parameter`, `init`. Re-exports only.
 */

export { Module, Parameter, torchSize, type FactoryOptions, type ForwardHook, type IncompatibleKeys } from './module';
export * from './layers';
export { MultiheadAttention, NonDynamicallyQuantizableLinear, type MultiheadAttentionArgs, type MhaCallOptions } from './attention';
export * as init from './init';
export * as utils from './utils';
