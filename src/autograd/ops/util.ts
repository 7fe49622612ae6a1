// Helpers shared by the ops: which backend an op runs on (its inputs'), allocation on that
// backend, dtype checks, dense buffers for kernels, and `sumTo`, which undoes a broadcast
// in backward (the gradient of a broadcast input is summed over the axes it was broadcast
// along).
import type { Backend, DeviceBuffer, Strided } from '../../kernels/backend.js';
import { Tensor, type DType } from '../../tensor/tensor.js';
import { sameShape, sizeOf, type Shape } from '../../tensor/shape.js';
import { BackendError } from '../../util/errors.js';

/** One part of an op's or a layer's work, named for messages ('its input', 'the delta'), and the backend it lives on (null: absent). */
export type BackendPart = readonly [what: string, be: Backend | null | undefined];

/**
 * The one backend where all `parts` live: a kernel takes only its own backend's buffers.
 * Where two differ this is a BackendError worded by `mismatch` (given the first part and
 * the one that differs); `none` is the message when no part is present. The ops word it
 * as backendOf below, the layers as BaseLayer.backendOf (naming the layer).
 */
export function commonBackend(parts: readonly BackendPart[], mismatch: (first: [string, Backend], other: [string, Backend]) => string, none: string): Backend {
  let first: [string, Backend] | null = null;
  for (const [what, be] of parts) {
    if (!be) continue;
    if (!first) first = [what, be];
    else if (be !== first[1]) throw new BackendError(mismatch(first, [what, be]));
  }
  if (!first) throw new Error(none);
  return first[1];
}

/** The backend of the op's tensor inputs; an error naming both backends and the op when they differ. */
export function backendOf(op: string, ...ts: (Tensor | null | undefined)[]): Backend {
  return commonBackend(
    ts.map((t) => ['an input', t?.backend] as const),
    ([, a], [, b]) => `${op}: inputs live on different backends ('${a.name}' and '${b.name}'); move one with .to('${a.name}') or .to('${b.name}') first`,
    `${op}: no tensor input`,
  );
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

/**
 * Where a backward puts one gradient: false skips it, true makes a new zero tensor, and a
 * tensor given receives it (contiguous from offset 0, as a layer's Param.grad is).
 */
export type GradTarget = boolean | Tensor;

/** The tensor a backward writes a gradient of `shape` into, or null when it is not wanted. */
export function gradTarget(be: Backend, want: GradTarget, dtype: DType, shape: Shape): Tensor | null {
  if (want === false) return null;
  return want === true ? empty(be, dtype, shape) : want;
}
