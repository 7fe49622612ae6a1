// The engine in a browser: what a page needs to build, train and run a model (tensors, ops,
// layers, VGG-16, costs, optimizers, in-memory data, the backends: `cpu` on Web Workers,
// gpu.js's WebGL, WebGPU through navigator.gpu; startPageBackends starts them),
// bundled by `npm run build:browser` (scripts/build-browser.mjs) into
// dist/browser/tl-scratch.js. Nothing here or below it imports a `node:` module: the files,
// checkpoints and the command line stay in Node (checkpoint.ts is replaced by
// checkpoint-stub.ts in the bundle, the fast backend's thread pool by simd-pool.ts).
import * as gpujs from 'gpu.js';
import { provideGpuJs } from '../kernels/gpu/webgl/index.js';

provideGpuJs(gpujs);

// Model.fit yields to the event loop between batches with Node's setImmediate.
const g = globalThis as { setImmediate?: (f: () => void) => unknown };
g.setImmediate ??= (f: () => void) => setTimeout(f, 0);

// The engine's core (the package entry also exports file readers and Node-only parts).
export { Tensor, type DType } from '../tensor/tensor.js';
export { manualSeed, rng, Generator, type RngState } from '../tensor/random.js';
export { sizeOf, broadcastShapes, type Shape } from '../tensor/shape.js';
export { backward, noGrad, isGradEnabled, record, type GradFn } from '../autograd/graph.js';
export * from '../autograd/ops/index.js';
export { gradcheck, GradcheckError, type GradcheckOptions, type GradcheckReport } from '../autograd/gradcheck.js';
export { backend, setBackend, registerBackend, availableBackends } from '../kernels/index.js';
export type { Backend, FloatArray, Strided, WindowGeometry, UnaryOp, BinaryOp } from '../kernels/backend.js';
export { TlError, UsageError, ShapeError } from '../util/errors.js';
export { getBackend, registeredBackends, withBackend } from '../kernels/index.js';
export { gpuDevice, setGpuMode, announceGpu, type DeviceInfo, type GpuMode } from '../kernels/gpu/webgl/index.js';
export { generateVgg16TransferModel } from '../models/vgg16.js';
export { Model } from '../models/model.js';
export { GeneralizedCost, CrossEntropyBinary, CrossEntropyMulti, SumSquared } from '../models/cost.js';
export { GradientDescentMomentum } from '../optim/index.js';
export { ArrayIterator } from '../data/iterator.js';
export { windowGeometry } from '../kernels/geometry.js';
export { startPageBackends, type PageBackends } from './start.js';
export { webgpuStats, webgpuSync, type WebgpuInfo } from '../kernels/gpu/webgpu/index.js';
export { pagePool } from './simd-pool.js';
