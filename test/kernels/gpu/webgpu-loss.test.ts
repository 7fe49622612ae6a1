// A lost WebGPU device (a driver reset; here device.destroy() in the worker) gives a
// BackendError saying so at the next call, within seconds, instead of a read that waits
// for ever; every later call says so again. An error outside the error scopes reaches the
// next call too. Its own file: the device stays lost.
import { describe, expect, it } from 'vitest';
import { getBackend } from '../../../src/kernels/index.js';
import { webgpuDebugLoseDevice, webgpuDebugUncapturedError, webgpuSync } from '../../../src/kernels/gpu/webgpu/index.js';
import { BackendError } from '../../../src/util/errors.js';
import { webgpuUsable } from '../../helpers/backends.js';

describe.runIf(webgpuUsable())('webgpu backend: device loss', () => {
  it('an error outside the error scopes (uncaptured) reaches the next call as a BackendError; the backend goes on', () => {
    const be = getBackend('webgpu');
    webgpuDebugUncapturedError();
    expect(() => webgpuSync()).toThrow(BackendError);
    const x = be.upload(Float32Array.of(5));
    expect(Array.from(be.read(x, 0, 1))).toEqual([5]);
  });

  it('the next read throws a BackendError naming the loss instead of waiting; later calls too', () => {
    const be = getBackend('webgpu');
    const x = be.upload(Float32Array.of(1, -2));
    expect(Array.from(be.read(x, 0, 2))).toEqual([1, -2]);
    webgpuDebugLoseDevice();
    const t0 = Date.now();
    let err: unknown;
    try {
      be.unary('relu', x, x, 2);
      be.read(x, 0, 2);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).toMatch(/device was lost/);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(() => be.read(x, 0, 2)).toThrow(/device was lost/);
    expect(() => be.read(x, 0, 2)).toThrow(BackendError);
  });
});
