// Track task 10, import-by-name: your work. See README.md; run `npm run exercise import-by-name`.
import { isParamLayer } from '../../src/models/model.js';
import type { Model, SourceLayer } from '../../src/index.js';

export interface ImportResult {
  /** Names of the model layers whose parameters were all copied, in model order. */
  imported: string[];
  /** Names of the model's parameter layers the source does not provide (left untouched). */
  notInSource: string[];
}

/**
 * Copies pretrained weights into an initialized model, by layer name:
 *   a conv/linear source layer N provides (N, 'W'), and (N_bias, 'b') when it holds a 'b' too
 *   (PyTorch/Keras store the bias with the weights; the model has a separate Bias layer N_bias);
 *   a bias source layer N provides (N, 'b')  (neon's own layout).
 * A model layer is imported when every one of its params() has a source array. All or nothing:
 * a shape that differs throws an Error naming the layer, the param and both shapes, before
 * anything is copied.
 */
export function importByName(source: SourceLayer[], model: Model): ImportResult {
  // TODO: 1. a Map from `${layer}/${param}` to the source array; 2. for each model layer with
  // isParamLayer(layer): find its params' arrays, check shapes; 3. copy with p.value.setValues(array.data).
  throw new Error(`TODO: import ${source.length} source layers into a model of ${model.layers.length} layers (${typeof isParamLayer})`);
}
