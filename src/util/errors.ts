/**
 * Errors a user can act on. The CLI prints `message` as one line and exits with
 * `exitCode`; anything that is not a TlError is a bug and shows a stack trace under -v.
 * Messages say what went wrong, where (file, layer, op, shape) and what to do.
 */
export class TlError extends Error {
  constructor(message: string, readonly exitCode: number = 1) {
    super(message);
    this.name = 'TlError';
  }
}

/** A wrong flag, argument or combination of them: exit code 2, like commander's own. */
export class UsageError extends TlError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}

/** A shape or parameter that an op cannot accept (a programming error in the caller's model). */
export class ShapeError extends TlError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'ShapeError';
  }
}
