// The seven binary formats tl-scratch reads, as fuzz targets: small real files of each, the
// reader as the CLI calls it, and where each format keeps its length, size and shape fields.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HDF5IteratorOneHot } from '../../src/data/hdf5.js';
import { decodeImage, resizeShortSideCenterCrop } from '../../src/data/image.js';
import { readKerasWeights, readNeonWeights, readOnnxWeights, readSafetensors, readTorchWeights } from '../../src/formats/index.js';
import { onnxBytes } from '../../src/index.js';
import { smallModel } from '../helpers/small-model.js';
import type { Field, FuzzTarget } from './harness.js';

const FIX = resolve(__dirname, '..', 'fixtures');
const file = (...p: string[]): { name: string; bytes: Uint8Array } => ({ name: p[p.length - 1]!, bytes: new Uint8Array(readFileSync(join(FIX, ...p))) });

/** At most `n` fields, spread over the list (the field mutations pick among them). */
const capped = (fs: Field[], n = 2000): Field[] => (fs.length <= n ? fs : fs.filter((_, i) => i % Math.ceil(fs.length / n) === 0));

/** Pickle opcodes followed by a length or an integer (a string's size, a shape entry), and its width. */
const PICKLE_ARGS: Record<number, 1 | 2 | 4 | 8> = {
  0x58: 4, 0x42: 4, 0x54: 4, 0x55: 1, 0x43: 1, 0x8c: 1, 0x8d: 8, 0x8e: 8, 0x96: 8, // strings and bytes
  0x4a: 4, 0x4b: 1, 0x4d: 2, 0x8a: 1, 0x8b: 4, // BININT, BININT1, BININT2, LONG1, LONG4
  0x95: 8, 0x72: 4, 0x6a: 4, 0x71: 1, 0x68: 1, // FRAME, LONG_BINPUT, LONG_BINGET, BINPUT, BINGET
};
function pickleFields(b: Uint8Array): Field[] {
  const out: Field[] = [];
  for (let i = 0; i < b.length; i++) {
    const w = PICKLE_ARGS[b[i]!];
    if (w) out.push({ at: i + 1, width: w });
  }
  return capped(out);
}

/** ZIP: every size, count, offset and name length of the local headers, central directory and its end. */
function zipFields(b: Uint8Array): Field[] {
  const out: Field[] = [];
  const sig = (i: number, x: number, y: number) => b[i] === 0x50 && b[i + 1] === 0x4b && b[i + 2] === x && b[i + 3] === y;
  for (let i = 0; i + 4 <= b.length; i++) {
    if (sig(i, 3, 4)) for (const [o, w] of [[14, 4], [18, 4], [22, 4], [26, 2], [28, 2], [8, 2]] as const) out.push({ at: i + o, width: w });
    if (sig(i, 1, 2)) for (const [o, w] of [[20, 4], [24, 4], [28, 2], [30, 2], [32, 2], [42, 4], [10, 2]] as const) out.push({ at: i + o, width: w });
    if (sig(i, 5, 6)) for (const [o, w] of [[8, 2], [10, 2], [12, 4], [16, 4], [20, 2]] as const) out.push({ at: i + o, width: w });
    if (sig(i, 6, 6)) for (const [o, w] of [[24, 8], [32, 8], [40, 8], [48, 8]] as const) out.push({ at: i + o, width: w });
    if (sig(i, 6, 7)) out.push({ at: i + 8, width: 8 });
  }
  return out;
}

/** HDF5: the superblock and the object headers near the start hold sizes, addresses and dimensions. */
function hdf5Fields(b: Uint8Array): Field[] {
  const out: Field[] = [];
  for (let i = 8; i < Math.min(b.length, 4096); i += 4) out.push({ at: i, width: 4 }, { at: i, width: 8 });
  return out;
}

/** safetensors: the header length, and the digits of the offsets and shapes in its JSON (as one-byte fields). */
function safetensorsFields(b: Uint8Array): Field[] {
  const out: Field[] = [{ at: 0, width: 8 }, { at: 0, width: 4 }, { at: 4, width: 4 }];
  const n = Math.min(b.length, 8 + Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true)));
  for (let i = 8; i < n; i++) if (b[i]! >= 0x30 && b[i]! <= 0x39) out.push({ at: i, width: 1 });
  return capped(out);
}

/** Protocol buffers: every byte that could start a varint length (a field key, then its length). */
function protobufFields(b: Uint8Array): Field[] {
  const out: Field[] = [];
  for (let i = 0; i + 1 < b.length; i++) if ((b[i]! & 7) === 2 || (b[i]! & 7) === 0) out.push({ at: i + 1, width: 4 });
  return capped(out);
}

/** PNG: every chunk's length, IHDR's width, height, depth and colour type. */
function pngFields(b: Uint8Array): Field[] {
  const out: Field[] = [{ at: 16, width: 4, be: true }, { at: 20, width: 4, be: true }, { at: 24, width: 1 }, { at: 25, width: 1 }];
  for (let i = 8; i + 8 <= b.length; ) {
    out.push({ at: i, width: 4, be: true });
    const len = (b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!;
    if (len < 0) break;
    i += 12 + len;
  }
  return out;
}

/** JPEG: every segment's length, the frame's height, width and component count. */
function jpegFields(b: Uint8Array): Field[] {
  const out: Field[] = [];
  for (let i = 2; i + 4 <= b.length; i++) {
    if (b[i] !== 0xff) continue;
    const m = b[i + 1]!;
    if (m === 0 || m === 0xff || (m >= 0xd0 && m <= 0xd9)) continue;
    out.push({ at: i + 2, width: 2, be: true });
    if (m >= 0xc0 && m <= 0xc3) out.push({ at: i + 5, width: 2, be: true }, { at: i + 7, width: 2, be: true }, { at: i + 9, width: 1 });
  }
  return out;
}

/** A small model's ONNX file (conv, bias, relu, dense): a real file of the format, a few KB. */
function smallOnnx(): Uint8Array {
  return onnxBytes(smallModel());
}

export function fuzzTargets(): FuzzTarget[] {
  return [
    {
      name: 'neon pickle',
      ext: 'p',
      seeds: [file('formats', 'neon_old_py2.p'), file('formats', 'neon_fused_proto0.p'), file('formats', 'values_p2.pkl'), file('formats', 'values_p4.pkl'), file('formats', 'values_p5.pkl'), file('formats', 'values_p0.pkl')],
      read: (p) => readNeonWeights(p),
      fields: pickleFields,
    },
    {
      name: 'Keras HDF5',
      ext: 'h5',
      seeds: [file('formats', 'keras2_save_weights.h5'), file('formats', 'keras1_save_weights.h5')],
      read: (p) => readKerasWeights(p),
      fields: hdf5Fields,
    },
    {
      name: 'PyTorch zip',
      ext: 'pth',
      seeds: [file('formats', 'torch_misc.pth'), file('formats', 'torch_vgg.pth')],
      read: (p) => readTorchWeights(p),
      fields: (b) => [...zipFields(b), ...pickleFields(b).slice(0, 200)],
    },
    {
      name: 'safetensors',
      ext: 'safetensors',
      seeds: [file('formats', 'misc.safetensors'), file('formats', 'tiny_vgg.safetensors')],
      read: (p) => readSafetensors(p),
      fields: safetensorsFields,
    },
    {
      name: 'ONNX',
      ext: 'onnx',
      seeds: [{ name: 'small.onnx', bytes: smallOnnx() }],
      read: (p) => readOnnxWeights(p),
      fields: protobufFields,
    },
    {
      name: 'neon HDF5 data',
      ext: 'h5',
      seeds: [file('data', 'h5', 'u8_fullmean.h5'), file('data', 'h5', 'f32_chanmean.h5'), file('data', 'h5', 'i16_nomean.h5')],
      read: async (p) => {
        const it = await HDF5IteratorOneHot.open(p, { bsz: 1 });
        try {
          for (const b of it.batches()) void b;
          it.readExamples(Int32Array.of(0));
        } finally {
          it.close();
        }
      },
      fields: hdf5Fields,
    },
    {
      name: 'JPEG/PNG',
      ext: 'img',
      seeds: [file('data', 'folder', 'a_red', 'r4.jpg'), file('data', 'folder', 'a_red', 'r5.jpeg'), file('data', 'folder', 'a_red', 'r1.png'), file('data', 'folder', 'a_red', 'r2.png'), file('data', 'folder', 'b_blue', 'b3.png')],
      read: (p) => resizeShortSideCenterCrop(decodeImage(new Uint8Array(readFileSync(p)), p), 8),
      fields: (b) => (b[0] === 0x89 ? pngFields(b) : jpegFields(b)),
    },
  ];
}
