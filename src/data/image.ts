// Image decoding (JPEG through jpeg-js, PNG through pngjs, both pure JS), resampling and
// cropping, and the conversion to neon's channel-major rows.
import { decode as decodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { TlError } from '../util/errors.js';

/** An 8-bit image, height × width × channels, row-major (interleaved channels). */
export interface Image {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}

export type ChannelOrder = 'rgb' | 'bgr' | 'gray';

/** Decode a JPEG or PNG (recognised by its signature) to RGB. TlError naming `where` otherwise. */
export function decodeImage(buf: Uint8Array, where: string): Image {
  let rgba: { width: number; height: number; data: Uint8Array };
  const isPng = buf.length >= 8 && buf[0] === 0x89 && buf[1] === 0x50 && buf[2] === 0x4e && buf[3] === 0x47;
  const isJpeg = buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff;
  try {
    if (isPng) {
      const p = PNG.sync.read(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength));
      rgba = { width: p.width, height: p.height, data: p.data };
    } else if (isJpeg) {
      rgba = decodeJpeg(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024, maxResolutionInMP: 200 });
    } else {
      throw new TlError(`${where}: not a JPEG or PNG image`);
    }
  } catch (e) {
    if (e instanceof TlError) throw e;
    // the decoders' own messages say what is wrong; a TypeError or RangeError inside them
    // (a damaged file walking off their tables) says nothing useful to a user
    const internal = e instanceof TypeError || e instanceof RangeError;
    const why = internal ? 'the data is damaged or truncated' : String((e as Error)?.message ?? e).split('\n')[0];
    throw new TlError(`${where}: cannot decode ${isPng ? 'PNG' : 'JPEG'} (${why})`);
  }
  const { width, height } = rgba;
  if (!(width > 0 && height > 0) || rgba.data.length < width * height * 4) {
    throw new TlError(`${where}: decoded to an empty or short image (${width}x${height})`);
  }
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height; i++, j += 4) {
    // PNG alpha is dropped (composited over black would change opaque pixels not at all)
    data[i * 3] = rgba.data[j]!;
    data[i * 3 + 1] = rgba.data[j + 1]!;
    data[i * 3 + 2] = rgba.data[j + 2]!;
  }
  return { width, height, channels: 3, data };
}

/** Per-axis resampling weights for a triangle filter (bilinear, antialiased when shrinking). */
function axisWeights(inSize: number, outSize: number, start: number, span: number): { first: Int32Array; weights: Float32Array[] } {
  const scale = span / outSize; // input pixels per output pixel
  const support = Math.max(1, scale);
  const first = new Int32Array(outSize);
  const weights: Float32Array[] = [];
  for (let o = 0; o < outSize; o++) {
    const center = start + (o + 0.5) * scale;
    // only pixels of the region contribute (as if it had been cropped first)
    const lo = Math.max(0, Math.ceil(start), Math.floor(center - support));
    const hi = Math.min(inSize - 1, Math.ceil(start + span) - 1, Math.ceil(center + support));
    const w = new Float32Array(Math.max(0, hi - lo + 1));
    let sum = 0;
    for (let i = lo; i <= hi; i++) {
      const v = Math.max(0, 1 - Math.abs(i + 0.5 - center) / support);
      w[i - lo] = v;
      sum += v;
    }
    if (sum > 0) for (let k = 0; k < w.length; k++) w[k]! /= sum;
    else {
      // the window fell outside the image: nearest edge pixel
      const n = Math.min(inSize - 1, Math.max(0, Math.floor(center)));
      first[o] = n;
      weights.push(Float32Array.of(1));
      continue;
    }
    first[o] = lo;
    weights.push(w);
  }
  return { first, weights };
}

/**
 * Resample the region [x0, x0+w) × [y0, y0+h) of an image (any channels; uint8 or float
 * data, HWC) to outW × outH, bilinear with half-pixel centres, antialiased when shrinking
 * (a triangle filter widened by the scale, as PIL's BILINEAR). Float result.
 */
export function resampleRegion(
  src: { width: number; height: number; channels: number; data: ArrayLike<number> },
  region: { x0: number; y0: number; w: number; h: number },
  outW: number,
  outH: number,
): Float32Array {
  const { width, height, channels: C, data } = src;
  const ax = axisWeights(width, outW, region.x0, region.w);
  const ay = axisWeights(height, outH, region.y0, region.h);
  // rows needed by the vertical pass
  let rowLo = height, rowHi = -1;
  for (let o = 0; o < outH; o++) {
    rowLo = Math.min(rowLo, ay.first[o]!);
    rowHi = Math.max(rowHi, ay.first[o]! + ay.weights[o]!.length - 1);
  }
  const nrows = rowHi - rowLo + 1;
  const tmp = new Float32Array(nrows * outW * C);
  for (let r = 0; r < nrows; r++) {
    const srow = (rowLo + r) * width * C;
    for (let o = 0; o < outW; o++) {
      const f = ax.first[o]!;
      const w = ax.weights[o]!;
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let k = 0; k < w.length; k++) s += w[k]! * data[srow + (f + k) * C + c]!;
        tmp[(r * outW + o) * C + c] = s;
      }
    }
  }
  const out = new Float32Array(outH * outW * C);
  for (let o = 0; o < outH; o++) {
    const f = ay.first[o]! - rowLo;
    const w = ay.weights[o]!;
    for (let x = 0; x < outW * C; x++) {
      let s = 0;
      for (let k = 0; k < w.length; k++) s += w[k]! * tmp[(f + k) * outW * C + x]!;
      out[o * outW * C + x] = s;
    }
  }
  return out;
}

/** Round and clamp to 0..255. */
export function toUint8(v: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(v[i]!)));
  return out;
}

/** The central square of a region (the crop that "resize the short side, then center-crop" takes). */
function centerSquare(region: { x0: number; y0: number; w: number; h: number }): { x0: number; y0: number; w: number; h: number } {
  const s = Math.min(region.w, region.h);
  return { x0: region.x0 + Math.floor((region.w - s) / 2), y0: region.y0 + Math.floor((region.h - s) / 2), w: s, h: s };
}

/**
 * Resize the short side of `region` (default: the whole image) to `size` and center-crop
 * to size × size. Returns an 8-bit image with the source's channels.
 */
export function resizeShortSideCenterCrop(img: Image, size: number, region?: { x0: number; y0: number; w: number; h: number }): Image {
  const sq = centerSquare(region ?? { x0: 0, y0: 0, w: img.width, h: img.height });
  return { width: size, height: size, channels: img.channels, data: toUint8(resampleRegion(img, sq, size, size)) };
}

/**
 * A face box (x1, y1, x2, y2 in pixels) widened by `margin` × its width/height on every
 * side and clipped to the image; null when nothing of it lies inside the image.
 */
export function faceRegion(
  box: ArrayLike<number>,
  margin: number,
  width: number,
  height: number,
): { x0: number; y0: number; w: number; h: number } | null {
  const [x1, y1, x2, y2] = [box[0]!, box[1]!, box[2]!, box[3]!];
  if (![x1, y1, x2, y2].every(Number.isFinite) || x2 <= x1 || y2 <= y1) return null;
  const bw = x2 - x1, bh = y2 - y1;
  const a = Math.max(0, Math.floor(x1 - margin * bw));
  const b = Math.max(0, Math.floor(y1 - margin * bh));
  const c = Math.min(width, Math.ceil(x2 + margin * bw));
  const d = Math.min(height, Math.ceil(y2 + margin * bh));
  if (c - a < 1 || d - b < 1) return null;
  return { x0: a, y0: b, w: c - a, h: d - b };
}

/**
 * An RGB (or gray) HWC image as one channel-major row (C*H*W) in the requested order.
 * Gray uses ITU-R 601-2 luma, L = (299 R + 587 G + 114 B) / 1000, as PIL's convert('L').
 */
export function toChannelMajor(img: Image, order: ChannelOrder): Uint8Array {
  const n = img.width * img.height;
  const src = img.data;
  if (order === 'gray') {
    const out = new Uint8Array(n);
    if (img.channels === 1) out.set(src.subarray(0, n));
    else for (let i = 0; i < n; i++) out[i] = Math.round((299 * src[i * 3]! + 587 * src[i * 3 + 1]! + 114 * src[i * 3 + 2]!) / 1000);
    return out;
  }
  const out = new Uint8Array(3 * n);
  const map = order === 'rgb' ? [0, 1, 2] : [2, 1, 0];
  for (let c = 0; c < 3; c++) {
    const sc = map[c]!;
    for (let i = 0; i < n; i++) out[c * n + i] = img.channels === 1 ? src[i]! : src[i * 3 + sc]!;
  }
  return out;
}
