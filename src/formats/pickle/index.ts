// A pickle virtual machine of our own, for protocols 0-5 (all opcodes except the
// out-of-band buffers of protocol 5 and the copyreg extension registry).
//
// It never executes anything: a GLOBAL resolves only through an allow-list of inert
// constructors (numpy arrays and dtypes, plain containers, `_codecs.encode`, and what the
// caller adds, e.g. torch's tensor rebuild functions). Every other global is refused with
// a TlError naming it and the file. Limits on nesting, memo size, stack size and string
// sizes guard against absurd input; a string claiming more bytes than the file holds is an
// error before anything is allocated.
//
// The parts, by concern: values.ts (what the machine builds: PyBytes, PyDict, NpArray, ...),
// limits.ts, decode.ts (latin-1, escapes, LONG integers), numpy.ts (dtypes, array state),
// globals.ts (the allow-list), reader.ts (the cursor over the input), machine.ts (opcodes).
// This file is what the readers of weight files import.

import { TlError } from '../../util/errors.js';
import { Machine, type PickleOptions } from './machine.js';

export { PICKLE_LIMITS } from './limits.js';
export { halfToFloat, npElements } from './numpy.js';
export type { PickleOptions } from './machine.js';
export {
  defineGlobal,
  describe,
  isPyGlobal,
  isTuple,
  NpArray,
  PyBytes,
  PyDict,
  PyLargeText,
  pyNumber,
  PySet,
  pyText,
  type CallContext,
  type PyGlobal,
} from './values.js';


/**
 * Unpickle `buf`. Throws TlError (naming `opts.file`) for malformed input, refused globals,
 * and anything over the limits; never anything else.
 */
export function loadPickle(buf: Uint8Array, opts: PickleOptions): unknown {
  const m = new Machine(buf, opts);
  try {
    return m.run();
  } catch (e) {
    if (e instanceof TlError) throw e;
    // A bug or an engine limit (e.g. RangeError): still one clear message.
    m.fail(`unexpected failure: ${(e as Error).message}`);
  }
}
