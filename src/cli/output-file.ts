// neon's --output_file (neon/callbacks/callbacks.py): an HDF5 log of the run, overwritten, written
// atomically at the end of training:
//   config                   attrs total_minibatches, total_epochs
//   time_markers/minibatch   cumulative minibatch count at each epoch end; attrs epochs_complete, minibatches_complete
//   cost/train               smoothed (last ≤ 10) train cost per minibatch
//   cost/loss, time/loss     eval loss per eval_freq epochs, and the seconds it took
//   metrics/Accuracy         eval accuracy per eval_freq epochs
//   time/train               attrs start_time, end_time (seconds since the epoch)
import { openH5 } from '../formats/h5.js';
import type { Callback } from '../models/callbacks.js';
import { TrainCostCallback } from '../models/callbacks.js';
import type { Model } from '../models/model.js';
import type { EpochRecord } from '../transfer/experiment.js';
import { writeAtomic } from '../util/atomic.js';

export class OutputFileCallback implements Callback {
  private readonly smooth = new TrainCostCallback(10);
  private readonly markers: number[] = [];
  private minibatches = 0;
  private startTime = 0;
  private totalMinibatches = 0;
  private totalEpochs = 0;

  constructor(readonly path: string, private readonly history: EpochRecord[], private readonly nbatchesPerEpoch: number) {}

  onTrainBegin(_m: Model, numEpochs: number): void {
    this.startTime = Date.now() / 1000;
    this.totalEpochs = numEpochs;
    this.totalMinibatches = this.nbatchesPerEpoch * numEpochs;
  }

  onMinibatchEnd(m: Model, e: number, mb: number, cost: number): void {
    this.smooth.onMinibatchEnd(m, e, mb, cost);
    this.minibatches++;
  }

  onEpochEnd(): void {
    this.markers.push(this.minibatches);
  }

  async onTrainEnd(): Promise<void> {
    await this.write();
  }

  async write(): Promise<void> {
    const evals = this.history.filter((r) => r.evalLoss !== undefined);
    await writeAtomic(this.path, async (tmp) => {
      const f = await openH5(tmp, 'w', 'output file');
      try {
        const config = f.create_group('config');
        config.create_attribute('total_minibatches', this.totalMinibatches);
        config.create_attribute('total_epochs', this.totalEpochs);
        const tm = f.create_group('time_markers');
        tm.create_dataset({ name: 'minibatch', data: Float64Array.from(this.markers), shape: [this.markers.length], dtype: '<d' });
        tm.create_attribute('epochs_complete', this.markers.length);
        tm.create_attribute('minibatches_complete', this.minibatches);
        const cost = f.create_group('cost');
        cost.create_dataset({ name: 'train', data: Float64Array.from(this.smooth.history), shape: [this.smooth.history.length], dtype: '<d' });
        const time = f.create_group('time');
        if (evals.length) {
          cost.create_dataset({ name: 'loss', data: Float64Array.from(evals.map((r) => r.evalLoss!)), shape: [evals.length], dtype: '<d' });
          time.create_dataset({ name: 'loss', data: Float64Array.from(evals.map((r) => r.evalSeconds ?? 0)), shape: [evals.length], dtype: '<d' });
          const metrics = f.create_group('metrics');
          metrics.create_dataset({ name: 'Accuracy', data: Float64Array.from(evals.map((r) => r.evalAccuracy!)), shape: [evals.length], dtype: '<d' });
        }
        const train = time.create_group('train');
        train.create_attribute('start_time', this.startTime);
        train.create_attribute('end_time', Date.now() / 1000);
      } finally {
        f.close();
      }
    });
  }
}
