// Stands in for ../models/checkpoint.ts in the browser bundle (scripts/build-browser.mjs):
// checkpoints are HDF5 files on disk, which a page does not have.
import { TlError } from '../util/errors.js';

const unsupported = (): never => {
  throw new TlError('checkpoints (HDF5 files) are not available in the browser build; use Node');
};
export const saveCheckpoint = unsupported;
export const loadCheckpoint = unsupported;
export const readCheckpointWeights = unsupported;
export const readCheckpointOptimizer = unsupported;
