// `npm run bench [-- name ...]`: runs the registered benchmarks (all but the opt-in ones,
// or those named: by name or workload id, e.g. `npm run bench -- gemm` or `-- W2`) and
// prints one table. `--list` lists them; `--clean` removes the data files benchmarks cached
// in the temporary folder (the stream benchmark's 2 GB file), after running those named.
//
// To add a benchmark: write bench/<name>.ts exporting a `Benchmark` (see bench/harness.ts)
// and add it to the list below.
import os from 'node:os';
import { convBench } from './conv.js';
import { coresBench } from './cores.js';
import { demoBench } from './demo.js';
import { demoRunBench } from './demo-run.js';
import { featureCacheBench } from './feature-cache.js';
import { frozenBench, frozenW3aBench } from './frozen.js';
import { gemmBench } from './gemm.js';
import { gpuBench } from './gpu.js';
import { gpuBrowserBench } from './gpu-browser.js';
import { pageCpuBench } from './page-cpu.js';
import { webgpuBench } from './webgpu.js';
import { denseEpilogueBench } from './dense-epilogue.js';
import { prepareBench } from './prepare.js';
import { profileBench } from './profile.js';
import { prefetchBench } from './prefetch.js';
import { winogradErrorBench, winogradSpeedBench } from './winograd-error.js';
import { seamBench } from './seam.js';
import { vggBench, vggTfCpuBench } from './vgg.js';
import { memoryBench } from './memory.js';
import { memorySlopeBench } from './memory-slope.js';
import { inferenceMemoryBench } from './inference-memory.js';
import { peersBench } from './peers.js';
import { realSizeBench } from './real-size.js';
import { formatTable, type Benchmark, type Row } from './harness.js';
import { cleanStreamData, streamBench } from './stream.js';

const benchmarks: Benchmark[] = [
  gemmBench,
  convBench,
  vggBench,
  vggTfCpuBench,
  peersBench,
  realSizeBench,
  memoryBench,
  memorySlopeBench,
  inferenceMemoryBench,
  demoBench,
  demoRunBench,
  frozenBench,
  frozenW3aBench,
  featureCacheBench,
  streamBench,
  prefetchBench,
  prepareBench,
  seamBench,
  gpuBench,
  gpuBrowserBench,
  pageCpuBench,
  webgpuBench,
  denseEpilogueBench,
  profileBench,
  coresBench,
  winogradErrorBench,
  winogradSpeedBench,
];

function select(args: string[]): Benchmark[] {
  if (args.length === 0) return benchmarks.filter((b) => !b.optIn);
  const want = args.map((a) => a.toLowerCase());
  const unknown = want.filter((a) => !benchmarks.some((b) => b.name === a || b.ids.some((id) => id.toLowerCase() === a)));
  if (unknown.length) {
    throw new Error(`unknown benchmark ${unknown.join(', ')}; available: ${benchmarks.map((b) => `${b.name}${b.ids.length ? ` (${b.ids.join(', ')})` : ''}`).join(', ')}`);
  }
  return benchmarks.filter((b) => want.includes(b.name) || b.ids.some((id) => want.includes(id.toLowerCase())));
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--list')) {
    for (const b of benchmarks) console.log(`${b.name.padEnd(8)} ${b.ids.join(',').padEnd(6)} ${b.optIn ? '(opt-in) ' : ''}${b.title}`);
    return;
  }
  const clean = argv.includes('--clean');
  const args = argv.filter((a) => a !== '--clean');
  const unknownFlags = args.filter((a) => a.startsWith('-'));
  if (unknownFlags.length) throw new Error(`unknown option ${unknownFlags.join(', ')}; options: --list, --clean`);
  if (clean && args.length === 0) {
    cleanStreamData((m) => console.log(m));
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
  console.log(`\nResults (the cpu backend on the threads each row names; medians after warm-up; ${took} s in all; load average now ${os.loadavg()[0]!.toFixed(2)}):\n`);
  console.log(formatTable(rows));
  if (clean) cleanStreamData((m) => console.log(m));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
