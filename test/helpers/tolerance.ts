/**
 * The tolerance a golden comparison allows, read from the kernels that produced the values:
 * each kernel states its own (`Kernel.tolerance`, justified in its file when looser than the
 * defaults), and a result computed by several kernels may differ by the loosest of them. A
 * result no kernel computed (a view of an input) must be exact. Tests never restate a number.
 */

import { getKernel, observeKernels } from '../../src/runtime/index';

export type ToleranceBackend = 'cpu' | 'webgpu';

/** The loosest tolerance of the named kernels on `backend` (0 for none). */
export function kernelsTolerance(kernels: Iterable<string>, backend: ToleranceBackend): number {
  let tol = 0;
  for (const k of kernels) tol = Math.max(tol, getKernel(k).tolerance[backend]);
  return tol;
}

/** Runs `fn`, returning its result and the names of the kernels it ran. */
export function withKernels<T>(fn: () => T): { result: T; kernels: Set<string> } {
  const kernels = new Set<string>();
  const result = observeKernels((k) => kernels.add(k), fn);
  return { result, kernels };
}
