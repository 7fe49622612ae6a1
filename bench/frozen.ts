// Issue 3, point 5: a training step of experiment 3 ("extract": every conv layer frozen,
// learning rate 0) must cost at most 40% of a fine-tuning step (conv layers at 0.001 × the
// base rate) of the same model. Both optimizers come from transferOptimizer, as the
// experiments build them, with every conv layer and conv bias counted as imported; the
// step is Model.fit's (frozen layers compute no weight gradient and backward stops at the
// lowest layer that trains, fc6_new). Ours = the frozen step, peer = the fine-tuning step
// of the same model in the same run; the ratio column is the figure the issue bounds.
//
// `frozen`: VGG-16 width 1/4 (16..128 channels), fc 256, batch 8, 3×64×64 (~1 s a step).
// `w3a` (opt-in, ~2 minutes): the full-width W3a model of perf-baseline.md, VGG-16 fc
// 4096, batch 8, 3×64×64 (61 GFLOP a fine-tuning step, ~20-25 s each here), one warm-up
// and three timed steps of each; too slow for the default run.
import { generateVgg16TransferModel } from '../src/models/vgg16.js';
import type { Model } from '../src/models/model.js';
import { transferOptimizer } from '../src/transfer/experiment.js';
import { describeTiming, measure, median, type Benchmark, type Row } from './harness.js';
import { forwardFlopsPerExample, randomBatch, trainingStep } from './model-step.js';

interface Config {
  label: string;
  widthMult: number;
  fcSize: number;
  bsz: number;
  inShape: readonly [number, number, number];
  warmup: number;
  runs: number;
  /** A peer's figure for the fine-tuning step from perf-baseline.md, for the log (not measured here). */
  reference?: string;
}

/** Names of the layers a transfer experiment imports from a VGG-16: every conv and its bias. */
function convLayerNames(model: Model): string[] {
  return model.layersToOptimize.filter((l) => /^conv\d_\d(_bias)?$/.test(l.name)).map((l) => l.name);
}

/** The model and its training step under transferOptimizer(conv layers, importedLrScale). */
function setup(cfg: Config, importedLrScale: number, log: (m: string) => void, what: string) {
  const model = generateVgg16TransferModel({ widthMult: cfg.widthMult, fcSize: cfg.fcSize });
  model.initialize(cfg.inShape);
  const imported = convLayerNames(model);
  const opt = transferOptimizer(imported, { lr: 0.01, momentum: 0.9, wdecay: 0.0005, importedLrScale });
  const step = trainingStep(model, opt, cfg.inShape, randomBatch(cfg.bsz, cfg.inShape, 2, 5));
  const frozen = model.layersToOptimize.filter((l) => !l.computeParamGrads).length;
  log(`  ${what}: ${imported.length} conv layers imported, ${frozen} frozen, backward down to '${model.layers[model.lowestTrainable()]?.name}'`);
  return { step, gflop: (3 * cfg.bsz * forwardFlopsPerExample(model)) / 1e9 };
}

function frozenBenchmark(name: string, ids: string[], cfg: Config, optIn: boolean): Benchmark {
  const shape = cfg.inShape.join('×');
  return {
    name,
    ids,
    optIn,
    title: `experiment 3 (conv layers frozen) vs fine-tuning, training step: ${cfg.label}, batch ${cfg.bsz}, ${shape}`,
    async run(log) {
      const fz = setup(cfg, 0, log, 'frozen (importedLrScale 0)');
      const ft = setup(cfg, 0.001, log, 'fine-tune (importedLrScale 0.001)');
      // Alternate the two steps, so that load from other processes falls on both alike.
      for (let i = 0; i < cfg.warmup; i++) {
        fz.step();
        ft.step();
      }
      const tf: number[] = [], tt: number[] = [];
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < cfg.runs; i++) {
        tf.push(measure(fz.step, { warmup: 0, runs: 1 }).median);
        tt.push(measure(ft.step, { warmup: 0, runs: 1 }).median);
      }
      const cpu = process.cpuUsage(cpu0);
      const share = (cpu.user + cpu.system) / 1e6 / [...tf, ...tt].reduce((a, b) => a + b, 0);
      const timing = (xs: number[]) => describeTiming({ median: median(xs), samples: xs, cpuShare: share });
      log(`  frozen step: ${timing(tf)}`);
      log(`  fine-tuning step: ${timing(tt)}`);
      const frozen = median(tf), fine = median(tt);
      log(`  frozen / fine-tune = ${(frozen / fine).toFixed(3)} (issue 3: at most 0.40); fine-tuning ${ft.gflop.toFixed(2)} GFLOP a step = ${(ft.gflop / fine).toFixed(2)} GFLOP/s, ${(cfg.bsz / fine).toFixed(2)} img/s${cfg.reference ? ` (${cfg.reference})` : ''}`);
      const rows: Row[] = [
        {
          workload: `${ids[0] ? `${ids[0]} ` : ''}frozen-conv step, ${cfg.label} b${cfg.bsz} ${shape}`,
          unit: 's',
          ours: frozen,
          peer: 'fine-tuning step, same model',
          peerValue: fine,
          note: `issue 3: ours / peer (frozen step / fine-tuning step) must be at most 0.40; medians of ${cfg.runs} steps of each, alternated`,
        },
      ];
      return rows;
    },
  };
}

export const frozenBench = frozenBenchmark('frozen', [], {
  label: 'VGG-16/4 fc256', widthMult: 0.25, fcSize: 256, bsz: 8, inShape: [3, 64, 64], warmup: 1, runs: 7,
}, false);

export const frozenW3aBench = frozenBenchmark('w3a', ['W3a'], {
  label: 'VGG-16 fc4096', widthMult: 1, fcSize: 4096, bsz: 8, inShape: [3, 64, 64], warmup: 1, runs: 3,
  reference: 'perf-baseline.md, not measured here: PyTorch 1.13 on one thread 7.7 img/s',
}, true);
