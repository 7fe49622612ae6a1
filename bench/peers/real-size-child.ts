// Ours in bench/real-size.ts, in a process of its own: `node dist/bench/peers/real-size-child.js
// <backend> <threads> <train.h5> <batch> <steps>`. The lab's model (VGG-16 transfer model, fc
// 4096-4096, the file's classes) trains on the file as `tl-scratch train` reads it
// (HDF5IteratorOneHot, mean subtracted, shuffled) and Model.fit runs it (fprop, cost, bprop,
// SGD momentum), each step timed from reading its batch to the end of the update; no
// warm-up (the first step is a step of a real epoch). Prints one JSON line:
// median seconds per step, the samples, resident memory after and at the peak (MB).
import { readFileSync } from 'node:fs';
import { HDF5IteratorOneHot } from '../../src/data/hdf5.js';
import { setBackend, setNumThreads } from '../../src/kernels/index.js';
import type { Callback } from '../../src/models/callbacks.js';
import { generateVgg16TransferModel } from '../../src/models/vgg16.js';
import { GradientDescentMomentum } from '../../src/optim/index.js';
import { median } from '../harness.js';

async function main(): Promise<void> {
  const [backend, threads, path, batch, steps] = process.argv.slice(2);
  if (backend !== 'cpu' && backend !== 'ref') throw new Error('usage: real-size-child.js <cpu|ref> <threads> <train.h5> <batch> <steps>');
  setBackend(backend);
  setNumThreads(Number(threads));
  const data = await HDF5IteratorOneHot.open(path!, { bsz: Number(batch), shuffle: true, seed: 0 });
  const model = generateVgg16TransferModel({ widthMult: 1, fcSize: 4096, nclass: data.nclass });
  model.initialize(data.lshape);
  const opt = new GradientDescentMomentum(0.001, { momentumCoef: 0.9, wdecay: 0.0005 });
  // Model.fit as `tl-scratch train` runs it; a step is timed from the end of the one before
  // (reading and preprocessing its batch included), the first from the call
  const samples: number[] = [];
  let t0 = performance.now();
  const stepEnd: Callback = {
    onMinibatchEnd: (m) => {
      samples.push((performance.now() - t0) / 1000);
      console.error(`  ours (${backend}) step ${samples.length}/${steps}: ${samples[samples.length - 1]!.toFixed(1)} s`);
      if (samples.length >= Number(steps)) m.stopRequested = true;
      t0 = performance.now();
    },
  };
  await model.fit(data, { optimizer: opt, cost: model.cost!, numEpochs: Math.ceil(Number(steps) / data.nbatches), callbacks: [stepEnd], featureCache: false });
  data.close();
  const st = readFileSync('/proc/self/status', 'utf8');
  const mb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(st)?.[1] ?? NaN) / 1024;
  const cpu = process.cpuUsage();
  console.log(JSON.stringify({ seconds: median(samples), samples, rssMB: mb('VmRSS'), peakMB: mb('VmHWM'), cpuShare: (cpu.user + cpu.system) / 1e6 / process.uptime() }));
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
