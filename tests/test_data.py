"""mnv3lib.data: the digits' split, the exact preprocessing, and the loaders' one-line errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from one_line import raises

from mnv3lib import data


def test_splits_have_the_stated_sizes_and_are_disjoint_and_cover_the_set():
    parts = {s: data._split_indices(0)[s] for s in data.SPLITS}
    assert {s: len(i) for s, i in parts.items()} == {"train": 1257, "val": 180, "test": 360}
    every = np.concatenate(list(parts.values()))
    assert len(set(every.tolist())) == len(every) == 1797


def test_splits_are_stratified():
    for split, n in (("val", 18), ("test", 36)):
        counts = np.bincount(data.digits_arrays(split)[1], minlength=10)
        assert counts.min() >= n - 1 and counts.max() <= n + 1, (split, counts)


def test_the_split_is_fixed_by_its_seed():
    a, b, c = data.digits_arrays("test", 0), data.digits_arrays("test", 0), data.digits_arrays("test", 1)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_digits_dataset_items():
    ds = data.digits("val", size=16)
    x, y = ds[0]
    assert x.shape == (3, 16, 16) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert ds.num_classes == 10 and len(ds) == 180
    assert torch.equal(ds.tensors[0], data.digits("val", size=16).tensors[0])


def test_preprocess_follows_its_specification():
    images = data.digits_arrays("train")[0][:5]
    x = data.preprocess(images, size=32)
    assert x.shape == (5, 3, 32, 32) and x.dtype == torch.float32
    assert x.min() >= -1 and x.max() <= 1
    assert torch.equal(x[:, 0], x[:, 1]) and torch.equal(x[:, 0], x[:, 2])  # the three channels are equal
    # the docstring's formula, written out independently
    t = torch.tensor(images, dtype=torch.float32)[:, None] / 16
    want = (F.interpolate(t, size=(32, 32), mode="bilinear", align_corners=False) - 0.5) / 0.5
    assert torch.allclose(x[:, :1], want, atol=1e-6)
    # bilinear with align_corners=False: output pixel i samples input (i + 0.5) * 8 / 32 - 0.5 = 1.375 at i = 7
    row = data.preprocess(np.tile(np.arange(8.0) * 2, (8, 1)), size=32)[0, 0, 0]
    assert row[7].item() == pytest.approx((1.375 * 2 / 16 - 0.5) / 0.5, abs=1e-6)
    assert row[0].item() == pytest.approx(-1.0)  # clamped at the border


def test_preprocess_of_one_image_and_at_size_8_is_the_scaled_image():
    img = data.digits_arrays("test")[0][0]
    x = data.preprocess(img, size=8)
    assert x.shape == (1, 3, 8, 8)
    assert torch.allclose(x[0, 0], torch.tensor(img / 8 - 1, dtype=torch.float32), atol=1e-6)
    assert torch.equal(data.preprocess(img), data.preprocess(img))


@pytest.mark.parametrize("call, match", [
    (lambda: data.digits("dev"), r"split: got 'dev', expected one of 'train', 'val', 'test'"),
    (lambda: data.digits("train", size=4), r"size: got 4, expected an integer >= 8"),
    (lambda: data.load("mnist", "train"), r"dataset: got 'mnist', expected one of 'digits', 'cifar10'"),
    (lambda: data.preprocess(np.zeros((2, 28, 28))), r"images: got shape \(2, 28, 28\), expected \(N, 8, 8\)"),
    (lambda: data.cifar10("/nonexistent", "val"), r"split: got 'val', expected one of 'train', 'test'"),
])
def test_bad_input_is_one_line(call, match):
    with raises(match):
        call()


def test_absent_cifar10_says_how_to_get_it(tmp_path):
    with raises(r"cifar10: no data under .*download=True", data.DataNotFound):
        data.cifar10(tmp_path, "train")
    assert issubclass(data.DataNotFound, ValueError)
