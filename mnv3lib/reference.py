"""torchvision interop: move weights between torchvision's MobileNetV2/V3 and mnv3lib's.

Module names differ (torchvision: `features.4.block.2.fc1`; mnv3lib: `blocks.3.se.fc1`), so the
mapping is written out once, here, key by key, with a shape check on every tensor, in the
manner of nanoGPT's `from_pretrained`. Nothing else in mnv3lib knows torchvision's names.
"""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from .models import MobileNet, MobileNetV2, MobileNetV3, mobilenet_v2, mobilenet_v3_large, mobilenet_v3_small

__all__ = ["from_torchvision", "to_torchvision", "torchvision_keys", "StateDictMismatch"]

BUILDERS = {
    "mobilenet_v2": mobilenet_v2,
    "mobilenet_v3_large": mobilenet_v3_large,
    "mobilenet_v3_small": mobilenet_v3_small,
}
# Widths tried when recognising a torchvision model: the published ones first, then every
# multiple of 0.05 up to 3.
_COMMON = [1.0, 0.75, 0.5, 1.25, 0.35, 1.4]
_WIDTHS = _COMMON + [w for w in (round(0.05 * i, 2) for i in range(1, 61)) if w not in _COMMON]


class StateDictMismatch(ValueError):
    """A state dict whose keys or shapes do not fit the model it is loaded into."""


def _module_pairs(model: MobileNet) -> dict[str, str]:
    """mnv3lib module path → torchvision module path, for every module holding tensors."""
    pairs: dict[str, str] = {}

    def conv_bn(ours: str, theirs: str) -> None:  # ConvBNAct ↔ Conv2dNormActivation
        pairs[f"{ours}.conv"], pairs[f"{ours}.bn"] = f"{theirs}.0", f"{theirs}.1"

    conv_bn("stem", "features.0")
    for i, b in enumerate(model.blocks):
        ours, theirs = f"blocks.{i}", f"features.{i + 1}"
        if isinstance(model, MobileNetV3):  # torchvision: block = [expand?, depthwise, se?, project]
            parts = [p for p in ("expand", "depthwise", "se", "project") if getattr(b, p) is not None]
            for j, p in enumerate(parts):
                if p == "se":
                    for fc in ("fc1", "fc2"):
                        pairs[f"{ours}.se.{fc}"] = f"{theirs}.block.{j}.{fc}"
                else:
                    conv_bn(f"{ours}.{p}", f"{theirs}.block.{j}")
        else:  # MobileNetV2, torchvision: conv = [expand?, depthwise, project conv, project bn]
            parts = [p for p in ("expand", "depthwise") if getattr(b, p) is not None]
            for j, p in enumerate(parts):
                conv_bn(f"{ours}.{p}", f"{theirs}.conv.{j}")
            j = len(parts)
            pairs[f"{ours}.project.conv"], pairs[f"{ours}.project.bn"] = f"{theirs}.conv.{j}", f"{theirs}.conv.{j + 1}"
    conv_bn("last_conv", f"features.{len(model.blocks) + 1}")
    for name, m in model.classifier.named_children():
        if isinstance(m, nn.Linear):  # both classifiers are laid out alike
            pairs[f"classifier.{name}"] = f"classifier.{name}"
    return pairs


def torchvision_keys(model: MobileNet) -> dict[str, str]:
    """mnv3lib state-dict key → the torchvision key holding the same tensor."""
    if not isinstance(model, (MobileNetV2, MobileNetV3)):
        raise ValueError(f"model: got {type(model).__name__}, expected an mnv3lib MobileNetV2 or MobileNetV3 "
                         "(torchvision has no MobileNetV1)")
    pairs = _module_pairs(model)
    keys = {}
    for key in model.state_dict():
        module, tensor = key.rsplit(".", 1)
        if module not in pairs:
            raise ValueError(f"model: {key} has no torchvision counterpart "
                             f"(arch {model.arch!r}), expected a model torchvision can build")
        keys[key] = f"{pairs[module]}.{tensor}"
    return keys


def _names(keys: set[str], limit: int = 6) -> str:
    shown = sorted(keys)[:limit]
    return ", ".join(shown) + (f", … ({len(keys)} in all)" if len(keys) > limit else "")


def _check_values(state: Mapping) -> None:
    """Every value a tensor of finite numbers: a list, or weights gone NaN in training, would load silently."""
    for k, v in state.items():
        if not isinstance(v, torch.Tensor):
            raise StateDictMismatch(f"state dict: {k} holds a {type(v).__name__}, expected a tensor")
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            raise StateDictMismatch(f"state dict: {k} holds NaN or infinite values, expected finite weights")


def _load(model: MobileNet, state: Mapping[str, torch.Tensor]) -> MobileNet:
    odd = next((k for k in state if not isinstance(k, str)), None)
    if odd is not None:
        raise StateDictMismatch(f"state dict: key {odd!r:.40} is of type {type(odd).__name__}, expected str keys "
                                "such as 'features.0.0.weight'")
    keys = torchvision_keys(model)
    expected = set(keys.values())
    missing, unexpected = expected - set(state), set(state) - expected
    if missing or unexpected:
        parts = ([f"missing keys {_names(missing)}"] if missing else []) + \
                ([f"unexpected keys {_names(unexpected)}"] if unexpected else [])
        raise StateDictMismatch(f"state dict: {'; '.join(parts)}; expected the keys of torchvision's "
                                f"{model.arch} at width {model.width_mult}")
    ours = model.state_dict()
    for k, tv in keys.items():
        if not isinstance(state[tv], torch.Tensor):
            raise StateDictMismatch(f"state dict: {tv} holds a {type(state[tv]).__name__}, expected a tensor")
        if state[tv].shape != ours[k].shape:
            raise StateDictMismatch(f"state dict: {tv} has shape {tuple(state[tv].shape)}, expected "
                                    f"{tuple(ours[k].shape)} (torchvision's {model.arch} at width {model.width_mult})")
    _check_values({tv: state[tv] for tv in keys.values()})
    model.load_state_dict({k: state[tv] for k, tv in keys.items()})
    return model


def _recognise(tv_model: nn.Module) -> MobileNet:
    """The mnv3lib model (architecture, width, classes, dropout) whose tensors fit `tv_model`'s."""
    import torchvision.models as tvm

    if isinstance(tv_model, tvm.MobileNetV2):
        archs = ["mobilenet_v2"]
    elif isinstance(tv_model, tvm.MobileNetV3):
        archs = ["mobilenet_v3_large", "mobilenet_v3_small"]
    else:
        raise ValueError(f"model: got {type(tv_model).__name__}, expected torchvision's MobileNetV2 or MobileNetV3")
    layout = [nn.Dropout, nn.Linear] if archs == ["mobilenet_v2"] else [nn.Linear, nn.Hardswish, nn.Dropout, nn.Linear]
    head = list(tv_model.classifier) if isinstance(tv_model.classifier, nn.Sequential) else [tv_model.classifier]
    if [type(m) for m in head] != layout:
        raise ValueError(f"model: its classifier is ({', '.join(type(m).__name__ for m in head)}), expected "
                         f"torchvision's ({', '.join(t.__name__ for t in layout)}); to fine-tune, replace only the "
                         "last layer: model.classifier[-1] = nn.Linear(model.classifier[-1].in_features, classes)")
    linears = [m for m in head if isinstance(m, nn.Linear)]
    dropout = next(m.p for m in head if isinstance(m, nn.Dropout))
    shapes = {k: v.shape for k, v in tv_model.state_dict().items()}
    for w in _WIDTHS:
        for arch in archs:
            candidate = BUILDERS[arch](width_mult=w, num_classes=linears[-1].out_features, dropout=dropout)
            ours = {tv: candidate.state_dict()[k].shape for k, tv in torchvision_keys(candidate).items()}
            if ours == shapes:
                return candidate
    raise ValueError(f"model: this {type(tv_model).__name__} matches no mnv3lib architecture at widths "
                     f"0.05–3.0, expected one built by torchvision.models.{'/'.join(archs)}(width_mult=...)")


def from_torchvision(source: nn.Module | Mapping[str, torch.Tensor], arch: str | None = None,
                     width_mult: float = 1.0, num_classes: int | None = None) -> MobileNet:
    """The mnv3lib model of the same architecture and width as `source`, holding its weights.

    `source` is a torchvision MobileNetV2/V3 model (recognised by its tensors' shapes), or a
    torchvision state dict together with `arch` ("mobilenet_v2", "mobilenet_v3_large",
    "mobilenet_v3_small") and `width_mult`. Every key must fit: missing and unexpected keys are
    named in a `StateDictMismatch`.
    """
    if isinstance(source, nn.Module):
        model = _recognise(source)
        state = source.state_dict()
    elif isinstance(source, Mapping):
        if not isinstance(arch, str) or arch not in BUILDERS:
            raise ValueError(f"arch: got {arch!r}, expected one of {sorted(BUILDERS)} with a state dict")
        if num_classes is None:  # the last linear layer says how many classes the weights were trained for
            last = "classifier.3.weight" if arch != "mobilenet_v2" else "classifier.1.weight"
            weight = source.get(last)
            if last in source and not (isinstance(weight, torch.Tensor) and weight.dim() == 2):
                got = f"a tensor of shape {tuple(weight.shape)}" if isinstance(weight, torch.Tensor) else \
                    f"a {type(weight).__name__}"
                raise StateDictMismatch(f"state dict: {last} holds {got}, expected a 2-D tensor (classes, features)")
            num_classes = weight.shape[0] if last in source else 1000
        model = BUILDERS[arch](width_mult=width_mult, num_classes=num_classes)
        state = source
    else:
        raise ValueError(f"source: got {type(source).__name__}, expected a torchvision model or a state dict")
    return _load(model, state).train(source.training if isinstance(source, nn.Module) else False)


def to_torchvision(model: MobileNet) -> nn.Module:
    """torchvision's model of the same architecture, width and classes, holding `model`'s weights."""
    import torchvision.models as tvm

    if getattr(model, "arch", None) not in BUILDERS:
        raise ValueError(f"model: got arch {getattr(model, 'arch', None)!r}, expected one of {sorted(BUILDERS)} "
                         "(torchvision has no MobileNetV1, no custom tables, no SE on V3-Small's last conv)")
    dropout = next(m.p for m in model.classifier if isinstance(m, nn.Dropout))
    tv = getattr(tvm, model.arch)(weights=None, width_mult=model.width_mult,
                                  num_classes=model.num_classes, dropout=dropout)
    state = model.state_dict()
    keys = torchvision_keys(model)
    tv.load_state_dict({tv_key: state[k] for k, tv_key in keys.items()})
    return tv.train(model.training)
