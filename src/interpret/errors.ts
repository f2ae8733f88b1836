/**
 * The one error the concrete interpreter raises: a construct it does not support, an
 * exception the user's code raised (or that Python or torch would raise at that point, such as
 * a shape mismatch), or a bound it reached (steps, call depth). Each carries the file and the
 * 1-based line of the construct, and its message is one line, `file:line: ...`, so a caller
 * prints it as it is; no stack trace of ours ever describes the user's code.
 */

export type InterpretErrorKind = 'unsupported' | 'python' | 'limit';

export class InterpretError extends Error {
  constructor(
    readonly kind: InterpretErrorKind,
    readonly file: string,
    readonly line: number,
    /** What happened, without the location. */
    readonly detail: string,
  ) {
    super(`${file}:${line}: ${kind === 'unsupported' ? 'not supported by the interpreter: ' : ''}${detail}`);
    this.name = 'InterpretError';
  }
}

/**
 * An error raised inside the value domain (a builtin, a tensor method) before the location is
 * known; the interpreter turns it into an `InterpretError` at the call's line.
 */
export class PyRaise extends Error {
  constructor(
    readonly kind: InterpretErrorKind,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** A construct or API the interpreter does not support, named as the user wrote it. */
export function unsupported(what: string): PyRaise {
  return new PyRaise('unsupported', what);
}

/** A Python exception (`TypeError: ...`). */
export function pyError(kind: string, message: string): PyRaise {
  return new PyRaise('python', `${kind}: ${message}`);
}
