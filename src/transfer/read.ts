// One entry point for every weight file a user may pass (--source_model, --model_file):
// the format readers of src/formats plus our own checkpoints.
import { FORMAT_NAMES, isTlCheckpoint, readWeightFile, registerReader, type ReadOptions, type WeightFile } from '../formats/index.js';
import { readCheckpointWeights } from '../models/checkpoint.js';
import { TlError } from '../util/errors.js';
import { countNonFinite, describeNonFinite } from '../util/finite.js';

registerReader(FORMAT_NAMES.checkpoint, (path) => isTlCheckpoint(path), (path) => readCheckpointWeights(path));

/** TlError naming the first layer of `file` whose weights hold NaN or ±Inf. */
function checkFiniteWeights(file: WeightFile): void {
  for (const l of file.layers) {
    for (const p of l.params) {
      const bad = countNonFinite(p.data);
      if (bad) {
        throw new TlError(
          `weight file ${file.path} (${file.format}): layer '${l.name}' ${p.name} has ${describeNonFinite(bad)} among its ${p.data.length} values (first at index ${bad.first}); ` +
            'the file is damaged or was saved from a diverged run: use another copy of the weights',
        );
      }
    }
  }
}

/**
 * Read any weight file tl-scratch knows (neon, Keras, PyTorch, safetensors, ONNX, checkpoints),
 * detecting the format by content; TlError when a layer's weights are not all finite.
 */
export async function readWeights(path: string, options: ReadOptions = {}): Promise<WeightFile> {
  const file = await readWeightFile(path, options);
  checkFiniteWeights(file);
  return file;
}
