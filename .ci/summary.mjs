// CI's last line from vitest's JSON report: "N passed, M failed, K skipped". Exit status 1
// when a suite that runs on a fresh machine (the browser suites: .ci/run installs Chromium;
// the webgpu Node suite: Mesa's EGL/GLES, also installed by .ci/run) skipped a test: there a
// skip means the setup failed, and the count alone would hide it.
// Usage: node .ci/summary.mjs REPORT.json  (prints the line; exit 0, or 1 for required skips)
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

export const REQUIRED = ['test/browser/webgl.test.ts', 'test/playground/browser.test.ts', 'test/kernels/gpu/webgpu.test.ts'];

/** The last line and the required suites that skipped tests, from a parsed vitest JSON report. */
export function summarize(report, root = process.cwd()) {
  const passed = report.numPassedTests ?? 0, failed = report.numFailedTests ?? 0;
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  const requiredSkips = [];
  for (const file of report.testResults ?? []) {
    const name = relative(root, file.name ?? '');
    if (!REQUIRED.includes(name)) continue;
    const n = (file.assertionResults ?? []).filter((a) => a.status === 'skipped' || a.status === 'pending' || a.status === 'todo').length;
    if (n) requiredSkips.push(`${name} (${n} skipped)`);
  }
  for (const name of REQUIRED) if (!(report.testResults ?? []).some((f) => relative(root, f.name ?? '') === name)) requiredSkips.push(`${name} (did not run)`);
  return { line: `${passed} passed, ${failed} failed, ${skipped} skipped`, requiredSkips };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let report = {};
  try {
    report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  } catch {
    // no report (vitest did not start): the counts are zero
  }
  const { line, requiredSkips } = summarize(report);
  if (requiredSkips.length) console.log(`CI: suites that must run on a fresh machine skipped: ${requiredSkips.join(', ')}; see the warnings above (chromium, Mesa's EGL/GLES)`);
  console.log(line);
  process.exit(requiredSkips.length ? 1 : 0);
}
