/**
 * The errors the runtime raises, named after the Python exception torch raises
 * in the same situation (`RuntimeError`, `ValueError`, `IndexError`,
 * `TypeError`), so tests can check that the same cases fail in the same way.
 * Messages follow torch's wording where practical and always name the shapes
 * involved. This module only defines the error type and small checks.
 */

export type TorchErrorKind = 'RuntimeError' | 'ValueError' | 'IndexError' | 'TypeError' | 'KeyError' | 'AssertionError' | 'EinopsError' | 'NotImplementedError';

export class TorchError extends Error {
  constructor(
    readonly kind: TorchErrorKind,
    message: string,
  ) {
    super(message);
    this.name = kind;
  }
}

export function runtimeError(message: string): TorchError {
  return new TorchError('RuntimeError', message);
}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Wraps a possibly negative dim into [0, ndim); torch's IndexError otherwise. 0-d tensors accept -1 and 0. */
export function normDim(dim: number, ndim: number): number {
  const n = Math.max(ndim, 1);
  if (!Number.isInteger(dim) || dim < -n || dim >= n) {
    throw new TorchError('IndexError', `Dimension out of range (expected to be in range of [${-n}, ${n - 1}], but got ${dim})`);
  }
  return dim < 0 ? dim + n : dim;
}
