// The common structure every weight-file reader returns.

/** One parameter array, already converted to OUR layout and to float32. */
export interface WeightArray {
  /** 'W' (weights) or 'b' (bias); other parameters keep their name from the file (e.g. 'running_mean'). */
  name: string;
  /** Shape in OUR layout: conv [K, C, R, S], linear [out, in], bias [K]. */
  shape: number[];
  /** The dtype the file stored it in ('float32', 'float16', 'bfloat16', 'float64', ...). */
  dtype: string;
  /** Row-major float32 data in OUR layout (may be a view into the file's buffer). */
  data: Float32Array;
}

/** One layer of a weight file, with its parameters converted to our layouts. */
export interface SourceLayer {
  /** The name as in the file (e.g. 'conv1_1', 'block1_conv1', 'features.0'). */
  name: string;
  kind: 'conv' | 'linear' | 'bias' | 'other';
  /** For conv/linear: W (and, for fused/torch/keras layouts, the bias too, named 'b'). For bias layers: 'b'. */
  params: WeightArray[];
  /** The layer's type in the file when it says (neon: 'neon.layers.layer.Convolution'). */
  sourceType?: string;
}

/** A raw array as stored in the file (for `tl-scratch inspect`). */
export interface RawArrayInfo {
  name: string;
  shape: number[];
  dtype: string;
}

/** What every weight-file reader returns: the layers with weights, notes for the user, and the raw arrays as stored. */
export interface WeightFile {
  path: string;
  /** One of FORMAT_NAMES, or a registered reader's format. */
  format: string;
  layers: SourceLayer[];
  /** Facts the caller should show the user (layout detected, conversions done, input conventions). */
  notes: string[];
  /** Every raw array in the file, in the file's layout. */
  arrays: RawArrayInfo[];
}

/** Format names returned in WeightFile.format by the built-in readers. */
export const FORMAT_NAMES = {
  neon: 'neon pickle',
  keras: 'Keras HDF5',
  torch: 'PyTorch zip',
  safetensors: 'safetensors',
  onnx: 'ONNX',
  checkpoint: 'tl-scratch checkpoint',
} as const;

/** Options of the weight-file readers. */
export interface ReadOptions {
  /**
   * Keras only: the (H, W, C) shape of the map that Flatten turns into the first Dense
   * layer's input. Default: inferred from that layer's input size and the last conv's
   * channel count, assuming square maps.
   */
  kerasFlattenShape?: [number, number, number];
}
