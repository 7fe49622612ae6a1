// A gradient checker for learners' own ops: compares backward() with central differences
// computed in float64. The function's output is projected onto fixed random weights w,
// so one backward pass checks the whole Jacobian-vector product: ∂(Σ w·f(x))/∂x.
import { Generator, rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { shapeStr } from '../tensor/shape.js';
import { TlError } from '../util/errors.js';
import { noGrad } from './graph.js';
import { tensor, toDtype } from './ops/create.js';

/** Options of {@link gradcheck}: finite-difference step, tolerances, which inputs and how many elements. */
export interface GradcheckOptions {
  /** Name of the op, for messages. */
  name?: string;
  /** Finite-difference step. */
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Check at most this many elements per input (chosen at random); default all. */
  maxChecks?: number;
  /** Which inputs to differentiate (default: all). */
  wrt?: number[];
}

/** What {@link gradcheck} compared: elements checked and the largest absolute and relative errors. */
export interface GradcheckReport {
  checked: number;
  maxAbsError: number;
  maxRelError: number;
}

export class GradcheckError extends TlError {
  constructor(message: string) {
    super(message);
    this.name = 'GradcheckError';
  }
}

function multiIndex(i: number, shape: readonly number[]): string {
  const idx: number[] = [];
  for (let k = shape.length - 1; k >= 0; k--) {
    idx.unshift(i % shape[k]!);
    i = Math.floor(i / shape[k]!);
  }
  return `[${idx.join(', ')}]`;
}

/**
 * Check the gradients of `fn` at `inputs`. Inputs are copied to float64; `fn` must use
 * only ops that keep the dtype. The engine's random state is reset before every call of
 * `fn`, so ops that draw random numbers (dropout) see the same draws each time.
 * Throws a GradcheckError naming the op, input, index and both values on a mismatch.
 */
export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): GradcheckReport {
  const name = opts.name ?? (fn.name || 'fn');
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-6;
  const rtol = opts.rtol ?? 1e-4;
  const wrt = opts.wrt ?? inputs.map((_, i) => i);
  const xs = inputs.map((t, i) => {
    const c = toDtype(t, 'float64');
    c.requiresGrad = wrt.includes(i);
    return c;
  });
  const rngState = rng.getState();
  const run = (): Tensor => {
    rng.setState(rngState);
    return fn(...xs);
  };

  const y = run();
  if (!y.requiresGrad) throw new GradcheckError(`gradcheck(${name}): the output does not depend on any input that requires grad`);
  // A non-finite output makes every finite difference non-finite (they all go through the
  // projection), so report where it is instead of blaming the first input element.
  const yd = y.toHost();
  for (let i = 0; i < yd.length; i++) {
    if (!Number.isFinite(yd[i]!)) {
      throw new GradcheckError(`gradcheck(${name}): output of shape ${shapeStr(y.shape)} is ${yd[i]} at index ${multiIndex(i, y.shape)}; gradients are not defined there (inputs of shape ${xs.map((x) => shapeStr(x.shape)).join(', ')})`);
    }
  }
  const local = new Generator(12345);
  const w = new Float64Array(y.size).map(() => local.uniform(-1, 1));
  const project = (out: Tensor): number => {
    const d = out.toHost();
    let s = 0;
    for (let i = 0; i < d.length; i++) s += w[i]! * d[i]!;
    return s;
  };
  y.backward(tensor(w, y.shape, { backend: y.backend }));

  let checked = 0, maxAbs = 0, maxRel = 0;
  for (const j of wrt) {
    const x = xs[j]!;
    const grad = x.grad ? Float64Array.from(x.grad.toHost()) : new Float64Array(x.size);
    const n = x.size;
    let indices = Array.from({ length: n }, (_, i) => i);
    if (opts.maxChecks !== undefined && n > opts.maxChecks) {
      indices = Array.from({ length: opts.maxChecks }, () => local.randint(n));
    }
    for (const i of indices) {
      // Perturb one element in place through the backend (x is a contiguous float64 copy).
      const set = (v: number) => x.backend.write(x.storage, x.offset + i, Float64Array.of(v));
      const orig = x.backend.read(x.storage, x.offset + i, 1)[0]!;
      const fPlus = noGrad(() => { set(orig + eps); return project(run()); });
      const fMinus = noGrad(() => { set(orig - eps); return project(run()); });
      set(orig);
      const numeric = (fPlus - fMinus) / (2 * eps);
      const analytic = grad[i]!;
      const where = `gradcheck(${name}): input ${j} of shape ${shapeStr(x.shape)}, index ${multiIndex(i, x.shape)}`;
      if (!Number.isFinite(analytic)) throw new GradcheckError(`${where}: analytic gradient is ${analytic} (numeric ${numeric})`);
      if (!Number.isFinite(numeric)) throw new GradcheckError(`${where}: numeric gradient is ${numeric} (analytic ${analytic}); the function is not finite near this input`);
      const abs = Math.abs(analytic - numeric);
      const rel = abs / Math.max(Math.abs(numeric), 1e-12);
      maxAbs = Math.max(maxAbs, abs);
      if (abs > atol) maxRel = Math.max(maxRel, rel);
      if (abs > atol + rtol * Math.abs(numeric)) {
        throw new GradcheckError(`${where}: analytic ${analytic} vs numeric ${numeric} (difference ${abs.toExponential(2)})`);
      }
      checked++;
    }
  }
  return { checked, maxAbsError: maxAbs, maxRelError: maxRel };
}
