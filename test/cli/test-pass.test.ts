// The test pass of eval and train: one read of the test set gives the accuracy and the
// inference file; its progress is a bar on a terminal and plain lines elsewhere.
import { describe, expect, it } from 'vitest';
import { ArrayIterator, type DataIterator } from '../../src/data/iterator.js';
import { generateVgg16TransferModel } from '../../src/models/vgg16.js';
import { Accuracy } from '../../src/models/metrics.js';
import { Generator, manualSeed } from '../../src/index.js';
import { formatInference, targetClasses, testPass } from '../../src/cli/inference.js';
import { CountProgress } from '../../src/cli/progress.js';

function images(n: number, seed: number) {
  const g = new Generator(seed);
  const F = 3 * 32 * 32;
  const x = new Float32Array(n * F);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = (i * 7) % 3 === 0 ? 1 : 0;
    for (let f = 0; f < F; f++) x[i * F + f] = g.uniform(-1, 1) + (y[i] === 1 && f % 1024 < 512 ? 0.5 : 0);
  }
  return { x, y };
}

/** Counts the epochs (batches() calls) and batches read from an iterator. */
function counting(set: DataIterator): { set: DataIterator; passes: () => number; batches: () => number } {
  let passes = 0, batches = 0;
  const wrapped = Object.create(set) as DataIterator;
  wrapped.batches = function* () {
    passes++;
    for (const b of set.batches()) {
      batches++;
      yield b;
    }
  };
  return { set: wrapped, passes: () => passes, batches: () => batches };
}

class FakeStream {
  text = '';
  constructor(readonly isTTY: boolean) {}
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

describe('test pass', () => {
  it('reads the test set once (4 batches of 3 for 10 examples) and gives the accuracy, outputs and targets of eval, getOutputs and targetClasses', () => {
    manualSeed(2);
    const { x, y } = images(10, 3);
    const m = generateVgg16TransferModel({ widthMult: 1 / 16, fcSize: 16 });
    m.initialize([3, 32, 32]);
    const make = () => new ArrayIterator({ x, y, nclass: 2, lshape: [3, 32, 32], bsz: 3 });
    const c = counting(make());
    const seen: number[] = [];
    const stream = new FakeStream(false);
    const bar = new CountProgress('test', 'images', { stream: stream as unknown as NodeJS.WriteStream });
    const pass = testPass(m, c.set);
    expect(c.passes()).toBe(1);
    expect(c.batches()).toBe(4);
    m.evaluate(make(), new Accuracy(), { onBatch: (done, total) => { seen.push(done); bar.update(done, total); } });
    expect(seen).toEqual([3, 6, 9, 10]);
    expect(stream.text).toMatch(/^test: 10\/10 images \(\d+\.\ds\)\n$/);

    const ref = make();
    expect(pass.accuracy).toBe(m.eval(ref, new Accuracy())[0]);
    expect(Array.from(pass.outputs)).toEqual(Array.from(m.getOutputs(ref).data));
    expect(Array.from(pass.targets)).toEqual(Array.from(y));
    expect(Array.from(targetClasses(ref))).toEqual(Array.from(y));
    expect(formatInference(pass.outputs, pass.targets, pass.nout).split('\n')).toHaveLength(12);
  });
});

describe('CountProgress', () => {
  it('off a terminal: a plain line every few seconds and one at the end, no carriage returns', () => {
    const s = new FakeStream(false);
    let now = 0;
    const p = new CountProgress('prepare', 'images', { stream: s as unknown as NodeJS.WriteStream, lineEvery: 5, now: () => now });
    for (let done = 1; done <= 5000; done++) {
      now = done * 10; // 10 ms per image: 50 s in all
      p.update(done, 5000);
    }
    const lines = s.text.trim().split('\n');
    expect(s.text).not.toContain('\r');
    expect(lines).toHaveLength(10); // at 5, 10, ..., 45 s, and the end
    expect(lines[0]).toBe('prepare: 500/5000 images (5.0s)');
    expect(lines[9]).toBe('prepare: 5000/5000 images (50.0s)');
  });
  it('on a terminal: one bar redrawn in place, ended by a newline', () => {
    const s = new FakeStream(true);
    let now = 0;
    const p = new CountProgress('test', 'images', { stream: s as unknown as NodeJS.WriteStream, now: () => now });
    for (let done = 1; done <= 100; done++) {
      now = done * 50;
      p.update(done, 100);
    }
    expect(s.text.split('\n')).toEqual([expect.stringContaining('test: ['), '']);
    expect(s.text.match(/\r/g)!.length).toBe(50); // every other update (0.1 s apart: 49 up to 99) and the last
    expect(s.text).toMatch(/\] 100\/100 images \(5\.0s\)\x1b\[K\n$/);
  });
});
