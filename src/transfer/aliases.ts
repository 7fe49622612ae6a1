// Known layer names of other VGG-16 distributions, mapped onto the lab's (neon ModelZoo)
// names: conv{b}_{i} for the 13 convs and fc6/fc7/fc8 for the classifier.
import { VGG16_BLOCKS } from '../models/vgg16.js';

/** Lab conv names in order: conv1_1 … conv5_3. */
export const VGG16_CONV_NAMES: readonly string[] = VGG16_BLOCKS.flatMap(([, n], b) => Array.from({ length: n }, (_, i) => `conv${b + 1}_${i + 1}`));

// torchvision's vgg16: features.<index in nn.Sequential> for the convs (ReLU and MaxPool
// take the indices between), classifier.{0,3,6} for the dense layers.
const TORCHVISION_CONV_INDICES = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28];

function buildAliases(): Map<string, string> {
  const m = new Map<string, string>();
  VGG16_BLOCKS.forEach(([, n], b) => {
    for (let i = 1; i <= n; i++) m.set(`block${b + 1}_conv${i}`, `conv${b + 1}_${i}`); // Keras
  });
  TORCHVISION_CONV_INDICES.forEach((idx, k) => m.set(`features.${idx}`, VGG16_CONV_NAMES[k]!));
  const fc: [string, string, string][] = [['fc1', 'classifier.0', 'fc6'], ['fc2', 'classifier.3', 'fc7'], ['predictions', 'classifier.6', 'fc8']];
  for (const [keras, torch, lab] of fc) {
    m.set(keras, lab);
    m.set(torch, lab);
  }
  return m;
}

const LAYER_ALIASES: ReadonlyMap<string, string> = buildAliases();

/** The lab's name for a layer name found in a weight file (itself when not an alias). */
export function labName(fileName: string): string {
  return LAYER_ALIASES.get(fileName) ?? fileName;
}
