// Exercise flip: your work. See README.md; run `npm run exercise flip`.
import type { Tensor } from '../../src/index.js';

/** x reversed along `axis` (negative axes count from the end), as a view of x's storage. */
export function flip(x: Tensor, axis: number): Tensor {
  throw new Error(`TODO: flip a tensor of shape [${x.shape.join(', ')}] along axis ${axis}`);
}
