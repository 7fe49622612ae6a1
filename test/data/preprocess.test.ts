import { describe, expect, it } from 'vitest';
import { preprocessRows, parsePreprocess, PreprocessedIterator } from '../../src/data/preprocess.js';
import { ArrayIterator } from '../../src/data/iterator.js';
import { UsageError } from '../../src/util/errors.js';

// One 1×2 image, R, G, B planes: pixel 0 = (255, 0, 128), pixel 1 = (10, 20, 30).
const rgb = () => Float32Array.from([255, 10, 0, 20, 128, 30]);
const lshape = [3, 1, 2] as const;

describe('preprocessing conventions', () => {
  it('caffe: BGR order, 0..255 minus the ImageNet BGR mean (Keras preprocess_input mode caffe)', () => {
    const out = preprocessRows(rgb(), 1, lshape, { name: 'caffe', channels: 'rgb', mean: null });
    const want = [128 - 103.939, 30 - 103.939, 0 - 116.779, 20 - 116.779, 255 - 123.68, 10 - 123.68];
    out.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
    // BGR data is already in Caffe's order
    const bgr = Float32Array.from([128, 30, 0, 20, 255, 10]);
    expect(Array.from(preprocessRows(bgr, 1, lshape, { name: 'caffe', channels: 'bgr', mean: null }))).toEqual(Array.from(out));
  });

  it('torchvision: RGB /255 then (x - mean) / std with the ImageNet numbers; BGR data is reordered to RGB', () => {
    const out = preprocessRows(rgb(), 1, lshape, { name: 'torchvision', channels: 'rgb', mean: null });
    const want = [(1 - 0.485) / 0.229, (10 / 255 - 0.485) / 0.229, (0 - 0.456) / 0.224, (20 / 255 - 0.456) / 0.224, (128 / 255 - 0.406) / 0.225, (30 / 255 - 0.406) / 0.225];
    out.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    const bgr = Float32Array.from([128, 30, 0, 20, 255, 10]);
    Array.from(preprocessRows(bgr, 1, lshape, { name: 'torchvision', channels: 'bgr', mean: null })).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
  });

  it('neon: minus the data\'s mean, exactly as the iterators do it', () => {
    const mean = Float32Array.from([100.5, 50.25, 3]);
    const out = preprocessRows(rgb(), 1, lshape, { name: 'neon', channels: 'rgb', mean });
    const it = new ArrayIterator({ x: rgb(), lshape: [...lshape], bsz: 1, mean });
    expect(Array.from(out)).toEqual(Array.from([...it.batches()][0]!.x));
  });

  it('the wrapping iterator applies it to every batch; unknown names are usage errors', () => {
    const inner = new ArrayIterator({ x: Float32Array.from([...rgb(), ...rgb()]), lshape: [...lshape], y: [0, 1], nclass: 2, bsz: 2 });
    const w = new PreprocessedIterator(inner, { name: 'caffe', channels: 'rgb', mean: null });
    const b = [...w.batches()][0]!;
    expect(b.x[0]).toBeCloseTo(128 - 103.939, 4);
    expect(b.x[6]).toBeCloseTo(128 - 103.939, 4);
    expect(Array.from(b.t)).toEqual([1, 0, 0, 1]);
    expect(w.ndata).toBe(2);
    expect(() => parsePreprocess('imagenet')).toThrow(UsageError);
    expect(parsePreprocess('torchvision')).toBe('torchvision');
  });
});
