"""Real image data with no download: scikit-learn's handwritten digits, and CIFAR-10 for readers who have it.

The digits (`sklearn.datasets.load_digits`) are 1,797 real 8×8 scans of handwritten digits, 10 classes, shipped
inside the scikit-learn wheel. `preprocess` turns them into network input; it is the one place that does, and it is
specified exactly (below) so that other implementations (the in-browser "draw a digit" panel) can reproduce it.

    ds = mnv3lib.data.digits("train", size=32)   # TensorDataset of (3×32×32 float32, int64 label)
    x, y = ds[0]
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

__all__ = ["DIGITS_MAX", "MEAN", "STD", "SPLITS", "SPLIT_SIZES", "DATASETS", "DataNotFound",
           "preprocess", "digits", "digits_arrays", "cifar10", "load"]

DIGITS_MAX = 16.0       # load_digits' pixel values are integers 0 (background) .. 16 (ink)
MEAN, STD = 0.5, 0.5    # after scaling to [0, 1]: normalised input lies in [-1, 1]
SPLITS = ("train", "val", "test")
SPLIT_SIZES = {"test": 360, "val": 180}  # of 1,797; "train" gets the remaining 1,257 (70 / 10 / 20 %)
DATASETS = ("digits", "cifar10")


class DataNotFound(ValueError):
    """A data set that is not on disk; the message says in one line how to get it."""


def _check(field: str, value, expected: tuple) -> None:
    if value not in expected:
        raise ValueError(f"{field}: got {value!r}, expected one of {', '.join(map(repr, expected))}")


def _check_size(size) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size < 8:
        raise ValueError(f"size: got {size!r}, expected an integer >= 8 (the digits are 8×8)")


def preprocess(images, size: int = 32) -> torch.Tensor:
    """8×8 digits (values 0..16; an N×8×8 array or one 8×8 image) → network input, N×3×size×size float32.

    Exactly, in this order (re-implementations must follow it to agree within 1e-3):
      1. x = images / 16                       float32, in [0, 1] (0 = background, 1 = full ink)
      2. x = torch.nn.functional.interpolate(x[:, None], size=(size, size), mode="bilinear",
                                             align_corners=False, antialias=False)
         i.e. output pixel i samples the input at (i + 0.5) · 8 / size − 0.5, clamped to [0, 7], bilinearly
      3. x = (x − 0.5) / 0.5                   (MEAN, STD): [0, 1] → [−1, 1]
      4. the one channel repeated to 3         (the networks take RGB; the three channels are equal)
    """
    _check_size(size)
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[1:] != (8, 8):
        raise ValueError(f"images: got shape {x.shape}, expected (N, 8, 8) or (8, 8) with values 0..16")
    t = torch.from_numpy(x / DIGITS_MAX)[:, None]                       # (N, 1, 8, 8) in [0, 1]
    t = F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False, antialias=False)
    t = (t - MEAN) / STD
    return t.repeat(1, 3, 1, 1).contiguous()                           # (N, 3, size, size)


@lru_cache(maxsize=None)
def _split_indices(seed: int) -> dict[str, np.ndarray]:
    # sklearn is imported here: `import mnv3lib` must not need it
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    y = load_digits().target
    idx = np.arange(len(y))
    # stratified: every split has each digit in the proportion of the whole set
    rest, test = train_test_split(idx, test_size=SPLIT_SIZES["test"], stratify=y, random_state=seed)
    train, val = train_test_split(rest, test_size=SPLIT_SIZES["val"], stratify=y[rest], random_state=seed)
    return {"train": np.sort(train), "val": np.sort(val), "test": np.sort(test)}


def digits_arrays(split: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The raw split: (images N×8×8 float64 with values 0..16, labels N int64), before `preprocess`."""
    _check("split", split, SPLITS)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed: got {seed!r}, expected an integer")
    from sklearn.datasets import load_digits

    d = load_digits()
    i = _split_indices(seed)[split]
    return d.images[i], d.target[i].astype(np.int64)


def digits(split: str, size: int = 32, seed: int = 0) -> TensorDataset:
    """scikit-learn's handwritten digits as a `TensorDataset` of (3×size×size float32, int64 label).

    `split` is "train" (1,257 images), "val" (180) or "test" (360): a fixed stratified split drawn with
    `sklearn.model_selection.train_test_split(random_state=seed)`; the same seed always gives the same split
    and the three splits are disjoint. Images go through `preprocess(images, size)`. The dataset also carries
    `num_classes` (10), `split`, `size` and `seed`.
    """
    _check_size(size)
    images, labels = digits_arrays(split, seed)
    ds = TensorDataset(preprocess(images, size), torch.from_numpy(labels))
    ds.num_classes, ds.split, ds.size, ds.seed = 10, split, size, seed
    return ds


CIFAR10_MEAN, CIFAR10_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)  # per-channel, training set


def cifar10(root: str, split: str = "train"):
    """CIFAR-10 (32×32 RGB, 10 classes) from `root` via `torchvision.datasets.CIFAR10(download=False)`.

    Nothing is downloaded: absent data raises `DataNotFound` (a ValueError) saying how to get it. `split` is
    "train" (50,000) or "test" (10,000); images are normalised with the training set's per-channel mean / std.
    """
    _check("split", split, ("train", "test"))
    import torchvision
    from torchvision import transforms

    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD)])
    try:
        ds = torchvision.datasets.CIFAR10(root, train=split == "train", transform=tf, download=False)
    except RuntimeError:  # torchvision: "Dataset not found or corrupted"
        raise DataNotFound(f"cifar10: no data under {str(root)!r}, expected the extracted 'cifar-10-batches-py' "
                           f"folder there; get it once with torchvision.datasets.CIFAR10({str(root)!r}, "
                           "download=True)") from None
    ds.num_classes = 10
    return ds


def load(name: str, split: str, **kwargs):
    """A data set by name: "digits" (`digits(split, size, seed)`) or "cifar10" (`cifar10(root, split)`)."""
    _check("dataset", name, DATASETS)
    return digits(split, **kwargs) if name == "digits" else cifar10(split=split, **kwargs)
