// readWeightFile: detect a weight file's format by its content and read it into the
// common structure (types.ts), with weights in our layout. Other modules can plug in
// readers for more formats (tl-scratch's own checkpoints) with registerReader().

import { TlError } from '../util/errors.js';
import { looksLikeHdf5, openH5 } from './h5.js';
import { checkFile, isGzip, readHead } from './io.js';
import { readKerasWeights } from './keras.js';
import { readNeonWeights } from './neon.js';
import { looksLikeSafetensors, readSafetensors } from './safetensors.js';
import { isLegacyTorch, readTorchWeights } from './torch.js';
import { looksLikeOnnx, readOnnxWeights } from './onnx.js';
import { FORMAT_NAMES, type ReadOptions, type WeightFile } from './types.js';
import { isZip } from './zip.js';

export * from './types.js';
export { NEON_VGG_INPUT_NOTE } from './neon.js';

/** Decides from the path and the first HEAD_BYTES bytes whether a reader takes the file. */
export type FormatDetector = (path: string, head: Uint8Array) => boolean | Promise<boolean>;
export type FormatReader = (path: string, options?: ReadOptions) => Promise<WeightFile>;

/** How many leading bytes detectors receive. */
const HEAD_BYTES = 64;

interface Registered {
  format: string;
  detect: FormatDetector;
  read: FormatReader;
}

const registered: Registered[] = [];

/**
 * Add a reader for another format (e.g. tl-scratch checkpoints). Registered readers are
 * asked before the built-in ones, most recently registered first; registering a format
 * again replaces its reader.
 */
export function registerReader(format: string, detect: FormatDetector, read: FormatReader): void {
  const i = registered.findIndex((r) => r.format === format);
  if (i >= 0) registered.splice(i, 1);
  registered.unshift({ format, detect, read });
}

/** True for an HDF5 file whose root has the `tl_scratch_version` attribute (our checkpoints). */
export async function isTlCheckpoint(path: string): Promise<boolean> {
  if (!looksLikeHdf5(path)) return false;
  const f = await openH5(path, 'r', 'weight file');
  try {
    return 'tl_scratch_version' in f.attrs;
  } finally {
    f.close();
  }
}

function looksLikePickle(head: Uint8Array): boolean {
  if (head.length >= 2 && head[0] === 0x80 && head[1]! >= 2 && head[1]! <= 5) return true;
  // Protocols 0 and 1 have no header; accept the usual first opcodes of a dict/list/tuple/global.
  const text = Buffer.from(head.subarray(0, 40)).toString('latin1');
  return /^(\((d|l|t|lp|dp)|\}|\]|\)|c[\w.]+\n[\w.]+\n)/.test(text);
}

const BUILTIN_DESCRIPTION =
  'neon pickles (.p/.pkl/.prm, optionally gzipped), Keras HDF5 weights (.h5), PyTorch zip checkpoints (.pth/.pt), ' +
  'safetensors, ONNX models (.onnx: their weights), and tl-scratch checkpoints';

/** The format of a file, by its content: one of FORMAT_NAMES or a registered format. */
export async function detectFormat(path: string): Promise<string> {
  const size = checkFile(path);
  if (size === 0) throw new TlError(`weight file ${path}: empty file`);
  const head = readHead(path, HEAD_BYTES);
  for (const r of registered) if (await r.detect(path, head)) return r.format;
  if (isGzip(head)) return FORMAT_NAMES.neon;
  if (isLegacyTorch(head) || isZip(head)) return FORMAT_NAMES.torch;
  if (looksLikeHdf5(path)) return (await isTlCheckpoint(path)) ? FORMAT_NAMES.checkpoint : FORMAT_NAMES.keras;
  if (looksLikeSafetensors(head, size)) return FORMAT_NAMES.safetensors;
  if (looksLikeOnnx(path, head)) return FORMAT_NAMES.onnx;
  if (looksLikePickle(head)) return FORMAT_NAMES.neon;
  throw new TlError(`weight file ${path}: unknown format; tl-scratch reads ${BUILTIN_DESCRIPTION}${registeredList()}`);
}

function registeredList(): string {
  const extra = registered.map((r) => r.format).filter((f) => f !== FORMAT_NAMES.checkpoint);
  return extra.length ? `, and ${extra.join(', ')}` : '';
}

/** Read any supported weight file, detecting its format by content. */
export async function readWeightFile(path: string, options: ReadOptions = {}): Promise<WeightFile> {
  const format = await detectFormat(path);
  const r = registered.find((x) => x.format === format);
  if (r) return r.read(path, options);
  switch (format) {
    case FORMAT_NAMES.neon:
      return readNeonWeights(path);
    case FORMAT_NAMES.torch:
      return readTorchWeights(path);
    case FORMAT_NAMES.keras:
      return readKerasWeights(path, options);
    case FORMAT_NAMES.safetensors:
      return readSafetensors(path);
    case FORMAT_NAMES.onnx:
      return readOnnxWeights(path);
    case FORMAT_NAMES.checkpoint:
      throw new TlError(`weight file ${path}: a tl-scratch checkpoint, but no checkpoint reader is registered (registerReader('${FORMAT_NAMES.checkpoint}', ...))`);
    default:
      throw new TlError(`weight file ${path}: no reader for format '${format}'`);
  }
}

export { readKerasWeights, readNeonWeights, readOnnxWeights, readSafetensors, readTorchWeights };
