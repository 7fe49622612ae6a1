// The WebAssembly SIMD resize that prepare's workers run: the same bytes and per-channel
// sums as the readable reference (RGBA to RGB, then image.ts's resizeToRow) for any image,
// region, output size and channel order, bit for bit, including images that need more
// memory than the first call had and images whose pixels all sit on a rounding boundary.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ChannelOrder, type Rgba } from '../../src/data/image.js';
import { resizeModule } from '../../src/data/resize-simd.js';
import { RgbaResizer, rgbaToRowReference } from '../../src/data/resize-rgba.js';

function randomRgba(w: number, h: number, seed: number, levels = 256): Rgba {
  let s = seed;
  const data = Uint8Array.from({ length: w * h * 4 }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24) % levels);
  return { width: w, height: h, data };
}

function expectSame(r: RgbaResizer, img: Rgba, size: number, order: ChannelOrder, region?: { x0: number; y0: number; w: number; h: number }): void {
  const got = r.toRow(img, size, order, region);
  const want = rgbaToRowReference(img, size, order, region);
  expect(got.row.length).toBe(want.row.length);
  // the first differing byte, not 150,000 of them, when it fails
  const at = got.row.findIndex((v, i) => v !== want.row[i]);
  expect(at === -1 ? null : { at, got: got.row[at], want: want.row[at] }).toBeNull();
  expect(got.sums).toEqual(want.sums);
}

describe('RgbaResizer', () => {
  it('runs the SIMD kernels on this engine (Node has WebAssembly SIMD)', () => {
    expect(resizeModule()).not.toBeNull();
    expect(new RgbaResizer().simd).toBe(true);
    expect(new RgbaResizer(false).simd).toBe(false);
  });

  it('gives the reference bytes and sums for any image, size, region and order', () => {
    const r = new RgbaResizer();
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 48 }), fc.integer({ min: 1, max: 48 }), fc.integer({ min: 1, max: 60 }),
        fc.constantFrom<ChannelOrder>('rgb', 'bgr', 'gray'), fc.boolean(), fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.constantFrom(256, 2),
        (w, h, size, order, withRegion, seed, levels) => {
          const img = randomRgba(w, h, seed, levels);
          const region = withRegion ? { x0: Math.floor(w / 4), y0: Math.floor(h / 5), w: Math.max(1, w >> 1), h: Math.max(1, h >> 1) } : undefined;
          expectSame(r, img, size, order, region);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('constant images stay constant (0, 255 and a half-way value) and the sums are exact', () => {
    const r = new RgbaResizer();
    for (const v of [0, 128, 255]) {
      const img = { width: 37, height: 23, data: new Uint8Array(37 * 23 * 4).fill(v) };
      const { row, sums } = r.toRow(img, 19, 'rgb');
      expect(row.every((b) => b === v)).toBe(true);
      expect(sums).toEqual([v * 361, v * 361, v * 361]);
      expectSame(r, img, 19, 'bgr');
    }
  });

  it('images of the sizes prepare meets (faces of ~250², a large photo) after small ones: memory grows, tables are per size', () => {
    const r = new RgbaResizer();
    expectSame(r, randomRgba(9, 7, 1), 5, 'rgb');
    expectSame(r, randomRgba(251, 263, 2), 224, 'rgb');
    expectSame(r, randomRgba(1200, 900, 3), 224, 'bgr', { x0: 100, y0: 50, w: 900, h: 700 });
    expectSame(r, randomRgba(251, 263, 4), 224, 'rgb');
    expectSame(r, randomRgba(100, 90, 5), 224, 'rgb');
  });
});
