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

/**
 * A shape an op cannot accept: operands that do not fit each other, a rank or size the op
 * does not take, a layout that does not hold the shape it claims (a programming error in
 * the caller's model).
 */
export class ShapeError extends TlError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'ShapeError';
  }
}

/**
 * An option value an op, layer or kernel cannot accept, whatever the shapes: a keep
 * probability outside (0, 1], a stride of 0, negative padding, GEMM block sizes that are not
 * multiples of the micro-tile (Python's ValueError).
 */
export class ValueError extends TlError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'ValueError';
  }
}

/**
 * Tensors a backend cannot take as they are: inputs on different backends or of different
 * dtypes, a dtype the backend does not store, a size beyond what the backend can index.
 */
export class BackendError extends TlError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'BackendError';
  }
}
