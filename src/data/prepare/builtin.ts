// `prepare`'s built-in source: a set of builtin.ts with its official train/test split, the
// training images shuffled (and optionally a seeded number per class), every image resized
// or padded to the output size.
import { loadBuiltin, type BuiltinName, type ImageSet } from '../builtin.js';
import { toUint8, type ChannelOrder } from '../image.js';
import { permutation, type Rng } from '../iterator.js';
import type { Item } from './items.js';

function builtinItems(set: ImageSet, size: number, channels: ChannelOrder, fit: 'resize' | 'pad'): Item[] {
  const t = { size, fit, channels: (channels === 'gray' ? 1 : 3) as 1 | 3, scale: 'byte' as const };
  set.transformedShape(t); // validates before any work
  return Array.from(set.labels, (label, i) => ({ label, name: `${set.name} #${i}`, row: () => toUint8(set.example(i, t)) }));
}

/**
 * Both splits of a built-in set. maxImages keeps the splits' proportions: the test split gets
 * its share of the total, the training split the rest.
 */
export function builtinSource(
  name: BuiltinName,
  o: { size: number; channels: ChannelOrder; fit: 'resize' | 'pad'; seed: number; perClass?: number; maxImages?: number },
  rng: Rng,
): { classNames: string[]; train: Item[]; test: Item[]; considered: number } {
  let trainSet = loadBuiltin(name, 'train');
  if (o.perClass !== undefined) trainSet = trainSet.takePerClass(o.perClass, o.seed);
  const testSet = loadBuiltin(name, 'test');
  const classNames = [...trainSet.classNames];
  const trainItems = builtinItems(trainSet, o.size, o.channels, o.fit);
  let train = Array.from(permutation(trainItems.length, rng), (i) => trainItems[i]!);
  let test = builtinItems(testSet, o.size, o.channels, o.fit);
  const considered = train.length + test.length;
  if (o.maxImages !== undefined) {
    const k = o.maxImages;
    const nTest = Math.min(test.length, Math.round((k * test.length) / considered));
    train = train.slice(0, k - nTest);
    test = test.slice(0, nTest);
  }
  return { classNames, train, test, considered };
}
