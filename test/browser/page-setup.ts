// Starts the page's backends before the conformance suite's module runs (page-backends.ts
// imports this, so the suite waits for it): the query string says how many threads `cpu`
// gets, whether to start webgpu, and which backends the suite checks besides `ref`.
import { startPageBackends, type PageBackends } from '../../src/browser/index.js';

const q = new URLSearchParams((globalThis as unknown as { location: { search: string } }).location.search);
export const started: PageBackends = await startPageBackends({ threads: Number(q.get('threads') ?? 2), webgpu: q.get('webgpu') !== '0' });
const wanted = (q.get('backends') ?? '').split(',').filter(Boolean);
(globalThis as { tlConformanceBackends?: string[] }).tlConformanceBackends = wanted.filter((n) => n !== 'webgpu' || started.webgpu !== null);
