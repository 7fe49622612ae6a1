#!/usr/bin/env node
// tl-scratch's command line. User errors (TlError) print one line and exit 1, usage errors
// exit 2; anything else is a bug and prints its stack trace only with -v.
// first: the write-fault tests' injection (inert unless TL_TEST_FAULT is set)
import './util/fault-inject.js';
import { CommanderError } from 'commander';
import { buildProgram } from './cli/program.js';
import { TlError } from './util/errors.js';
import { fsTlError } from './util/fs-errors.js';

const verbose = process.argv.includes('-v') || process.argv.includes('--verbose');

function fail(e: unknown): never {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  // a file-system error no command caught (a folder where a file should be, a full disk):
  // one line naming the path, worded in one place (src/util/fs-errors.ts)
  const fsError = fsTlError(e);
  if (fsError) {
    process.stderr.write(`tl-scratch: ${fsError.message}\n`);
    if (verbose) process.stderr.write(`${(e as Error).stack ?? ''}\n`);
    process.exit(fsError.exitCode);
  }
  if (e instanceof TlError) {
    process.stderr.write(`tl-scratch: ${e.message}\n`);
    if (verbose && e.stack) process.stderr.write(`${e.stack}\n`);
    process.exit(e.exitCode);
  }
  const err = e as Error;
  process.stderr.write(`tl-scratch: internal error: ${err?.message ?? String(e)}\n`);
  process.stderr.write(verbose ? `${err?.stack ?? ''}\n` : '(run with -v for the stack trace, and please report it)\n');
  process.exit(1);
}

const program = buildProgram((code) => {
  Promise.resolve(code).then((c) => process.exit(c), fail);
});
program.exitOverride();
for (const c of program.commands) c.exitOverride();
try {
  await program.parseAsync(process.argv);
} catch (e) {
  fail(e);
}
