// Shape ops. reshape/view, permute/transpose and slice are views: they share storage and
// only change shape, strides and offset. Their backward maps the gradient through the
// inverse view.
import { Tensor } from '../../tensor/tensor.js';
import { checkShape, contiguousStrides, normalizeAxis, shapeStr, sizeOf, type Shape } from '../../tensor/shape.js';
import { ShapeError } from '../../util/errors.js';
import { record } from '../graph.js';
import { empty, strided } from './util.js';

/** A row-major copy (or x itself when already contiguous). */
export function contiguous(x: Tensor): Tensor {
  if (x.isContiguous()) return x;
  const out = empty(x.backend, x.dtype, x.shape);
  x.backend.copy(strided(x), strided(out));
  return record('contiguous', [x], out, (g) => [g]);
}

function resolveShape(x: Tensor, shape: Shape, op: string): number[] {
  const s = [...shape];
  const infer = s.indexOf(-1);
  if (infer >= 0) {
    const known = s.reduce((n, d, i) => (i === infer ? n : n * d), 1);
    if (known === 0 || x.size % known !== 0) throw new ShapeError(`${op}: cannot infer -1 in ${shapeStr(shape)} for ${x.size} values`);
    s[infer] = x.size / known;
  }
  checkShape(s, op);
  if (sizeOf(s) !== x.size) throw new ShapeError(`${op}: cannot reshape ${shapeStr(x.shape)} (${x.size} values) to ${shapeStr(shape)}`);
  return s;
}

/** A view with a new shape; the tensor must be contiguous (like torch.view). */
export function view(x: Tensor, shape: Shape): Tensor {
  const s = resolveShape(x, shape, 'view');
  if (!x.isContiguous()) throw new ShapeError(`view: tensor of shape ${shapeStr(x.shape)} is not contiguous; use reshape() (copies) or contiguous() first`);
  const out = new Tensor(x.storage, s, contiguousStrides(s), x.offset, x.backend);
  return record('view', [x], out, (g) => [reshape(g, x.shape)]);
}

/** A new shape: a view when contiguous, otherwise a contiguous copy first. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  // Validate here so that a bad shape is reported as reshape's, not view's.
  return view(contiguous(x), resolveShape(x, shape, 'reshape'));
}

/** [N, ...] → [N, rest] (neon's flatten before the first dense layer: C·H·W order). */
export function flatten(x: Tensor, startAxis = 1): Tensor {
  const lead = x.shape.slice(0, startAxis);
  return reshape(x, [...lead, -1]);
}

/** A view with the axes in `order` (no copy); differentiable. */
export function permute(x: Tensor, order: readonly number[]): Tensor {
  const axes = order.map((a) => normalizeAxis(a, x.ndim, 'permute'));
  if (axes.length !== x.ndim || new Set(axes).size !== x.ndim) {
    throw new ShapeError(`permute: order [${order.join(', ')}] is not a permutation of the ${x.ndim} axes of ${shapeStr(x.shape)}`);
  }
  const out = new Tensor(x.storage, axes.map((a) => x.shape[a]!), axes.map((a) => x.strides[a]!), x.offset, x.backend);
  const inverse = new Array<number>(axes.length);
  axes.forEach((a, i) => (inverse[a] = i));
  return record('permute', [x], out, (g) => [permute(g, inverse)]);
}

/** A view with axes a and b swapped (the last two by default); differentiable. */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const i = normalizeAxis(a, x.ndim, 'transpose'), j = normalizeAxis(b, x.ndim, 'transpose');
  const order = Array.from({ length: x.ndim }, (_, k) => k);
  order[i] = j;
  order[j] = i;
  return permute(x, order);
}

/** x[start:end] along `axis` (a view). For a batch: slice(x, n0, n1). */
export function slice(x: Tensor, start: number, end: number, axis = 0): Tensor {
  const ax = normalizeAxis(axis, x.ndim, 'slice');
  const n = x.shape[ax]!;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > n || start > end) {
    throw new ShapeError(`slice: range [${start}, ${end}) out of bounds for axis ${ax} of size ${n}`);
  }
  const shape = [...x.shape];
  shape[ax] = end - start;
  const out = new Tensor(x.storage, shape, x.strides, x.offset + start * x.strides[ax]!, x.backend);
  return record('slice', [x], out, (g) => {
    // dx is zero except the slice, where g is copied: a strided copy into a view of dx.
    const dx = empty(g.backend, g.dtype, x.shape);
    const dxStrides = contiguousStrides(x.shape);
    g.backend.copy(strided(g), { data: dx.storage, offset: start * dxStrides[ax]!, shape, strides: dxStrides });
    return [dx];
  });
}
