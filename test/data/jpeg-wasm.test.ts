// The WebAssembly libjpeg-turbo decoder: the pixels of a JPEG as jpeg-js gives them (the
// same file, another IDCT and chroma upsampling: close, not equal), a truncated or damaged
// file as one TlError naming it, a huge frame refused before decoding, and the fused
// resize path giving the same bytes as the two-step one.
import fc from 'fast-check';
import { encode as encodeJpeg } from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { decodeImage, resizeShortSideCenterCrop, resizeToRow, toChannelMajor, type Image } from '../../src/data/image.js';
import { jpegFrameSize, loadWasmJpegDecoder } from '../../src/data/jpeg-wasm.js';
import { tlError } from './helpers.js';

/** A smooth gradient (no sharp chroma edges, where decoders legitimately differ most), as a JPEG. */
function gradientJpeg(w: number, h: number): Uint8Array {
  const data = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      data.set([(255 * x) / w, (255 * y) / h, 128 + 60 * Math.sin(x / 9), 255], (y * w + x) * 4);
    }
  }
  return encodeJpeg({ data, width: w, height: h }, 90).data;
}

describe('the WebAssembly JPEG decoder', () => {
  it('decodes as jpeg-js does, to within the decoders\' rounding', async () => {
    const jpeg = await loadWasmJpegDecoder();
    const buf = gradientJpeg(61, 47);
    const a = decodeImage(buf, 'g.jpg', jpeg);
    const b = decodeImage(buf, 'g.jpg');
    expect([a.width, a.height, a.channels]).toEqual([61, 47, 3]);
    let worst = 0, sum = 0;
    for (let i = 0; i < a.data.length; i++) {
      const d = Math.abs(a.data[i]! - b.data[i]!);
      worst = Math.max(worst, d);
      sum += d;
    }
    expect(sum / a.data.length).toBeLessThan(1.5);
    expect(worst).toBeLessThanOrEqual(12);
    expect(jpegFrameSize(buf)).toEqual({ width: 61, height: 47 });
    // loaded once: the same decoder again
    expect(await loadWasmJpegDecoder()).toBe(jpeg);
  });

  it('a truncated, damaged or huge JPEG is one TlError naming the file; the decoder goes on working', async () => {
    const jpeg = await loadWasmJpegDecoder();
    const buf = gradientJpeg(40, 40);
    expect((await tlError(() => decodeImage(buf.subarray(0, buf.length - 200), 'half.jpg', jpeg))).message).toMatch(/^half\.jpg: cannot decode JPEG \(Premature end of JPEG file: the file is truncated\)$/);
    const junk = Uint8Array.from([0xff, 0xd8, 0xff, ...new Array(300).fill(7)]);
    expect((await tlError(() => decodeImage(junk, 'junk.jpg', jpeg))).message).toMatch(/^junk\.jpg: cannot decode JPEG \(.+\)$/);
    // a frame header claiming 60000 x 60000 pixels is refused before any allocation
    const huge = Uint8Array.from(buf);
    const sof = huge.findIndex((v, i) => v === 0xff && huge[i + 1] === 0xc0);
    huge.set([60000 >> 8, 60000 & 255, 60000 >> 8, 60000 & 255], sof + 5);
    expect((await tlError(() => decodeImage(huge, 'huge.jpg', jpeg))).message).toMatch(/huge\.jpg: cannot decode JPEG \(60000x60000 is more than 200 megapixels\)/);
    expect(decodeImage(buf, 'ok.jpg', jpeg).width).toBe(40);
  });
});

describe('resizeToRow', () => {
  it('gives the bytes of toChannelMajor(resizeShortSideCenterCrop(...)) for any image, size, region and order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 50 }),
        fc.constantFrom('rgb' as const, 'bgr' as const, 'gray' as const), fc.boolean(), fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (w, h, size, order, withRegion, seed) => {
          let s = seed;
          const data = Uint8Array.from({ length: w * h * 3 }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24));
          const img: Image = { width: w, height: h, channels: 3, data };
          const region = withRegion ? { x0: Math.floor(w / 4), y0: Math.floor(h / 5), w: Math.max(1, w >> 1), h: Math.max(1, h >> 1) } : undefined;
          const want = toChannelMajor(resizeShortSideCenterCrop(img, size, region), order);
          expect(Array.from(resizeToRow(img, size, order, region))).toEqual(Array.from(want));
        },
      ),
      { numRuns: 200 },
    );
  });
});
