// Run the built CLI (dist/src/cli.js, built by `npm test`'s pretest step) as a child process.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll } from 'vitest';
import { Generator } from '../../src/index.js';
import { writeNeonH5 } from '../../src/data/h5write.js';
import { openH5, type H5Dataset, type H5Group } from '../../src/formats/h5.js';

export const CLI = resolve(__dirname, '../../dist/src/cli.js');
if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' first (npm test does it)`);

export interface Result { code: number | null; stdout: string; stderr: string }

/** Runs the CLI in cwd to its end; env adds to (or overrides) this process's environment. */
export function cli(args: string[], cwd: string, env: Record<string, string> = {}, timeoutMs = 120_000): Result {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function cliAsync(args: string[], cwd: string) {
  return spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * A small separable 2-class data set in neon's format: class 1 is brighter in the top half.
 * `testMean: false` leaves the `mean` out of test.h5 (its pixels stay the same).
 */
export async function writeTinyData(dir: string, nTrain = 24, nTest = 10, seed = 1, opts: { testMean?: boolean } = {}): Promise<void> {
  const g = new Generator(seed);
  const make = (n: number) => {
    const F = 3 * 32 * 32;
    const x = new Uint8Array(n * F);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 2;
      for (let c = 0; c < 3; c++) for (let h = 0; h < 32; h++) for (let w = 0; w < 32; w++) {
        x[i * F + c * 1024 + h * 32 + w] = Math.round(g.uniform(0, 100) + (labels[i] === 1 && h < 16 ? 120 : 0));
      }
    }
    return { x, labels };
  };
  const mean = Float32Array.from([100, 100, 100]);
  await writeNeonH5(`${dir}/train.h5`, { ...make(nTrain), lshape: [3, 32, 32], nclass: 2, classNames: ['dark', 'bright'], mean });
  await writeNeonH5(`${dir}/test.h5`, { ...make(nTest), lshape: [3, 32, 32], nclass: 2, classNames: ['dark', 'bright'], mean: opts.testMean === false ? undefined : mean });
}

export const TINY = ['--width_mult', '0.0625', '--fc_size', '16'];

/**
 * A temporary folder for one test file, with the tiny data set written into work/data before
 * the tests run, and `dir(name)` for a fresh sub-folder per test.
 */
export function tinyWorkspace(prefix: string, size: { nTrain?: number; nTest?: number } = {}): { work: string; data: string; dir: (name: string) => string } {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const data = join(work, 'data');
  beforeAll(async () => {
    mkdirSync(data);
    await writeTinyData(data, size.nTrain, size.nTest);
  }, 60_000);
  const dir = (name: string): string => {
    const d = join(work, name);
    mkdirSync(d, { recursive: true });
    return d;
  };
  return { work, data, dir };
}

/** Every array of a checkpoint (weights and optimizer states) and its epoch index. */
export async function arrays(path: string): Promise<Record<string, number[]>> {
  const f = await openH5(path);
  const out: Record<string, number[]> = {};
  try {
    const layers = f.get('layers') as H5Group;
    for (const name of layers.keys()) {
      const g = layers.get(name) as H5Group;
      for (const k of g.keys()) {
        if (k === 'states') {
          const s = g.get('states') as H5Group;
          for (const sk of s.keys()) out[`${name}/states/${sk}`] = Array.from((s.get(sk) as H5Dataset).value as Float32Array);
        } else out[`${name}/${k}`] = Array.from((g.get(k) as H5Dataset).value as Float32Array);
      }
    }
    out.epoch_index = [Number(f.attrs.epoch_index!.value)];
  } finally {
    f.close();
  }
  return out;
}
