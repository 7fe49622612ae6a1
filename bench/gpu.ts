// Opt-in (`npm run bench -- gpu`): the GPU backend (src/kernels/gpu/webgl/) in whatever gpu.js mode
// runs here (in Node without a GL context: webasm, gpu.js's WebAssembly mode on the CPU),
// against the reference backend on the same model: one training step of VGG-16 width 1/16,
// fc 16, 3×32×32, batch 8, as Model.fit runs it, after warm-up (kernels compiled). Then 200
// more steps on the GPU backend, sampling its memory after a forced GC (host array buffers
// in webasm and cpu modes, where a buffer is a Float32Array; live textures on GL) and the
// number of compiled kernels, to show that neither grows with the steps.
import v8 from 'node:v8';
import vm from 'node:vm';
import { availableBackends, setBackend } from '../src/kernels/index.js';
import { gpuDevice } from '../src/kernels/gpu/webgl/index.js';
import { generateVgg16TransferModel } from '../src/models/vgg16.js';
import { GradientDescentMomentum } from '../src/optim/index.js';
import { describeTiming, measure, type Benchmark, type Row } from './harness.js';
import { randomBatch, trainingStep } from './model-step.js';

const IN_SHAPE = [3, 32, 32] as const;
const BSZ = 8;
const MEMORY_STEPS = 200;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function stepOn(name: string): () => void {
  setBackend(name);
  const model = generateVgg16TransferModel({ widthMult: 1 / 16, fcSize: 16 });
  const opt = new GradientDescentMomentum(0.003, { momentumCoef: 0.9, wdecay: 0.0005 });
  return trainingStep(model, opt, IN_SHAPE, randomBatch(BSZ, IN_SHAPE, 2, 1));
}

export const gpuBench: Benchmark = {
  name: 'gpu',
  ids: [],
  title: 'GPU backend (gpu.js, the mode that runs here): VGG-16 w1/16 fc16 3×32×32 batch-8 training step vs the reference backend; memory over 200 steps',
  optIn: true,
  async run(log) {
    const ref = availableBackends().includes('ref') ? 'ref' : 'cpu'; // the reference backend under either name
    const d = gpuDevice();
    log(`  gpu.js mode ${d.mode}${d.info.renderer ? `, renderer ${d.info.renderer}` : ''}${d.info.notAGpu ? ` (not a real GPU: ${d.info.notAGpu})` : ''}`);
    try {
      const gpuStep = stepOn('gpu');
      const tg = measure(gpuStep, { warmup: 2, runs: 7 });
      const cpuStep = stepOn(ref);
      const tc = measure(cpuStep, { warmup: 2, runs: 7 });
      log(`  gpu (${d.mode}) step: ${describeTiming(tg)}`);
      log(`  ${ref} step: ${describeTiming(tc)}`);
      setBackend('gpu');
      // After a forced GC, one turn of the event loop: the FinalizationRegistry callbacks that delete dropped buffers' textures run only then (Model.fit yields between batches; this loop does not).
      const sample = async (): Promise<{ mb: number; kernels: number; textures: number }> => {
        gc();
        await new Promise((res) => setImmediate(res));
        return { mb: process.memoryUsage().arrayBuffers / 2 ** 20, kernels: d.kernelCount, textures: d.liveTextures };
      };
      const samples: [number, Awaited<ReturnType<typeof sample>>][] = [[0, await sample()]];
      for (let s = 1; s <= MEMORY_STEPS; s++) {
        gpuStep();
        if (s % 50 === 0) samples.push([s, await sample()]);
      }
      for (const [s, m] of samples) log(`  after ${String(s).padStart(3)} more steps: array buffers ${m.mb.toFixed(1)} MB, ${m.kernels} compiled kernels, ${m.textures} live textures`);
      const growth = samples[samples.length - 1]![1].mb - samples[1]![1].mb;
      const rows: Row[] = [
        { workload: `gpu backend (${d.mode}) VGG-16 w1/16 fc16 32² training step, batch ${BSZ}`, unit: 'img/s', ours: BSZ / tg.median, peer: `${ref} backend`, peerValue: BSZ / tc.median },
        { workload: `gpu backend (${d.mode}) memory growth, steps 50→${MEMORY_STEPS}`, unit: 'MB', ours: growth, peer: '—', peerValue: null, note: 'array buffers after a forced GC (webasm/cpu modes keep buffers as Float32Arrays; GL: live textures are logged)' },
      ];
      return rows;
    } finally {
      setBackend(ref);
    }
  },
};
