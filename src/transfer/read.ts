// One entry point for every weight file a user may pass (--source_model, --model_file):
// the format readers of src/formats plus our own checkpoints.
import { FORMAT_NAMES, isTlCheckpoint, readWeightFile, registerReader, type ReadOptions, type WeightFile } from '../formats/index.js';
import { readCheckpointWeights } from '../models/checkpoint.js';

registerReader(FORMAT_NAMES.checkpoint, (path) => isTlCheckpoint(path), (path) => readCheckpointWeights(path));

/** Read any weight file tl-scratch knows (neon, Keras, PyTorch, safetensors, ONNX, checkpoints), detecting the format by content. */
export async function readWeights(path: string, options: ReadOptions = {}): Promise<WeightFile> {
  return readWeightFile(path, options);
}
