// The row `prepare` writes for one decoded image, straight from the decoder's RGBA pixels:
// resize the short side of the region to `size`, center-crop, channel-major bytes in RGB or
// BGR order, and the per-channel sums of those bytes (for the training mean). The same
// bytes as resizeToRow(rgbaToRgb(img), ...) (image.ts, the reference), made by the
// WebAssembly SIMD passes of resize-simd.ts where the engine has SIMD, by the reference
// otherwise (and for gray rows).
import { axisWeights, centerSquare, resizeToRow, rgbaToRgb, type AxisWeights, type ChannelOrder, type Rgba } from './image.js';
import { resizeModule } from './resize-simd.js';

type Region = { x0: number; y0: number; w: number; h: number };

export interface RowWithSums {
  /** C·size·size bytes, channel-major. */
  row: Uint8Array;
  /** Sum of each channel's bytes, in the row's channel order. */
  sums: number[];
}

/** The reference: RGB first, then image.ts's resizeToRow, then the sums. */
export function rgbaToRowReference(img: Rgba, size: number, order: ChannelOrder, region?: Region): RowWithSums {
  const row = resizeToRow(rgbaToRgb(img), size, order, region);
  const C = order === 'gray' ? 1 : 3;
  const HW = size * size;
  const sums: number[] = [];
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let p = c * HW; p < (c + 1) * HW; p++) s += row[p]!;
    sums.push(s);
  }
  return { row, sums };
}

const align16 = (n: number) => (n + 15) & ~15;

/**
 * One axis's tap table as the kernels read it: per output pixel 16 bytes (first tap's
 * offset, tap count, byte address of its float64 weights, unused), the weights after all
 * entries. `offsetOf(first)` turns a first input index into the kernel's byte offset.
 */
function tapTable(a: AxisWeights, at: number, offsetOf: (first: number) => number): { entries: Int32Array; weights: Float64Array; bytes: number } {
  const n = a.first.length;
  let taps = 0;
  for (let o = 0; o < n; o++) taps += a.count[o]!;
  const entries = new Int32Array(4 * n);
  const weights = new Float64Array(taps);
  const wBase = at + 16 * n;
  for (let o = 0; o < n; o++) {
    entries[4 * o] = offsetOf(a.first[o]!);
    entries[4 * o + 1] = a.count[o]!;
    entries[4 * o + 2] = wBase + 8 * a.offset[o]!;
    for (let k = 0; k < a.count[o]!; k++) weights[a.offset[o]! + k] = a.weights[a.offset[o]! + k]!;
  }
  return { entries, weights, bytes: align16(16 * n + 8 * taps) };
}

/** The tables of one (image size, region, output size): both axes, at the start of memory. */
interface Plan {
  rowLo: number;
  nrows: number;
  x: ReturnType<typeof tapTable>;
  y: ReturnType<typeof tapTable>;
  yAt: number;
  /** First byte after the tables. */
  end: number;
}

/** Resizes RGBA images to rows with the SIMD kernels; one per thread (it owns a WebAssembly memory). */
export class RgbaResizer {
  private readonly memory: WebAssembly.Memory | null = null;
  private readonly hpass: ((...a: number[]) => void) | null = null;
  private readonly vpass: ((...a: number[]) => void) | null = null;
  /** Plans by "width height x0 y0 w h size" (images of a data set come in a few sizes). */
  private readonly plans = new Map<string, Plan>();

  constructor(useSimd = true) {
    const mod = useSimd ? resizeModule() : null;
    if (mod) {
      this.memory = new WebAssembly.Memory({ initial: 64 });
      const e = new WebAssembly.Instance(mod, { env: { memory: this.memory } }).exports as Record<string, (...a: number[]) => void>;
      this.hpass = e.hpass!;
      this.vpass = e.vpass!;
    }
  }

  /** Whether the SIMD kernels run (else the reference does). */
  get simd(): boolean {
    return this.memory !== null;
  }

  private plan(img: Rgba, size: number, sq: Region): Plan {
    const key = `${img.width} ${img.height} ${sq.x0} ${sq.y0} ${sq.w} ${sq.h} ${size}`;
    let p = this.plans.get(key);
    if (p) return p;
    const ax = axisWeights(img.width, size, sq.x0, sq.w);
    const ay = axisWeights(img.height, size, sq.y0, sq.h);
    let rowLo = img.height, rowHi = -1;
    for (let o = 0; o < size; o++) {
      rowLo = Math.min(rowLo, ay.first[o]!);
      rowHi = Math.max(rowHi, ay.first[o]! + ay.count[o]! - 1);
    }
    const x = tapTable(ax, 0, (f) => 4 * f);
    const rowBytes = 16 * size;
    const y = tapTable(ay, x.bytes, (f) => (f - rowLo) * rowBytes);
    p = { rowLo, nrows: rowHi - rowLo + 1, x, y, yAt: x.bytes, end: x.bytes + y.bytes };
    if (this.plans.size >= 64) this.plans.delete(this.plans.keys().next().value!);
    this.plans.set(key, p);
    return p;
  }

  /**
   * The row and sums of `img` (RGBA) for `size`, `order` and `region` (default: the whole
   * image). The row is written into `into` when given (and is then `into`), else into a new array.
   */
  toRow(img: Rgba, size: number, order: ChannelOrder, region?: Region, into?: Uint8Array): RowWithSums {
    if (!this.memory || order === 'gray') {
      const r = rgbaToRowReference(img, size, order, region);
      if (!into) return r;
      into.set(r.row);
      return { row: into, sums: r.sums };
    }
    const sq = centerSquare(region ?? { x0: 0, y0: 0, w: img.width, h: img.height });
    const p = this.plan(img, size, sq);
    const stride = 4 * img.width;
    const HW = size * size;
    const sumsAt = p.end;
    const outAt = sumsAt + 16;
    const srcAt = align16(outAt + 3 * HW);
    const tmpAt = align16(srcAt + p.nrows * stride);
    const need = tmpAt + p.nrows * size * 16;
    if (need > this.memory.buffer.byteLength) this.memory.grow(Math.ceil((need - this.memory.buffer.byteLength) / 65536));
    const mem = this.memory.buffer;
    new Int32Array(mem, 0, p.x.entries.length).set(p.x.entries);
    new Float64Array(mem, 16 * size, p.x.weights.length).set(p.x.weights);
    new Int32Array(mem, p.yAt, p.y.entries.length).set(p.y.entries);
    new Float64Array(mem, p.yAt + 16 * size, p.y.weights.length).set(p.y.weights);
    new Uint8Array(mem, srcAt, p.nrows * stride).set(img.data.subarray(p.rowLo * stride, (p.rowLo + p.nrows) * stride));
    this.hpass!(srcAt, stride, p.nrows, 0, size, tmpAt);
    const [r, b] = order === 'rgb' ? [outAt, outAt + 2 * HW] : [outAt + 2 * HW, outAt];
    this.vpass!(tmpAt, 16 * size, p.yAt, size, r, outAt + HW, b, sumsAt);
    const s = new Int32Array(mem, sumsAt, 3);
    const sums = order === 'rgb' ? [s[0]!, s[1]!, s[2]!] : [s[2]!, s[1]!, s[0]!];
    const out = new Uint8Array(mem, outAt, 3 * HW);
    if (!into) return { row: out.slice(), sums };
    into.set(out);
    return { row: into, sums };
  }
}
