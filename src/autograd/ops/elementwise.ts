// Elementwise ops. Binary ops broadcast like numpy; in backward each input's gradient is
// summed back to its own shape (sumTo).
import type { BinaryOp, UnaryOp } from '../../kernels/backend.js';
import type { Tensor } from '../../tensor/tensor.js';
import { broadcastShapes, broadcastStrides } from '../../tensor/shape.js';
import { record } from '../graph.js';
import { unaryBackward, unaryForward } from '../functions/unary.js';
import { backendOf, commonDtype, dense, empty, strided, sumTo } from './util.js';

function binaryForward(op: BinaryOp, a: Tensor, b: Tensor, name: string): Tensor {
  const be = backendOf(name, a, b);
  const shape = broadcastShapes(a.shape, b.shape, name);
  const out = empty(be, commonDtype(name, a, b), shape);
  be.binary(op, strided(a, shape, broadcastStrides(a.shape, a.strides, shape)), strided(b, shape, broadcastStrides(b.shape, b.strides, shape)), out.storage);
  return out;
}

function scalarForward(op: BinaryOp, a: Tensor, s: number, reverse: boolean): Tensor {
  const out = empty(a.backend, a.dtype, a.shape);
  a.backend.binaryScalar(op, dense(a), s, out.storage, a.size, reverse);
  return out;
}

// d(a+b) = g, g
/** Elementwise a + b with broadcasting (b may be a number); differentiable in both. */
export function add(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return record('add', [a], scalarForward('add', a, b, false), (g) => [g]);
  const out = binaryForward('add', a, b, 'add');
  return record('add', [a, b], out, (g) => [sumTo(g, a.shape), sumTo(g, b.shape)]);
}

// d(a−b) = g, −g
/** Elementwise a − b with broadcasting (b may be a number); differentiable in both. */
export function sub(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return record('sub', [a], scalarForward('sub', a, b, false), (g) => [g]);
  const out = binaryForward('sub', a, b, 'sub');
  return record('sub', [a, b], out, (g) => [sumTo(g, a.shape), sumTo(neg(g), b.shape)]);
}

// d(a·b) = g·b, g·a
/** Elementwise a · b with broadcasting (b may be a number); differentiable in both. */
export function mul(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return record('mul', [a], scalarForward('mul', a, b, false), (g) => [mul(g, b)]);
  const out = binaryForward('mul', a, b, 'mul');
  return record('mul', [a, b], out, (g) => [
    a.requiresGrad ? sumTo(mul(g, b), a.shape) : null,
    b.requiresGrad ? sumTo(mul(g, a), b.shape) : null,
  ]);
}

// d(a/b) = g/b, −g·a/b²
/** Elementwise a / b with broadcasting (b may be a number); differentiable in both. */
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
    // mask = 1 where max took a (a ≥ b, or a is NaN), else 0; b gets the rest.
    const takeA = binaryForward('ge', a, b, 'maximum');
    const takeB = scalarForward('sub', takeA, 1, true);
    return [sumTo(mul(g, takeA), a.shape), sumTo(mul(g, takeB), b.shape)];
  });
}

// y = f(x), dx = g · f': src/autograd/functions/unary.ts (shared with neon's Activation layer).
function unaryOp(op: UnaryOp, x: Tensor): Tensor {
  const { y, saved } = unaryForward(x.backend, op, x);
  return record(op, [x], y, (g) => [unaryBackward(saved, g)]);
}

/** Elementwise −x; differentiable. */
export const neg = (x: Tensor): Tensor => unaryOp('neg', x);
/** Elementwise e^x; differentiable. */
export const exp = (x: Tensor): Tensor => unaryOp('exp', x);
/** Elementwise natural logarithm; differentiable. */
export const log = (x: Tensor): Tensor => unaryOp('log', x);
/** Elementwise square root; differentiable. */
export const sqrt = (x: Tensor): Tensor => unaryOp('sqrt', x);
/** Elementwise |x|; differentiable. */
export const abs = (x: Tensor): Tensor => unaryOp('abs', x);
/** max(x, 0); derivative 1 where the output is > 0, 0 elsewhere (0 at 0, as neon). */
export const relu = (x: Tensor): Tensor => unaryOp('relu', x);
/** 1 / (1 + e^−x), neon's Logistic. */
export const logistic = (x: Tensor): Tensor => unaryOp('logistic', x);
/** Alias of {@link logistic}. */
export const sigmoid = logistic;
/** Elementwise hyperbolic tangent; differentiable. */
export const tanh = (x: Tensor): Tensor => unaryOp('tanh', x);
