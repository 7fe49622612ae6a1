"""VGG-16 in PyTorch with the shapes and weights of a `tl-scratch export` safetensors file.

The module has torchvision's layout (`features.N`, `avgpool`, `classifier.N`, the names and
indices of torchvision.models.vgg16), built here so that neither torchvision nor the
safetensors package is needed: a state dict saved from it loads into torchvision's vgg16
with the same layer shapes, and the other way round.

    features    13 Conv2d 3x3/1/1 each followed by ReLU, a 2x2/2 MaxPool after each block
                of 2, 2, 3, 3, 3 convs (indices 0..30; convs at 0, 2, 5, 7, 10, 12, 14, 17,
                19, 21, 24, 26, 28)
    avgpool     the identity: tl-scratch's first dense layer takes the last feature map as
                it is (at 224x224 torchvision's adaptive 7x7 pooling is the identity anyway)
    classifier  Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear (indices 0..6); logits,
                no softmax (train with cross_entropy; softmax gives tl-scratch's outputs)

Widths, input channels, dense sizes and classes come from the file's tensor shapes. The
dropout probability comes from the file's metadata: the export multiplies classifier.3 and
classifier.6 by neon's keep (neon scales by keep at inference, PyTorch by 1/keep in
training), and records that factor, so p = 1 - keep.

    from tl_vgg16 import load_vgg16, save_like
    model = load_vgg16("model.safetensors")                  # then .eval() or .train()
    save_like(model, "model.safetensors", "finetuned.safetensors")   # tl-scratch reads it back
"""
import json
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn

CONV_INDICES = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)
DENSE_INDICES = (0, 3, 6)
BLOCKS = (2, 2, 3, 3, 3)


class TlVgg16Error(ValueError):
    """A file that is not a VGG-16 export, named with what is wrong."""


def _read_own(path):
    """safetensors without the package: 8-byte little-endian header length, JSON header, data."""
    with open(path, 'rb') as f:
        raw = f.read()
    if len(raw) < 8:
        raise TlVgg16Error(f'{path}: {len(raw)} bytes, not a safetensors file')
    n = int.from_bytes(raw[:8], 'little')
    if 8 + n > len(raw):
        raise TlVgg16Error(f'{path}: header of {n} bytes past the end of the file ({len(raw)} bytes); truncated?')
    header = json.loads(raw[8:8 + n])
    meta = header.pop('__metadata__', None) or {}
    data = memoryview(raw)[8 + n:]
    tensors = {}
    for key, e in header.items():
        if e['dtype'] != 'F32':
            raise TlVgg16Error(f"{path}: tensor '{key}' is {e['dtype']}; this reader takes F32 (tl-scratch writes F32)")
        a, b = e['data_offsets']
        tensors[key] = torch.from_numpy(np.frombuffer(data[a:b], dtype='<f4').reshape(e['shape']).copy())
    return tensors, meta


def read_safetensors(path):
    """(tensors by name, metadata dict) of a safetensors file; the safetensors package when installed."""
    try:
        from safetensors import safe_open
    except ImportError:
        return _read_own(path)
    with safe_open(path, 'pt') as f:
        return {k: f.get_tensor(k) for k in f.keys()}, dict(f.metadata() or {})


def save_safetensors(tensors, path, metadata=None):
    """Write float32 tensors (and string metadata) to `path` atomically: a temporary file, then a rename."""
    tensors = {k: t.detach().to('cpu', torch.float32).contiguous() for k, t in tensors.items()}
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', dir=folder)
    os.close(fd)
    try:
        try:
            from safetensors.torch import save_file
            save_file(tensors, tmp, metadata=metadata)
        except ImportError:
            header, blobs, off = {}, [], 0
            for k, t in tensors.items():
                b = t.numpy().astype('<f4').tobytes()
                header[k] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
                blobs.append(b)
                off += len(b)
            if metadata:
                header['__metadata__'] = dict(metadata)
            h = json.dumps(header).encode('utf-8')
            h += b' ' * (-(8 + len(h)) % 8)
            with open(tmp, 'wb') as f:
                f.write(len(h).to_bytes(8, 'little'))
                f.write(h)
                for b in blobs:
                    f.write(b)
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class Vgg16(nn.Module):
    """torchvision's VGG module tree (features / avgpool / classifier) at the given shapes."""

    def __init__(self, in_channels, widths, dense, dropout=0.5):
        """widths: the 13 conv output widths; dense: three (in, out) pairs."""
        super().__init__()
        layers, c, k = [], in_channels, 0
        for n in BLOCKS:
            for _ in range(n):
                layers += [nn.Conv2d(c, widths[k], kernel_size=3, padding=1), nn.ReLU(inplace=True)]
                c = widths[k]
                k += 1
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.Identity()
        (i0, o0), (i1, o1), (i2, o2) = dense
        self.classifier = nn.Sequential(
            nn.Linear(i0, o0), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(i1, o1), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(i2, o2),
        )

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def dropout_of(meta):
    """PyTorch's dropout probability from the export's recorded scale (keep), 0.5 without one."""
    scales = json.loads(meta.get('tl_scratch.scales', '{}') or '{}')
    keep = scales.get('classifier.3.weight')
    return 0.5 if keep is None else 1.0 - float(keep)


def load_vgg16(path):
    """The VGG-16 of a tl-scratch safetensors export (torchvision's names), its weights loaded."""
    state, meta = read_safetensors(path)
    need = [f'features.{i}.{p}' for i in CONV_INDICES for p in ('weight', 'bias')]
    need += [f'classifier.{i}.{p}' for i in DENSE_INDICES for p in ('weight', 'bias')]
    missing = [k for k in need if k not in state]
    if missing:
        raise TlVgg16Error(f"{path}: no tensor '{missing[0]}' ({len(missing)} missing); export a VGG-16 with `tl-scratch export` (torchvision's names)")
    convs = [state[f'features.{i}.weight'] for i in CONV_INDICES]
    if any(w.dim() != 4 or tuple(w.shape[2:]) != (3, 3) for w in convs):
        raise TlVgg16Error(f'{path}: the features.N.weight tensors must be [K, C, 3, 3]')
    widths = [int(w.shape[0]) for w in convs]
    dense = [tuple(int(s) for s in reversed(state[f'classifier.{i}.weight'].shape)) for i in DENSE_INDICES]
    model = Vgg16(int(convs[0].shape[1]), widths, dense, dropout_of(meta))
    model.load_state_dict(state, strict=True)  # every name and shape must match
    model.tl_metadata = meta
    return model


def save_like(model, source_path, out_path):
    """Save `model` (or a DDP wrapper's module) with the metadata of `source_path`, so tl-scratch reads it as its own export."""
    module = getattr(model, 'module', model)
    _, meta = read_safetensors(source_path)
    save_safetensors(module.state_dict(), out_path, metadata=meta or None)
