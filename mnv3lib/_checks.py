"""Validators for values entering mnv3lib: a bad one raises ValueError with one line naming the field, the value
and what was expected (DESIGN.md: errors are part of the interface). Imports nothing from mnv3lib.

The bounds on what is plausible live here, once. Beyond them a network would exhaust memory or mean nothing:
"""
from __future__ import annotations

import math

import torch
from torch import nn

MAX_WIDTH = 4.0          # width multiplier / alpha: the papers use 0.25–1.4; 4.0 is a ~90M-parameter V2
MAX_CLASSES = 100_000    # classifier outputs: ImageNet-21k has 21,841
MAX_RESOLUTION = 4096    # input height / width in pixels: the papers use 96–224
MAX_CHANNELS = 16_384    # channels in one table cell (input, exp, out, c); the papers' widest layer is 1280
MAX_KERNEL = 31          # kernel side in a table row (the papers: 3, 5, and the 7×7 pool)
MAX_REPEATS = 64         # V2 Table 2's n and t (the paper: n ≤ 4, t ≤ 6)
MAX_BYTES_PER_VALUE = 8  # bytes per stored activation: 1 (int8) … 8 (float64)
MAX_WEIGHTS = 200_000_000  # conv / linear weights a table may describe (800 MB in float32); V3-Large has 5.4M


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def number(field: str, value, low: float = 0.0, high: float | None = None, *, low_open: bool = True,
           high_open: bool = False, why: str = "") -> float:
    """A real number (not a bool, not a string) in the interval (low, high] unless told otherwise."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    ok = ok and (isinstance(value, int) or math.isfinite(value))  # a huge int is finite, and too big for float
    ok = ok and (value > low if low_open else value >= low)
    ok = ok and (high is None or (value < high if high_open else value <= high))
    if not ok:
        bound = (f"> {low:g}" if low_open else f">= {low:g}") + \
            ("" if high is None else f" and {'<' if high_open else '<='} {high:g}")
        raise ValueError(f"{field}: got {_show(value)}, expected a number {bound}{why}")
    return value


def integer(field: str, value, low: int = 1, high: int | None = None, why: str = "") -> int:
    """A Python int (not a bool, not a float) in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bound = f">= {low}" + ("" if high is None else f" and <= {high:,}")
        raise ValueError(f"{field}: got {_show(value)}, expected an integer {bound}{why}")
    return value


def module(field: str, value) -> nn.Module:
    """A torch.nn.Module, or a one-line error naming the type that came instead."""
    if not isinstance(value, nn.Module):
        raise ValueError(f"{field}: got {type(value).__name__} {_show(value)}, expected a torch.nn.Module "
                         "(e.g. mnv3lib.mobilenet_v3_large())")
    return value


def image_tensor(x, expected_dtype: torch.dtype) -> torch.Tensor:
    """A floating-point tensor of the model's dtype: what a network's first conv can take."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"input: got {type(x).__name__}, expected a torch.Tensor of shape (batch, 3, height, width) "
                         f"(torch.as_tensor(x, dtype={expected_dtype}) converts an array)")
    if not x.is_floating_point():
        raise ValueError(f"input dtype: got {x.dtype}, expected {expected_dtype} "
                         "(images as normalized floats, e.g. torchvision's weights.transforms(), not raw pixels)")
    if x.dtype != expected_dtype:
        raise ValueError(f"input dtype: got {x.dtype}, expected {expected_dtype} like the model's parameters "
                         f"(x.to({expected_dtype}), or convert the model)")
    return x
