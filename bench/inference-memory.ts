// Resident memory of VGG-16 inference (batch 1, 3×224×224, fc 4096-4096-2, two threads), each
// side in a fresh process so that nothing else it ran counts: ours (the cpu backend) against
// PyTorch 1.13 (`/usr/bin/python3`, a plain torch.nn VGG-16 in eval mode under no_grad; the
// row says so when torch is missing). Reports RSS after the inferences and the peak (VmHWM
// from /proc/self/status), which is what the "at most 1.2× PyTorch's" compares.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Benchmark, Row } from './harness.js';

const IMAGES = 5, THREADS = 2;

interface Probe {
  rss: number;
  hwm: number;
  /** Median seconds per image after the first. */
  seconds: number;
}

const STATUS = String.raw`Object.fromEntries(readFileSync('/proc/self/status', 'utf8').split('\n').filter((l) => /^Vm(RSS|HWM):/.test(l)).map((l) => [l.slice(2, 5).toLowerCase(), Number(l.split(/\s+/)[1]) / 1024]))`;

function ours(): Probe | string {
  const index = fileURLToPath(new URL('../src/index.js', import.meta.url));
  const vgg = fileURLToPath(new URL('../src/models/vgg16.js', import.meta.url));
  const script = `
    import { readFileSync } from 'node:fs';
    import { setNumThreads, tensor, Generator } from ${JSON.stringify(index)};
    import { generateVgg16TransferModel } from ${JSON.stringify(vgg)};
    setNumThreads(${THREADS});
    const model = generateVgg16TransferModel({ widthMult: 1, fcSize: 4096 });
    model.initialize([3, 224, 224]);
    const g = new Generator(1), x = tensor(Float32Array.from({ length: 3 * 224 * 224 }, () => g.uniform(-1, 1)), [1, 3, 224, 224]);
    const ts = [];
    for (let i = 0; i < ${IMAGES}; i++) { const t = performance.now(); model.fprop(x, true).toHost(); ts.push((performance.now() - t) / 1000); }
    const s = ts.slice(1).sort((a, b) => a - b);
    const st = ${STATUS};
    console.log(JSON.stringify({ rss: st.rss, hwm: st.hwm, seconds: s[s.length >> 1] }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) return `failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Probe;
}

function pytorch(): Probe | string {
  const python = '/usr/bin/python3';
  if (!existsSync(python)) return 'no /usr/bin/python3';
  const script = `
import json, sys, time
try:
    import torch, torch.nn as nn
except ImportError:
    print('no torch'); sys.exit(3)
torch.set_num_threads(${THREADS})
cfg = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M']
layers, c = [], 3
for v in cfg:
    if v == 'M': layers.append(nn.MaxPool2d(2, 2))
    else: layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU(inplace=True)]; c = v
model = nn.Sequential(*layers, nn.Flatten(), nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(), nn.Linear(4096, 2)).eval()
x = torch.rand(1, 3, 224, 224)
ts = []
with torch.no_grad():
    for i in range(${IMAGES}):
        t = time.perf_counter(); model(x); ts.append(time.perf_counter() - t)
s = sorted(ts[1:])
st = {l.split(':')[0]: int(l.split()[1]) / 1024 for l in open('/proc/self/status') if l.startswith(('VmRSS', 'VmHWM'))}
print(json.dumps({'rss': st['VmRSS'], 'hwm': st['VmHWM'], 'seconds': s[len(s) // 2]}))
`;
  const r = spawnSync(python, ['-c', script], { encoding: 'utf8', timeout: 600_000 });
  if (r.status === 3) return 'torch is not installed (apt-get install python3-torch)';
  if (r.status !== 0) return `failed: ${(r.stderr || '').trim().split('\n').pop()}`;
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Probe;
}

export const inferenceMemoryBench: Benchmark = {
  name: 'inference-memory',
  ids: [],
  optIn: true,
  title: `VGG-16 inference memory (batch 1, 3×224×224, ${THREADS} threads, ${IMAGES} images), one fresh process each: cpu backend vs PyTorch`,
  async run(log) {
    const a = ours(), b = pytorch();
    if (typeof a === 'string') log(`  ours: ${a}`);
    if (typeof b === 'string') log(`  PyTorch: ${b}`);
    const peer = typeof b === 'string' ? `PyTorch (${b})` : 'PyTorch 1.13 (torch.nn VGG-16, no_grad)';
    const v = (p: Probe | string, k: keyof Probe) => (typeof p === 'string' ? null : p[k]);
    const note = 'one process per side; after the model is built and the images run';
    return [
      { workload: 'VGG-16 inference, RSS after the images', unit: 'MB', ours: v(a, 'rss'), peer, peerValue: v(b, 'rss'), note },
      { workload: 'VGG-16 inference, peak RSS (VmHWM)', unit: 'MB', ours: v(a, 'hwm'), peer, peerValue: v(b, 'hwm'), note },
      { workload: 'VGG-16 inference, images per second (median)', unit: 'img/s', ours: typeof a === 'string' ? null : 1 / a.seconds, peer, peerValue: typeof b === 'string' ? null : 1 / b.seconds, note },
    ] satisfies Row[];
  },
};
