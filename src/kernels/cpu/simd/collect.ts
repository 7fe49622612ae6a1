// Garbage collection on demand, for the fast backend's shared buffers.
//
// V8 frees a SharedArrayBuffer's memory only when every thread that has seen it has
// collected its handle, and it does not count that memory as pressure towards a
// collection: the main thread, whose JavaScript heap stays small (a few MB of tensor
// objects), allocates hundreds of MB of activations per VGG-16 image without triggering
// one, and a worker, which allocates almost nothing, never collects the handles of the
// buffers its jobs named (nodejs/node#34703). RSS then grew by ~100 MB per VGG-16
// inference, 2.1 GB after ten. So the backend counts the bytes it allocates in shared
// buffers and, past a budget, collects on the main thread and asks the workers to collect
// after their next task (pool.ts).
//
// `gc` is V8's own, exposed for this by setting --expose-gc (process-wide) and reading it
// from a new context; where that fails (not V8), collection is left to the engine.
import v8 from 'node:v8';
import vm from 'node:vm';

type Gc = (opts?: { type?: 'major' | 'minor' }) => void;

let gc: Gc | null | undefined;

/** V8's garbage collector, or null where it cannot be reached. */
export function collector(): Gc | null {
  if (gc !== undefined) return gc;
  gc = null;
  const own = (globalThis as { gc?: Gc }).gc;
  if (typeof own === 'function') return (gc = own);
  try {
    v8.setFlagsFromString('--expose-gc');
    const found = vm.runInNewContext('gc') as unknown;
    if (typeof found === 'function') gc = found as Gc;
  } catch {
    // not V8, or the flag is refused: leave collection to the engine
  }
  return gc;
}
