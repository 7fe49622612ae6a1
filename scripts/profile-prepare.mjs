// Where `prepare`'s main thread spends its time: runs prepare --image_folder (built dist/) on
// the faces `npm run bench -- prepare` made, twice, under V8's CPU profiler, then prints the
// main thread's self time per function per image (decode and resize run on the workers; the
// profiler sees the main thread only), with the run's wall rate, CPU time per image of the
// whole process and the main thread's busy time per image.
//   npm run bench -- prepare                    (once: makes the faces in the temporary folder)
//   node scripts/profile-prepare.mjs [WORKERS]  (default 1)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FACES = join(os.tmpdir(), 'tl-scratch-bench-prepare-2000-faces');
const RUNS = 2;

if (process.argv[2] === '--run') {
  // the profiled child: prepare RUNS times
  const workers = Number(process.argv[3]);
  const { prepare } = await import(pathToFileURL(join(ROOT, 'dist/src/data/prepare/index.js')).href);
  const out = mkdtempSync(join(os.tmpdir(), 'tl-profile-prepare-'));
  let n = 0;
  for (let k = 0; k < RUNS; k++) {
    rmSync(out, { recursive: true, force: true });
    const t = performance.now();
    const c = process.cpuUsage();
    const e = performance.eventLoopUtilization();
    // the main thread while the workers decode (up to the last image's progress call), and after (the final files)
    let decoding;
    const r = await prepare({ imageFolder: FACES, out, workers, size: 224, onProgress: (p) => {
      if (p.done === p.total) decoding = { at: performance.now(), elu: performance.eventLoopUtilization(e) };
    } });
    const u = process.cpuUsage(c);
    n = r.kept;
    const T = performance.now() - t;
    const busy = performance.eventLoopUtilization(e).active;
    console.log(`run ${k + 1}: ${(n / (T / 1000)).toFixed(0)} img/s, ${((u.user + u.system) / 1000 / n).toFixed(2)} ms of CPU per image (${(u.system / 1000 / n).toFixed(2)} in the kernel), main thread busy ${(busy / n).toFixed(2)} ms per image: ${(decoding.elu.active / n).toFixed(2)} while the workers decode (${(100 * decoding.elu.utilization).toFixed(0)}% of that phase's ${((decoding.at - t) / 1000).toFixed(2)} s), ${((busy - decoding.elu.active) / n).toFixed(2)} for the final files after (${((t + T - decoding.at) / 1000).toFixed(2)} s)`);
  }
  rmSync(out, { recursive: true, force: true });
  console.log(`images ${n * RUNS}`);
} else {
  const workers = Number(process.argv[2] ?? 1);
  const dir = mkdtempSync(join(os.tmpdir(), 'tl-profile-prepare-cpu-'));
  const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, fileURLToPath(import.meta.url), '--run', String(workers)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) {
    console.error(`prepare failed (run npm run build, and npm run bench -- prepare once to make ${FACES})`);
    process.exit(1);
  }
  process.stdout.write(r.stdout.split('\n').filter((l) => !l.startsWith('images')).join('\n'));
  const images = Number(/images (\d+)/.exec(r.stdout)[1]);
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  const p = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  rmSync(dir, { recursive: true, force: true });
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  p.samples.forEach((id, i) => {
    const f = byId.get(id).callFrame;
    const name = `${f.functionName || '(anonymous)'} ${f.url ? f.url.split('/').slice(-2).join('/') + ':' + (f.lineNumber + 1) : ''}`.trim();
    self.set(name, (self.get(name) ?? 0) + p.timeDeltas[i]);
  });
  console.log(`main thread, self time per image (µs), --workers ${workers}, ${images} images:`);
  for (const [name, us] of [...self].filter(([n]) => n !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    console.log(`${(us / images).toFixed(0).padStart(6)}  ${name}`);
  }
}
