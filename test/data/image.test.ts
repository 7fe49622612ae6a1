import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { decodeImage, faceRegion, resampleRegion, resizeShortSideCenterCrop, toChannelMajor, type Image } from '../../src/data/image.js';
import { tlError } from './helpers.js';

function rgbImage(w: number, h: number, f: (x: number, y: number) => [number, number, number]): Image {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(f(x, y), (y * w + x) * 3);
  return { width: w, height: h, channels: 3, data };
}

describe('image decoding', () => {
  it('PNG and JPEG decode to RGB; anything else is a TlError naming the file', async () => {
    const img = rgbImage(5, 3, (x, y) => [x * 40, y * 80, 7]);
    const png = new PNG({ width: 5, height: 3 });
    for (let i = 0; i < 15; i++) png.data.set([img.data[i * 3]!, img.data[i * 3 + 1]!, img.data[i * 3 + 2]!, 255], i * 4);
    const p = decodeImage(PNG.sync.write(png), 'a.png');
    expect(p).toMatchObject({ width: 5, height: 3, channels: 3 });
    expect(p.data).toEqual(img.data);

    const rgba = new Uint8Array(8 * 8 * 4).fill(255).map((v, i) => (i % 4 === 0 ? 100 : v));
    const j = decodeImage(encodeJpeg({ width: 8, height: 8, data: rgba }, 100).data, 'b.jpg');
    expect(j).toMatchObject({ width: 8, height: 8 });
    expect(Math.abs(j.data[0]! - 100)).toBeLessThan(4);

    expect((await tlError(() => decodeImage(new Uint8Array([1, 2, 3, 4]), 'c.bin'))).message).toBe('c.bin: not a JPEG or PNG image');
    expect((await tlError(() => decodeImage(Uint8Array.of(0xff, 0xd8, 0xff, 0, 1, 2), 'd.jpg'))).message).toMatch(/^d\.jpg: cannot decode JPEG/);
  });
});

describe('resampling', () => {
  it('the same size is the identity; a constant image stays constant at any size', () => {
    const img = rgbImage(7, 5, (x, y) => [x * 30, y * 50, (x * y) % 256]);
    expect(resampleRegion(img, { x0: 0, y0: 0, w: 7, h: 5 }, 7, 5)).toEqual(Float32Array.from(img.data));
    const flat = rgbImage(9, 6, () => [10, 20, 30]);
    for (const [w, h] of [[3, 2], [20, 13], [9, 1]] as const) {
      const r = resampleRegion(flat, { x0: 0, y0: 0, w: 9, h: 6 }, w, h);
      for (let i = 0; i < r.length; i++) expect(r[i]).toBeCloseTo([10, 20, 30][i % 3]!, 4);
    }
  });

  it('halving averages 2x2 blocks (antialiased), doubling interpolates with half-pixel centres', () => {
    const g = { width: 4, height: 1, channels: 1, data: Uint8Array.of(0, 100, 200, 40) };
    const down = resampleRegion(g, { x0: 0, y0: 0, w: 4, h: 1 }, 2, 1);
    // triangle filter of support 2 around centre 1: weights 0.75, 0.75, 0.25 on pixels 0..2
    // (pixel -1 lies outside), normalised
    expect(down[0]).toBeCloseTo((0.75 * 0 + 0.75 * 100 + 0.25 * 200) / 1.75, 4);
    expect(down[1]).toBeCloseTo((0.25 * 100 + 0.75 * 200 + 0.75 * 40) / 1.75, 4);
    const up = resampleRegion({ width: 2, height: 1, channels: 1, data: Uint8Array.of(0, 100) }, { x0: 0, y0: 0, w: 2, h: 1 }, 4, 1);
    expect(Array.from(up)).toEqual([0, 25, 75, 100]);
  });

  it('resize short side + center crop keeps the central square only', () => {
    const img = rgbImage(30, 10, (x) => (x >= 10 && x < 20 ? [200, 0, 0] : [0, 255, 0]));
    const out = resizeShortSideCenterCrop(img, 4);
    expect(out).toMatchObject({ width: 4, height: 4 });
    for (let i = 0; i < 16; i++) expect(Array.from(out.data.subarray(i * 3, i * 3 + 3))).toEqual([200, 0, 0]);
  });

  it('face regions widen by the margin and clip to the image', () => {
    expect(faceRegion([10, 20, 30, 60], 0.5, 100, 100)).toEqual({ x0: 0, y0: 0, w: 40, h: 80 });
    expect(faceRegion([10, 20, 30, 60], 0, 100, 100)).toEqual({ x0: 10, y0: 20, w: 20, h: 40 });
    expect(faceRegion([200, 200, 240, 240], 0.4, 50, 50)).toBeNull();
    expect(faceRegion([5, 5, 5, 9], 0.4, 50, 50)).toBeNull();
  });

  it('channel-major rows in rgb, bgr and gray (ITU-R 601-2 luma)', () => {
    const img = rgbImage(2, 1, (x) => (x === 0 ? [10, 20, 30] : [255, 0, 100]));
    expect(Array.from(toChannelMajor(img, 'rgb'))).toEqual([10, 255, 20, 0, 30, 100]);
    expect(Array.from(toChannelMajor(img, 'bgr'))).toEqual([30, 100, 20, 0, 10, 255]);
    expect(Array.from(toChannelMajor(img, 'gray'))).toEqual([Math.round((299 * 10 + 587 * 20 + 114 * 30) / 1000), Math.round((299 * 255 + 114 * 100) / 1000)]);
  });
});
