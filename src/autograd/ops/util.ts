// Helpers shared by the ops: allocation, dtype checks, and `sumTo`, which undoes a
// broadcast in backward (the gradient of a broadcast input is summed over the axes it
// was broadcast along).
import { backend } from '../../kernels/index.js';
import type { FloatArray } from '../../kernels/backend.js';
import { allocate, Tensor, type DType } from '../../tensor/tensor.js';
import { sameShape, sizeOf, type Shape } from '../../tensor/shape.js';
import { ShapeError } from '../../util/errors.js';

export function empty(dtype: DType, shape: Shape): Tensor {
  return new Tensor(allocate(dtype, sizeOf(shape)), shape);
}

export function fromArray(data: FloatArray, shape: Shape): Tensor {
  return new Tensor(data, shape);
}

export function commonDtype(op: string, ...ts: Tensor[]): DType {
  const d = ts[0]!.dtype;
  for (const t of ts) {
    if (t.dtype !== d) throw new ShapeError(`${op}: inputs have different dtypes (${ts.map((x) => x.dtype).join(', ')}); convert with .to(dtype)`);
  }
  return d;
}

/** Sum `g` down to `shape` over the axes that broadcasting expanded. */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let k = 0; k < g.ndim; k++) {
    if (k < lead || (shape[k - lead] === 1 && g.shape[k] !== 1)) axes.push(k);
  }
  const x = g.data;
  const outShape = g.shape.map((d, k) => (axes.includes(k) ? 1 : d));
  const out = allocate(g.dtype, sizeOf(outShape));
  backend().reduce('sum', x, g.shape, axes, out);
  return new Tensor(out, shape);
}
