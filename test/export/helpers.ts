// Shared by the export tests: models with weights that make outputs depend on the input,
// random inputs, and the largest elementwise difference.
import { Generator, tensor, type Model } from '../../src/index.js';

/**
 * Weights × √2 (He's variance, so the signal survives 13 ReLU layers), biases uniform in
 * [-0.05, 0.05), the last dense layer × `headScale` more: outputs clearly depend on the input.
 */
export function spreadWeights(model: Model, seed = 1, headScale = 4): Model {
  const g = new Generator(seed);
  const last = model.layers.filter((l) => l.className === 'Linear').pop();
  for (const layer of model.layers) {
    for (const p of layer.params()) {
      const v = Float32Array.from(p.value.toHost());
      const scale = Math.SQRT2 * (layer === last ? headScale : 1);
      if (p.name === 'b') for (let i = 0; i < v.length; i++) v[i] = g.uniform(-0.05, 0.05);
      else for (let i = 0; i < v.length; i++) v[i] = v[i]! * scale;
      p.value.setValues(v);
    }
  }
  return model;
}

/** n examples of `shape`, uniform in [-1, 1). */
export function randomInput(n: number, shape: readonly number[], seed = 7): Float32Array {
  const g = new Generator(seed);
  const x = new Float32Array(n * shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < x.length; i++) x[i] = g.uniform(-1, 1);
  return x;
}

/** Our inference outputs for a batch. */
export function ours(model: Model, x: Float32Array, n: number): Float32Array {
  return Float32Array.from(model.fprop(tensor(x, [n, ...model.inShape!]), true).toHost());
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The spread of the outputs over the batch (so a test can show they are not constant). */
export function spread(y: ArrayLike<number>, nout: number): number {
  let m = 0;
  for (let i = nout; i < y.length; i++) m = Math.max(m, Math.abs(y[i]! - y[i % nout]!));
  return m;
}
