// The training progress line (src/cli/progress.ts): images per second, the epoch's ETA, the
// epoch's training accuracy and the time left for the run, as tqdm and Keras show them.
import { describe, expect, it } from 'vitest';
import type { Model } from '../../src/models/model.js';
import type { EpochRecord } from '../../src/transfer/experiment.js';
import { duration, ProgressBarCallback } from '../../src/cli/progress.js';

/** A stream that collects what is written; a terminal or not. */
function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, write: (s: string) => (out.push(s), true) } as unknown as NodeJS.WriteStream };
}

const model = {} as Model;

describe('ProgressBarCallback', () => {
  it('a terminal shows images/s and the epoch ETA while training; the epoch line adds training accuracy, evaluation and the time left', () => {
    let t = 0;
    const { out, stream } = sink(true);
    const history: EpochRecord[] = [];
    const p = new ProgressBarCallback(() => 10, { stream, history, uniformCost: 1.39, numEpochs: 3, now: () => t });
    p.onEpochBegin();
    // 4 batches of 8 images in 2 s: 16 img/s; 6 batches left at 0.5 s each: 3 s
    for (let mb = 0; mb < 4; mb++) {
      t += 500;
      p.onMinibatchEnd(model, 0, mb, 1.2, { valid: 8 });
    }
    expect(out.at(-1)).toBe(`\rEpoch 1   [Train |████████            |    4/10 batches, 1.20 cost (uniform 1.39), 2.00s, 16 img/s, ETA 3s]\x1b[K`);
    for (let mb = 4; mb < 10; mb++) {
      t += 500;
      p.onMinibatchEnd(model, 0, mb, 1.2, { valid: mb === 9 ? 4 : 8 }); // the last batch wraps: 4 new images
    }
    history.push({ epoch: 1, trainCost: 1.2, trainAccuracy: 0.8125, evalLoss: 0.9, evalAccuracy: 0.75, seconds: 5 });
    p.onEpochEnd(model, 0);
    // 76 images in 5 s; 2 epochs left at 5 s each
    expect(out.at(-1)).toBe(`\rEpoch 1   [Train |████████████████████|   10/10 batches, 1.20 cost (uniform 1.39), 5.00s, 15.2 img/s] [train accuracy 81.3%] [Cost Loss 0.90, Accuracy 75.0%] [2 epochs left, ETA 10s]\x1b[K\n`);
  });

  it('elsewhere (a pipe) one plain line per epoch; no ETA on the last epoch; no accuracy where none was computed', () => {
    let t = 0;
    const { out, stream } = sink(false);
    const history: EpochRecord[] = [];
    const p = new ProgressBarCallback(() => 2, { stream, history, numEpochs: 1, now: () => t });
    p.onEpochBegin();
    for (let mb = 0; mb < 2; mb++) {
      t += 250;
      p.onMinibatchEnd(model, 0, mb, 0.5, { valid: 32 });
    }
    expect(out).toEqual([]);
    history.push({ epoch: 1, trainCost: 0.5, trainAccuracy: NaN, seconds: 0.5 });
    p.onEpochEnd(model, 0);
    expect(out).toEqual(['Epoch 1   [Train |████████████████████|    2/2 batches, 0.50 cost, 0.50s, 128 img/s]\n']);
  });

  it('durations read as seconds, minutes or hours', () => {
    expect([duration(0.4), duration(59.4), duration(185), duration(3720), duration(-3)]).toEqual(['0s', '59s', '3m05s', '1h02m', '0s']);
  });
});
