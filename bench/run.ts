// `npm run bench [-- name ...]`: runs the registered benchmarks (all, or those named: by
// name or workload id, e.g. `npm run bench -- gemm` or `-- W2`) and prints one table.
//
// To add a benchmark: write bench/<name>.ts exporting a `Benchmark` (see bench/harness.ts)
// and add it to the list below.
import os from 'node:os';
import { convBench } from './conv.js';
import { gemmBench } from './gemm.js';
import { formatTable, type Benchmark, type Row } from './harness.js';

const benchmarks: Benchmark[] = [
  gemmBench,
  convBench,
];

function select(args: string[]): Benchmark[] {
  if (args.length === 0) return benchmarks;
  const want = args.map((a) => a.toLowerCase());
  const unknown = want.filter((a) => !benchmarks.some((b) => b.name === a || b.ids.some((id) => id.toLowerCase() === a)));
  if (unknown.length) {
    throw new Error(`unknown benchmark ${unknown.join(', ')}; available: ${benchmarks.map((b) => `${b.name} (${b.ids.join(', ')})`).join(', ')}`);
  }
  return benchmarks.filter((b) => want.includes(b.name) || b.ids.some((id) => want.includes(id.toLowerCase())));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--list')) {
    for (const b of benchmarks) console.log(`${b.name.padEnd(8)} ${b.ids.join(',').padEnd(8)} ${b.title}`);
    return;
  }
  const chosen = select(args);
  const header = `node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} logical CPUs), ${os.platform()} ${os.arch()}, load average ${os.loadavg()[0]!.toFixed(2)}`;
  console.log(header);
  const rows: Row[] = [];
  const t0 = performance.now();
  for (const b of chosen) {
    console.log(`\n${b.name}: ${b.title}`);
    const start = performance.now();
    rows.push(...(await b.run((m) => console.log(m))));
    console.log(`  (${((performance.now() - start) / 1000).toFixed(0)} s)`);
  }
  const took = ((performance.now() - t0) / 1000).toFixed(0);
  console.log(`\nResults (single-threaded; medians after warm-up; ${took} s in all; load average now ${os.loadavg()[0]!.toFixed(2)}):\n`);
  console.log(formatTable(rows));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
