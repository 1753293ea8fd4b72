"""One class per paper block: MobileNetV1's depthwise-separable convolution, MobileNetV2's
inverted residual with linear bottleneck, and MobileNetV3's bneck (the V2 block with
squeeze-and-excite and h-swish)."""
from __future__ import annotations

import torch
from torch import nn

from ._checks import MAX_CHANNELS, integer
from .layers import ConvBNAct, SqueezeExcite, make_divisible

__all__ = ["DepthwiseSeparable", "InvertedResidual", "Bneck"]


class DepthwiseSeparable(nn.Module):
    """MobileNetV1 §3.1, Figure 3: a D_K×D_K depthwise conv (one filter per input channel; D_K = 3
    in MobileNetV1) then a 1×1 pointwise conv that mixes channels, each followed by BatchNorm and ReLU."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, kernel: int = 3, **bn):
        super().__init__()
        self.depthwise = ConvBNAct(in_channels, in_channels, kernel, stride, groups=in_channels, nl="RE", **bn)
        self.pointwise = ConvBNAct(in_channels, out_channels, 1, nl="RE", **bn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class InvertedResidual(nn.Module):
    """MobileNetV2 §3.3, Table 1: 1×1 expansion to `exp` channels → k×k depthwise with stride →
    linear 1×1 projection to `out` channels, plus a residual connection when the shapes agree.

    The projection has no activation: ReLU on a narrow tensor destroys information (§3.2, the
    linear bottleneck). The expansion is skipped when `exp == in_channels` (t = 1): a 1×1 conv
    that does not widen would only add cost.
    """

    def __init__(self, in_channels: int, exp: int, out: int, stride: int = 1, kernel: int = 3,
                 nl: str = "RE6", se: bool = False, **bn):
        super().__init__()
        for field, value in (("in_channels", in_channels), ("exp", exp), ("out", out)):
            integer(field, value, 1, MAX_CHANNELS)
        if not isinstance(se, bool):
            raise ValueError(f"se: got {se!r}, expected True or False")
        self.use_residual = stride == 1 and in_channels == out
        self.expand = ConvBNAct(in_channels, exp, 1, nl=nl, **bn) if exp != in_channels else None
        self.depthwise = ConvBNAct(exp, exp, kernel, stride, groups=exp, nl=nl, **bn)
        # SE sits between depthwise and projection (MobileNetV3 Figure 4); V2 blocks have none.
        # squeeze = exp / 4 (§5.3), floored then rounded to a multiple of 8 as the reference code does
        self.se = SqueezeExcite(exp, make_divisible(exp // 4, 8)) if se else None
        self.project = ConvBNAct(exp, out, 1, nl=None, **bn)  # linear bottleneck

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.expand(x) if self.expand is not None else x
        y = self.depthwise(y)
        if self.se is not None:
            y = self.se(y)
        y = self.project(y)
        if self.use_residual:
            y += x  # in place: the projection's output is a fresh tensor
        return y


class Bneck(InvertedResidual):
    """MobileNetV3's bneck (§5, Figure 4): MobileNetV2's inverted residual with a choice of
    kernel (3 or 5), of nonlinearity ("RE" ReLU or "HS" h-swish), and optional squeeze-and-excite
    whose squeeze width is exp / 4 rounded to a multiple of 8 (§5.3). BatchNorm as in the
    reference code: eps 1e-3, momentum 0.01.
    """

    def __init__(self, in_channels: int, kernel: int, exp: int, out: int, se: bool, nl: str,
                 stride: int, bn_eps: float = 1e-3, bn_momentum: float = 0.01):
        if nl not in ("RE", "HS"):
            raise ValueError(f"nl: got {nl!r}, expected 'RE' or 'HS'")
        super().__init__(in_channels, exp, out, stride, kernel, nl=nl, se=se,
                         bn_eps=bn_eps, bn_momentum=bn_momentum)

    @classmethod
    def from_row(cls, row, in_channels: int | None = None, ch=lambda c: c, **bn) -> "Bneck":
        """The bneck one row of V3 Table 1 or 2 describes (a `configs.V3Row` with operator "bneck"): input
        channels from the row's input column unless given, `ch` scales exp and out (a width multiplier)."""
        if row.operator != "bneck":
            raise ValueError(f"row.operator: got {row.operator!r} in {row}, expected 'bneck'")
        cin = row.input[1] if in_channels is None else in_channels
        return cls(cin, row.kernel, ch(row.exp), ch(row.out), row.se, row.nl, row.stride, **bn)
