"""Images for ResNet-20: a CIFAR-10 reader (python pickle batches), and scikit-learn's bundled digits, resized.

Nothing is downloaded: the digits (1,797 scanned handwritten digits, 8x8 grey) ship inside scikit-learn.
"""
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F


@dataclass
class ImageSet:
    """Training and held-out images (n, channels, height, width), normalised per channel with the training
    images' mean and standard deviation, and their labels (n,)."""

    images: torch.Tensor
    labels: torch.Tensor
    heldout_images: torch.Tensor
    heldout_labels: torch.Tensor
    num_classes: int
    source: str
    heldout_source: str


def _normalised(train, heldout):
    mean = train.mean(dim=(0, 2, 3), keepdim=True)
    std = train.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-8)  # one image of one colour has std 0
    return (train - mean) / std, (heldout - mean) / std


class _ArraysOnly(pickle.Unpickler):
    """Unpickler that builds numpy arrays and byte strings and nothing else: a CIFAR batch needs no other global,
    and refusing the rest keeps a malicious file named data_batch_1 from running code.  (_codecs.encode is how
    Python 3 writes bytes at pickle protocol 2, for batches re-saved by Python 3.)"""

    _ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
                ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar")}

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"CIFAR batch refers to {module}.{name}, which a CIFAR batch never does")
        if module.startswith("numpy.core"):  # files pickled before numpy 2 name the old module
            module = "numpy._core" + module[len("numpy.core"):] if hasattr(np, "_core") else module
        return super().find_class(module, name)


def read_cifar_batch(path):
    """(images uint8 (n, 3, 32, 32), labels int64 (n,)) from one CIFAR-10 python batch file."""
    with open(path, "rb") as f:
        batch = _ArraysOnly(f, encoding="bytes").load()  # pickled by Python 2: keys are bytes
    data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    if len(labels) != len(data):
        raise ValueError(f"{path}: {len(data)} images but {len(labels)} labels")
    return data, labels


def is_cifar_folder(path):
    """True when `path` holds CIFAR-10 python batches (data_batch_1, ...), itself or in cifar-10-batches-py/."""
    return _cifar_folder(Path(path)) is not None


def _cifar_folder(folder):
    for candidate in (folder, folder / "cifar-10-batches-py"):
        if sorted(candidate.glob("data_batch_*")):
            return candidate
    return None


def read_cifar10(path):
    """A CIFAR-10 python folder as an ImageSet: training images from data_batch_*, held-out images from
    test_batch (or, when the folder has none, the last tenth of the training images, at least one)."""
    folder = _cifar_folder(Path(path))
    if folder is None:
        raise ValueError(f"--data {path}: no CIFAR-10 python batches (expected data_batch_1, ...)")
    parts = [read_cifar_batch(file) for file in sorted(folder.glob("data_batch_*"))]
    images = torch.from_numpy(np.concatenate([p[0] for p in parts])).float() / 255
    labels = torch.from_numpy(np.concatenate([p[1] for p in parts]))
    if (folder / "test_batch").is_file():
        test_images, test_labels = read_cifar_batch(folder / "test_batch")
        heldout = torch.from_numpy(test_images).float() / 255, torch.from_numpy(test_labels)
        heldout_source = "test_batch"
    else:
        if len(labels) < 2:
            raise ValueError(f"--data {path}: one image and no test_batch leaves nothing to hold out")
        cut = len(labels) - max(1, len(labels) // 10)
        heldout, images, labels = (images[cut:], labels[cut:]), images[:cut], labels[:cut]
        heldout_source = f"the last {len(heldout[1])} training images (no test_batch)"
    train, test = _normalised(images, heldout[0])
    return ImageSet(train, labels, test, heldout[1], 10, f"cifar10:{folder}", heldout_source)


# scikit-learn's digits are in scan order of the writers; the last 297 (of 1,797) are held out.
DIGITS_HELDOUT = 297


def digits_images(size=8):
    """scikit-learn's handwritten digits (8x8 grey), resized bilinearly to size x size, grey copied to 3
    channels; the first 1,500 for training, the last 297 held out."""
    if size < 4:
        raise ValueError(f"image size must be at least 4, got {size}")
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.from_numpy(digits.images).float()[:, None] / 16  # pixel values are 0..16
    if size != 8:
        images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)
    images = images.repeat(1, 3, 1, 1)
    labels = torch.from_numpy(digits.target).long()
    cut = len(labels) - DIGITS_HELDOUT
    train, test = _normalised(images[:cut], images[cut:])
    return ImageSet(train, labels[:cut], test, labels[cut:], 10,
                    f"sklearn.datasets.load_digits at {size}x{size}", f"the last {DIGITS_HELDOUT} digits")
