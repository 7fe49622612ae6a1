// The public API, imported by name from the built package entry (dist/src/index.js, the
// only path package.json's `exports` allows). The exact list of runtime names is pinned:
// adding a public name means adding it here (names are stable), and nothing internal
// (CLI, format internals, experiment runner) slips out by accident.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import * as entry from '../../dist/src/index.js';
import {
  Accuracy, Activation, Affine, ArrayIterator, BUILTIN_NAMES, BaseLayer, Bias, COST_TERMS, Constant, Conv,
  Convolution, CrossEntropyBinary, CrossEntropyMulti, Dropout, EXPORT_FORMATS, EveryNEpochs, ExpSchedule,
  FORMAT_NAMES, Gaussian, GeneralizedCost, Generator, GlorotUniform, GradcheckError, GradientDescentMomentum,
  HDF5IteratorOneHot, Identity, ImageSet, ImageSetIterator, Kaiming, Linear, LogLoss, Logistic,
  Misclassification, Model, MultiOptimizer, ONNX_OPSET, PolySchedule, Pooling, PowerSchedule, Rectlin,
  SAFELOG_MIN, Schedule, ShapeError, ValueError, BackendError, Softmax, StepSchedule, SumSquared, Tanh, Tensor, TlError,
  TrainCostCallback, Uniform, UsageError, VGG16_BLOCKS, Xavier, abs, add, availableBackends, avgPool2d,
  backend, backward, biasAdd, getBackend, broadcastShapes, contiguous, conv2d, convGeometry, crossEntropyBinary,
  crossEntropyMulti, div, dropout, dropoutInferenceScale, dropoutMask, exp, exportBytes, exportModel,
  flatten, formatSummary, full, generateVgg16, generateVgg16TransferModel, gradcheck, importMatchingLayers,
  isGradEnabled, linear, loadBuiltin, loadCheckpoint, log, logSoftmax, logistic, manualSeed, matmul, max,
  maxPool2d, maximum, mean, mm, modelFromCheckpoint, mul, neg, noGrad, normal, ones, onnxBytes, permute,
  poolGeometry, readKerasWeights, readNeonWeights, readOnnxWeights, readSafetensors, readTorchWeights,
  readWeights, record, registerBackend, relu, resetLayerNames, reshape, rng, rsub, safelog, safetensorsBytes,
  saveCheckpoint, setBackend, sigmoid, sizeOf, slice, softmax, sqrt, sub, sum, sumSquared, summaryRows, tanh,
  tensor, toDtype, transferOptimizer, transpose, uniform, vgg16Features, view, withBackend, zeros, getNumThreads, setNumThreads,
} from '../../dist/src/index.js';
import type {
  ArrayIteratorOptions, Backend, Batch, BinaryOp, BuiltinName, Callback, CompoundOptions, ConvolutionOptions, CostFunction,
  DataIterator, DType, EvaluateOptions, ExportFormat, FeatureCacheInfo, FeatureCacheOptions, FitOptions, FloatArray, GradcheckOptions, GradcheckReport, GradFn,
  GradientDescentMomentumOptions, HDF5IteratorOptions, ImageTransform, ImportOptions, ImportReport, Initializer, IteratorOptions, Layer,
  LayerDescription, LearningRateSchedule, LoadOptions, Metric, MinibatchOutputs, OnnxExportOptions, Optimizer,
  OptimizerDescription, OptimizerSettings, Param, ParamLayer, PoolingOptions, RawArrayInfo, ReadOptions, RngState,
  SaveOptions, ScheduleDescription, Shape, ShapeMismatch, SourceLayer, Strided, SummaryRow, Transform, TransformName,
  TrainOptimizer, UnaryOp, Vgg16Options, WeightArray, WeightFile, WindowGeometry,
} from '../../dist/src/index.js';

const VALUES = {
  Accuracy, Activation, Affine, ArrayIterator, BUILTIN_NAMES, BaseLayer, Bias, COST_TERMS, Constant, Conv,
  Convolution, CrossEntropyBinary, CrossEntropyMulti, Dropout, EXPORT_FORMATS, EveryNEpochs, ExpSchedule,
  FORMAT_NAMES, Gaussian, GeneralizedCost, Generator, GlorotUniform, GradcheckError, GradientDescentMomentum,
  HDF5IteratorOneHot, Identity, ImageSet, ImageSetIterator, Kaiming, Linear, LogLoss, Logistic,
  Misclassification, Model, MultiOptimizer, ONNX_OPSET, PolySchedule, Pooling, PowerSchedule, Rectlin,
  SAFELOG_MIN, Schedule, ShapeError, ValueError, BackendError, Softmax, StepSchedule, SumSquared, Tanh, Tensor, TlError,
  TrainCostCallback, Uniform, UsageError, VGG16_BLOCKS, Xavier, abs, add, availableBackends, avgPool2d,
  backend, backward, biasAdd, getBackend, broadcastShapes, contiguous, conv2d, convGeometry, crossEntropyBinary,
  crossEntropyMulti, div, dropout, dropoutInferenceScale, dropoutMask, exp, exportBytes, exportModel,
  flatten, formatSummary, full, generateVgg16, generateVgg16TransferModel, gradcheck, importMatchingLayers,
  isGradEnabled, linear, loadBuiltin, loadCheckpoint, log, logSoftmax, logistic, manualSeed, matmul, max,
  maxPool2d, maximum, mean, mm, modelFromCheckpoint, mul, neg, noGrad, normal, ones, onnxBytes, permute,
  poolGeometry, readKerasWeights, readNeonWeights, readOnnxWeights, readSafetensors, readTorchWeights,
  readWeights, record, registerBackend, relu, resetLayerNames, reshape, rng, rsub, safelog, safetensorsBytes,
  saveCheckpoint, setBackend, sigmoid, sizeOf, slice, softmax, sqrt, sub, sum, sumSquared, summaryRows, tanh,
  tensor, toDtype, transferOptimizer, transpose, uniform, vgg16Features, view, withBackend, zeros, getNumThreads, setNumThreads,
};

// Every public type, used once so that the type check fails if one disappears.
export type PublicTypes = [
  ArrayIteratorOptions, Backend, Batch, BinaryOp, BuiltinName, Callback, CompoundOptions, ConvolutionOptions, CostFunction,
  DataIterator, DType, EvaluateOptions, ExportFormat, FeatureCacheInfo, FeatureCacheOptions, FitOptions, FloatArray, GradcheckOptions, GradcheckReport, GradFn,
  GradientDescentMomentumOptions, HDF5IteratorOptions, ImageTransform, ImportOptions, ImportReport, Initializer, IteratorOptions, Layer,
  LayerDescription, LearningRateSchedule, LoadOptions, Metric, MinibatchOutputs, OnnxExportOptions, Optimizer,
  OptimizerDescription, OptimizerSettings, Param, ParamLayer, PoolingOptions, RawArrayInfo, ReadOptions, RngState,
  SaveOptions, ScheduleDescription, Shape, ShapeMismatch, SourceLayer, Strided, SummaryRow, Transform, TransformName,
  TrainOptimizer, UnaryOp, Vgg16Options, WeightArray, WeightFile, WindowGeometry,
];

const ROOT = resolve(__dirname, '../..');

describe('public API (package entry)', () => {
  it('every public name is defined', () => {
    for (const [name, v] of Object.entries(VALUES)) expect(v, name).toBeDefined();
  });

  it('exports exactly the public names: nothing more, nothing less', () => {
    expect(Object.keys(entry).sort()).toEqual(Object.keys(VALUES).sort());
  });

  it("the main workflow's pieces have their documented members", () => {
    for (const m of ['initialize', 'fit', 'eval', 'evaluate', 'getOutputs', 'summary', 'save', 'loadParams', 'fprop']) expect(typeof (Model.prototype as unknown as Record<string, unknown>)[m], m).toBe('function');
    const model = generateVgg16TransferModel({ widthMult: 1 / 16, fcSize: 16 });
    expect(() => model.summary()).toThrow(new TlError('model.summary(): call model.initialize(inShape) first (the table lists output shapes)'));
    model.initialize([3, 32, 32]);
    const summary = model.summary();
    expect(summary).toBe(formatSummary(model));
    expect(summary).toMatch(/^cls_imdb_wiki_face\s+Linear\s+\(2\)\s+32\s/m);
    expect(summary).toMatch(/^total\s+input \(3, 32, 32\)\s+[\d,]+\s+[\d.]+$/m);
    expect(EXPORT_FORMATS).toEqual(['safetensors', 'onnx']);
    expect(availableBackends()).toContain(backend().name);
  });

  it("resolves as 'tl-scratch' from Node (the package's exports), and deep imports are blocked", () => {
    const run = (code: string) => spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
    const ok = run("import { Model, exportModel, importMatchingLayers, HDF5IteratorOneHot } from 'tl-scratch'; console.log(typeof Model, typeof exportModel, typeof importMatchingLayers, typeof HDF5IteratorOneHot);");
    expect(ok.stderr).toBe('');
    expect(ok.stdout.trim()).toBe('function function function function');
    const deep = run("await import('tl-scratch/dist/src/cli/commands.js');");
    expect(deep.status).not.toBe(0);
    expect(deep.stderr).toContain('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });
});
