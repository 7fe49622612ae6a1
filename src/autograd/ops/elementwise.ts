// Elementwise ops. Binary ops broadcast like numpy; in backward each input's gradient is
// summed back to its own shape (sumTo).
import { backend } from '../../kernels/index.js';
import type { BinaryOp, UnaryOp } from '../../kernels/backend.js';
import { Tensor } from '../../tensor/tensor.js';
import { broadcastShapes, broadcastStrides } from '../../tensor/shape.js';
import { record } from '../graph.js';
import { commonDtype, empty, sumTo } from './util.js';

function binaryForward(op: BinaryOp, a: Tensor, b: Tensor, name: string): Tensor {
  const shape = broadcastShapes(a.shape, b.shape, name);
  const out = empty(commonDtype(name, a, b), shape);
  backend().binary(
    op,
    { data: a.storage, offset: a.offset, shape, strides: broadcastStrides(a.shape, a.strides, shape) },
    { data: b.storage, offset: b.offset, shape, strides: broadcastStrides(b.shape, b.strides, shape) },
    out.storage,
  );
  return out;
}

function scalarForward(op: BinaryOp, a: Tensor, s: number, reverse: boolean): Tensor {
  const out = empty(a.dtype, a.shape);
  backend().binaryScalar(op, a.data, s, out.storage, a.size, reverse);
  return out;
}

// d(a+b) = g, g
export function add(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return record('add', [a], scalarForward('add', a, b, false), (g) => [g]);
  const out = binaryForward('add', a, b, 'add');
  return record('add', [a, b], out, (g) => [sumTo(g, a.shape), sumTo(g, b.shape)]);
}

// d(a−b) = g, −g
export function sub(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return record('sub', [a], scalarForward('sub', a, b, false), (g) => [g]);
  const out = binaryForward('sub', a, b, 'sub');
  return record('sub', [a, b], out, (g) => [sumTo(g, a.shape), sumTo(neg(g), b.shape)]);
}

// d(a·b) = g·b, g·a
export function mul(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return record('mul', [a], scalarForward('mul', a, b, false), (g) => [mul(g, b)]);
  const out = binaryForward('mul', a, b, 'mul');
  return record('mul', [a, b], out, (g) => [
    a.requiresGrad ? sumTo(mul(g, b), a.shape) : null,
    b.requiresGrad ? sumTo(mul(g, a), b.shape) : null,
  ]);
}

// d(a/b) = g/b, −g·a/b²
export function div(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return record('div', [a], scalarForward('div', a, b, false), (g) => [mul(g, 1 / b)]);
  const out = binaryForward('div', a, b, 'div');
  return record('div', [a, b], out, (g) => [
    a.requiresGrad ? sumTo(div(g, b), a.shape) : null,
    b.requiresGrad ? sumTo(neg(div(mul(g, out), b)), b.shape) : null,
  ]);
}

/** s − a for a scalar s (for 1 − p and the like). */
export function rsub(s: number, a: Tensor): Tensor {
  return record('rsub', [a], scalarForward('sub', a, s, true), (g) => [neg(g)]);
}

/** Elementwise max (ties send the gradient to a). */
export function maximum(a: Tensor, b: Tensor): Tensor {
  const out = binaryForward('max', a, b, 'maximum');
  return record('maximum', [a, b], out, (g) => {
    const ad = broadcastTo(a, out.shape), bd = broadcastTo(b, out.shape);
    const ma = empty(out.dtype, out.shape), mb = empty(out.dtype, out.shape);
    for (let i = 0; i < out.size; i++) {
      const takeA = ad[i]! >= bd[i]! || Number.isNaN(ad[i]!);
      ma.storage[i] = takeA ? 1 : 0;
      mb.storage[i] = takeA ? 0 : 1;
    }
    return [sumTo(mul(g, ma), a.shape), sumTo(mul(g, mb), b.shape)];
  });
}

function broadcastTo(t: Tensor, shape: readonly number[]) {
  const out = empty(t.dtype, shape);
  backend().copy({ data: t.storage, offset: t.offset, shape, strides: broadcastStrides(t.shape, t.strides, shape) }, out.storage);
  return out.storage;
}

function unaryOp(op: UnaryOp, x: Tensor): Tensor {
  const xd = x.data;
  const out = empty(x.dtype, x.shape);
  backend().unary(op, xd, out.storage, x.size);
  return record(op, [x], out, (g) => {
    const dx = empty(x.dtype, x.shape);
    backend().unaryBackward(op, xd, out.storage, g.data, dx.storage, x.size);
    return [dx];
  });
}

export const neg = (x: Tensor): Tensor => unaryOp('neg', x);
export const exp = (x: Tensor): Tensor => unaryOp('exp', x);
export const log = (x: Tensor): Tensor => unaryOp('log', x);
export const sqrt = (x: Tensor): Tensor => unaryOp('sqrt', x);
export const abs = (x: Tensor): Tensor => unaryOp('abs', x);
/** max(x, 0); derivative 1 where the output is > 0, 0 elsewhere (0 at 0, as neon). */
export const relu = (x: Tensor): Tensor => unaryOp('relu', x);
/** 1 / (1 + e^−x), neon's Logistic. */
export const logistic = (x: Tensor): Tensor => unaryOp('logistic', x);
export const sigmoid = logistic;
export const tanh = (x: Tensor): Tensor => unaryOp('tanh', x);
