"""A PyTorch Dataset over neon's HDF5 files (what `tl-scratch prepare` writes), preprocessed as tl-scratch does.

A file holds
    input   (N, C*H*W) pixels 0..255, one row per example, channel-major; attributes
            lshape = (C, H, W) and channel_order ('rgb', 'bgr' or 'gray')
    output  (N, 1) class indices; attributes nclass and class_names
    mean    C values (one per channel) or C*H*W (a mean image): the training split's, which
            prepare writes into train.h5 and test.h5 alike

Each item is (float32 tensor C x H x W, class index), with one of tl-scratch's three
conventions (src/data/preprocess.ts):
    neon         pixels minus the file's mean, channels as stored (the default, and what
                 `tl-scratch train` does with such data)
    caffe        B, G, R order, minus the ImageNet mean 103.939, 116.779, 123.68
    torchvision  R, G, B scaled to [0, 1], then (x - mean) / std with ImageNet's statistics
The arithmetic is done as tl-scratch does it (neon in float32; the others in float64,
rounded once to float32), so the inputs are the same bits.

    from neon_hdf5 import NeonHDF5
    train = NeonHDF5("data/train.h5")               # then a DataLoader, a DistributedSampler
"""
import h5py
import numpy as np
import torch

CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
TORCHVISION_RGB_MEAN = (0.485, 0.456, 0.406)
TORCHVISION_RGB_STD = (0.229, 0.224, 0.225)
PREPROCESS = ('neon', 'caffe', 'torchvision')


class NeonHDF5Error(ValueError):
    """A file that is not in neon's format, named with what is wrong and what to do."""


def _text(v):
    return v.decode('utf-8') if isinstance(v, bytes) else str(v)


class NeonHDF5(torch.utils.data.Dataset):
    """Examples of one neon HDF5 file; rows are read one at a time (the file is opened per DataLoader worker)."""

    def __init__(self, path, preprocess='neon', mean=None):
        """mean: for neon, values to subtract instead of the file's own `mean` (C or C*H*W)."""
        if preprocess not in PREPROCESS:
            raise NeonHDF5Error(f"preprocess '{preprocess}' is not known; choose one of {', '.join(PREPROCESS)}")
        self.path, self.preprocess = path, preprocess
        try:
            f = h5py.File(path, 'r')
        except OSError as e:
            raise NeonHDF5Error(f'{path}: cannot open it as HDF5 ({e}); write the data with `tl-scratch prepare`') from None
        with f:
            if 'input' not in f or 'output' not in f:
                raise NeonHDF5Error(f"{path}: neon's format needs datasets 'input' (N, C*H*W) and 'output' (N, 1); write it with `tl-scratch prepare`")
            x = f['input']
            if 'lshape' not in x.attrs:
                raise NeonHDF5Error(f"{path}: dataset 'input' has no attribute 'lshape'; set it to (C, H, W)")
            self.lshape = tuple(int(v) for v in np.asarray(x.attrs['lshape']).ravel())
            if len(self.lshape) != 3 or int(np.prod(self.lshape)) != x.shape[1]:
                raise NeonHDF5Error(f"{path}: lshape {self.lshape} does not give the {x.shape[1]} values of a row")
            C = self.lshape[0]
            self.channel_order = _text(x.attrs['channel_order']) if 'channel_order' in x.attrs else ('gray' if C == 1 else 'rgb')
            self.labels = np.asarray(f['output'][()]).reshape(len(x), -1)[:, 0].astype(np.int64)
            out = f['output']
            self.nclass = int(out.attrs['nclass']) if 'nclass' in out.attrs else int(self.labels.max()) + 1
            self.class_names = [_text(v) for v in out.attrs['class_names']] if 'class_names' in out.attrs else None
            own = np.asarray(f['mean'][()], dtype=np.float32).ravel() if 'mean' in f else None
        self.n = len(self.labels)
        if preprocess == 'neon':
            m = own if mean is None else np.asarray(mean, dtype=np.float32).ravel()
            if m is None:
                raise NeonHDF5Error(f"{path}: no dataset 'mean' to subtract; pass mean= (the training file's) or re-create the file with `tl-scratch prepare`")
            if m.size not in (C, int(np.prod(self.lshape))):
                raise NeonHDF5Error(f"{path}: the mean has {m.size} values; expected {C} or {int(np.prod(self.lshape))}")
            self.mean = m.reshape(C, 1, 1) if m.size == C else m.reshape(self.lshape)
        else:
            self.mean = None
            self._plan = self._channel_plan(C)
        self._file = None

    def _channel_plan(self, C):
        """Per output channel: input channel, scale, subtracted value, divisor (preprocess.ts channelPlan)."""
        if C not in (1, 3):
            raise NeonHDF5Error(f'{self.path}: {self.preprocess} preprocessing needs 1 or 3 channels, the data has {C}; use neon')
        if C == 1:
            if self.preprocess == 'caffe':
                return [0], 1.0, [sum(CAFFE_BGR_MEAN) / 3], [1.0]
            return [0], 1 / 255, [sum(TORCHVISION_RGB_MEAN) / 3], [sum(TORCHVISION_RGB_STD) / 3]
        order = 'rgb' if self.channel_order == 'gray' else self.channel_order
        if self.preprocess == 'caffe':
            return ([0, 1, 2] if order == 'bgr' else [2, 1, 0]), 1.0, list(CAFFE_BGR_MEAN), [1.0, 1.0, 1.0]
        return ([0, 1, 2] if order == 'rgb' else [2, 1, 0]), 1 / 255, list(TORCHVISION_RGB_MEAN), list(TORCHVISION_RGB_STD)

    def __len__(self):
        return self.n

    def __getstate__(self):
        state = dict(self.__dict__)
        state['_file'] = None  # an open h5py file does not cross processes
        return state

    def rows(self, a, b):
        """Raw pixel rows a..b-1 as float32, shaped (b - a, C, H, W)."""
        if self._file is None:
            self._file = h5py.File(self.path, 'r')
        return np.asarray(self._file['input'][a:b], dtype=np.float32).reshape((b - a,) + self.lshape)

    def apply(self, x):
        """Preprocess raw rows (n, C, H, W) float32."""
        if self.preprocess == 'neon':
            return x - self.mean
        src, scale, sub, div = self._plan
        out = np.empty(x.shape, dtype=np.float32)
        for c, s in enumerate(src):
            out[:, c] = (x[:, s].astype(np.float64) * scale - sub[c]) / div[c]
        return out

    def __getitem__(self, i):
        x = self.apply(self.rows(i, i + 1))[0]
        return torch.from_numpy(np.ascontiguousarray(x)), int(self.labels[i])
