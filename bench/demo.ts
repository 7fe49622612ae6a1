// The demo's model: VGG-16 at width 1/8 (convs of 8, 16, 32, 64, 64 channels), fc 128,
// 2 classes, on 1×32×32 images: one training step at batch 10 (SGD momentum, as the demo
// trains) and one inference pass at batch 50 (as it evaluates). Every conv here is small
// (per image at most 72×1024 columns), so the cost is in the many small gemms.
//
// Peer: the same model with convolutions done one image per gemm (conv2d's column budget
// set to one image: the way every conv ran before images were batched into one gemm). It
// isolates the batching alone; the gemm packing and im2col changes made with it speed up
// both. Against the engine before those changes (commit f39bc0a, built separately and
// loaded into the same process, the two alternated step by step, 21 steps each, on the
// loaded 2-core machine; two runs): training step median 233 → 186 and 282 → 221 ms
// (fastest 171 → 128, 181 → 135), inference 406 → 268 and 530 → 369 ms (fastest
// 317 → 235, 305 → 234).
import { setConvColumnBudget } from '../src/kernels/cpu/simd/conv.js';
import { generateVgg16TransferModel } from '../src/models/vgg16.js';
import { GradientDescentMomentum } from '../src/optim/index.js';
import { describeTiming, measure, median, type Benchmark, type Row } from './harness.js';
import { forwardFlopsPerExample, randomBatch, trainingStep } from './model-step.js';

const IN_SHAPE = [1, 32, 32] as const;
const TRAIN_BSZ = 10, EVAL_BSZ = 50;

const ROUNDS = 11;

/** Training step and inference times of the batched conv (ours) and one image per gemm (peer), alternated step by step on one model. */
function time(log: (m: string) => void): { ours: { train: number; infer: number }; peer: { train: number; infer: number } } {
  const model = generateVgg16TransferModel({ widthMult: 0.125, fcSize: 128 });
  model.initialize(IN_SHAPE);
  const opt = new GradientDescentMomentum(0.003, { momentumCoef: 0.9, wdecay: 0.0005 });
  const step = trainingStep(model, opt, IN_SHAPE, randomBatch(TRAIN_BSZ, IN_SHAPE, 2, 1));
  const eb = randomBatch(EVAL_BSZ, IN_SHAPE, 2, 2);
  const infer = () => model.fprop(eb.x, true);
  const flops = forwardFlopsPerExample(model);
  const configs = [
    { label: 'batched', budget: setConvColumnBudget(), train: [] as number[], infer: [] as number[] },
    { label: 'per image', budget: 0, train: [] as number[], infer: [] as number[] },
  ];
  const once = (f: () => void) => measure(f, { warmup: 0, runs: 1 }).median;
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  try {
    for (let round = -2; round < ROUNDS; round++) { // two warm-up rounds
      for (const c of configs) {
        setConvColumnBudget(c.budget);
        const tr = once(step), inf = once(infer);
        if (round >= 0) {
          c.train.push(tr);
          c.infer.push(inf);
        }
      }
    }
  } finally {
    setConvColumnBudget();
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuShare = (cpu.user + cpu.system) / 1e3 / (performance.now() - wall0);
  for (const c of configs) {
    const tr = { median: median(c.train), samples: c.train, cpuShare }, inf = { median: median(c.infer), samples: c.infer, cpuShare };
    log(`  ${c.label} training step, batch ${TRAIN_BSZ}: ${describeTiming(tr)}, ${((3 * TRAIN_BSZ * flops) / tr.median / 1e9).toFixed(2)} GFLOP/s`);
    log(`  ${c.label} inference, batch ${EVAL_BSZ}: ${describeTiming(inf)}, ${((EVAL_BSZ * flops) / inf.median / 1e9).toFixed(2)} GFLOP/s`);
  }
  const [o, p] = configs as [typeof configs[0], typeof configs[0]];
  return { ours: { train: median(o.train), infer: median(o.infer) }, peer: { train: median(p.train), infer: median(p.infer) } };
}

export const demoBench: Benchmark = {
  name: 'demo',
  ids: [],
  title: `demo step: VGG-16 width 1/8, fc 128, 1×32×32, training step at batch ${TRAIN_BSZ} and inference at batch ${EVAL_BSZ}`,
  async run(log) {
    const { ours, peer } = time(log);
    const peerName = 'same, conv one image per gemm';
    const note = `ms: medians of ${ROUNDS} steps, ours and the peer alternated step by step on one model; the peer is this engine with conv2d doing one gemm per image (as before batching)`;
    const rows: Row[] = [
      { workload: `demo VGG-16/8 train step b${TRAIN_BSZ} 1×32²`, unit: 'ms', ours: 1000 * ours.train, peer: peerName, peerValue: 1000 * peer.train, note },
      { workload: `demo VGG-16/8 inference b${EVAL_BSZ} 1×32²`, unit: 'ms', ours: 1000 * ours.infer, peer: peerName, peerValue: 1000 * peer.infer, note },
    ];
    return rows;
  },
};
