"""MobileNetV3's efficient last stage (§5.1, Figure 5) and the original one it replaced.

The original last stage is MobileNetV2's ending (V2 Table 2) on MobileNetV3's widths: after the
last bneck come a 1×1 expansion (960), a 3×3 depthwise filter, a linear 1×1 projection (320) and
a 1×1 conv to 1280 channels, all at 7×7, then the pool and the classifier. The efficient stage
keeps only the 1×1 expansion at 7×7 and moves the 1280-wide layer past the pool, where it runs
on a 1×1 map; the depthwise filter and the projection, there only to make the 7×7 1280 conv
cheaper, go.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from .layers import ConvBNAct, make_divisible
from .models import MobileNetV3

__all__ = ["LastStage", "original_last_stage"]


def _check_v3(model) -> None:
    if not isinstance(model, MobileNetV3):
        raise ValueError(f"model: got {type(model).__name__}, expected an mnv3lib MobileNetV3 "
                         "(mobilenet_v3_large or mobilenet_v3_small)")


class LastStage(nn.Module):
    """Everything of `model` after its last bneck (last conv → pool → classifier), as one module.

    It takes the last bneck's output, e.g. (N, 160, 7, 7) for MobileNetV3-Large at 224, so the
    two designs of Figure 5 can be counted and timed on their own. It shares `model`'s layers.
    """

    def __init__(self, model: MobileNetV3):
        super().__init__()
        _check_v3(model)
        self.last_conv, self.pool = model.last_conv, model.pool
        self.classifier = model.classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.last_conv(x)), 1))


def original_last_stage(model: MobileNetV3, proj: int | None = None) -> MobileNetV3:
    """A copy of `model` with V3 Figure 5's original last stage instead of the efficient one.

    At 7×7: the model's 1×1 expansion (960 for Large) → 3×3 depthwise, h-swish → linear
    1×1 projection to `proj` channels → 1×1 conv to the width of the model's hidden head
    layer (1280 for Large), h-swish; then pool → dropout → linear classifier. `proj`
    defaults to twice the last bneck's output (320 = 2 × 160 for Large, as in MobileNetV2's
    last bottleneck). Everything before the last stage is copied unchanged.
    """
    _check_v3(model)
    if proj is not None and (isinstance(proj, bool) or not isinstance(proj, int) or proj < 1):
        raise ValueError(f"proj: got {proj!r}, expected a positive integer "
                         "(channels of the 1×1 projection)")
    new = copy.deepcopy(model)
    expand = new.last_conv                         # 1×1 conv to 960, BN, h-swish: kept
    exp = expand.conv.out_channels
    if proj is None:
        proj = make_divisible(2 * expand.conv.in_channels, 8)
    hidden, drop, fc = new.classifier[0], new.classifier[2], new.classifier[-1]
    last = hidden.out_features                     # the 1280 the efficient stage runs at 1×1
    bn = dict(bn_eps=expand.bn.eps, bn_momentum=expand.bn.momentum)
    new.last_conv = nn.Sequential(
        expand,
        ConvBNAct(exp, exp, 3, groups=exp, nl="HS", **bn),  # the depthwise "filtering"
        ConvBNAct(exp, proj, 1, nl=None, **bn),             # linear projection (V2 §3.2)
        ConvBNAct(proj, last, 1, nl="HS", **bn),            # the feature layer, at 7×7
    )
    new.classifier = nn.Sequential(nn.Dropout(drop.p), nn.Linear(last, fc.out_features))
    new.arch = f"{model.arch}_original_last_stage"  # no torchvision twin: to_torchvision refuses
    new._finish()  # initialise the new layers as every mnv3lib model is initialised ...
    state = new.state_dict()
    for key, value in model.state_dict().items():  # ... and give the kept ones their tensors
        if key.startswith("last_conv."):
            state["last_conv.0." + key[len("last_conv."):]] = value.clone()
        elif not key.startswith("classifier."):
            state[key] = value.clone()
    new.load_state_dict(state)
    return new
