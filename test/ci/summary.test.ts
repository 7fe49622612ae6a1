// CI's last line (.ci/summary.mjs, run by .ci/run): "N passed, M failed, K skipped", and a
// failure when a suite that must run on a fresh machine (browser, webgpu) skipped or was absent.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

interface Summary { line: string; requiredSkips: string[] }
type Report = { numPassedTests?: number; numFailedTests?: number; numPendingTests?: number; numTodoTests?: number; testResults?: { name: string; assertionResults: { status: string }[] }[] };
const ROOT = resolve(__dirname, '..', '..');
const mod = (await import(pathToFileURL(resolve(ROOT, '.ci', 'summary.mjs')).href)) as { summarize: (r: Report, root: string) => Summary; REQUIRED: string[] };

/** A vitest JSON report (the fields summary.mjs reads) with every required suite passing, plus `extra`. */
function report(extra: Report['testResults'] = [], counts: Partial<Report> = {}): Report {
  const files = mod.REQUIRED.map((f) => ({ name: resolve(ROOT, f), assertionResults: [{ status: 'passed' }] }));
  return { numPassedTests: 10, numFailedTests: 1, numPendingTests: 2, numTodoTests: 1, ...counts, testResults: [...files, ...extra] };
}

describe('CI summary line', () => {
  it('starts with "N passed, M failed" and counts skipped and todo tests', () => {
    const s = mod.summarize(report([{ name: resolve(ROOT, 'test/a.test.ts'), assertionResults: [{ status: 'skipped' }] }]), ROOT);
    expect(s.line).toBe('10 passed, 1 failed, 3 skipped');
    expect(s.requiredSkips).toEqual([]); // a skip outside the required suites is only counted
  });
  it('a required suite that skipped tests, or did not run, is named', () => {
    const r = report();
    r.testResults![0]!.assertionResults = [{ status: 'passed' }, { status: 'skipped' }, { status: 'pending' }];
    r.testResults!.splice(2, 1);
    expect(mod.summarize(r, ROOT).requiredSkips).toEqual([`${mod.REQUIRED[0]} (2 skipped)`, `${mod.REQUIRED[2]} (did not run)`]);
  });
  it('an empty report (vitest did not start) reads as zeros, every required suite missing', () => {
    const s = mod.summarize({}, ROOT);
    expect(s.line).toBe('0 passed, 0 failed, 0 skipped');
    expect(s.requiredSkips).toHaveLength(mod.REQUIRED.length);
  });
});
