#!/usr/bin/python3
"""Regenerate data/fashion-tshirt-shirt/ from Debian's dataset-fashion-mnist package.

The subset is the binary task "T-shirt/top vs Shirt" (Fashion-MNIST classes 0 and 6):
  train: the first 500 images of each of the two classes in the official training split,
         kept in their official relative order (1000 images);
  test:  all official test images of the two classes, in official order (2000 images).
Labels are remapped 0 -> 0 (T-shirt/top), 6 -> 1 (Shirt).
Files are IDX (the format of the originals), gzipped with mtime 0 so that reruns give
byte-identical output.

usage: /usr/bin/python3 scripts/make_fashion_subset.py [SRC_DIR] [OUT_DIR]
  SRC_DIR defaults to /usr/share/datasets/fashion-mnist, OUT_DIR to data/fashion-tshirt-shirt
"""
import gzip
import os
import struct
import sys

import numpy as np

SRC = sys.argv[1] if len(sys.argv) > 1 else '/usr/share/datasets/fashion-mnist'
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), '..', 'data', 'fashion-tshirt-shirt')
CLASSES = (0, 6)          # T-shirt/top, Shirt
PER_CLASS_TRAIN = 500


def read_idx(path):
    with gzip.open(path, 'rb') as f:
        raw = f.read()
    magic, = struct.unpack('>I', raw[:4])
    if magic >> 8 != 0x08:
        raise SystemExit(f'{path}: not an unsigned-byte IDX file (magic {magic:#x})')
    ndim = magic & 0xff
    dims = struct.unpack('>' + 'I' * ndim, raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    return data.reshape(dims)


def write_idx_gz(path, arr):
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    header = struct.pack('>I', 0x0800 | arr.ndim) + struct.pack('>' + 'I' * arr.ndim, *arr.shape)
    with open(path, 'wb') as raw:
        # mtime=0 and no file name in the header: reproducible bytes
        with gzip.GzipFile(filename='', mode='wb', fileobj=raw, mtime=0, compresslevel=9) as f:
            f.write(header + arr.tobytes())


def select(images, labels, per_class):
    keep = np.zeros(len(labels), dtype=bool)
    for c in CLASSES:
        idx = np.flatnonzero(labels == c)
        if per_class is not None:
            idx = idx[:per_class]
        keep[idx] = True
    sel = np.flatnonzero(keep)           # official relative order
    remap = np.zeros(256, dtype=np.uint8)
    for new, old in enumerate(CLASSES):
        remap[old] = new
    return images[sel], remap[labels[sel]]


def main():
    os.makedirs(OUT, exist_ok=True)
    for split, src, per_class in (('train', 'train', PER_CLASS_TRAIN), ('test', 't10k', None)):
        images = read_idx(os.path.join(SRC, f'{src}-images-idx3-ubyte.gz'))
        labels = read_idx(os.path.join(SRC, f'{src}-labels-idx1-ubyte.gz'))
        x, y = select(images, labels, per_class)
        write_idx_gz(os.path.join(OUT, f'{split}-images-idx3-ubyte.gz'), x)
        write_idx_gz(os.path.join(OUT, f'{split}-labels-idx1-ubyte.gz'), y)
        print(f'{split}: {len(y)} images, per class {np.bincount(y).tolist()}')


if __name__ == '__main__':
    main()
