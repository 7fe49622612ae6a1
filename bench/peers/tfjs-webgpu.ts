// TensorFlow.js' WebGPU backend (tfjs-backend-webgpu 4.22.0) as a peer of our webgpu backend,
// in Node on the same Dawn (the `webgpu` package) and the same kind of adapter: a real GPU
// where ours found one, else OpenGL ES in compatibility mode (Mesa's llvmpipe). tfjs looks for
// navigator.gpu, as in a page: here it is Dawn's GPU object, on this (main) thread, whose event
// loop settles Dawn's promises while the bench awaits tfjs' reads. Loaded only by
// `npm run bench -- webgpu`.
import { createRequire } from 'node:module';
import { loadTf, tfVersion, type Tf } from './tfjs.js';

const require = createRequire(import.meta.url);

/** "tfjs-webgpu 4.22.0": the label used in the table. */
export const tfWebgpuLabel = (): string => `tfjs-webgpu ${tfVersion()}`;

interface DawnGpu {
  requestAdapter(o?: Record<string, unknown>): Promise<unknown>;
}

/**
 * tfjs with its webgpu backend started on Dawn: `opengles` asks for the OpenGL ES
 * compatibility adapter (as ours took on a machine without a GPU). Returns why not, in one
 * line, where it cannot start.
 */
export async function startTfWebgpu(opengles: boolean): Promise<Tf | string> {
  let dawn: { create(o: string[]): DawnGpu; globals: object };
  try {
    dawn = (await import('webgpu' as string)) as typeof dawn;
  } catch (e) {
    return `the 'webgpu' package does not load (${(e as Error).message.split('\n')[0]})`;
  }
  process.env.EGL_PLATFORM ??= 'surfaceless';
  // The WebGPU enums tfjs reads (GPUBufferUsage, GPUMapMode, ...), but not Dawn's `GPU` class:
  // gpu.js, measured in the same run, takes a global GPU for its own.
  for (const [k, v] of Object.entries(dawn.globals)) if (k !== 'GPU' && !(k in globalThis)) Object.assign(globalThis, { [k]: v });
  const gpu = dawn.create(opengles ? ['backend=opengles'] : []);
  // tfjs asks for a high-performance adapter; a compatibility adapter must be asked for by featureLevel.
  const requestAdapter = (o: Record<string, unknown> = {}) => gpu.requestAdapter(opengles ? { ...o, featureLevel: 'compatibility' } : o);
  const navigatorGpu = { requestAdapter, getPreferredCanvasFormat: () => 'rgba8unorm', wgslLanguageFeatures: new Set<string>() };
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav) Object.defineProperty(nav, 'gpu', { value: navigatorGpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu: navigatorGpu }, configurable: true });
  try {
    const tf = loadTf();
    require('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) return 'tf.setBackend(\'webgpu\') failed (no adapter or device for tfjs)';
    await tf.ready();
    return tf;
  } catch (e) {
    return (e as Error).message.split('\n')[0]!;
  }
}

/** Seconds per run (median of `runs` after one warm-up) of work that ends by awaiting its outputs' data. */
export async function measureAsync(run: () => Promise<void>, runs: number): Promise<number> {
  await run();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await run();
    t.push((performance.now() - t0) / 1000);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)]!;
}

/** A square gemm n³ on tfjs: one run is the product and the read of its result. */
export function tfGemm(tf: Tf, n: number, data: (n: number, seed: number) => Float32Array): { run: () => Promise<void>; dispose: () => void } {
  const a = tf.tensor2d(data(n * n, 1), [n, n]), b = tf.tensor2d(data(n * n, 2), [n, n]);
  return {
    run: async () => {
      const c = tf.matMul(a, b);
      await c.data();
      c.dispose();
    },
    dispose: () => tf.dispose([a, b]),
  };
}

/** A 3×3 'same' convolution C→C on N images HW² (NHWC, tfjs' layout): the forward and the two gradients tf.grads runs (Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter). */
export function tfConv(tf: Tf, N: number, C: number, HW: number, data: (n: number, seed: number) => Float32Array): { run: () => Promise<void>; dispose: () => void } {
  type T4 = ReturnType<Tf['tensor4d']>;
  const x = tf.tensor4d(data(N * HW * HW * C, 3), [N, HW, HW, C]), f = tf.tensor4d(data(9 * C * C, 4), [3, 3, C, C]), dy = tf.tensor4d(data(N * HW * HW * C, 5), [N, HW, HW, C]);
  const conv = { strides: [1, 1] as [number, number], pad: 'same' as const, dataFormat: 'NHWC' as const, dilations: [1, 1] as [number, number] };
  return {
    run: async () => {
      const y = tf.conv2d(x, f, 1, 'same');
      const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { ...conv, inputShape: x.shape }) as T4;
      const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...conv, filterShape: f.shape }) as T4;
      await Promise.all([y.data(), dx.data(), dw.data()]);
      tf.dispose([y, dx, dw]);
    },
    dispose: () => tf.dispose([x, f, dy]),
  };
}
