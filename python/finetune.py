"""Fine-tune a `tl-scratch export` with DistributedDataParallel on neon HDF5 data; run by torchrun.

    torchrun --standalone --nproc_per_node=8 finetune.py --model model.safetensors --data DIR --out finetuned.safetensors

One process per GPU (NCCL) where CUDA is available, else per CPU process (gloo; --backend
overrides). DIR holds train.h5 and test.h5 as `tl-scratch prepare` writes them; inputs are
preprocessed as tl-scratch does (neon_hdf5.py, --preprocess). Each process sees its share
of the training set (DistributedSampler); DDP averages the gradients, so every process
holds the same weights after each step. At the end the first process tests the model on
test.h5 (PyTorch's own accuracy, printed and written to --report with every example's
probabilities) and saves it with the exported file's metadata, so that tl-scratch reads it
back as its own: `tl-scratch eval --model_file finetuned.safetensors --data_root DIR ...`.
"""
import argparse
import json
import os
import sys
import tempfile
import time

import torch
import torch.distributed as dist
from torch.distributed.elastic.multiprocessing.errors import record
from torch.nn.parallel import DistributedDataParallel as DDP

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from neon_hdf5 import NeonHDF5, NeonHDF5Error  # noqa: E402
from tl_vgg16 import TlVgg16Error, load_vgg16, save_like  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--model', required=True, help='safetensors file written by `tl-scratch export`')
    p.add_argument('--data', required=True, help='folder with train.h5 and test.h5 (tl-scratch prepare)')
    p.add_argument('--out', default='finetuned.safetensors', help='where the first process saves the fine-tuned model')
    p.add_argument('--report', help='JSON file: accuracy, probabilities, world size, times')
    p.add_argument('--epochs', type=int, default=10)
    p.add_argument('--batch_size', type=int, default=32, help='per process')
    p.add_argument('--lr', type=float, default=0.001)
    p.add_argument('--momentum', type=float, default=0.9)
    p.add_argument('--weight_decay', type=float, default=0.0005)
    p.add_argument('--preprocess', default='neon', choices=['neon', 'caffe', 'torchvision'])
    p.add_argument('--backend', choices=['nccl', 'gloo'], help='default: nccl with CUDA, else gloo')
    p.add_argument('--workers', type=int, default=0, help='DataLoader worker processes per process')
    p.add_argument('--seed', type=int, default=0)
    return p.parse_args()


def write_json(path, obj):
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix='.report.', dir=folder)
    with os.fdopen(fd, 'w') as f:
        json.dump(obj, f)
    os.replace(tmp, path)


def test(model, dataset, device, batch_size):
    """Accuracy and softmax probabilities over the whole set, in file order."""
    model.eval()
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False)
    probs, right = [], 0
    with torch.no_grad():
        for x, y in loader:
            p = torch.softmax(model(x.to(device)), dim=1).cpu()
            right += int((p.argmax(dim=1) == y).sum())
            probs.append(p)
    return right / len(dataset), torch.cat(probs)


@record  # a failing process's traceback reaches torchrun's summary
def main():
    args = parse_args()
    # bad paths stop every process with one line before any of them waits for the others
    for path, what in ((args.model, '--model'), (os.path.join(args.data, 'train.h5'), '--data'), (os.path.join(args.data, 'test.h5'), '--data')):
        if not os.path.isfile(path):
            raise FileNotFoundError(f'{what}: {path} does not exist' + (' (a folder with train.h5 and test.h5 from `tl-scratch prepare`)' if what == '--data' else ' (a file written by `tl-scratch export`)'))
    backend = args.backend or ('nccl' if torch.cuda.is_available() else 'gloo')
    dist.init_process_group(backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    local = int(os.environ.get('LOCAL_RANK', 0))
    device = torch.device('cuda', local) if backend == 'nccl' else torch.device('cpu')
    if device.type == 'cuda':
        torch.cuda.set_device(device)
    torch.manual_seed(args.seed)

    train = NeonHDF5(os.path.join(args.data, 'train.h5'), args.preprocess)
    model = load_vgg16(args.model).to(device).train()
    ddp = DDP(model, device_ids=[local] if device.type == 'cuda' else None)
    sampler = torch.utils.data.distributed.DistributedSampler(train, seed=args.seed)
    loader = torch.utils.data.DataLoader(train, batch_size=args.batch_size, sampler=sampler, num_workers=args.workers)
    opt = torch.optim.SGD(ddp.parameters(), lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    if rank == 0:
        print(f'{world} processes ({backend}), {len(train)} training examples, {len(sampler)} per process, batch {args.batch_size} per process', flush=True)

    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        te, total, seen = time.perf_counter(), 0.0, 0
        for x, y in loader:
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(ddp(x.to(device)), y.to(device))
            loss.backward()
            opt.step()
            total += float(loss) * len(y)
            seen += len(y)
        if rank == 0:
            rate = seen * world / (time.perf_counter() - te)
            print(f'epoch {epoch + 1}/{args.epochs}: training cost {total / max(seen, 1):.4f} (this process), {rate:.1f} img/s (all processes)', flush=True)
    train_s = time.perf_counter() - t0

    # every process must hold the same weights: gather a checksum of each
    flat = torch.cat([p.detach().reshape(-1).cpu().double() for p in model.parameters()])
    mine = torch.tensor([float(flat.sum()), float((flat * flat).sum())], dtype=torch.float64, device=device)
    sums = [torch.zeros_like(mine) for _ in range(world)]
    dist.all_gather(sums, mine)

    if rank == 0:
        accuracy, probs = test(model, NeonHDF5(os.path.join(args.data, 'test.h5'), args.preprocess), device, 64)
        save_like(model, args.model, args.out)
        print(f'Accuracy = {100 * accuracy:.2f}% (PyTorch, {len(probs)} test examples); saved {args.out}', flush=True)
        if args.report:
            write_json(args.report, {
                'accuracy': accuracy, 'probs': probs.tolist(), 'world_size': world, 'backend': backend,
                'train_seconds': train_s, 'epochs': args.epochs, 'torch': torch.__version__,
                'param_checksums': [s.tolist() for s in sums],
            })
    dist.barrier()
    dist.destroy_process_group()


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, NeonHDF5Error, TlVgg16Error) as e:
        print(f'finetune.py: {e}', file=sys.stderr)
        sys.exit(1)
