// tl-scratch's public API. These names are kept stable: benchmarks and outside checks use them.
export { Tensor, type DType } from './tensor/tensor.js';
export { manualSeed, rng, Generator, type RngState } from './tensor/random.js';
export { sizeOf, broadcastShapes, type Shape } from './tensor/shape.js';
export { backward, noGrad, isGradEnabled, record, type GradFn } from './autograd/graph.js';
export * from './autograd/ops/index.js';
export { gradcheck, GradcheckError, type GradcheckOptions, type GradcheckReport } from './autograd/gradcheck.js';
export { backend, setBackend, registerBackend, availableBackends, setNumThreads, getNumThreads } from './kernels/index.js';
export type { Backend, FloatArray, Strided, WindowGeometry, UnaryOp, BinaryOp } from './kernels/backend.js';
export { TlError, UsageError, ShapeError } from './util/errors.js';
