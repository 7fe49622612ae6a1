// The playground's binary messages between the local server (Node) and the page: one JSON
// header and the arrays it describes, so the page gets the source model's weights and the
// built-in images as typed arrays without an HDF5 or gzip reader of its own.
//   bytes 0..3   header length L (uint32, little-endian)
//   bytes 4..    header: UTF-8 JSON { meta, arrays: [{ name, dtype, length, offset }] }
//   then         the arrays, each at its offset (from the start of the data part, 4-byte aligned)
// Plain TypeScript (no node: imports): both sides use it.

export type WireDType = 'float32' | 'uint8' | 'int32';
type WireArray = Float32Array | Uint8Array | Int32Array;

export interface WireHeader<M> {
  meta: M;
  arrays: { name: string; dtype: WireDType; length: number; offset: number }[];
}

const dtypeOf = (a: WireArray): WireDType => (a instanceof Float32Array ? 'float32' : a instanceof Int32Array ? 'int32' : 'uint8');

/** Packs `meta` and the named arrays into one buffer. */
export function packWire<M>(meta: M, arrays: Record<string, WireArray>): Uint8Array {
  const entries: WireHeader<M>['arrays'] = [];
  let offset = 0;
  for (const [name, a] of Object.entries(arrays)) {
    entries.push({ name, dtype: dtypeOf(a), length: a.length, offset });
    offset += Math.ceil(a.byteLength / 4) * 4;
  }
  const header = new TextEncoder().encode(JSON.stringify({ meta, arrays: entries }));
  const dataStart = Math.ceil((4 + header.length) / 4) * 4;
  const out = new Uint8Array(dataStart + offset);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  entries.forEach((e, i) => {
    const a = Object.values(arrays)[i]!;
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), dataStart + e.offset);
  });
  return out;
}

/** The meta and the arrays (copies, aligned) of a packed buffer. */
export function unpackWire<M>(buf: ArrayBuffer): { meta: M; arrays: Record<string, WireArray> } {
  const view = new DataView(buf);
  if (buf.byteLength < 4) throw new Error('playground: empty message from the server');
  const len = view.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, len))) as WireHeader<M>;
  const dataStart = Math.ceil((4 + len) / 4) * 4;
  const arrays: Record<string, WireArray> = {};
  for (const e of header.arrays) {
    const start = dataStart + e.offset;
    if (e.dtype === 'float32') arrays[e.name] = new Float32Array(buf.slice(start, start + 4 * e.length));
    else if (e.dtype === 'int32') arrays[e.name] = new Int32Array(buf.slice(start, start + 4 * e.length));
    else arrays[e.name] = new Uint8Array(buf.slice(start, start + e.length));
  }
  return { meta: header.meta, arrays };
}

/** What /api/source describes: the source model's layers (arrays named "<layer>/<param>"). */
export interface SourceMeta {
  path: string;
  format: string;
  layers: { name: string; kind: 'conv' | 'linear' | 'bias' | 'other'; params: { name: string; shape: number[]; dtype: string }[] }[];
}

/** What /api/builtin describes: the demo's target data (arrays trainImages, trainLabels, testImages, testLabels). */
export interface BuiltinMeta {
  name: string;
  classNames: string[];
  /** [C, H, W] of the stored images (28×28 gray; the page pads them to the model's size as the CLI does). */
  lshape: [number, number, number];
  trainPerClass: number;
  seed: number;
}

/** What /api/info returns (JSON). */
export interface PlaygroundInfo {
  version: string;
  source: { file: string; task: string; mean: number };
  model: { widthMult: number; fcSize: number; imageSize: number; batchSize: number };
  defaults: { trainPerClass: number; epochs: number; lr: number; evalEvery: number };
  data: { name: string; classNames: string[]; trainImages: number; testImages: number };
}
