// safetensors files: an 8-byte little-endian header length N, N bytes of JSON
// ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}), then the
// data buffer the offsets point into. F32, F16, BF16 and F64 convert to float32; integer
// and bool tensors are listed and converted too. Names are grouped like PyTorch's
// state_dict keys, and conv weights are taken as PyTorch's [K, C, R, S].

import { closeSync, openSync } from 'node:fs';
import { TlError } from '../util/errors.js';
import { ELEM_SIZE, naturalCompare, numel, toFloat32, type ElemType } from './convert.js';
import { groupDotted, type FlatTensor } from './group.js';
import { checkFile, readAt } from './io.js';
import { FORMAT_NAMES, type RawArrayInfo, type SourceLayer, type WeightFile } from './types.js';

const DTYPES: Record<string, ElemType> = {
  F64: 'float64',
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U64: 'uint64',
  U32: 'uint32',
  U16: 'uint16',
  U8: 'uint8',
  BOOL: 'bool',
};

/** The spec's upper bound on the header (100 MB). */
const MAX_HEADER = 100_000_000;

/** True when the first bytes look like a safetensors header for a file of `size` bytes. */
export function looksLikeSafetensors(head: Uint8Array, size: number): boolean {
  if (head.length < 9) return false;
  const n = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
  return n >= 2n && n <= BigInt(Math.min(MAX_HEADER, size - 8)) && head[8] === 0x7b; // '{'
}

/**
 * Files written by `tl-scratch export` (src/export/safetensors.ts) record in __metadata__
 * each tensor's [layer, parameter] in the model ('tl_scratch.names') and the factor its
 * values were multiplied by ('tl_scratch.scales': keep, for the dense layers after neon
 * dropout in torchvision's layout). With them the file maps back onto the exported model
 * exactly; null when the file has no such metadata.
 */
function tlScratchLayers(flat: FlatTensor[], meta: Record<string, unknown>, fail: (msg: string) => never): SourceLayer[] | null {
  const rawNames = meta['tl_scratch.names'];
  if (rawNames === undefined) return null;
  let names: Record<string, [string, string]>;
  let scales: Record<string, number>;
  try {
    names = JSON.parse(String(rawNames)) as Record<string, [string, string]>;
    scales = JSON.parse(String(meta['tl_scratch.scales'] ?? '{}')) as Record<string, number>;
  } catch {
    fail("__metadata__ 'tl_scratch.names' or 'tl_scratch.scales' is not valid JSON");
  }
  const byLayer = new Map<string, SourceLayer>();
  for (const t of flat) {
    const target = names[t.key];
    if (!Array.isArray(target) || target.length !== 2 || typeof target[0] !== 'string' || typeof target[1] !== 'string') {
      fail(`__metadata__ 'tl_scratch.names' has no [layer, parameter] for tensor '${t.key}'`);
    }
    const [layer, param] = target;
    const scale = scales[t.key] ?? 1;
    if (!(typeof scale === 'number' && Number.isFinite(scale) && scale !== 0)) fail(`__metadata__ 'tl_scratch.scales' has an invalid factor for '${t.key}'`);
    let l = byLayer.get(layer);
    if (!l) byLayer.set(layer, (l = { name: layer, kind: 'other', params: [] }));
    const data = t.load();
    // Undo the export's scaling; dividing by the same float32 factor returns the exact value
    // whenever the product was exact (keep = 0.5, a power of two, always is).
    const values = scale === 1 ? data : data.map((v) => Math.fround(v / scale));
    l.params.push({ name: param, shape: [...t.shape], dtype: t.dtype, data: values });
    if (param === 'W') l.kind = t.shape.length === 4 ? 'conv' : t.shape.length === 2 ? 'linear' : 'other';
    else if (param === 'b' && l.kind === 'other' && l.params.length === 1) l.kind = 'bias';
  }
  return [...byLayer.values()];
}

/** Read a safetensors file (PyTorch naming; files written by tl-scratch export map back to the layers they came from). */
export async function readSafetensors(path: string): Promise<WeightFile> {
  const size = checkFile(path, 'safetensors file');
  const fail: (msg: string) => never = (msg) => {
    throw new TlError(`safetensors file ${path}: ${msg}`);
  };
  if (size < 8) fail(`only ${size} bytes, too short for a header`);
  const fd = openSync(path, 'r');
  try {
    const n64 = new DataView(readAt(fd, 0, 8, `safetensors file ${path}`).buffer).getBigUint64(0, true);
    if (n64 > BigInt(Math.min(MAX_HEADER, size - 8))) fail(`header claims ${n64} bytes but the file has ${size}`);
    const n = Number(n64);
    const text = Buffer.from(readAt(fd, 8, n, `safetensors file ${path}`)).toString('utf8');
    let header: unknown;
    try {
      header = JSON.parse(text);
    } catch (e) {
      fail(`header is not valid JSON (${(e as Error).message})`);
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
    const dataStart = 8 + n;
    const dataLen = size - dataStart;
    const entries: { key: string; type: ElemType; dtype: string; shape: number[]; begin: number; end: number }[] = [];
    const notes: string[] = [];
    let meta: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(header as Record<string, unknown>)) {
      if (key === '__metadata__') {
        meta = typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
        const fmt = meta['format'];
        if (typeof fmt === 'string') notes.push(`metadata format '${fmt}'.`);
        continue;
      }
      const where = `tensor '${key}'`;
      const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (typeof e !== 'object' || e === null) fail(`${where} is not an object`);
      const type = typeof e.dtype === 'string' ? DTYPES[e.dtype] : undefined;
      if (!type) fail(`${where} has dtype ${JSON.stringify(e.dtype)}; tl-scratch reads ${Object.keys(DTYPES).join(', ')}`);
      if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`${where} has an invalid shape`);
      const shape = e.shape as number[];
      const off = e.data_offsets;
      if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[1] < off[0]) {
        fail(`${where} has invalid data_offsets ${JSON.stringify(off)}`);
      }
      const [begin, end] = off as [number, number];
      const count = numel(shape, `safetensors file ${path}: ${where}`);
      if (end - begin !== count * ELEM_SIZE[type]) {
        fail(`${where} of shape [${shape.join(', ')}] and dtype ${String(e.dtype)} needs ${count * ELEM_SIZE[type]} bytes but data_offsets span ${end - begin}`);
      }
      if (end > dataLen) fail(`${where} ends at byte ${end} of the data but the file holds only ${dataLen} data bytes; it is truncated`);
      entries.push({ key, type, dtype: String(e.dtype), shape, begin, end });
    }
    if (!entries.length) fail('no tensors in the header');
    const byOffset = [...entries].sort((a, b) => a.begin - b.begin);
    for (let i = 1; i < byOffset.length; i++) {
      const a = byOffset[i - 1]!;
      const b = byOffset[i]!;
      if (b.begin < a.end) fail(`tensors '${a.key}' and '${b.key}' overlap in the data buffer`);
    }
    entries.sort((a, b) => naturalCompare(a.key, b.key));
    const arrays: RawArrayInfo[] = entries.map((e) => ({ name: e.key, shape: [...e.shape], dtype: e.type }));
    const flat: FlatTensor[] = entries.map((e) => ({
      key: e.key,
      shape: e.shape,
      dtype: e.type,
      load: () => {
        const count = e.shape.reduce((a, b) => a * b, 1);
        if (e.type === 'float32') {
          const out = new Float32Array(count);
          readAt(fd, dataStart + e.begin, count * 4, `safetensors file ${path}`, new Uint8Array(out.buffer));
          return out;
        }
        const raw = readAt(fd, dataStart + e.begin, e.end - e.begin, `safetensors file ${path}`);
        return toFloat32(raw, e.type, true, count, `safetensors file ${path}: tensor '${e.key}'`, false);
      },
    }));
    const exported = tlScratchLayers(flat, meta, fail);
    const layers = exported ?? groupDotted(flat);
    if (exported) notes.push(`written by tl-scratch export (${String(meta['tl_scratch.layout'])} layout): tensors mapped back to the layer names recorded in the file${Object.keys(JSON.parse(String(meta['tl_scratch.scales'] ?? '{}')) as object).length ? ', dropout scaling of the dense layers undone' : ''}.`);
    notes.unshift(`safetensors (${entries.length} tensors); names grouped as PyTorch state_dict keys, conv weights taken as [K, C, R, S].`);
    return { path, format: FORMAT_NAMES.safetensors, layers, notes, arrays };
  } finally {
    closeSync(fd);
  }
}
