// test/helpers/backends.ts for the conformance suite in a page (test/browser/pages.test.ts
// bundles it in that file's place): the backends the page started, chosen by the test
// through globalThis.tlConformanceBackends before the suite's module runs.
import type { Backend } from '../../src/kernels/backend.js';
import { getBackend } from '../../src/kernels/index.js';
import './page-setup.js';

/** The reference backend every other one is compared with. */
export const referenceBackend = (): Backend => getBackend('ref');

/** `ref` and the page's backends the test names (e.g. cpu, webgpu). */
export async function conformanceBackends(): Promise<Backend[]> {
  const names = (globalThis as { tlConformanceBackends?: string[] }).tlConformanceBackends ?? [];
  return [referenceBackend(), ...names.map((n) => getBackend(n))];
}
