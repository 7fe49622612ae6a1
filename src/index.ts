/**
 * tl-scratch's public API: the names below are kept stable (benchmarks, the README's
 * program and outside code use them). The package's `exports` map allows only this entry,
 * so anything not re-exported here is internal on purpose (the CLI, format internals,
 * kernels' helpers, the experiment runner).
 *
 * @packageDocumentation
 */
// Tensors, autograd and the generator.
export { Tensor, type DType } from './tensor/tensor.js';
export { manualSeed, rng, Generator, type RngState } from './tensor/random.js';
export { sizeOf, broadcastShapes, type Shape } from './tensor/shape.js';
export { backward, noGrad, isGradEnabled, record, type GradFn } from './autograd/graph.js';
export * from './autograd/ops/index.js';
export { gradcheck, GradcheckError, type GradcheckOptions, type GradcheckReport } from './autograd/gradcheck.js';

// Backend selection.
export { backend, getBackend, setBackend, withBackend, registerBackend, availableBackends, setNumThreads, getNumThreads } from './kernels/index.js';
export type { Backend, FloatArray, Strided, WindowGeometry, UnaryOp, BinaryOp } from './kernels/backend.js';

// Errors a user can act on.
export { TlError, UsageError, ShapeError, ValueError, BackendError } from './util/errors.js';

// The model: neon's Sequential container, its summary, checkpoints.
export { Model, type EvaluateOptions, type FitOptions, type TrainOptimizer } from './models/model.js';
export type { FeatureCacheOptions, FeatureCacheInfo } from './models/feature-cache.js';
export { formatSummary, summaryRows, type SummaryRow } from './models/summary.js';
export { saveCheckpoint, loadCheckpoint, type SaveOptions, type LoadOptions } from './models/checkpoint.js';

// Layers, their compound builders, activations and initializers.
export { BaseLayer, resetLayerNames, type Layer, type LayerDescription } from './layers/layer.js';
export type { Param, ParamLayer } from './layers/param.js';
export { Convolution, type ConvolutionOptions } from './layers/convolution.js';
export { Bias } from './layers/bias.js';
export { Activation, Rectlin, Softmax, Logistic, Tanh, Identity, type Transform, type TransformName } from './layers/activation.js';
export { Pooling, type PoolingOptions } from './layers/pooling.js';
export { Linear } from './layers/linear.js';
export { Dropout } from './layers/dropout.js';
export { Conv, Affine, type CompoundOptions } from './layers/compound.js';
export { Constant, Uniform, Gaussian, GlorotUniform, Xavier, Kaiming, type Initializer } from './layers/initializers.js';

// Optimizers and learning-rate schedules.
export { GradientDescentMomentum, type GradientDescentMomentumOptions } from './optim/gdm.js';
export { MultiOptimizer } from './optim/multi.js';
export type { Optimizer, OptimizerDescription } from './optim/optimizer.js';
export { Schedule, StepSchedule, PowerSchedule, ExpSchedule, PolySchedule, type LearningRateSchedule, type ScheduleDescription } from './optim/schedule.js';

// Costs, metrics, callbacks.
export { GeneralizedCost, CrossEntropyBinary, CrossEntropyMulti, SumSquared, type CostFunction } from './models/cost.js';
export { Accuracy, Misclassification, LogLoss, type Metric } from './models/metrics.js';
export { TrainCostCallback, EveryNEpochs, type Callback, type MinibatchOutputs } from './models/callbacks.js';

// VGG-16 and transfer learning.
export { generateVgg16, generateVgg16TransferModel, vgg16Features, VGG16_BLOCKS, type Vgg16Options } from './models/vgg16.js';
export { importMatchingLayers, type ImportOptions, type ImportReport, type ShapeMismatch } from './transfer/import.js';
export { transferOptimizer, type OptimizerSettings } from './transfer/experiment.js';

// Weight files: any format by content (readWeights), or one reader per format.
export { readWeights } from './transfer/read.js';
export { readNeonWeights, readKerasWeights, readTorchWeights, readSafetensors, readOnnxWeights, FORMAT_NAMES } from './formats/index.js';
export type { WeightFile, SourceLayer, WeightArray, RawArrayInfo, ReadOptions } from './formats/types.js';

// Data: iterators with one-hot targets, and the built-in sets.
export type { DataIterator, Batch, IteratorOptions, ArrayIteratorOptions } from './data/iterator.js';
export { ArrayIterator } from './data/iterator.js';
export { HDF5IteratorOneHot, type HDF5IteratorOptions } from './data/hdf5.js';
export { loadBuiltin, ImageSet, ImageSetIterator, BUILTIN_NAMES, type BuiltinName, type ImageTransform } from './data/builtin.js';

// Taking a model elsewhere.
export { exportModel, exportBytes, onnxBytes, safetensorsBytes, modelFromCheckpoint, EXPORT_FORMATS, ONNX_OPSET, type ExportFormat, type OnnxExportOptions } from './export/index.js';
