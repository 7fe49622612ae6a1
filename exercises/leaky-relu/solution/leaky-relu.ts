// Exercise leaky-relu: a reference solution.
import fc from 'fast-check';
import { gradcheck, maximum, mul, noGrad, record, tensor, type Tensor } from '../../../src/index.js';

/** LeakyReLU: x where x > 0, slope·x elsewhere (0 ≤ slope < 1). */
export function leakyRelu(x: Tensor, slope: number): Tensor {
  const out = noGrad(() => maximum(x, mul(x, slope)));
  return record('leakyRelu', [x], out, (g) => {
    // f'(x) = 1 where x > 0, slope elsewhere (slope at 0, like ReLU's 0 there). The mask is
    // made on the host from x's values (row-major, whatever x's strides) and uploaded to x's backend.
    const mask = Array.from(x.toHost(), (v) => (v > 0 ? 1 : slope));
    return [mul(g, tensor(mask, x.shape, { dtype: x.dtype, backend: x.backend }))];
  });
}

/** gradcheck over random shapes (rank 1-3), values at least 0.05 away from the kink, and slopes in [0, 0.9]. */
export function gradientProperty(op: (x: Tensor, slope: number) => Tensor): fc.IRawProperty<unknown> {
  const away = fc.double({ min: -2, max: 2, noNaN: true }).map((v) => (v >= 0 ? v + 0.05 : v - 0.05));
  const input = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 })
    .chain((shape) => {
      const n = shape.reduce((a, b) => a * b, 1);
      return fc.record({ shape: fc.constant(shape), values: fc.array(away, { minLength: n, maxLength: n }) });
    });
  return fc.property(input, fc.double({ min: 0, max: 0.9, noNaN: true }), ({ shape, values }, slope) => {
    gradcheck((x) => op(x!, slope), [tensor(Float64Array.from(values), shape, { dtype: 'float64' })], { name: 'leakyRelu' });
  });
}
