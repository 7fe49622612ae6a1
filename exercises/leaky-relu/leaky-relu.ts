// Exercise leaky-relu: your work. See README.md; run `npm run exercise leaky-relu`.
import fc from 'fast-check';
import { maximum, mul, noGrad, type Tensor } from '../../src/index.js';

/** LeakyReLU: x where x > 0, slope·x elsewhere (0 ≤ slope < 1). */
export function leakyRelu(x: Tensor, slope: number): Tensor {
  // The forward pass is given. It runs under noGrad, so nothing is recorded on the tape:
  // TODO record the op as 'leakyRelu' with its backward (see record() in src/autograd/graph.ts).
  return noGrad(() => maximum(x, mul(x, slope)));
}

/**
 * A fast-check property that holds when `op` computes LeakyReLU with a correct backward,
 * and fails for a wrong one: e.g. gradcheck on random shapes, values away from 0, and slopes.
 */
export function gradientProperty(op: (x: Tensor, slope: number) => Tensor): fc.IRawProperty<unknown> {
  // TODO: this property checks nothing.
  return fc.property(fc.array(fc.double()), fc.double(), () => typeof op === 'function');
}
