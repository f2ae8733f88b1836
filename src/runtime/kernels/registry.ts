/**
 * The kernel registry: every kernel by op name. Backends look kernels up
 * here (the WebGPU backend checks which have a `wgsl` slot filled), and the
 * differential tests iterate it so a kernel without goldens fails a test.
 * Ops reach kernels through the tensor core, never through this table.
 */

import { conv } from './conv';
import { copy } from './copy';
import { binary, maskedFill, unary, where } from './elementwise';
import { cat, indexSelect } from './index';
import type { AnyKernel } from './kernel';
import { matmul } from './matmul';
import { batchNorm, layerNorm } from './norm';
import { adaptivePool, pool } from './pool';
import { reduce, softmax } from './reduce';
import { sdpa } from './sdpa';

export const KERNELS: ReadonlyMap<string, AnyKernel> = new Map(
  [copy, unary, binary, maskedFill, where, matmul, conv, reduce, softmax, layerNorm, batchNorm, pool, adaptivePool, sdpa, indexSelect, cat].map((k) => [k.name, k]),
);

export function getKernel(name: string): AnyKernel {
  const k = KERNELS.get(name);
  if (!k) throw new Error(`no kernel '${name}' (kernels: ${[...KERNELS.keys()].join(', ')})`);
  return k;
}
