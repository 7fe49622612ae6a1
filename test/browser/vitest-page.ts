// `vitest` as the conformance suite uses it, for a page (test/browser/pages.test.ts bundles
// test/kernels/conformance.test.ts with this in vitest's place): describe and it (with
// .each) collect the tests; runCollected runs them in order and reports each one's
// failure; expect is vitest's own (its @vitest/expect matchers on chai).
import * as chai from 'chai';
import { JestAsymmetricMatchers, JestChaiExpect, JestExtend } from '@vitest/expect';

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(JestAsymmetricMatchers);

export const expect = ((value: unknown, message?: string) => chai.expect(value, message)) as unknown as typeof import('vitest').expect;

interface Collected { name: string; fn: () => unknown }
const collected: Collected[] = [];
const path: string[] = [];

/** vitest's %s / %d / %i placeholders, filled in order from the case's values. */
function title(template: string, values: readonly unknown[]): string {
  let k = 0;
  return template.replace(/%[sdi]/g, () => String(values[k++]));
}

type Body = (...a: never[]) => unknown;

function describeFn(name: string, body: () => void): void {
  path.push(name);
  try {
    body();
  } finally {
    path.pop();
  }
}
describeFn.each = (cases: readonly (readonly unknown[])[]) => (name: string, body: Body) => {
  for (const c of cases) describeFn(title(name, c), () => (body as (...a: unknown[]) => void)(...c));
};

function itFn(name: string, fn: () => unknown): void {
  collected.push({ name: [...path, name].join(' > '), fn });
}
itFn.each = (cases: readonly (readonly unknown[])[]) => (name: string, fn: Body) => {
  for (const c of cases) itFn(title(name, c), () => (fn as (...a: unknown[]) => unknown)(...c));
};

export const describe = describeFn as unknown as typeof import('vitest').describe;
export const it = itFn as unknown as typeof import('vitest').it;
export const test = it;

export interface PageTestResult { name: string; ok: boolean; error?: string; ms: number }

/** Runs the collected tests (those whose name contains `filter`), one after another. */
export async function runCollected(filter = ''): Promise<PageTestResult[]> {
  const out: PageTestResult[] = [];
  for (const t of collected.filter((c) => c.name.includes(filter))) {
    const t0 = performance.now();
    try {
      await t.fn();
      out.push({ name: t.name, ok: true, ms: performance.now() - t0 });
    } catch (e) {
      out.push({ name: t.name, ok: false, error: String((e as Error).message ?? e).slice(0, 2000), ms: performance.now() - t0 });
    }
  }
  return out;
}
