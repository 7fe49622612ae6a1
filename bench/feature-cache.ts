// Issue 10 section 2: cached frozen features. The demo's transfer (`tl-scratch demo`:
// VGG-16 width 1/8, fc 128, 1×32×32, batch 10, GDM 0.001 momentum 0.9 wdecay 0.0005, the
// shipped MNIST source model imported) on 500 Fashion-MNIST T-shirt/Shirt training images
// instead of 20, so that an epoch is long enough to time: epoch times of Model.fit, as the
// demo runs it (prepareExperiment + fit), for
//   extract, cache on:  epoch 1 computes and stores pool5's output (64 floats an image);
//                       epochs 2.. train fc6_new..cls on the cache alone (ours);
//   finetune:           every epoch runs the whole network forward and backward (peer);
//   extract, cache off: every epoch runs the frozen convs forward (second peer).
// The issue's target: extract epochs after the first at least 10× cheaper than a finetune
// epoch, i.e. ours / peer ≤ 0.1 in the first row.
import { DEMO_MODEL, DEMO_SOURCE_MODEL } from '../src/cli/demo.js';
import { builtinIterators, builtinMean } from '../src/cli/data.js';
import { buildModel } from '../src/cli/model-options.js';
import type { Callback } from '../src/models/callbacks.js';
import { manualSeed } from '../src/tensor/random.js';
import { prepareExperiment, type ExperimentName } from '../src/transfer/experiment.js';
import { readWeights } from '../src/transfer/read.js';
import { describeTiming, median, type Benchmark, type Row } from './harness.js';

const PER_CLASS = 250;

/** Wall seconds of each epoch of one fit of the demo's experiment. */
async function epochTimes(experiment: ExperimentName, epochs: number, cache: boolean, log: (m: string) => void): Promise<{ times: number[]; cpuShare: number }> {
  const mean = builtinMean('mnist', DEMO_MODEL.imageSize);
  const { train } = builtinIterators('fashion-tshirt-shirt', { size: DEMO_MODEL.imageSize, bsz: DEMO_MODEL.batchSize, testBsz: 50, trainPerClass: PER_CLASS, seed: 0, mean });
  const source = await readWeights(DEMO_SOURCE_MODEL);
  manualSeed(0);
  const model = buildModel({ model: 'vgg16_transfer', widthMult: DEMO_MODEL.widthMult, fcSize: DEMO_MODEL.fcSize, dropoutKeep: 0.5 }, 2);
  const setup = { experiment, model, trainSet: train, source, optimizer: { lr: 0.001, momentum: 0.9, wdecay: 0.0005 }, log: () => {} };
  const prepared = prepareExperiment(setup);
  const times: number[] = [];
  let t0 = 0;
  const timer: Callback = {
    onEpochBegin: () => { t0 = performance.now(); },
    onEpochEnd: () => { times.push((performance.now() - t0) / 1000); },
  };
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  await model.fit(train, { optimizer: prepared.optimizer, numEpochs: epochs, cost: model.cost!, callbacks: [timer], featureCache: { enabled: cache } });
  const cpu = process.cpuUsage(cpu0);
  const info = model.featureCacheInfo!;
  log(`  ${experiment}${experiment === 'extract' ? `, cache ${cache ? 'on' : 'off'}` : ''}: ${train.ndata} images, ${epochs} epochs; ${info.used ? info.reason : `feature cache not used (${info.reason})`}`);
  return { times, cpuShare: (cpu.user + cpu.system) / 1e3 / (performance.now() - wall0) };
}

export const featureCacheBench: Benchmark = {
  name: 'fcache',
  ids: [],
  title: `cached frozen features: the demo's epoch (VGG-16 width 1/8, fc 128, 1×32×32, batch 10, ${2 * PER_CLASS} images), extract after the first epoch vs finetune`,
  async run(log) {
    const ft = await epochTimes('finetune', 3, true, log);
    const ex = await epochTimes('extract', 6, true, log);
    const un = await epochTimes('extract', 3, false, log);
    const t = (xs: number[], share: number) => describeTiming({ median: median(xs), samples: xs, cpuShare: share });
    log(`  finetune epoch: ${t(ft.times, ft.cpuShare)}`);
    log(`  extract epoch 1 (fills the cache): ${ex.times[0]!.toFixed(3)} s`);
    const later = ex.times.slice(1);
    log(`  extract epochs 2..${ex.times.length} (cached): ${t(later, ex.cpuShare)}`);
    log(`  extract epoch without the cache: ${t(un.times, un.cpuShare)}`);
    const cached = median(later), fine = median(ft.times), uncached = median(un.times);
    log(`  finetune epoch / cached extract epoch = ${(fine / cached).toFixed(0)}× (target ≥ 10×); uncached / cached extract epoch = ${(uncached / cached).toFixed(0)}×`);
    const note = `s per epoch, medians (finetune: 3 epochs; extract with the cache: epochs 2-6; without: 3 epochs); issue 10: ours / peer in the finetune row must be at most 0.1 (10× cheaper)`;
    const rows: Row[] = [
      { workload: `demo extract epoch after the first, cached, ${2 * PER_CLASS} img`, unit: 's', ours: cached, peer: 'finetune epoch, same model', peerValue: fine, note },
      { workload: `demo extract epoch after the first, cached, ${2 * PER_CLASS} img`, unit: 's', ours: cached, peer: 'extract epoch, --no_feature_cache', peerValue: uncached, note },
    ];
    return rows;
  },
};
