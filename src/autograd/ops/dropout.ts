// Dropout with neon's two modes as a tape op. The mask, the inference scale and the
// training forward and backward are src/autograd/functions/dropout.ts (shared with neon's
// Dropout layer). At inference the op is x times the mode's scale: a recorded mul by keep
// ('neon'), or x itself ('caffe').
import type { Tensor } from '../../tensor/tensor.js';
import { record } from '../graph.js';
import { checkKeep, dropoutBackward, dropoutForward, type DropoutMode } from '../functions/dropout.js';
import { mul } from './elementwise.js';

export { dropoutInferenceScale, dropoutMask, type DropoutMode } from '../functions/dropout.js';

/**
 * Options of {@link dropout}: training (default true; PyTorch's F.dropout name, the negation of
 * the `inference` flag that layers and Model take, as neon's fprop) and the mode.
 */
export interface DropoutOptions {
  training?: boolean;
  mode?: DropoutMode;
}

/** Dropout keeping each element with probability `keep` (a fresh mask from the engine's generator); at inference the mode's scale. */
export function dropout(x: Tensor, keep: number, opts: DropoutOptions = {}): Tensor {
  checkKeep('dropout', keep);
  const mode = opts.mode ?? 'neon';
  const training = opts.training ?? true;
  if (!training) return mode === 'neon' ? mul(x, keep) : x;
  const { y, mask } = dropoutForward(x, keep, mode);
  return record('dropout', [x], y, (g) => [dropoutBackward(mask, g)]);
}
