"""PyTorch's side of bench/peers.ts and bench/real-size.ts, one workload per process.

    python3 bench/peers/torch_peer.py <W2|W3a|W4a> <threads>
    python3 bench/peers/torch_peer.py real-size <threads> <train.h5> <batch> <steps>

Prints one JSON line: median seconds of a run after warm-up, the samples, and resident
memory after the runs and at the peak (VmRSS, VmHWM from /proc/self/status), in MB. The
workloads are those of bench/peers/child.ts, built from the same pieces as the shipped
helpers (python/tl_vgg16.py's Vgg16: torchvision's layout at tl-scratch's shapes):
    W2         3x3 conv 64->64, 56x56, batch 8: forward + backward, and forward alone
    W3a        VGG-16 transfer model (fc 4096-4096-2) training step, batch 8, 3x64x64, SGD momentum
    W4a        the same model's inference, batch 1, 3x224x224, eval mode, no_grad
    real-size  training steps at the lab's size on a neon HDF5 file (python/neon_hdf5.py), no warm-up
Exit status 3 when torch is not installed.
"""
import json
import os
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print('torch is not installed')
    sys.exit(3)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'python'))
from tl_vgg16 import Vgg16  # noqa: E402

STARTED = time.time()
WIDTHS = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]


def memory():
    st = {l.split(':')[0]: int(l.split()[1]) / 1024 for l in open('/proc/self/status') if l.startswith(('VmRSS', 'VmHWM'))}
    return {'rssMB': st['VmRSS'], 'peakMB': st['VmHWM']}


def timed(fn, warmup, runs):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return samples


def median(xs):
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


def vgg(size):
    side = size // 32
    return Vgg16(3, WIDTHS, [(512 * side * side, 4096), (4096, 4096), (4096, 2)])


def train_step(model, opt, x, y):
    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def w2():
    g = torch.Generator().manual_seed(1)
    x = (torch.rand(8, 64, 56, 56, generator=g) - 0.5).requires_grad_()
    w = ((torch.rand(64, 64, 3, 3, generator=g) - 0.5) * 0.1).requires_grad_()
    b = (torch.rand(64, generator=g) - 0.5).requires_grad_()
    gy = torch.rand(8, 64, 56, 56, generator=g) - 0.5

    def fb():
        x.grad = w.grad = b.grad = None
        F.conv2d(x, w, b, padding=1).backward(gy)

    def fwd():
        with torch.no_grad():
            F.conv2d(x, w, b, padding=1)
    s = timed(fb, 1, 5)
    f = timed(fwd, 1, 5)
    return {'seconds': median(s), 'forward': median(f), 'samples': s}


def w3a():
    model = vgg(64).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9, weight_decay=0.0005)
    x = torch.rand(8, 3, 64, 64) - 0.5
    y = torch.arange(8) % 2
    s = timed(train_step(model, opt, x, y), 1, 3)
    return {'seconds': median(s), 'samples': s}


def w4a():
    model = vgg(224).eval()
    x = torch.rand(1, 3, 224, 224) - 0.5

    def run():
        with torch.no_grad():
            model(x)
    s = timed(run, 1, 5)
    return {'seconds': median(s), 'samples': s}


def real_size(path, batch, steps):
    from neon_hdf5 import NeonHDF5
    data = NeonHDF5(path)
    C, H, W = data.lshape
    model = Vgg16(C, WIDTHS, [(512 * (H // 32) * (W // 32), 4096), (4096, 4096), (4096, data.nclass)]).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9, weight_decay=0.0005)
    loader = torch.utils.data.DataLoader(data, batch_size=batch, shuffle=True, drop_last=True)
    samples, it = [], iter(loader)
    for _ in range(steps):
        t = time.perf_counter()
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(loader)
            x, y = next(it)
        train_step(model, opt, x, y)()
        samples.append(time.perf_counter() - t)
        print(f'  PyTorch step {len(samples)}/{steps}: {samples[-1]:.1f} s', file=sys.stderr, flush=True)
    return {'seconds': median(samples), 'samples': samples}


def main():
    workload, threads = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    if workload == 'real-size':
        r = real_size(sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        r = {'W2': w2, 'W3a': w3a, 'W4a': w4a}[workload]()
    r.update(memory())
    r['cpuShare'] = time.process_time() / (time.time() - STARTED)
    r['torch'] = torch.__version__
    print(json.dumps(r))


if __name__ == '__main__':
    main()
