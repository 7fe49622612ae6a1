// PyTorch checkpoints in the zip format of torch >= 1.6 (`<archive>/data.pkl`, storages in
// `<archive>/data/<key>`, stored uncompressed). The pickle is read by our own VM with
// torch's rebuild functions added to the allow-list; storages are resolved through the
// persistent ids and read with positioned reads, one tensor at a time.

import { TlError } from '../util/errors.js';
import { ELEM_SIZE, numel, toFloat32, type ElemType } from './convert.js';
import { groupDotted, type FlatTensor } from './group.js';
import { checkFile, readHead } from './io.js';
import {
  defineGlobal,
  describe,
  isPyGlobal,
  isTuple,
  loadPickle,
  PyDict,
  pyNumber,
  pyText,
  type CallContext,
  type PyGlobal,
} from './pickle/index.js';
import { FORMAT_NAMES, type RawArrayInfo, type WeightFile } from './types.js';
import { ZipFile, type ZipEntry } from './zip.js';

/** Start of a legacy (pre-1.6, non-zip) torch.save file: protocol 2, then LONG1 of the magic number. */
const LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

export function isLegacyTorch(head: Uint8Array): boolean {
  return head.length >= LEGACY_MAGIC.length && LEGACY_MAGIC.every((b, i) => head[i] === b);
}

const STORAGE_TYPES: Record<string, ElemType> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
  UntypedStorage: 'uint8',
};

/** A storage named by a persistent id; its bytes stay in the archive until a tensor needs them. */
class TorchStorage {
  constructor(
    readonly key: string,
    readonly dtype: ElemType,
    readonly numel: number,
    readonly entry: ZipEntry,
  ) {}
}

/** A tensor as torch._utils._rebuild_tensor_v2 describes it. */
class TorchTensor {
  constructor(
    readonly storage: TorchStorage,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

function intList(v: unknown, what: string, ctx: CallContext): number[] {
  if (!Array.isArray(v)) ctx.fail(`${what} is ${describe(v)}, expected a tuple of ints`);
  return v.map((x) => {
    const n = pyNumber(x);
    if (n === undefined || !Number.isSafeInteger(n) || n < 0) ctx.fail(`${what} holds ${describe(x)}, expected non-negative ints`);
    return n;
  });
}

function rebuildTensor(args: readonly unknown[], ctx: CallContext): TorchTensor {
  if (args.length < 4) ctx.fail(`torch _rebuild_tensor called with ${args.length} arguments`);
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof TorchStorage)) ctx.fail(`tensor storage is ${describe(storage)}`);
  const off = pyNumber(offset);
  if (off === undefined || !Number.isSafeInteger(off) || off < 0) ctx.fail(`tensor storage offset is ${describe(offset)}`);
  const sz = intList(size, 'tensor size', ctx);
  const st = intList(stride, 'tensor stride', ctx);
  if (sz.length !== st.length) ctx.fail(`tensor size has ${sz.length} dims but stride has ${st.length}`);
  return new TorchTensor(storage, off, sz, st);
}

function torchGlobals(): Map<string, PyGlobal> {
  const m = new Map<string, PyGlobal>();
  for (const [name, dtype] of Object.entries(STORAGE_TYPES)) {
    for (const mod of ['torch', 'torch.storage']) m.set(`${mod}.${name}`, defineGlobal({ module: mod, name, isClass: true, tag: dtype }));
  }
  const add = (name: string, call: PyGlobal['call']): void => {
    m.set(`torch._utils.${name}`, defineGlobal({ module: 'torch._utils', name, call }));
  };
  add('_rebuild_tensor_v2', rebuildTensor);
  add('_rebuild_tensor', rebuildTensor);
  const rebuildParameter = (args: readonly unknown[], ctx: CallContext): unknown => {
    if (args.length < 1 || !(args[0] instanceof TorchTensor)) ctx.fail(`torch _rebuild_parameter of ${describe(args[0])}`);
    return args[0];
  };
  add('_rebuild_parameter', rebuildParameter);
  add('_rebuild_parameter_with_state', rebuildParameter);
  return m;
}

const TORCH_GLOBALS = torchGlobals();

/** The float32 values of a tensor in row-major order, reading only the bytes it covers. */
function tensorToFloat32(zip: ZipFile, t: TorchTensor, littleEndian: boolean, where: string): Float32Array {
  const n = numel(t.size, where);
  if (n === 0) return new Float32Array(0);
  const s = t.storage;
  const item = ELEM_SIZE[s.dtype];
  let maxIdx = t.offset;
  for (let d = 0; d < t.size.length; d++) maxIdx += (t.size[d]! - 1) * t.stride[d]!;
  const needElems = maxIdx + 1;
  if (needElems > s.numel || needElems * item > s.entry.size) {
    throw new TlError(
      `${where}: its storage '${s.entry.name}' holds ${s.entry.size} bytes (${s.numel} ${s.dtype} declared) but the tensor ` +
        `[${t.size.join(', ')}] at offset ${t.offset} needs ${needElems * item}; the file is truncated or damaged`,
    );
  }
  let contiguous = true;
  let expect = 1;
  for (let d = t.size.length - 1; d >= 0; d--) {
    if (t.size[d] !== 1 && t.stride[d] !== expect) contiguous = false;
    expect *= t.size[d]!;
  }
  if (contiguous) {
    if (s.dtype === 'float32' && littleEndian) {
      const out = new Float32Array(n);
      zip.read(s.entry, t.offset * 4, n * 4, new Uint8Array(out.buffer));
      return out;
    }
    return toFloat32(zip.read(s.entry, t.offset * item, n * item), s.dtype, littleEndian, n, where, false);
  }
  // A strided view: read the covered range once, then gather.
  const span = needElems - t.offset;
  const src = toFloat32(zip.read(s.entry, t.offset * item, span * item), s.dtype, littleEndian, span, where, false);
  const out = new Float32Array(n);
  const nd = t.size.length;
  const idx = new Array<number>(nd).fill(0);
  let p = 0;
  for (let o = 0; o < n; o++) {
    out[o] = src[p]!;
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]!++;
      p += t.stride[d]!;
      if (idx[d]! < t.size[d]!) break;
      p -= t.stride[d]! * t.size[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

const STATE_DICT_KEYS = ['state_dict', 'model_state_dict', 'model', 'net', 'module'];

/** Read a PyTorch checkpoint (torch.save zip format, a state_dict or a module), without executing the pickle. */
export async function readTorchWeights(path: string): Promise<WeightFile> {
  checkFile(path, 'PyTorch file');
  if (isLegacyTorch(readHead(path, 16))) {
    throw new TlError(
      `PyTorch file ${path}: legacy (pre-1.6, non-zip) torch.save format, which tl-scratch does not read; ` +
        're-save it with torch>=1.6: torch.save(torch.load(path), new_path, _use_new_zipfile_serialization=True)',
    );
  }
  const zip = new ZipFile(path, 'PyTorch file');
  try {
    return readZip(zip, path);
  } finally {
    zip.close();
  }
}

function readZip(zip: ZipFile, path: string): WeightFile {
  const fail: (msg: string) => never = (msg) => {
    throw new TlError(`PyTorch file ${path}: ${msg}`);
  };
  const pkls = [...zip.entries.keys()].filter((n) => n === 'data.pkl' || n.endsWith('/data.pkl')).sort((a, b) => a.length - b.length);
  if (!pkls.length) {
    fail("zip archive without 'data.pkl', so it is not a PyTorch checkpoint (torch.save writes <name>/data.pkl)");
  }
  const pklName = pkls[0]!;
  const prefix = pklName.slice(0, pklName.length - 'data.pkl'.length);
  const orderEntry = zip.entries.get(`${prefix}byteorder`);
  let littleEndian = true;
  if (orderEntry) {
    const order = Buffer.from(zip.readAll(orderEntry)).toString('latin1').trim();
    if (order !== 'little' && order !== 'big') fail(`unknown byteorder '${order}'`);
    littleEndian = order === 'little';
  }
  const storages = new Map<string, TorchStorage>();
  const persistentLoad = (pid: unknown, ctx: CallContext): TorchStorage => {
    if (!isTuple(pid) || pid.length < 5 || pyText(pid[0]) !== 'storage') ctx.fail(`unknown persistent id ${describe(pid)}`);
    const [, cls, key, , count] = pid;
    if (!isPyGlobal(cls) || !cls.tag) ctx.fail(`storage type ${describe(cls)}`);
    const k = pyText(key);
    if (k === undefined || !/^[\w.-]+$/.test(k)) ctx.fail(`storage key ${describe(key)}`);
    const n = pyNumber(count);
    if (n === undefined || !Number.isSafeInteger(n) || n < 0) ctx.fail(`storage size ${describe(count)}`);
    const known = storages.get(k);
    if (known) return known;
    const entry = zip.entries.get(`${prefix}data/${k}`);
    if (!entry) ctx.fail(`storage '${prefix}data/${k}' is missing from the archive`);
    const s = new TorchStorage(k, cls.tag as ElemType, n, entry);
    storages.set(k, s);
    return s;
  };
  const pklEntry = zip.entries.get(pklName)!;
  if (pklEntry.size > 1 << 30) fail(`data.pkl of ${pklEntry.size} bytes is absurdly large`);
  const root = loadPickle(zip.readAll(pklEntry), {
    file: `${path} (${pklName})`,
    globals: TORCH_GLOBALS,
    persistentLoad,
    inPlace: true,
    refusedGlobalHint: 'PyTorch files saved with torch.save(model) pickle the model class; save model.state_dict() instead.',
  });
  // A state_dict, or a training checkpoint holding one.
  const notes: string[] = [];
  let sd: unknown = root;
  if (root instanceof PyDict && ![...root.values()].some((v) => v instanceof TorchTensor)) {
    for (const k of STATE_DICT_KEYS) {
      const v = root.get(k);
      if (v instanceof PyDict && [...v.values()].some((x) => x instanceof TorchTensor)) {
        sd = v;
        notes.push(`Using the '${k}' entry of a training checkpoint.`);
        break;
      }
    }
  }
  const found: { key: string; t: TorchTensor }[] = [];
  const seen = new Set<object>();
  const walk = (v: unknown, at: string, depth: number): void => {
    if (depth > 100 || typeof v !== 'object' || v === null || seen.has(v)) return;
    seen.add(v);
    if (v instanceof TorchTensor) found.push({ key: at, t: v });
    else if (v instanceof PyDict) for (const [k, c] of v) walk(c, at ? `${at}.${String(k)}` : String(k), depth + 1);
    else if (Array.isArray(v)) v.forEach((c, i) => walk(c, at ? `${at}.${i}` : String(i), depth + 1));
  };
  walk(sd, '', 0);
  if (!found.length) fail(`no tensors in the checkpoint (it holds ${describe(root)})`);
  const arrays: RawArrayInfo[] = found.map(({ key, t }) => ({ name: key, shape: [...t.size], dtype: t.storage.dtype }));
  const flat: FlatTensor[] = found.map(({ key, t }) => ({
    key,
    shape: [...t.size],
    dtype: t.storage.dtype,
    load: () => tensorToFloat32(zip, t, littleEndian, `PyTorch file ${path}: tensor '${key}'`),
  }));
  const layers = groupDotted(flat);
  notes.unshift(
    `PyTorch zip checkpoint (archive '${prefix.replace(/\/$/, '')}', ${found.length} tensors); conv weights [K, C, R, S] and linear (out, in) used as stored.`,
  );
  return { path, format: FORMAT_NAMES.torch, layers, notes, arrays };
}
