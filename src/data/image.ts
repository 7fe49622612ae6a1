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

/**
 * A JPEG decoder: RGBA pixels, or a TlError naming `where`. jpeg-js by default;
 * jpeg-wasm.ts loads a faster one (libjpeg-turbo in WebAssembly) for Node.
 */
export type JpegDecoder = (buf: Uint8Array, where: string) => { width: number; height: number; data: Uint8Array };

/** 8-bit RGBA pixels, row-major, as the decoders give them. */
export interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * Decode a JPEG or PNG (recognised by its signature) to RGBA. TlError naming `where` otherwise.
 * `jpeg` decodes JPEGs when given; a file it cannot decode is given to jpeg-js before it is
 * called undecodable (jpeg-js reads some colour spaces, CMYK among them, that libjpeg's RGB
 * output refuses).
 */
export function decodeRgba(buf: Uint8Array, where: string, jpeg?: JpegDecoder): Rgba {
  let rgba: Rgba;
  const isPng = buf.length >= 8 && buf[0] === 0x89 && buf[1] === 0x50 && buf[2] === 0x4e && buf[3] === 0x47;
  const isJpeg = buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff;
  try {
    if (isPng) {
      const p = PNG.sync.read(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength));
      rgba = { width: p.width, height: p.height, data: p.data };
    } else if (isJpeg && jpeg) {
      rgba = jpegWithFallback(jpeg, buf, where);
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
  return rgba;
}

/** decodeRgba's pixels as RGB (PNG alpha is dropped: composited over black would change opaque pixels not at all). */
export function decodeImage(buf: Uint8Array, where: string, jpeg?: JpegDecoder): Image {
  return rgbaToRgb(decodeRgba(buf, where, jpeg));
}

/** The RGB channels of RGBA pixels. */
export function rgbaToRgb({ width, height, data: src }: Rgba): Image {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height; i++, j += 4) {
    data[i * 3] = src[j]!;
    data[i * 3 + 1] = src[j + 1]!;
    data[i * 3 + 2] = src[j + 2]!;
  }
  return { width, height, channels: 3, data };
}

/** `jpeg`'s pixels; where it fails and jpeg-js does not, jpeg-js's; else `jpeg`'s error. */
function jpegWithFallback(jpeg: JpegDecoder, buf: Uint8Array, where: string): { width: number; height: number; data: Uint8Array } {
  try {
    return jpeg(buf, where);
  } catch (e) {
    if (!(e instanceof TlError) || /truncated|megapixels/.test(e.message)) throw e;
    try {
      return decodeJpeg(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024, maxResolutionInMP: 200 });
    } catch {
      throw e;
    }
  }
}

/**
 * Per-axis resampling weights for a triangle filter (bilinear, antialiased when shrinking),
 * packed: output o takes count[o] input pixels from first[o] on, with the weights
 * weights[offset[o] .. offset[o] + count[o]).
 */
export interface AxisWeights {
  first: Int32Array;
  count: Int32Array;
  offset: Int32Array;
  weights: Float32Array;
}

export function axisWeights(inSize: number, outSize: number, start: number, span: number): AxisWeights {
  const scale = span / outSize; // input pixels per output pixel
  const support = Math.max(1, scale);
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const offset = new Int32Array(outSize);
  const weights = new Float32Array(outSize * (Math.ceil(2 * support) + 3));
  let at = 0;
  for (let o = 0; o < outSize; o++) {
    const center = start + (o + 0.5) * scale;
    // only pixels of the region contribute (as if it had been cropped first)
    let lo = Math.max(0, Math.ceil(start), Math.floor(center - support));
    let hi = Math.min(inSize - 1, Math.ceil(start + span) - 1, Math.ceil(center + support));
    // taps of weight 0 at either end add nothing: leave them out
    while (lo <= hi && !(Math.abs(lo + 0.5 - center) < support)) lo++;
    while (hi >= lo && !(Math.abs(hi + 0.5 - center) < support)) hi--;
    const n = Math.max(0, hi - lo + 1);
    offset[o] = at;
    let sum = 0;
    for (let i = lo; i <= hi; i++) {
      const v = Math.max(0, 1 - Math.abs(i + 0.5 - center) / support);
      weights[at + i - lo] = v;
      sum += v;
    }
    if (sum > 0) {
      for (let k = 0; k < n; k++) weights[at + k] = weights[at + k]! / sum;
      first[o] = lo;
      count[o] = n;
      at += n;
    } else {
      // the window fell outside the image: nearest edge pixel
      first[o] = Math.min(inSize - 1, Math.max(0, Math.floor(center)));
      count[o] = 1;
      weights[at++] = 1;
    }
  }
  return { first, count, offset, weights };
}

/**
 * Resample the region [x0, x0+w) × [y0, y0+h) of an image (any channels; uint8 or float
 * data, HWC) to outW × outH, bilinear with half-pixel centres, antialiased when shrinking
 * (a triangle filter widened by the scale, as PIL's BILINEAR). Float result.
 */
export function resampleRegion(
  src: { width: number; height: number; channels: number; data: Uint8Array | Float32Array },
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
    rowHi = Math.max(rowHi, ay.first[o]! + ay.count[o]! - 1);
  }
  const nrows = rowHi - rowLo + 1;
  const tmp = new Float32Array(nrows * outW * C);
  // one copy of the loop per element type keeps each monomorphic
  if (data instanceof Uint8Array) horizontalPassU8(data, width, C, rowLo, nrows, ax, outW, tmp);
  else horizontalPassF32(data, width, C, rowLo, nrows, ax, outW, tmp);
  const out = new Float32Array(outH * outW * C);
  const rowLen = outW * C;
  // the taps of one output row summed in float64 in tap order, along the row for locality
  const acc = new Float64Array(rowLen);
  const { first, count, offset, weights } = ay;
  for (let o = 0; o < outH; o++) {
    const f = first[o]! - rowLo;
    const n = count[o]!;
    const w0 = offset[o]!;
    acc.fill(0);
    for (let k = 0; k < n; k++) {
      const w = weights[w0 + k]!;
      const src = (f + k) * rowLen;
      for (let x = 0; x < rowLen; x++) acc[x] = acc[x]! + w * tmp[src + x]!;
    }
    out.set(acc, o * rowLen);
  }
  return out;
}

/** tmp[r][o][c] = Σ_k w · data[rowLo + r][first[o] + k][c]: the horizontal half of resampleRegion, for 8-bit images. */
function horizontalPassU8(data: Uint8Array, width: number, C: number, rowLo: number, nrows: number, ax: AxisWeights, outW: number, tmp: Float32Array): void {
  const { first, count, offset, weights } = ax;
  for (let r = 0; r < nrows; r++) {
    const srow = (rowLo + r) * width * C;
    for (let o = 0; o < outW; o++) {
      const base = srow + first[o]! * C;
      const n = count[o]!;
      const w0 = offset[o]!;
      const dst = (r * outW + o) * C;
      if (C === 3 && n === 3) {
        // the common tap count unrolled (the sums in the same order as below)
        const a = weights[w0]!, b = weights[w0 + 1]!, c = weights[w0 + 2]!;
        tmp[dst] = a * data[base]! + b * data[base + 3]! + c * data[base + 6]!;
        tmp[dst + 1] = a * data[base + 1]! + b * data[base + 4]! + c * data[base + 7]!;
        tmp[dst + 2] = a * data[base + 2]! + b * data[base + 5]! + c * data[base + 8]!;
      } else if (C === 3) {
        let s0 = 0, s1 = 0, s2 = 0;
        for (let k = 0, p = base; k < n; k++, p += 3) {
          const w = weights[w0 + k]!;
          s0 += w * data[p]!;
          s1 += w * data[p + 1]!;
          s2 += w * data[p + 2]!;
        }
        tmp[dst] = s0;
        tmp[dst + 1] = s1;
        tmp[dst + 2] = s2;
      } else {
        for (let c = 0; c < C; c++) {
          let s = 0;
          for (let k = 0; k < n; k++) s += weights[w0 + k]! * data[base + k * C + c]!;
          tmp[dst + c] = s;
        }
      }
    }
  }
}

/** horizontalPassU8 for float images. */
function horizontalPassF32(data: Float32Array, width: number, C: number, rowLo: number, nrows: number, ax: AxisWeights, outW: number, tmp: Float32Array): void {
  const { first, count, offset, weights } = ax;
  for (let r = 0; r < nrows; r++) {
    const srow = (rowLo + r) * width * C;
    for (let o = 0; o < outW; o++) {
      const base = srow + first[o]! * C;
      const n = count[o]!;
      const w0 = offset[o]!;
      const dst = (r * outW + o) * C;
      if (C === 3) {
        let s0 = 0, s1 = 0, s2 = 0;
        for (let k = 0, p = base; k < n; k++, p += 3) {
          const w = weights[w0 + k]!;
          s0 += w * data[p]!;
          s1 += w * data[p + 1]!;
          s2 += w * data[p + 2]!;
        }
        tmp[dst] = s0;
        tmp[dst + 1] = s1;
        tmp[dst + 2] = s2;
      } else {
        for (let c = 0; c < C; c++) {
          let s = 0;
          for (let k = 0; k < n; k++) s += weights[w0 + k]! * data[base + k * C + c]!;
          tmp[dst + c] = s;
        }
      }
    }
  }
}

/** Round and clamp to 0..255. */
export function toUint8(v: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    out[i] = x >= 255 ? 255 : x > 0 ? Math.round(x) : 0;
  }
  return out;
}

/** The central square of a region (the crop that "resize the short side, then center-crop" takes). */
export function centerSquare(region: { x0: number; y0: number; w: number; h: number }): { x0: number; y0: number; w: number; h: number } {
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
 * toChannelMajor(resizeShortSideCenterCrop(img, size, region), order) in one pass, for 8-bit
 * RGB images (the same values, bit for bit): the vertical taps of each output row are summed
 * straight into the channel-major row, without the float image and the copies between.
 * Other channel counts take the two-step path.
 */
export function resizeToRow(img: Image, size: number, order: ChannelOrder, region?: { x0: number; y0: number; w: number; h: number }): Uint8Array {
  if (img.channels !== 3 || order === 'gray') return toChannelMajor(resizeShortSideCenterCrop(img, size, region), order);
  const sq = centerSquare(region ?? { x0: 0, y0: 0, w: img.width, h: img.height });
  const ax = axisWeights(img.width, size, sq.x0, sq.w);
  const ay = axisWeights(img.height, size, sq.y0, sq.h);
  let rowLo = img.height, rowHi = -1;
  for (let o = 0; o < size; o++) {
    rowLo = Math.min(rowLo, ay.first[o]!);
    rowHi = Math.max(rowHi, ay.first[o]! + ay.count[o]! - 1);
  }
  const nrows = rowHi - rowLo + 1;
  const rowLen = size * 3;
  const tmp = new Float32Array(nrows * rowLen);
  horizontalPassU8(img.data, img.width, 3, rowLo, nrows, ax, size, tmp);
  const n = size * size;
  const out = new Uint8Array(3 * n);
  const [cr, cb] = order === 'rgb' ? [0, 2 * n] : [2 * n, 0];
  const { first, count, offset, weights } = ay;
  for (let o = 0; o < size; o++) {
    const p0 = (first[o]! - rowLo) * rowLen;
    const taps = count[o]!;
    const w0 = offset[o]!;
    for (let ch = 0; ch < 3; ch++) {
      const dst = (ch === 0 ? cr : ch === 1 ? n : cb) + o * size;
      if (taps === 3) verticalTaps3(tmp, p0 + ch, rowLen, weights[w0]!, weights[w0 + 1]!, weights[w0 + 2]!, size, out, dst);
      else verticalTaps(tmp, p0 + ch, rowLen, weights, w0, taps, size, out, dst);
    }
  }
  return out;
}

// resizeToRow's vertical pass for one output row of one channel: out[dst + x] from the
// channel's samples tmp[p + 3x + k·rowLen], k < taps. The taps are added in order from 0 in
// float64 and the sum rounded to float32, then to 8 bits, as resampleRegion and toUint8 do.
function verticalTaps3(tmp: Float32Array, p: number, rowLen: number, a: number, b: number, c: number, size: number, out: Uint8Array, dst: number): void {
  for (let x = 0, q = p; x < size; x++, q += 3) {
    const v = Math.fround(a * tmp[q]! + b * tmp[q + rowLen]! + c * tmp[q + 2 * rowLen]!);
    out[dst + x] = v >= 255 ? 255 : v > 0 ? Math.round(v) : 0;
  }
}

function verticalTaps(tmp: Float32Array, p: number, rowLen: number, weights: Float32Array, w0: number, taps: number, size: number, out: Uint8Array, dst: number): void {
  for (let x = 0, q = p; x < size; x++, q += 3) {
    let s = 0;
    for (let k = 0; k < taps; k++) s += weights[w0 + k]! * tmp[q + k * rowLen]!;
    const v = Math.fround(s);
    out[dst + x] = v >= 255 ? 255 : v > 0 ? Math.round(v) : 0;
  }
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
  if (img.channels === 1) {
    for (let c = 0; c < 3; c++) out.set(src.subarray(0, n), c * n);
    return out;
  }
  const [r, b] = order === 'rgb' ? [0, 2 * n] : [2 * n, 0];
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    out[r + i] = src[j]!;
    out[n + i] = src[j + 1]!;
    out[b + i] = src[j + 2]!;
  }
  return out;
}
