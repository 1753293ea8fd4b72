"""The small pieces every MobileNet is made of: channel rounding, conv-BN-activation,
h-sigmoid / h-swish (MobileNetV3 §5.2) and squeeze-and-excite (MobileNetV3 §5.3)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._checks import MAX_CHANNELS, MAX_KERNEL, integer, number

__all__ = [
    "make_divisible", "h_sigmoid", "h_swish", "HSigmoid", "HSwish",
    "NL", "activation", "ConvBNAct", "SqueezeExcite",
]


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round a channel count to the nearest multiple of `divisor`, never more than 10 % below `value`.

    The rule of the TF reference code and of torchvision (`_make_divisible`); every width multiplier
    in mnv3lib goes through it, so scaled networks match torchvision layer for layer.
    """
    number("value", value, 0, low_open=False)
    integer("divisor", divisor)
    min_value = divisor if min_value is None else integer("min_value", min_value, 0)
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:  # rounding down must not lose more than 10 % of the channels
        rounded += divisor
    return rounded


def h_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """h-sigmoid(x) = ReLU6(x + 3) / 6, the piecewise-linear sigmoid of MobileNetV3 §5.2."""
    return F.relu6(x + 3.0) / 6.0


def h_swish(x: torch.Tensor) -> torch.Tensor:
    """h-swish(x) = x · ReLU6(x + 3) / 6, MobileNetV3 §5.2."""
    return x * h_sigmoid(x)


class HSigmoid(nn.Module):
    """Module form of `h_sigmoid` (MobileNetV3 §5.2).

    Runs PyTorch's fused kernel, which computes the same formula in one pass (the tests prove the
    equality); the three-op version above is the one to read.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.hardsigmoid(x)


class HSwish(nn.Module):
    """Module form of `h_swish` (MobileNetV3 §5.2), on PyTorch's fused kernel like `HSigmoid`."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.hardswish(x, inplace=self.inplace)


# The papers' names for the nonlinearities: "RE" and "HS" are the NL column of MobileNetV3's
# tables; V2 uses ReLU6 ("RE6"); V1 uses plain ReLU.
NL = {"RE": nn.ReLU, "RE6": nn.ReLU6, "HS": HSwish}


def activation(nl: str) -> nn.Module:
    """A fresh activation module for the paper name `nl` ("RE", "RE6" or "HS")."""
    if not isinstance(nl, str) or nl not in NL:
        raise ValueError(f"nl: got {nl!r}, expected one of {sorted(NL)}")
    # A new instance per use: hooks and in-place flags never leak between layers.
    return NL[nl](inplace=True)


def _check_conv(in_channels, out_channels, kernel, stride, groups, se) -> None:
    for field, value in (("in_channels", in_channels), ("out_channels", out_channels)):
        integer(field, value, 1, MAX_CHANNELS)
    if integer("kernel", kernel, 1, MAX_KERNEL) % 2 == 0:
        raise ValueError(f"kernel: got {kernel}, expected an odd integer (\"same\" padding needs a centre)")
    integer("stride", stride, 1, 2)
    if in_channels % integer("groups", groups) or out_channels % groups:
        raise ValueError(f"groups: got {groups}, expected a divisor of in_channels {in_channels} "
                         f"and out_channels {out_channels}")
    integer("se", se, 0, MAX_CHANNELS, why=" (the squeeze width; 0 for none)")


class ConvBNAct(nn.Module):
    """Convolution → BatchNorm → nonlinearity, the unit every row of the papers' tables is built from.

    `groups=in_channels` makes it depthwise (MobileNetV1 §3.1); `nl=None` makes it linear, as in
    MobileNetV2's linear bottleneck (§3.2). `se` > 0 appends a squeeze-and-excite of that width after
    the activation (only the "as printed" MobileNetV3-Small uses it, on its last 1×1 conv).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: int = 1, stride: int = 1,
                 groups: int = 1, nl: str | None = "RE", bn_eps: float = 1e-5,
                 bn_momentum: float = 0.1, se: int = 0):
        super().__init__()
        _check_conv(in_channels, out_channels, kernel, stride, groups, se)
        # "same" padding: the spatial size only changes by the stride
        self.conv = nn.Conv2d(in_channels, out_channels, kernel, stride, (kernel - 1) // 2,
                              groups=groups, bias=False)  # BN's shift makes a conv bias redundant
        self.bn = nn.BatchNorm2d(out_channels, eps=bn_eps, momentum=bn_momentum)
        self.act = activation(nl) if nl is not None else None
        self.se = SqueezeExcite(out_channels, se) if se else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.conv(x))
        if self.act is not None:
            x = self.act(x)
        if self.se is not None:
            x = self.se(x)
        return x


class SqueezeExcite(nn.Module):
    """Squeeze-and-excite as MobileNetV3 uses it (§5.3): global average pool → 1×1 conv to
    `squeeze` channels → ReLU → 1×1 conv back → h-sigmoid gate, multiplied onto the input.

    The papers' `squeeze` is 1/4 of the expansion width; `mnv3lib.blocks` rounds it with
    `make_divisible(exp / 4, 8)` as the reference code does.
    """

    def __init__(self, channels: int, squeeze: int):
        super().__init__()
        integer("channels", channels, 1, MAX_CHANNELS)
        integer("squeeze", squeeze, 1, MAX_CHANNELS)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)  # the "fc" layers of SE, as 1×1 convs with bias
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.gate = HSigmoid()

    def scale(self, x: torch.Tensor) -> torch.Tensor:
        """The per-channel gate in [0, 1], shape (N, C, 1, 1); the book plots it."""
        s = F.adaptive_avg_pool2d(x, 1)           # (N, C, 1, 1): squeeze
        return self.gate(self.fc2(self.relu(self.fc1(s))))  # excite

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale(x)
