// Fuzzing the readers of binary formats with fast-check: small real files of a format are
// mutated (truncated, bytes flipped, length and shape fields set huge or negative, bytes cut
// out or put in) and read. A reader passes a case when it returns, or throws a TlError whose
// message is a clear line, within the time limit. Anything else is a failure: another error
// (TypeError, RangeError), an allocation sized by an unchecked length ("Array buffer
// allocation failed", "Invalid typed array length"), such an error wrapped into a TlError's
// message, or a case slower than the limit.
//
// `npm test` runs a few cases per format (FUZZ_RUNS, default below); `npm run fuzz` runs
// thousands with a seed (FUZZ_SEED) and prints cases/s, failures and the seed to replay.
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TlError } from '../../src/util/errors.js';

/** A place in a file where a length, count, size or shape is stored. */
export interface Field {
  at: number;
  width: 1 | 2 | 4 | 8;
  /** Byte order; default little-endian. */
  be?: boolean;
}

export interface FuzzTarget {
  /** The format's name in reports. */
  name: string;
  /** Small real files of the format. */
  seeds: { name: string; bytes: Uint8Array }[];
  /** File name extension of the written cases (some readers look at it). */
  ext: string;
  /** Read the file at `path` as the CLI does. */
  read: (path: string) => unknown;
  /** Where the length/size/shape fields of a file are (optional: random places otherwise). */
  fields?: (bytes: Uint8Array) => Field[];
}

/** Messages that tell an engine error or an unchecked allocation inside a TlError. */
const ENGINE_ERROR = /HDF5 library stopped|Array buffer allocation failed|Invalid typed array length|Invalid array length|Maximum call stack|out of memory|is not a function|Cannot read propert|Cannot set propert|undefined is not|is not iterable|unexpected failure|RuntimeError|Aborted\(/i;

export type Mutation =
  | { kind: 'truncate'; seed: number; at: number }
  | { kind: 'flip'; seed: number; edits: [number, number][] }
  | { kind: 'field'; seed: number; field: number; value: number }
  | { kind: 'splice'; seed: number; at: number; remove: number; insert: Uint8Array };

/** Values written into length fields: zero, one, huge, the sign bit, all ones (-1). */
const FIELD_VALUES = [0, 1, 0x7f, 0xff, 0x7fff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 2 ** 40, 2 ** 53 - 1, -1, -(2 ** 31)] as const;

function writeField(b: Uint8Array, f: Field, v: number): void {
  const big = BigInt.asUintN(64, BigInt(Math.trunc(v)));
  for (let i = 0; i < f.width; i++) {
    const byte = Number((big >> BigInt(8 * i)) & 0xffn);
    const at = f.be ? f.at + f.width - 1 - i : f.at + i;
    if (at < b.length) b[at] = byte;
  }
}

/** The mutated bytes of a case. */
export function mutate(target: FuzzTarget, m: Mutation): Uint8Array {
  const src = target.seeds[m.seed % target.seeds.length]!.bytes;
  const n = src.length;
  switch (m.kind) {
    case 'truncate':
      return src.slice(0, m.at % (n + 1));
    case 'flip': {
      const b = src.slice();
      for (const [at, v] of m.edits) if (n) b[at % n] = v;
      return b;
    }
    case 'field': {
      const b = src.slice();
      const fields = target.fields?.(src) ?? [];
      const f: Field = fields.length ? fields[m.field % fields.length]! : { at: n ? m.field % n : 0, width: ([1, 2, 4, 8] as const)[m.field % 4]! };
      writeField(b, f, FIELD_VALUES[m.value % FIELD_VALUES.length]!);
      return b;
    }
    case 'splice': {
      const at = m.at % (n + 1);
      const out = new Uint8Array(n - Math.min(m.remove, n - at) + m.insert.length);
      out.set(src.subarray(0, at));
      out.set(m.insert, at);
      out.set(src.subarray(Math.min(n, at + m.remove)), at + m.insert.length);
      return out;
    }
  }
}

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), seed: fc.nat(), at: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const), seed: fc.nat(), edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('field' as const), seed: fc.nat(), field: fc.nat(), value: fc.nat() }),
  fc.record({ kind: fc.constant('field' as const), seed: fc.nat(), field: fc.nat(), value: fc.nat() }),
  fc.record({ kind: fc.constant('splice' as const), seed: fc.nat(), at: fc.nat(), remove: fc.nat({ max: 64 }), insert: fc.uint8Array({ maxLength: 16 }) }),
);

/** What one case did: null when the reader behaved, else why it failed. */
export async function runCase(target: FuzzTarget, bytes: Uint8Array, dir: string, limitMs: number): Promise<string | null> {
  const path = join(dir, `case.${target.ext}`);
  writeFileSync(path, bytes);
  const t0 = performance.now();
  let problem: string | null = null;
  try {
    await target.read(path);
  } catch (e) {
    if (!(e instanceof TlError)) problem = `threw ${(e as Error)?.name ?? typeof e}: ${(e as Error)?.message ?? String(e)}`;
    else if (!e.message || e.message.includes('\n')) problem = `TlError without a one-line message: ${JSON.stringify(e.message)}`;
    else if (ENGINE_ERROR.test(e.message)) problem = `TlError hiding an engine error: ${e.message}`;
  }
  const ms = performance.now() - t0;
  if (!problem && ms > limitMs) problem = `took ${ms.toFixed(0)} ms (limit ${limitMs} ms)`;
  return problem;
}

export interface FuzzReport {
  format: string;
  cases: number;
  failures: { mutation: string; problem: string }[];
  seconds: number;
  seed: number;
}

/** Truncations at every `step` bytes of every seed file (every field boundary for small files). */
export async function truncationSweep(target: FuzzTarget, step: (n: number) => number, limitMs = 5000): Promise<FuzzReport> {
  const dir = mkdtempSync(join(tmpdir(), `tl-fuzz-${target.name.replace(/\W/g, '')}-`));
  const failures: FuzzReport['failures'] = [];
  const t0 = performance.now();
  let cases = 0;
  try {
    for (const s of target.seeds) {
      const k = Math.max(1, step(s.bytes.length));
      for (let at = 0; at < s.bytes.length; at += k) {
        cases++;
        const p = await runCase(target, s.bytes.subarray(0, at), dir, limitMs);
        if (p) failures.push({ mutation: `${s.name} truncated to ${at} bytes`, problem: p });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { format: target.name, cases, failures, seconds: (performance.now() - t0) / 1000, seed: 0 };
}

/** `runs` random mutations with fast-check's seed `seed`; every failure is collected (not only the first). */
export async function fuzz(target: FuzzTarget, runs: number, seed: number, limitMs = 5000): Promise<FuzzReport> {
  const dir = mkdtempSync(join(tmpdir(), `tl-fuzz-${target.name.replace(/\W/g, '')}-`));
  const failures: FuzzReport['failures'] = [];
  const t0 = performance.now();
  let cases = 0;
  try {
    await fc.assert(
      fc.asyncProperty(mutationArb, async (m) => {
        cases++;
        const p = await runCase(target, mutate(target, m), dir, limitMs);
        if (p && failures.length < 50) failures.push({ mutation: JSON.stringify(m, (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v)), problem: p });
        return true; // keep going: the report lists every failure of the run
      }),
      { numRuns: runs, seed, endOnFailure: true },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { format: target.name, cases, failures, seconds: (performance.now() - t0) / 1000, seed };
}

/** One line per run for the log: format, cases, cases/s, failures, the seed to replay. */
export function describeReport(r: FuzzReport): string {
  const head = `fuzz ${r.format}: ${r.cases} cases in ${r.seconds.toFixed(1)} s (${(r.cases / Math.max(r.seconds, 1e-9)).toFixed(0)} cases/s), ${r.failures.length} failure(s); replay with FUZZ_SEED=${r.seed}`;
  return [head, ...r.failures.slice(0, 10).map((f) => `  ${f.problem}\n    case: ${f.mutation}`)].join('\n');
}

/** Runs and seed: FUZZ_RUNS and FUZZ_SEED from the environment (npm run fuzz), else the test defaults. */
export function fuzzSettings(defaultRuns: number): { runs: number; seed: number; long: boolean } {
  const runs = Number(process.env.FUZZ_RUNS ?? defaultRuns);
  const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : process.env.FUZZ_RUNS ? Date.now() % 2 ** 31 : 25;
  return { runs, seed, long: process.env.FUZZ_RUNS !== undefined };
}
