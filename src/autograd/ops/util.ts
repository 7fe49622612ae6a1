// Helpers shared by the ops: which backend an op runs on (its inputs'), allocation on that
// backend, dtype checks, dense buffers for kernels, and `sumTo`, which undoes a broadcast
// in backward (the gradient of a broadcast input is summed over the axes it was broadcast
// along).
import type { Backend, DeviceBuffer, Strided } from '../../kernels/backend.js';
import { Tensor, type DType } from '../../tensor/tensor.js';
import { sameShape, sizeOf, type Shape } from '../../tensor/shape.js';
import { BackendError } from '../../util/errors.js';

/** The backend of the op's tensor inputs; an error naming both backends and the op when they differ. */
export function backendOf(op: string, ...ts: (Tensor | null | undefined)[]): Backend {
  let be: Backend | null = null;
  for (const t of ts) {
    if (!t) continue;
    if (be === null) be = t.backend;
    else if (t.backend !== be) {
      throw new BackendError(`${op}: inputs live on different backends ('${be.name}' and '${t.backend.name}'); move one with .to('${be.name}') or .to('${t.backend.name}') first`);
    }
  }
  if (be === null) throw new Error(`${op}: no tensor input`);
  return be;
}

/** A new zero tensor on backend `be`. */
export function empty(be: Backend, dtype: DType, shape: Shape): Tensor {
  return new Tensor(be.alloc(dtype, sizeOf(shape)), shape, undefined, 0, be);
}

/** A contiguous tensor over `buf`, a buffer of `be`. */
export function wrap(be: Backend, buf: DeviceBuffer, shape: Shape): Tensor {
  return new Tensor(buf, shape, undefined, 0, be);
}

/** The tensor's view as the kernels' Strided. */
export function strided(t: Tensor, shape: readonly number[] = t.shape, strides: readonly number[] = t.strides): Strided {
  return { data: t.storage, offset: t.offset, shape, strides };
}

/** A buffer holding t's values row-major from index 0: its own storage when it already does, else a copy. */
export function dense(t: Tensor): DeviceBuffer {
  if (t.offset === 0 && t.isContiguous()) return t.storage;
  const out = empty(t.backend, t.dtype, t.shape);
  t.backend.copy(strided(t), strided(out));
  return out.storage;
}

export function commonDtype(op: string, ...ts: Tensor[]): DType {
  const d = ts[0]!.dtype;
  for (const t of ts) {
    if (t.dtype !== d) throw new BackendError(`${op}: inputs have different dtypes (${ts.map((x) => x.dtype).join(', ')}); convert with toDtype(x, dtype)`);
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
  const be = g.backend;
  const outShape = g.shape.map((d, k) => (axes.includes(k) ? 1 : d));
  const out = be.alloc(g.dtype, sizeOf(outShape));
  be.reduce('sum', dense(g), g.shape, axes, out);
  return wrap(be, out, shape);
}
