// Creating tensors, on the default backend unless `backend` is given. Values are made on
// the host and uploaded; random tensors draw from the engine's one generator
// (src/tensor/random.ts).
import { rng } from '../../tensor/random.js';
import { allocate, Tensor, type DType } from '../../tensor/tensor.js';
import { backend as defaultBackend } from '../../kernels/index.js';
import type { Backend, DeviceBuffer, FloatArray } from '../../kernels/backend.js';
import { checkShape, shapeStr, sizeOf, type Shape } from '../../tensor/shape.js';
import { BackendError, ShapeError } from '../../util/errors.js';

/** Options of the tensor constructors: gradient tracking, dtype, backend. */
export interface CreateOptions {
  requiresGrad?: boolean;
  dtype?: DType;
  /** Where the tensor lives (default: the default backend, see setBackend). */
  backend?: Backend;
}

/** A tensor of `dtype` over the buffer `make` gives, on the options' backend once it is known to store that dtype. */
function onBackend(dtype: DType, shape: Shape, opts: CreateOptions, make: (be: Backend) => DeviceBuffer): Tensor {
  const be = opts.backend ?? defaultBackend();
  if (!be.dtypes.includes(dtype)) throw new BackendError(`backend '${be.name}' does not store ${dtype} (it stores ${be.dtypes.join(', ')})`);
  const t = new Tensor(make(be), shape, undefined, 0, be);
  t.requiresGrad = opts.requiresGrad ?? false;
  return t;
}

/** A tensor holding the host array `data` (adopted: do not change it afterwards). */
function finish(data: FloatArray, shape: Shape, opts: CreateOptions): Tensor {
  return onBackend(data instanceof Float64Array ? 'float64' : 'float32', shape, opts, (be) => be.upload(data));
}

/**
 * A tensor from values and a shape. `data` may be a typed array (float32 data is used
 * without copying) or a flat or nested number array; the shape defaults to the data's.
 */
export function tensor(data: ArrayLike<number> | number | unknown[], shape?: Shape, opts: CreateOptions = {}): Tensor {
  const dtype = opts.dtype ?? (data instanceof Float64Array ? 'float64' : 'float32');
  let flat: ArrayLike<number>;
  let inferred: number[];
  if (typeof data === 'number') {
    flat = [data];
    inferred = [];
  } else if (Array.isArray(data) && data.some((v) => Array.isArray(v))) {
    inferred = [];
    for (let v: unknown = data; Array.isArray(v); v = v[0]) inferred.push(v.length);
    flat = (data as unknown[]).flat(Infinity) as number[];
  } else {
    flat = data as ArrayLike<number>;
    inferred = [flat.length];
  }
  const s = shape ?? inferred;
  checkShape(s, 'tensor');
  if (sizeOf(s) !== flat.length) throw new ShapeError(`tensor: ${flat.length} values do not fit shape ${shapeStr(s)} (${sizeOf(s)} values)`);
  let storage;
  if (dtype === 'float32' && flat instanceof Float32Array) storage = flat;
  else if (dtype === 'float64' && flat instanceof Float64Array) storage = flat;
  else {
    storage = allocate(dtype, flat.length);
    storage.set(flat);
  }
  return finish(storage, s, opts);
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: Shape, value: number, opts: CreateOptions = {}): Tensor {
  checkShape(shape, 'full');
  const data = allocate(opts.dtype ?? 'float32', sizeOf(shape));
  data.fill(value);
  return finish(data, shape, opts);
}

/** A tensor of `shape` filled with 0: the backend's new buffer, with no host copy made first (VGG-16's fc6 is 411 MB). */
export function zeros(shape: Shape, opts: CreateOptions = {}): Tensor {
  checkShape(shape, 'full'); // named as when zeros was full(shape, 0): the message users saw
  const dtype = opts.dtype ?? 'float32';
  return onBackend(dtype, shape, opts, (be) => be.alloc(dtype, sizeOf(shape)));
}

/** A tensor of `shape` filled with 1. */
export function ones(shape: Shape, opts: CreateOptions = {}): Tensor {
  return full(shape, 1, opts);
}

/** U(low, high) from the engine's generator, filled in row-major order. */
export function uniform(shape: Shape, low = 0, high = 1, opts: CreateOptions = {}): Tensor {
  checkShape(shape, 'uniform');
  const data = allocate(opts.dtype ?? 'float32', sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = rng.uniform(low, high);
  return finish(data, shape, opts);
}

/** N(mean, std²) from the engine's generator, filled in row-major order. */
export function normal(shape: Shape, mean = 0, std = 1, opts: CreateOptions = {}): Tensor {
  checkShape(shape, 'normal');
  const data = allocate(opts.dtype ?? 'float32', sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal(mean, std);
  return finish(data, shape, opts);
}

/** A copy in another dtype (float64 for gradient checking), on the same backend. Not recorded on the tape. */
export function toDtype(x: Tensor, dtype: DType): Tensor {
  const d = x.toHost();
  const out = allocate(dtype, d.length);
  out.set(d);
  return finish(out, x.shape, { backend: x.backend });
}
