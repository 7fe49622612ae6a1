// Every reader of a binary format, fuzzed (test/fuzz/harness.ts): mutated real files give a
// result or a TlError with a one-line message, in time, never another error or an
// allocation sized by an unchecked field. `npm test` runs a bounded number of cases per
// format; `npm run fuzz` (FUZZ_RUNS, FUZZ_SEED) many thousands, printing the counts.
import { describe, expect, it } from 'vitest';
import { describeReport, fuzz, fuzzSettings, truncationSweep } from './harness.js';
import { fuzzTargets } from './targets.js';

const { runs, seed, long } = fuzzSettings(40);

describe('fuzzed readers', () => {
  for (const target of fuzzTargets()) {
    it(`${target.name}: truncations, byte flips, huge and negative length fields give a result or a TlError`, async () => {
      // truncations: every byte of small files, about 60 places in larger ones (1500 with npm run fuzz)
      const sweep = await truncationSweep(target, (n) => (n <= 512 ? 1 : Math.ceil(n / (long ? 1500 : 60))));
      const random = await fuzz(target, runs, seed);
      const report = [describeReport(sweep).replace(/^fuzz /, 'fuzz truncations of '), describeReport(random)].join('\n');
      console.log(report);
      expect(sweep.failures, report).toEqual([]);
      expect(random.failures, report).toEqual([]);
    }, long ? 3_600_000 : 60_000);
  }
});
