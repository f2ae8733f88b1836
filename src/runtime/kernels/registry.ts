/**
 * The kernels by op name, built from the one list in `ops/index.ts`. Backends
 * look kernels up here, the tracer reads their `flops`, and the differential
 * tests iterate it, so a kernel without goldens, a WGSL program, a FLOP count
 * or a tolerance fails a test (`runtime-kernel-anatomy.test.ts`). Ops reach
 * kernels through the tensor core, never through this table.
 */

import type { AnyKernel } from './kernel';
import * as ops from './ops/index';

export const KERNELS: ReadonlyMap<string, AnyKernel> = new Map(Object.values(ops).map((k: AnyKernel) => [k.name, k]));

export function getKernel(name: string): AnyKernel {
  const k = KERNELS.get(name);
  if (!k) throw new Error(`no kernel '${name}' (kernels: ${[...KERNELS.keys()].join(', ')})`);
  return k;
}
