// Elementwise maps: unary functions with their derivatives, binary ops over broadcast
// strided views, and strided copies. The derivative of each activation sits next to it.
import { UNARY_BACKWARD_READS, type BinaryOp, type FloatArray, type UnaryOp } from '../../backend.js';

/** A strided view of a host array (the CPU backend's Strided). */
export interface HostStrided {
  readonly data: FloatArray;
  readonly offset: number;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
}

export function unary(op: UnaryOp, x: FloatArray, y: FloatArray, n: number): void {
  switch (op) {
    case 'neg': for (let i = 0; i < n; i++) y[i] = -x[i]!; break;
    case 'exp': for (let i = 0; i < n; i++) y[i] = Math.exp(x[i]!); break;
    case 'log': for (let i = 0; i < n; i++) y[i] = Math.log(x[i]!); break;
    case 'sqrt': for (let i = 0; i < n; i++) y[i] = Math.sqrt(x[i]!); break;
    case 'abs': for (let i = 0; i < n; i++) y[i] = Math.abs(x[i]!); break;
    // NaN propagates (as numpy's maximum and PyTorch's relu), so divergence is never hidden.
    case 'relu': for (let i = 0; i < n; i++) { const v = x[i]!; y[i] = v > 0 || v !== v ? v : 0; } break;
    // Logistic written so that exp never overflows: for v < 0, e^v/(1+e^v).
    case 'logistic': for (let i = 0; i < n; i++) { const v = x[i]!; if (v >= 0) y[i] = 1 / (1 + Math.exp(-v)); else { const e = Math.exp(v); y[i] = e / (1 + e); } } break;
    case 'tanh': for (let i = 0; i < n; i++) y[i] = Math.tanh(x[i]!); break;
  }
}

/**
 * dx = dy·f'. Where f' is cheaper from the output y (exp, sqrt, relu, logistic, tanh) it
 * uses y, else x (log, abs); UNARY_BACKWARD_READS in ../backend.ts lists which, and the
 * other argument may be null.
 */
export function unaryBackward(op: UnaryOp, xIn: FloatArray | null, yIn: FloatArray | null, dy: FloatArray, dx: FloatArray, n: number): void {
  const reads = UNARY_BACKWARD_READS[op];
  if ((reads === 'x' && !xIn) || (reads === 'y' && !yIn)) throw new Error(`unaryBackward('${op}'): needs ${reads}, got null`);
  const x = xIn!, y = yIn!;
  switch (op) {
    case 'neg': for (let i = 0; i < n; i++) dx[i] = -dy[i]!; break;
    case 'exp': for (let i = 0; i < n; i++) dx[i] = dy[i]! * y[i]!; break;
    case 'log': for (let i = 0; i < n; i++) dx[i] = dy[i]! / x[i]!; break;
    case 'sqrt': for (let i = 0; i < n; i++) dx[i] = dy[i]! / (2 * y[i]!); break;
    case 'abs': for (let i = 0; i < n; i++) dx[i] = dy[i]! * Math.sign(x[i]!); break;
    // ReLU's derivative is taken on the output, as neon does: 1 where y > 0, else 0 (0 at 0).
    case 'relu': for (let i = 0; i < n; i++) dx[i] = y[i]! > 0 ? dy[i]! : 0; break;
    case 'logistic': for (let i = 0; i < n; i++) { const s = y[i]!; dx[i] = dy[i]! * s * (1 - s); } break;
    case 'tanh': for (let i = 0; i < n; i++) { const t = y[i]!; dx[i] = dy[i]! * (1 - t * t); } break;
  }
}

const binaryFns: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  max: (a, b) => (a >= b || Number.isNaN(a) ? a : b),
  min: (a, b) => (a <= b || Number.isNaN(a) ? a : b),
  ge: (a, b) => (a >= b || Number.isNaN(a) ? 1 : 0),
};

function isContiguous(v: HostStrided): boolean {
  let s = 1;
  for (let k = v.shape.length - 1; k >= 0; k--) {
    if (v.shape[k] !== 1 && v.strides[k] !== s) return false;
    s *= v.shape[k]!;
  }
  return true;
}

export function binary(op: BinaryOp, a: HostStrided, b: HostStrided, out: FloatArray): void {
  const shape = a.shape;
  const n = out.length;
  const ad = a.data, bd = b.data;
  if (isContiguous(a) && isContiguous(b)) {
    const ao = a.offset, bo = b.offset;
    switch (op) {
      case 'add': for (let i = 0; i < n; i++) out[i] = ad[ao + i]! + bd[bo + i]!; return;
      case 'sub': for (let i = 0; i < n; i++) out[i] = ad[ao + i]! - bd[bo + i]!; return;
      case 'mul': for (let i = 0; i < n; i++) out[i] = ad[ao + i]! * bd[bo + i]!; return;
      case 'div': for (let i = 0; i < n; i++) out[i] = ad[ao + i]! / bd[bo + i]!; return;
      default: break;
    }
  }
  const f = binaryFns[op];
  const nd = shape.length;
  if (nd === 0) {
    out[0] = f(ad[a.offset]!, bd[b.offset]!);
    return;
  }
  // Walk the output in row-major order; the innermost axis is a strided loop, the outer
  // axes advance an odometer.
  const inner = shape[nd - 1]!;
  const as = a.strides[nd - 1]!, bs = b.strides[nd - 1]!;
  const idx = new Array<number>(nd - 1).fill(0);
  let ai = a.offset, bi = b.offset;
  for (let o = 0; o < n; o += inner) {
    for (let j = 0, pa = ai, pb = bi; j < inner; j++, pa += as, pb += bs) out[o + j] = f(ad[pa]!, bd[pb]!);
    for (let k = nd - 2; k >= 0; k--) {
      idx[k]!++;
      ai += a.strides[k]!;
      bi += b.strides[k]!;
      if (idx[k]! < shape[k]!) break;
      ai -= a.strides[k]! * shape[k]!;
      bi -= b.strides[k]! * shape[k]!;
      idx[k] = 0;
    }
  }
}

export function binaryScalar(op: BinaryOp, a: FloatArray, scalar: number, out: FloatArray, n: number, reverse: boolean): void {
  switch (op) {
    case 'add': for (let i = 0; i < n; i++) out[i] = a[i]! + scalar; return;
    case 'mul': for (let i = 0; i < n; i++) out[i] = a[i]! * scalar; return;
    case 'sub': if (reverse) for (let i = 0; i < n; i++) out[i] = scalar - a[i]!; else for (let i = 0; i < n; i++) out[i] = a[i]! - scalar; return;
    case 'div': if (reverse) for (let i = 0; i < n; i++) out[i] = scalar / a[i]!; else for (let i = 0; i < n; i++) out[i] = a[i]! / scalar; return;
    default: {
      const f = binaryFns[op];
      for (let i = 0; i < n; i++) out[i] = reverse ? f(scalar, a[i]!) : f(a[i]!, scalar);
    }
  }
}

/** out ← x over x.shape; out is a strided view of x's shape (row-major, gap-free when contiguous). */
export function copy(x: HostStrided, out: HostStrided): void {
  const nd = x.shape.length;
  let n = 1;
  for (const d of x.shape) n *= d;
  if (n === 0) return;
  const xd = x.data, od = out.data;
  if (nd === 0 || (isContiguous(x) && isContiguous(out))) {
    const xo = x.offset, oo = out.offset;
    for (let i = 0; i < n; i++) od[oo + i] = xd[xo + i]!;
    return;
  }
  // Walk both views in row-major order: the innermost axis is a strided loop, the outer
  // axes advance an odometer.
  const inner = x.shape[nd - 1]!, xs = x.strides[nd - 1]!, os = out.strides[nd - 1]!;
  const idx = new Array<number>(nd - 1).fill(0);
  let xi = x.offset, oi = out.offset;
  for (let o = 0; o < n; o += inner) {
    for (let j = 0, p = xi, q = oi; j < inner; j++, p += xs, q += os) od[q] = xd[p]!;
    for (let k = nd - 2; k >= 0; k--) {
      idx[k]!++;
      xi += x.strides[k]!;
      oi += out.strides[k]!;
      if (idx[k]! < x.shape[k]!) break;
      xi -= x.strides[k]! * x.shape[k]!;
      oi -= out.strides[k]! * x.shape[k]!;
      idx[k] = 0;
    }
  }
}
