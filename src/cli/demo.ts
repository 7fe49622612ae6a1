// `tl-scratch demo`: the whole lab on a fresh machine, offline. A VGG-16 (width 1/8, fc 128,
// head fc6/fc7/fc8) pretrained on built-in MNIST (shipped in models/, reproducible with the
// command in models/README.md) is transferred to built-in Fashion-MNIST "T-shirt/top vs
// Shirt" with a few labelled images per class, in the lab's three experiments, each over
// several seeds; the runs are shared out to worker threads, one per core.
import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EXPERIMENTS } from '../transfer/experiment.js';
import { TlError } from '../util/errors.js';
import { builtinMean } from './data.js';
import { runDemoJob, type DemoEpoch, type DemoJob } from './demo-job.js';
import { comparisonTable, writeReport, type RunRecord } from './report.js';

export interface DemoFlags {
  trainPerClass: number;
  seeds: number;
  epochs: number;
  reportDir: string;
  sourceModel?: string;
  workers?: number;
}

const here = dirname(fileURLToPath(import.meta.url));
/** The shipped source model (see models/README.md for the command that made it). */
export const DEMO_SOURCE_MODEL = resolve(here, '../../../models/vgg16-mnist-w0.125-fc128.h5');
export const DEMO_MODEL = { widthMult: 0.125, fcSize: 128, imageSize: 32, batchSize: 10 };

async function runInWorkers(jobs: DemoJob[], nWorkers: number, onDone: (r: RunRecord) => void, onEpoch: (e: DemoEpoch) => void): Promise<RunRecord[]> {
  const workerFile = join(here, 'demo-worker.js');
  if (nWorkers <= 1 || !existsSync(workerFile)) {
    const out: RunRecord[] = [];
    for (const j of jobs) {
      const r = await runDemoJob(j, onEpoch);
      onDone(r);
      out.push(r);
    }
    return out;
  }
  const results: RunRecord[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: nWorkers }, () => new Promise<void>((resolveAll, reject) => {
    const w = new Worker(workerFile);
    let current = -1;
    const take = () => {
      if (next >= jobs.length) {
        void w.terminate().then(() => resolveAll());
        return;
      }
      current = next++;
      w.postMessage(jobs[current]);
    };
    w.on('message', (m: { ok?: boolean; record?: RunRecord; message?: string; epoch?: DemoEpoch }) => {
      if (m.epoch) {
        onEpoch(m.epoch);
        return;
      }
      if (!m.ok) {
        void w.terminate();
        reject(new TlError(`demo run ${jobs[current]!.experiment} seed ${jobs[current]!.seed} failed: ${m.message}`));
        return;
      }
      results[current] = m.record!;
      onDone(m.record!);
      take();
    });
    w.on('error', reject);
    take();
  })));
  return results;
}

export async function demo(f: DemoFlags): Promise<number> {
  const sourceModel = f.sourceModel ?? DEMO_SOURCE_MODEL;
  if (!existsSync(sourceModel)) {
    throw new TlError(`demo: source model ${sourceModel} is missing; recreate it with the command in models/README.md, or pass --source_model`);
  }
  mkdirSync(f.reportDir, { recursive: true });
  const mean = builtinMean('mnist', DEMO_MODEL.imageSize);
  const jobs: DemoJob[] = [];
  for (let seed = 0; seed < f.seeds; seed++) {
    for (const experiment of EXPERIMENTS) {
      jobs.push({ experiment, seed, trainPerClass: f.trainPerClass, epochs: f.epochs, sourceModel, reportDir: f.reportDir, mean, ...DEMO_MODEL });
    }
  }
  const nWorkers = Math.max(1, Math.min(f.workers ?? availableParallelism(), jobs.length));
  console.log(`tl-scratch demo: VGG-16 (width ×${DEMO_MODEL.widthMult}, fc ${DEMO_MODEL.fcSize}) pretrained on MNIST (${sourceModel})`);
  console.log(`target: Fashion-MNIST T-shirt/top vs Shirt, ${f.trainPerClass} labelled images per class, ${f.epochs} epochs, batch ${DEMO_MODEL.batchSize}, tested on 2000 images`);
  console.log(`${jobs.length} runs (3 experiments × ${f.seeds} seeds) on ${nWorkers} worker${nWorkers > 1 ? 's' : ''}...`);
  const start = Date.now();
  let done = 0;
  const runs = await runInWorkers(jobs, nWorkers, (r) => {
    done++;
    console.log(`  [${done}/${jobs.length}] ${r.experiment.padEnd(8)} seed ${r.seed}: test accuracy ${(100 * r.testAccuracy).toFixed(1)}%, final cost ${r.finalCost.toFixed(3)} (${r.seconds.toFixed(1)}s)`);
  }, (e) => {
    console.log(`    ${e.experiment} seed ${e.seed}: epoch ${e.epoch}/${e.epochs} cost ${e.cost.toFixed(3)}`);
  });
  console.log(`\n${comparisonTable(runs)}`);
  const path = writeReport({
    dir: f.reportDir,
    title: 'tl-scratch demo: transfer from MNIST to Fashion-MNIST T-shirt/top vs Shirt',
    setup: [
      `source: VGG-16 (head fc6/fc7/fc8), width ×${DEMO_MODEL.widthMult}, fc ${DEMO_MODEL.fcSize}, pretrained on MNIST: ${sourceModel}`,
      `target: ${f.trainPerClass} labelled training images per class (a different draw per seed), ${f.epochs} epochs, batch ${DEMO_MODEL.batchSize}; 2000 official test images`,
      `input: 28×28 images zero-padded to ${DEMO_MODEL.imageSize}×${DEMO_MODEL.imageSize}, pixel values 0..255 minus the source's (MNIST) mean ${mean.toFixed(1)}, as neon reads prepared uint8 data`,
      'optimizer: GradientDescentMomentum(0.001, momentum 0.9, wdecay 0.0005); imported layers ×0.001 (finetune) or ×0 (extract)',
      `seeds 0..${f.seeds - 1}; every run is reported, none is picked`,
    ],
    runs,
  });
  console.log(`\nreport: ${path} (${((Date.now() - start) / 1000).toFixed(0)}s in all)`);
  return 0;
}
