// Native peers on the workloads of perf-baseline.md, every side in a fresh process (so that
// nothing run before counts in its time or its memory), on 1 and 2 threads:
//   W2   3×3 conv 64→64, 56², batch 8: forward + backward against PyTorch; forward alone
//        against onnxruntime-node (which has no backward)
//   W3a  VGG-16 training step, batch 8, 3×64×64, fc 4096-4096-2: against PyTorch
//        (onnxruntime-node has no training API)
//   W4a  VGG-16 inference, batch 1, 3×224×224: against PyTorch and onnxruntime-node (our
//        ONNX export of the same model)
// Ours and onnxruntime: bench/peers/child.ts; PyTorch: bench/peers/torch_peer.py with the
// Python that has torch (scripts/torch-python.mjs), one line saying skipped where none has.
// Memory: each process's peak resident set (VmHWM) for the two VGG-16 workloads.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Benchmark, Row } from './harness.js';
import type { ChildResult } from './peers/child.js';

/** The repository root, from dist/bench/ (where `npm run bench` runs this file). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./peers/child.js', import.meta.url));
const TORCH_PEER = join(ROOT, 'bench', 'peers', 'torch_peer.py');

const THREADS = [1, 2];
const W2_FWD_FLOPS = 2 * 8 * 64 * 64 * 9 * 56 * 56;

/** The Python with torch and h5py, or why there is none (scripts/torch-python.mjs). */
export async function findTorchPython(): Promise<{ python?: string; torch?: string; missing?: string }> {
  const m = (await import(pathToFileURL(join(ROOT, 'scripts', 'torch-python.mjs')).href)) as { torchPython: () => { python?: string; torch?: string; missing?: string } };
  return m.torchPython();
}

/** Run one side in a fresh process; its JSON result, or why it failed. */
export function spawnSide(cmd: string, args: string[], env: Record<string, string> = {}, timeoutS = 900): ChildResult | string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutS * 1000, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) return `failed (${r.status ?? r.signal}): ${(r.stdout || r.error?.message || '').trim().split('\n').pop() ?? ''}`;
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
}

type Side = 'ours' | 'ort' | 'torch';
type Workload = 'W2' | 'W3a' | 'W4a';

export const peersBench: Benchmark = {
  name: 'peers',
  ids: [],
  title: 'PyTorch and onnxruntime-node on W2 (conv layer), W3a (VGG-16 training step) and W4a (VGG-16 inference), 1 and 2 threads, each side in a fresh process',
  async run(log) {
    const py = await findTorchPython();
    if (py.missing) log(`  PyTorch skipped: ${py.missing}`);
    const torchLabel = py.torch ? `PyTorch ${py.torch.replace(/a0$/, '')}` : 'PyTorch';
    const ortLabel = `onnxruntime-node ${(await import('onnxruntime-node')).default.env.versions.common}`;
    const results = new Map<string, ChildResult | string>();
    const key = (s: Side, w: Workload, t: number) => `${s} ${w} ${t}`;
    for (const w of ['W2', 'W3a', 'W4a'] as Workload[]) {
      for (const t of THREADS) {
        const sides: Side[] = w === 'W3a' ? ['ours', 'torch'] : ['ours', 'torch', 'ort'];
        for (const s of sides) {
          let r: ChildResult | string;
          if (s === 'torch') {
            if (!py.python) continue;
            // OMP/MKL threads follow torch.set_num_threads; the variables keep the pools from starting wider
            r = spawnSide(py.python, [TORCH_PEER, w, String(t)], { OMP_NUM_THREADS: String(t), MKL_NUM_THREADS: String(t) });
          } else {
            r = spawnSide(process.execPath, [CHILD, s, w, String(t)]);
          }
          results.set(key(s, w, t), r);
          const shown = typeof r === 'string' ? r : `${r.seconds !== null ? `${r.seconds.toFixed(3)} s median, ` : ''}${r.forward !== undefined ? `forward ${r.forward.toFixed(3)} s, ` : ''}peak ${r.peakMB.toFixed(0)} MB, cpu ${(100 * (r.cpuShare ?? NaN)).toFixed(0)}% of one core over the process`;
          log(`  ${w} ${s === 'ours' ? 'ours (cpu)' : s === 'ort' ? ortLabel : torchLabel}, ${t} thread${t > 1 ? 's' : ''}: ${shown}`);
        }
      }
    }
    const get = (s: Side, w: Workload, t: number) => {
      const r = results.get(key(s, w, t));
      return r && typeof r !== 'string' ? r : null;
    };
    const peerName = (s: Side) => {
      const r = results.get(key(s, 'W4a', 1));
      const name = s === 'torch' ? torchLabel : ortLabel;
      return s === 'torch' && py.missing ? `${name} (skipped: not installed)` : typeof r === 'string' ? `${name} (${r})` : name;
    };
    const rate = (r: ChildResult | null, f: (r: ChildResult) => number | null | undefined) => {
      const v = r ? f(r) : null;
      return v === null || v === undefined ? null : v;
    };
    const note = 'each side in a fresh process (bench/peers/); medians after warm-up';
    const rows: Row[] = [];
    for (const t of THREADS) {
      const th = `${t} thread${t > 1 ? 's' : ''}`;
      const o2 = get('ours', 'W2', t);
      rows.push({ workload: `W2 conv3×3 b8 64→64 56² fwd+bwd, ${th}`, unit: 'GFLOP/s', ours: rate(o2, (r) => r.seconds && (3 * W2_FWD_FLOPS) / r.seconds / 1e9), peer: peerName('torch'), peerValue: rate(get('torch', 'W2', t), (r) => r.seconds && (3 * W2_FWD_FLOPS) / r.seconds / 1e9), note });
      rows.push({ workload: `W2 conv3×3 b8 64→64 56² fwd only, ${th}`, unit: 'GFLOP/s', ours: rate(o2, (r) => r.forward && W2_FWD_FLOPS / r.forward / 1e9), peer: peerName('ort'), peerValue: rate(get('ort', 'W2', t), (r) => r.forward && W2_FWD_FLOPS / r.forward / 1e9), note });
      const o3 = get('ours', 'W3a', t), p3 = get('torch', 'W3a', t);
      rows.push({ workload: `W3a VGG-16 train step b8 64², ${th}`, unit: 'img/s', ours: rate(o3, (r) => r.seconds && 8 / r.seconds), peer: peerName('torch'), peerValue: rate(p3, (r) => r.seconds && 8 / r.seconds), note });
      rows.push({ workload: `W3a peak resident memory, ${th}`, unit: 'MB', ours: rate(o3, (r) => r.peakMB), peer: peerName('torch'), peerValue: rate(p3, (r) => r.peakMB), note: 'VmHWM of each side\'s process' });
      const o4 = get('ours', 'W4a', t);
      for (const s of ['torch', 'ort'] as Side[]) {
        rows.push({ workload: `W4a VGG-16 inference b1 224², ${th}`, unit: 'img/s', ours: rate(o4, (r) => r.seconds && 1 / r.seconds), peer: peerName(s), peerValue: rate(get(s, 'W4a', t), (r) => r.seconds && 1 / r.seconds), note });
      }
      for (const s of ['torch', 'ort'] as Side[]) {
        rows.push({ workload: `W4a peak resident memory, ${th}`, unit: 'MB', ours: rate(o4, (r) => r.peakMB), peer: peerName(s), peerValue: rate(get(s, 'W4a', t), (r) => r.peakMB), note: 'VmHWM of each side\'s process' });
      }
    }
    return rows;
  },
};
