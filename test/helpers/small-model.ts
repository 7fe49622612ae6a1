// A small model with every kind of layer the file formats carry (conv, bias, relu, dense),
// initialized from a fixed seed: real files of each format in a few KB.
import { Activation, Bias, Convolution, Linear, manualSeed, Model, Rectlin, Uniform } from '../../src/index.js';

/** conv 3×3 (4 filters, pad 1) + bias + relu, dense 3 + bias, on [2, 6, 6] inputs. */
export function smallModel(): Model {
  manualSeed(1);
  const m = new Model([
    new Convolution([3, 3, 4], { padding: 1, name: 'conv1_1' }),
    new Bias({ init: new Uniform(-0.1, 0.1), name: 'conv1_1_bias' }),
    new Activation(Rectlin(), { name: 'relu' }),
    new Linear(3, { name: 'fc' }),
    new Bias({ init: new Uniform(-0.1, 0.1), name: 'fc_bias' }),
  ]);
  m.initialize([2, 6, 6]);
  return m;
}
