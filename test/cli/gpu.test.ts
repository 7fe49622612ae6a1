// -b gpu on the command line: the backend is among -b's choices, the program says which
// gpu.js mode runs and warns when it is not a real GPU; where gpu.js cannot start, one clear
// line and exit 1, no silent fallback.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli as runCli, TINY, tinyWorkspace } from './run.js';

const { work, data } = tinyWorkspace('tl-cli-gpu-', { nTrain: 8, nTest: 4 });
const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, work, env, 120_000);

describe('-b gpu', () => {
  it('is listed among the backends of train and eval', () => {
    for (const cmd of ['train', 'eval']) {
      const help = cli([cmd, '--help']).stdout.replace(/\s+/g, ' ');
      expect(help).toMatch(/gpu \(src\/kernels\/gpu\/webgl\/: gpu\.js kernels on the GPU/);
      expect(help).toMatch(/choices: .*"gpu"/);
    }
  });

  it('trains, saying which gpu.js mode runs and warning that WebAssembly is not a GPU', () => {
    const r = cli(['train', '-b', 'gpu', '--data_root', data, '-e', '1', '-z', '4', ...TINY, '--no_progress_bar', '--inference_file', 'inf.txt']);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('warning: backend gpu'))).toEqual([
      'warning: backend gpu is not on a real GPU: gpu.js runs in its WebAssembly mode on the CPU (no WebGL here); expect it to be slower than -b cpu',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('backend gpu: gpu.js mode webasm');
    expect(readFileSync(join(work, 'inf.txt'), 'utf8').trim().split('\n').length).toBeGreaterThan(0);
  }, 120_000);

  it('where gpu.js cannot start: one line and exit 1', () => {
    const r = cli(['train', '-b', 'gpu', '--data_root', data, '-e', '1', ...TINY], { TL_GPU_MODE: 'headlessgl' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('tl-scratch: backend gpu: gpu.js cannot start in mode \'headlessgl\': A requested mode of "headlessgl" and is not supported');
    expect(r.stdout).not.toContain('epoch');
  });
});
