"""MobileNetV1, V2 and V3 built from the papers' tables in `mnv3lib.configs`.

Every network has the same four parts, so tracing and weight mapping treat them alike:
`stem` (the first 3×3 conv) → `blocks` → `last_conv` (V2/V3's final 1×1 conv; absent in V1) →
global average pool → `classifier`.
"""
from __future__ import annotations

from dataclasses import replace

import torch
from torch import nn

from . import configs
from .blocks import Bneck, DepthwiseSeparable, InvertedResidual
from .configs import V1Row, V2Row, V3Row
from .layers import ConvBNAct, activation, make_divisible

__all__ = ["MobileNet", "MobileNetV1", "MobileNetV2", "MobileNetV3",
           "mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small",
           "ARCHS", "paper_rows", "small_image_model"]


def _check_width(field: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{field}: got {value!r}, expected a number > 0")


def _check_classes(num_classes) -> None:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes: got {num_classes!r}, expected an integer >= 1")


class MobileNet(nn.Module):
    """What the three MobileNets share: the forward pass, the input check and the initialisation."""

    in_channels = 3

    def __init__(self, rows: list, width_mult: float, num_classes: int):
        super().__init__()
        _check_width("width_mult", width_mult)
        _check_classes(num_classes)
        self.rows, self.width_mult, self.num_classes = list(rows), width_mult, num_classes
        self.last_conv: nn.Module | None = None
        self.arch: str | None = None  # set by the mobilenet_* builders

    @property
    def total_stride(self) -> int:
        """How much the network shrinks the image: an input smaller than this is rejected."""
        s = 1
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                s *= m.stride[0]
        return s

    def check_input(self, x: torch.Tensor) -> None:
        if x.dim() != 4:
            raise ValueError(f"input: got a {x.dim()}-D tensor of shape {tuple(x.shape)}, "
                             f"expected 4-D (batch, {self.in_channels}, height, width)")
        if x.shape[1] != self.in_channels:
            raise ValueError(f"input channels: got {x.shape[1]} (shape {tuple(x.shape)}), "
                             f"expected {self.in_channels}")
        if min(x.shape[2:]) < self._min_size:
            raise ValueError(f"input size: got {tuple(x.shape[2:])}, expected height and width >= "
                             f"{self._min_size} (the network's total stride)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        x = self.blocks(self.stem(x))
        if self.last_conv is not None:
            x = self.last_conv(x)
        x = torch.flatten(self.pool(x), 1)  # (N, C, 1, 1) → (N, C)
        return self.classifier(x)

    def _finish(self) -> None:
        self._min_size = self.total_stride
        # torchvision's initialisation, so that freshly built models are statistically alike
        for m in self.modules():
            if any(p.is_meta for p in m.parameters(recurse=False)):
                continue  # a shapes-only ("meta") network has no values to initialise; skipping makes it ~5× faster
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)


class MobileNetV1(MobileNet):
    """MobileNetV1 (Howard et al. 2017), §3.2 and Table 1; `alpha` is the width multiplier of §3.3."""

    def __init__(self, rows: list[V1Row] = configs.V1, alpha: float = 1.0, num_classes: int = 1000):
        super().__init__(rows, alpha, num_classes)
        self.alpha = alpha
        ch = lambda c: make_divisible(c * alpha, 8)  # noqa: E731  αN, kept a multiple of 8
        stem, *body = [r for r in rows if r.operator not in ("pool", "fc")]
        self.stem = ConvBNAct(3, ch(stem.out), stem.kernel, stem.stride, nl="RE")
        blocks, cin = [], ch(stem.out)
        for dw, pw in zip(body[::2], body[1::2]):  # Table 1 prints each layer as a dw row and a 1×1 row
            blocks.append(DepthwiseSeparable(cin, ch(pw.out), dw.stride))
            cin = ch(pw.out)
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(cin, num_classes)
        self._finish()


class MobileNetV2(MobileNet):
    """MobileNetV2 (Sandler et al. 2018), §4 and Table 2. The last 1×1 conv is never narrowed
    below 1280 channels, as in the reference code; a 0.2 dropout precedes the classifier."""

    def __init__(self, rows: list[V2Row] = configs.V2, width_mult: float = 1.0,
                 num_classes: int = 1000, dropout: float = 0.2):
        super().__init__(rows, width_mult, num_classes)
        ch = lambda c: make_divisible(c * width_mult, 8)  # noqa: E731
        stem = rows[0]
        self.stem = ConvBNAct(3, ch(stem.c), 3, stem.s, nl="RE6")
        blocks, cin = [], ch(stem.c)
        for r in rows:
            if r.operator == "bottleneck":
                for i in range(r.n):  # "n repeats; the first has stride s, the others 1" (§4)
                    exp = int(round(cin * r.t))
                    blocks.append(InvertedResidual(cin, exp, ch(r.c), r.s if i == 0 else 1))
                    cin = ch(r.c)
            elif r.operator == "conv2d 1x1":
                last = make_divisible(r.c * max(1.0, width_mult), 8)
                self.last_conv = ConvBNAct(cin, last, 1, nl="RE6")
                cin = last
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(cin, num_classes))
        self._finish()


class MobileNetV3(MobileNet):
    """MobileNetV3 (Howard et al. 2019), §5–§6, from the rows of Table 1 (Large) or 2 (Small).

    The head after the pool is "conv2d 1×1, NBN" in the paper: on a 1×1 map that is a linear
    layer, which is what the reference code and torchvision use (with dropout 0.2 before the last).
    """

    def __init__(self, rows: list[V3Row], width_mult: float = 1.0, num_classes: int = 1000,
                 dropout: float = 0.2):
        super().__init__(rows, width_mult, num_classes)
        ch = lambda c: make_divisible(c * width_mult, 8)  # noqa: E731
        bn = dict(bn_eps=1e-3, bn_momentum=0.01)  # the reference code's BatchNorm settings
        stem, *rest = rows
        self.stem = ConvBNAct(3, ch(stem.out), stem.kernel, stem.stride, nl=stem.nl, **bn,
                              se=self._squeeze(ch(stem.out)) if stem.se else 0)
        blocks, cin, prev_out = [], ch(stem.out), stem.out
        head = []
        for r in rest:
            if r.operator == "bneck":
                blocks.append(Bneck(cin, r.kernel, ch(r.exp), ch(r.out), r.se, r.nl, r.stride, **bn))
                cin, prev_out = ch(r.out), r.out
            elif r.operator == "conv2d":
                # The reference code writes the last conv as 6× the last bneck's width (960 = 6 × 160,
                # 576 = 6 × 96) and scales that, which can differ from scaling 960 itself.
                out = r.out // prev_out * cin if r.out % prev_out == 0 else ch(r.out)
                self.last_conv = ConvBNAct(cin, out, r.kernel, r.stride, nl=r.nl, **bn,
                                           se=self._squeeze(out) if r.se else 0)
                cin = out
            elif r.operator == "conv2d NBN" and r.out is not None:
                act = activation(r.nl) if r.nl is not None else nn.Identity()  # HS in both papers' tables
                head += [nn.Linear(cin, ch(r.out)), act, nn.Dropout(dropout, inplace=True)]
                cin = ch(r.out)
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(*head, nn.Linear(cin, num_classes))
        self._finish()

    @staticmethod
    def _squeeze(channels: int) -> int:
        return make_divisible(channels // 4, 8)


def _named(model: MobileNet, arch: str) -> MobileNet:
    model.arch = arch  # lets mnv3lib.reference find torchvision's counterpart
    return model


def mobilenet_v1(alpha: float = 1.0, num_classes: int = 1000) -> MobileNetV1:
    """MobileNetV1 with width multiplier `alpha` (V1 §3.3). The resolution multiplier ρ is the
    input size: the network takes any input of at least 32×32."""
    _check_width("alpha", alpha)
    return _named(MobileNetV1(configs.V1, alpha, num_classes), "mobilenet_v1")


def mobilenet_v2(width_mult: float = 1.0, num_classes: int = 1000, dropout: float = 0.2) -> MobileNetV2:
    """MobileNetV2 (V2 Table 2) with a width multiplier (V2 §6.1)."""
    return _named(MobileNetV2(configs.V2, width_mult, num_classes, dropout), "mobilenet_v2")


def mobilenet_v3_large(width_mult: float = 1.0, num_classes: int = 1000,
                       dropout: float = 0.2) -> MobileNetV3:
    """MobileNetV3-Large (V3 Table 1)."""
    return _named(MobileNetV3(configs.V3_LARGE, width_mult, num_classes, dropout), "mobilenet_v3_large")


def mobilenet_v3_small(width_mult: float = 1.0, num_classes: int = 1000, dropout: float = 0.2,
                       as_printed: bool = False) -> MobileNetV3:
    """MobileNetV3-Small (V3 Table 2).

    The paper's table puts SE on the last 1×1 conv; the TF reference code and torchvision do not,
    and their trained weights have none. By default mnv3lib follows them (so weights transfer);
    `as_printed=True` builds the table exactly as printed.
    """
    if as_printed:
        return _named(MobileNetV3(configs.V3_SMALL, width_mult, num_classes, dropout),
                      "mobilenet_v3_small_as_printed")
    return _named(MobileNetV3(_v3_small_rows(), width_mult, num_classes, dropout), "mobilenet_v3_small")


def _v3_small_rows() -> list[V3Row]:
    """Table 2 without the SE on the last 1×1 conv, as the reference code and torchvision build it."""
    rows = configs.V3_SMALL
    return [replace(r, se=False) if r.operator == "conv2d" and r is not rows[0] else r for r in rows]


# The command line's and chapter 6's short names for the four networks.
ARCHS = ("v1", "v2", "v3-small", "v3-large")


def paper_rows(arch: str) -> list:
    """The rows `arch` ("v1", "v2", "v3-small", "v3-large") is built from, as the mobilenet_* builders use them."""
    if arch not in ARCHS:
        raise ValueError(f"arch: got {arch!r}, expected one of {', '.join(ARCHS)}")
    return {"v1": configs.V1, "v2": configs.V2, "v3-large": configs.V3_LARGE}.get(arch) or _v3_small_rows()


def small_image_model(arch: str, width_mult: float = 1.0, num_classes: int = 10, input_size: int = 32,
                      rows: list | None = None, unstrided: int = 2) -> MobileNet:
    """The network `arch` for small images (chapter 6): the paper's rows through
    `configs.for_small_images` (the first `unstrided` stride-2 rows at stride 1: by default the stem and
    the first downsampling stage, total stride 8), at `width_mult` (V1's α). `rows` replaces the paper's
    (e.g. an ablation's edited copy of them)."""
    rows = configs.for_small_images(paper_rows(arch) if rows is None else rows, input_size, unstrided)
    cls = {"v1": MobileNetV1, "v2": MobileNetV2}.get(arch, MobileNetV3)
    model = cls(rows, width_mult, num_classes)
    model.arch = f"{arch} for {input_size}×{input_size} images"
    return model
