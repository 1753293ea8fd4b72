"""Networks the papers' cost tables need that `mnv3lib.models` does not build, from mnv3lib's pieces:
MobileNetV1 with full convolutions (V1 Table 4) and MobileNetV3 scaled the way the paper's
reference code scales it (V3 Table 3's 0.75 rows). `mnv3lib.papers` compares their costs to the papers'.
"""
from __future__ import annotations

from dataclasses import replace

from torch import nn

from . import configs
from .layers import ConvBNAct, make_divisible
from .models import MobileNetV3, mobilenet_v1, mobilenet_v3_small

__all__ = ["conv_mobilenet_v1", "mobilenet_v3_tf", "mobilenet_v3_small_head"]


def conv_mobilenet_v1(alpha: float = 1.0, num_classes: int = 1000) -> nn.Module:
    """V1 Table 4's "Conv MobileNet": MobileNetV1 with every depthwise-separable layer replaced by
    a full 3×3 conv (same channels and strides), built from mnv3lib's ConvBNAct."""
    model = mobilenet_v1(alpha, num_classes)
    model.blocks = nn.Sequential(*[ConvBNAct(b.depthwise.conv.in_channels, b.pointwise.conv.out_channels, 3,
                                             b.depthwise.conv.stride[0]) for b in model.blocks])
    return model


def mobilenet_v3_tf(arch: str = "large", depth_multiplier: float = 1.0,
                    finegrain_classification_mode: bool = True, num_classes: int = 1000) -> MobileNetV3:
    """MobileNetV3 scaled as the paper's reference code scales it (tensorflow/models,
    research/slim/nets/mobilenet/mobilenet_v3.py), which torchvision's `width_mult` does not:

    - the code writes each bneck's expansion as a FACTOR OF ITS INPUT (`mbv3_op(ef=...)` →
      `expand_input_by_factor`): exp = make_divisible(scaled input × exp/input, 8), while torchvision
      scales the printed exp itself (64·0.75 = 48, where the code gives 16·4 = 64);
    - `finegrain_classification_mode=True` leaves the last layer (1280 / 1024, "conv2d 1×1, NBN")
      unscaled: the code replaces its multiplier function by the identity;
    - everything else (outputs, stem, the 960/576 conv, SE = exp/4) is make_divisible(c·dm, 8) in both.
    Small has no SE on its last conv, as in the code and torchvision.
    """
    if arch not in ("large", "small"):
        raise ValueError(f"arch: got {arch!r}, expected 'large' or 'small'")
    if isinstance(depth_multiplier, bool) or not isinstance(depth_multiplier, (int, float)) or depth_multiplier <= 0:
        raise ValueError(f"depth_multiplier: got {depth_multiplier!r}, expected a number > 0")
    rows = configs.V3_LARGE if arch == "large" else configs.V3_SMALL
    scale = lambda c: make_divisible(c * depth_multiplier, 8)  # noqa: E731  lib.depth_multiplier
    out, cin = [], None
    for r in rows:
        if r.operator == "bneck":
            exp = max(make_divisible(cin * r.exp / r.input[1], 8), cin)  # no expand conv if not wider
            r = replace(r, input=(r.input[0], cin), exp=exp, out=scale(r.out))
        elif r.operator == "conv2d":
            r = replace(r, input=(r.input[0], cin or r.input[1]), out=scale(r.out), se=False)
        elif r.operator == "conv2d NBN" and r.out is not None and not finegrain_classification_mode:
            r = replace(r, out=scale(r.out))
        out.append(r)
        cin = r.out if r.operator in ("bneck", "conv2d") else cin
    model = MobileNetV3(out, 1.0, num_classes)  # channels are final: width 1.0 keeps them
    model.width_mult = depth_multiplier
    return model


def mobilenet_v3_small_head(head: int = 1280, num_classes: int = 1000) -> MobileNetV3:
    """MobileNetV3-Small with another width for its last layer (1024 in the final paper; an earlier
    arXiv version printed 1280 with 66M MAdds / 2.9M params)."""
    rows = [replace(r, out=head) if r.operator == "conv2d NBN" and r.out is not None else r
            for r in mobilenet_v3_small().rows]
    return MobileNetV3(rows, 1.0, num_classes)
