// Taking a model out of tl-scratch: safetensors (PyTorch; torchvision's names for VGG-16)
// and ONNX (onnxruntime and every other ONNX runtime). Everything is checked and encoded in
// memory first and then written atomically, so a failed export leaves no file behind.
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Model } from '../models/model.js';
import { writeFileAtomicSync } from '../util/atomic.js';
import { TlError, UsageError } from '../util/errors.js';
import { onnxBytes, type OnnxExportOptions } from './onnx.js';
import { safetensorsBytes } from './safetensors.js';

export { onnxBytes, ONNX_OPSET, type OnnxExportOptions } from './onnx.js';
export { matchVgg16, safetensorsBytes, TORCHVISION_VGG16_CONV_INDICES, type ExportedTensor } from './safetensors.js';
export { modelFromCheckpoint } from './rebuild.js';

/** The formats {@link exportModel} writes. */
export const EXPORT_FORMATS = ['safetensors', 'onnx'] as const;
/** One of {@link EXPORT_FORMATS}. */
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Throws a UsageError unless `format` is one of {@link EXPORT_FORMATS}. */
export function checkExportFormat(format: string): ExportFormat {
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got '${format}'`);
  }
  return format as ExportFormat;
}

/** Throws a TlError unless a file can be created at `path` (its folder exists and is writable, the path is not a folder). */
export function checkWritable(path: string, what = '--out'): void {
  const dir = dirname(resolve(path));
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new TlError(`${what} ${path}: cannot write there, the folder ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new TlError(`${what} ${path}: cannot write there, ${dir} is not a folder`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new TlError(`${what} ${path}: cannot write there, the folder ${dir} is not writable`);
  }
  try {
    if (statSync(path).isDirectory()) throw new TlError(`${what} ${path}: is a folder; give a file name`);
  } catch (e) {
    if (e instanceof TlError) throw e; // otherwise the file does not exist yet: fine
  }
}

/** The bytes of a model in an export format (nothing is written). */
export function exportBytes(model: Model, format: ExportFormat, opts: OnnxExportOptions = {}): Uint8Array {
  return format === 'onnx' ? onnxBytes(model, opts) : safetensorsBytes(model);
}

/**
 * Write an initialized model to `path` as safetensors or ONNX, atomically: on any error
 * (a layer the format cannot express, an unwritable path) no file is left at `path`.
 * Returns the number of bytes written.
 */
export function exportModel(model: Model, path: string, format: ExportFormat, opts: OnnxExportOptions = {}): number {
  checkExportFormat(format);
  checkWritable(path);
  const bytes = exportBytes(model, format, opts);
  try {
    writeFileAtomicSync(path, bytes);
  } catch (e) {
    if (e instanceof TlError) throw e; // a file-system error, worded by the atomic write
    throw new TlError(`${path}: cannot write the ${format} file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return bytes.length;
}
