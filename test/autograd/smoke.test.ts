import { describe, expect, it } from 'vitest';
import { tensor, conv2d, maxPool2d, relu, softmax, crossEntropyBinary, gradcheck, matmul, manualSeed, normal } from '../../src/index.js';

describe('smoke', () => {
  it('runs a small net and checks gradients', () => {
    manualSeed(1);
    const x = normal([2, 3, 6, 5]);
    const w = normal([4, 3, 3, 3]);
    const b = normal([4]);
    const r = gradcheck((x, w, b) => maxPool2d(relu(conv2d(x!, w!, b!, { stride: 1, padding: 1 })), { kernel: 2 }), [x, w, b], { name: 'net' });
    expect(r.checked).toBeGreaterThan(0);
    const a = tensor([[1, 2], [3, 4]], undefined, { requiresGrad: true });
    const y = matmul(a, a).sum();
    y.backward();
    expect(Array.from(a.grad!.data)).toEqual([7, 11, 9, 13]);
    const p = softmax(tensor([[1, 2, 3]]), 1);
    const loss = crossEntropyBinary(p, tensor([[0, 0, 1]]));
    expect(loss.item()).toBeGreaterThan(0);
  });
});
