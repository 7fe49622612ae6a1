// Faults injected into the atomic writes, for the tests of what a failed write leaves behind
// (test/util/write-faults.test.ts in process, test/cli/write-faults.test.ts through the CLI).
// Only the tests set TL_TEST_FAULT or call injectFaults; otherwise this module does nothing.
// With it, Node's fs functions are wrapped (the CommonJS object, which
// h5wasm's file system calls too, and the ES module bindings through syncBuiltinESMExports),
// and only calls on the temporaries of src/util/atomic.ts are counted and failed:
//
//   TL_TEST_FAULT=CODE:OP:N   the Nth OP on a temporary throws CODE (ENOSPC, EIO, EACCES, ...)
//                             OP: open (opening it for writing), write, rename (onto the target)
//   TL_TEST_FAULT=count       count them; with TL_TEST_FAULT_LOG=FILE the counts are written
//                             there as JSON at exit ({"open":1,"write":12,"rename":1})
//   TL_TEST_FAULT_FILE=NAME   only the temporaries of targets named NAME (ckpt.h5) count
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { basename } from 'node:path';
import { isTempPath } from './atomic.js';

type Op = 'open' | 'write' | 'rename';

/** An error shaped like Node's own (code, errno, syscall, path), which h5wasm maps to an errno. */
function injected(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${code}: injected fault, ${syscall} '${path}'`);
  e.code = code;
  e.syscall = syscall;
  e.path = path;
  return e;
}

export interface FaultCounts { open: number; write: number; rename: number }

/**
 * Wrap Node's fs functions so that the Nth `op` on a temporary of an atomic write throws
 * `code` (spec `CODE:OP:N`), or only count (spec `count`). Returns the counts so far and a
 * function that puts the original functions back.
 */
export function injectFaults(spec: string, only?: string): { counts: FaultCounts; restore: () => void } {
  const isTemp = (path: string) => isTempPath(path) && (!only || basename(path).startsWith(`.${only}.tmp-`));
  const counts: FaultCounts = { open: 0, write: 0, rename: 0 };
  const m = /^([A-Z]+):(open|write|rename):(\d+)$/.exec(spec);
  if (!m && spec !== 'count') throw new Error(`TL_TEST_FAULT=${spec}: expected CODE:OP:N or count`);
  const [code, failOp, failAt] = m ? [m[1]!, m[2] as Op, Number(m[3])] : ['', null, 0];
  /** Count one call; throw when it is the one to fail. */
  const hit = (op: Op, syscall: string, path: string) => {
    counts[op]++;
    if (op === failOp && counts[op] === failAt) throw injected(code, syscall, path);
  };
  const f = fs as unknown as Record<string, (...a: unknown[]) => unknown>;
  const tempFds = new Map<number, string>();
  // writeFileSync may call openSync and writeSync itself: count it once, as one open and one write
  let inWriteFile = false;
  const { openSync, closeSync, writeSync, writeFileSync, renameSync } = f as Record<string, (...a: unknown[]) => unknown>;
  const pathOf = (p: unknown) => (typeof p === 'string' ? p : p instanceof URL ? p.pathname : Buffer.isBuffer(p) ? p.toString() : '');
  const forWriting = (flags: unknown) => typeof flags === 'string' ? /[wa+]/.test(flags) : typeof flags === 'number' && (flags & (fs.constants.O_WRONLY | fs.constants.O_RDWR)) !== 0;
  f.openSync = (p, flags, ...rest) => {
    const path = pathOf(p);
    const temp = !inWriteFile && isTemp(path) && forWriting(flags);
    if (temp) hit('open', 'open', path);
    const fd = openSync!(p, flags, ...rest) as number;
    if (temp) tempFds.set(fd, path);
    return fd;
  };
  f.closeSync = (fd, ...rest) => {
    tempFds.delete(fd as number);
    return closeSync!(fd, ...rest);
  };
  f.writeSync = (fd, ...rest) => {
    const path = tempFds.get(fd as number);
    if (path !== undefined && !inWriteFile) hit('write', 'write', path);
    return writeSync!(fd, ...rest);
  };
  f.writeFileSync = (p, ...rest) => {
    const path = pathOf(p);
    if (isTemp(path)) {
      hit('open', 'open', path);
      hit('write', 'write', path);
    }
    inWriteFile = true;
    try {
      return writeFileSync!(p, ...rest);
    } finally {
      inWriteFile = false;
    }
  };
  f.renameSync = (from, to, ...rest) => {
    if (isTemp(pathOf(from))) hit('rename', 'rename', pathOf(to));
    return renameSync!(from, to, ...rest);
  };
  syncBuiltinESMExports();
  const restore = () => {
    Object.assign(f, { openSync, closeSync, writeSync, writeFileSync, renameSync });
    syncBuiltinESMExports();
  };
  return { counts, restore };
}

const spec = process.env.TL_TEST_FAULT;
if (spec) {
  const { counts } = injectFaults(spec, process.env.TL_TEST_FAULT_FILE);
  const log = process.env.TL_TEST_FAULT_LOG;
  if (log) process.on('exit', () => fs.writeFileSync(log, JSON.stringify(counts)));
}
