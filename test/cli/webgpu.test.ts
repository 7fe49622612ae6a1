// -b webgpu and -b auto on the command line: at start the program prints the adapter, its
// backend and whether it is a software renderer; auto picks webgpu on a real GPU, else cpu,
// saying which and why in one line; where the `webgpu` package or an adapter is missing,
// -b webgpu says what is missing and how to get it in one line and exits 1 (no fallback).
// The missing package and adapter are simulated with TL_WEBGPU_PACKAGE (a module name that
// is not installed) and TL_WEBGPU_ADAPTER=none (no adapter tried).
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { webgpuInfo } from '../../src/kernels/gpu/webgpu/index.js';
import { webgpuUsable } from '../helpers/backends.js';
import { cli as runCli, TINY, tinyWorkspace } from './run.js';

const { work, data } = tinyWorkspace('tl-cli-webgpu-', { nTrain: 8, nTest: 4 });
const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, work, env, 240_000);
const train = (backend: string, env: Record<string, string> = {}) =>
  cli(['train', '-b', backend, '--data_root', data, '-e', '1', '-z', '4', ...TINY, '--no_progress_bar', '--inference_file', join(work, `inf-${backend}.txt`)], env);

describe('-b webgpu where something is missing: one line, exit 1, no fallback', () => {
  it('the package', () => {
    const r = train('webgpu', { TL_WEBGPU_PACKAGE: 'tl-no-such-webgpu' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe("tl-scratch: backend webgpu: the 'tl-no-such-webgpu' package (Dawn's WebGPU for Node, an optional dependency) is not installed: run npm install tl-no-such-webgpu (or npm install without --omit=optional)");
    expect(r.stdout).not.toMatch(/epoch|backend auto/);
  });

  it.runIf(webgpuUsable())('an adapter', () => {
    const r = train('webgpu', { TL_WEBGPU_ADAPTER: 'none' });
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n').filter((l) => !/^Warning:|^\s+at |^$/.test(l)); // Dawn's own warnings on stderr
    expect(lines).toEqual([expect.stringMatching(/^tl-scratch: backend webgpu: no WebGPU adapter \(TL_WEBGPU_ADAPTER=none\): on a GPU, install its Vulkan driver .* without one, Mesa's EGL and OpenGL ES \(apt-get install /)]);
    expect(r.stdout).not.toMatch(/epoch/);
  });
});

describe('-b auto', () => {
  it('without the package: cpu, saying why, and trains', () => {
    const r = train('auto', { TL_WEBGPU_PACKAGE: 'tl-no-such-webgpu' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('backend auto'))).toEqual([
      "backend auto: cpu (webgpu cannot start here: the 'tl-no-such-webgpu' package (Dawn's WebGPU for Node, an optional dependency) is not installed: run npm install tl-no-such-webgpu (or npm install without --omit=optional))",
    ]);
  }, 240_000);

  it.runIf(webgpuUsable())('with an adapter: webgpu on a GPU, cpu on a software renderer, saying which', () => {
    const i = webgpuInfo();
    const r = train('auto');
    expect(r.code, r.stderr).toBe(0);
    const line = r.stdout.split('\n').filter((l) => l.startsWith('backend auto'));
    if (i.software) expect(line).toEqual([`backend auto: cpu (the only WebGPU adapter, ${i.adapter}, is a software renderer, slower than cpu)`]);
    else expect(line).toEqual([`backend auto: webgpu (a GPU: ${i.adapter}, ${i.backend})`]);
  }, 240_000);
});

describe.runIf(webgpuUsable())('-b webgpu', () => {
  it('prints the adapter, its backend and whether it is a software renderer (Mesa llvmpipe and SwiftShader are), then trains', () => {
    const i = webgpuInfo();
    if (/llvmpipe|swiftshader/i.test(i.adapter)) expect(i.software).toBe(true);
    const r = train('webgpu');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`backend webgpu: adapter ${i.adapter} (${i.backend}, ${i.featureLevel}${i.software ? ', software renderer' : ', a GPU'})`);
    if (i.software) expect(r.stderr).toContain('warning: backend webgpu is not on a real GPU (a software renderer)');
  }, 240_000);
});
