// mismatchHint: each cause of a shape mismatch named by the flag that fixes it.
import { describe, expect, it } from 'vitest';
import { mismatchHint } from '../../src/transfer/mismatch-hint.js';

const none = { firstConv: false, firstDense: false, lastDense: false };
const SKIP = '; or pass --mismatch skip to leave mismatched layers at their initialization and train them as new layers';

describe('mismatchHint', () => {
  it('input channels at the first conv: prepare --channels gray or rgb', () => {
    expect(mismatchHint({ layer: 'conv1_1', param: 'W', modelShape: [8, 3, 3, 3], sourceShape: [8, 1, 3, 3] }, { ...none, firstConv: true }))
      .toBe(`the source takes 1-channel images and the data has 3 channels: prepare the data with 'tl-scratch prepare --channels gray'${SKIP}`);
    expect(mismatchHint({ layer: 'conv1_1', param: 'W', modelShape: [8, 1, 3, 3], sourceShape: [8, 3, 3, 3] }, { ...none, firstConv: true }))
      .toBe(`the source takes 3-channel images and the data has 1 channel: prepare the data with 'tl-scratch prepare --channels rgb'${SKIP}`);
  });

  it('filters: --width_mult from VGG-16\'s width of that block', () => {
    expect(mismatchHint({ layer: 'conv3_2', param: 'W', modelShape: [256, 256, 3, 3], sourceShape: [32, 32, 3, 3] }, none))
      .toBe(`the source's conv3_2 has 32 filters (VGG-16's has 256): build the model at the source's width with --width_mult 0.125${SKIP}`);
  });

  it('dense layers: the image size at the first, --fc_size in the middle, the class count at the last', () => {
    // 64·w=0.125 → conv5_3 has 64 filters; the model sees 64×64 (2·2 after five pools), the source 32×32
    expect(mismatchHint({ layer: 'fc6', param: 'W', modelShape: [128, 256], sourceShape: [128, 64] }, { ...none, firstDense: true, inShape: [3, 64, 64] }))
      .toBe(`the source's fc6 takes 64 = 64·1·1 values: it was trained on 32×32 images and the data is 64×64; prepare the data with --size 32 (export: --image_size 32)${SKIP}`);
    expect(mismatchHint({ layer: 'fc7', param: 'W', modelShape: [128, 128], sourceShape: [4096, 4096] }, none))
      .toBe(`the source's fc7 has 4096 outputs: build the model with --fc_size 4096${SKIP}`);
    expect(mismatchHint({ layer: 'fc8', param: 'W', modelShape: [2, 128], sourceShape: [1000, 128] }, { ...none, lastDense: true }))
      .toBe(`the source has 1000 classes and the data 2: use --model vgg16_transfer (a new head for the data's classes)${SKIP}`);
  });

  it('anything else: the three things to check', () => {
    expect(mismatchHint({ layer: 'conv1_1_bias', param: 'b', modelShape: [8], sourceShape: [4] }, none)).toBe(`check --width_mult, --fc_size and the image size${SKIP}`);
  });
});
