"""Which shape flows into every layer, without running the network (used by `mnv3lib.costs`).

One rule per class mirrors that class's forward(): the conv output size follows from kernel, stride,
padding and dilation, BN and activations keep the shape, SE works on the 1×1 pooled map, and so on.
A rule applies only if the module runs that very forward (a subclass overriding forward is traced
instead); a module without a rule is run once on the 'meta' device with forward hooks, which is
exact but ~100× slower (PyTorch's meta kernels for BN and activations are Python).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call

from . import _checks, blocks, layers, models

Shape = tuple  # one sample's shape, no batch dimension: (C, H, W) or (features,)


def numel(shape: Shape) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


class Flow:
    """The result of a walk: `layers` = [(name, module, in_shape, out_shape)] of every conv and
    linear layer in forward order; `trail` = the same for every module, in order of completion."""

    def __init__(self, model: nn.Module):
        self.names = {m: n for n, m in model.named_modules()}
        self.layers: list[tuple[str, nn.Module, Shape, Shape]] = []
        self.trail: list[tuple[str, nn.Module, Shape, Shape]] = []

    def __call__(self, m: nn.Module, shape: Shape) -> Shape:
        rule = rule_for(m)
        out = rule(self, m, shape) if rule else self.trace(m, shape)
        self.trail.append((self.names.get(m, ""), m, shape, out))
        return out

    def layer(self, m: nn.Module, shape: Shape, out: Shape) -> Shape:
        self.layers.append((self.names.get(m, ""), m, shape, out))
        return out

    def trace(self, m: nn.Module, shape: Shape) -> Shape:
        seen, out = meta_trace(m, shape)
        for sub, i, o in seen:
            if sub is not m:
                self.trail.append((self.names.get(sub, ""), sub, i, o))
            self.layer(sub, i, o)
        return out


def _conv(w: Flow, m: nn.Conv2d, s: Shape) -> Shape:
    name = w.names.get(m, "")
    if len(s) != 3 or s[0] != m.in_channels:
        raise ValueError(f"input_size: {name} (Conv2d) gets shape {s}, expected ({m.in_channels}, H, W)")
    hw = []
    for i in (0, 1):
        if m.padding == "same":  # PyTorch allows it with stride 1 only: the size is kept
            hw.append(s[1 + i])
            continue
        pad = 0 if m.padding == "valid" else m.padding[i]
        span = m.dilation[i] * (m.kernel_size[i] - 1) + 1  # the dilated kernel's extent
        hw.append((s[1 + i] + 2 * pad - span) // m.stride[i] + 1)
    if min(hw) < 1:
        raise ValueError(f"input_size: {name} (Conv2d) gets shape {s}, too small for its kernel and stride")
    return w.layer(m, s, (m.out_channels, *hw))


def _linear(w: Flow, m: nn.Linear, s: Shape) -> Shape:
    if not s or s[-1] != m.in_features:
        raise ValueError(f"input_size: {w.names.get(m, '')} (Linear) gets shape {s}, expected (..., {m.in_features})")
    return w.layer(m, s, (*s[:-1], m.out_features))


def _same(w, m, s):  # BatchNorm, activations, dropout: elementwise
    return s


def _adaptive_pool(w, m, s):
    size = m.output_size if isinstance(m.output_size, tuple) else (m.output_size, m.output_size)
    return (s[0], *(o if o is not None else i for o, i in zip(size, s[1:])))


def _flatten(w, m, s):
    full = (1, *s)  # Flatten's dims count the batch
    start, end = m.start_dim % len(full), m.end_dim % len(full)
    return (*full[:start], numel(full[start:end + 1]), *full[end + 1:])[1:]


def _sequential(w, m, s):
    for child in m:
        s = w(child, s)
    return s


def _squeeze_excite(w, m, s):
    w(m.fc2, w(m.relu, w(m.fc1, (s[0], 1, 1))))  # on the pooled 1×1 map; the gate keeps x's shape
    return s


def _conv_bn_act(w, m, s):
    s = w(m.bn, w(m.conv, s))
    if m.act is not None:
        s = w(m.act, s)
    return w(m.se, s) if m.se is not None else s


def _depthwise_separable(w, m, s):
    return w(m.pointwise, w(m.depthwise, s))


def _inverted_residual(w, m, s):
    y = w(m.expand, s) if m.expand is not None else s
    y = w(m.depthwise, y)
    if m.se is not None:
        y = w(m.se, y)
    return w(m.project, y)  # the residual add keeps the shape


def _mobilenet(w, m, s):
    dtype = next(m.parameters()).dtype
    m.check_input(torch.empty((1, *s), device="meta", dtype=dtype))  # the model's own input check, no compute
    s = w(m.blocks, w(m.stem, s))
    if m.last_conv is not None:
        s = w(m.last_conv, s)
    return w(m.classifier, (numel(w(m.pool, s)),))  # torch.flatten(·, 1)


ELEMENTWISE = (nn.BatchNorm2d, nn.BatchNorm1d, nn.ReLU, nn.ReLU6, nn.Hardswish, nn.Hardsigmoid, nn.Sigmoid,
               nn.SiLU, nn.Identity, nn.Dropout, layers.HSwish, layers.HSigmoid)
RULES = {nn.Conv2d: _conv, nn.Linear: _linear, nn.AdaptiveAvgPool2d: _adaptive_pool, nn.Flatten: _flatten,
         nn.Sequential: _sequential, layers.SqueezeExcite: _squeeze_excite, layers.ConvBNAct: _conv_bn_act,
         blocks.DepthwiseSeparable: _depthwise_separable, blocks.InvertedResidual: _inverted_residual,
         models.MobileNet: _mobilenet, **{t: _same for t in ELEMENTWISE}}


def rule_for(m: nn.Module):
    """The rule of the nearest ruled ancestor class, if the module runs that class's forward."""
    for cls in type(m).__mro__:
        if cls in RULES:
            return RULES[cls] if type(m).forward is cls.forward else None
    return None


def meta_trace(model: nn.Module, shape: Shape):
    """Run `model` once on the 'meta' device: parameters and buffers are swapped for meta
    stand-ins, so nothing is computed, allocated or updated (BN statistics stay as they are).
    Returns [(layer, in_shape, out_shape)] of its conv/linear layers, and the output shape."""
    seen = []
    hook = lambda m, i, o: seen.append((m, tuple(i[0].shape[1:]), tuple(o.shape[1:])))  # noqa: E731
    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    stand_ins = {k: torch.empty_like(v, device="meta") for k, v in model.state_dict(keep_vars=True).items()}
    modes = [(m, m.training) for m in model.modules()]
    model.eval()  # train-mode BN rejects a batch of one on a 1×1 map; shapes don't depend on the mode
    try:
        with torch.no_grad():
            out = functional_call(model, stand_ins, (torch.empty((1, *shape), device="meta"),))
    finally:
        for h in handles:
            h.remove()
        for m, training in modes:
            m.training = training
    return seen, tuple(out.shape[1:])


def input_shape(model: nn.Module, input_size) -> Shape:
    """An int is H = W with the model's input channels; a tuple is one sample's whole shape."""
    bad = ValueError(f"input_size: got {input_size!r:.60}, expected a positive int (H = W) or a (C, H, W) tuple, "
                     f"sides <= {_checks.MAX_RESOLUTION} and channels <= {_checks.MAX_CHANNELS}")
    if isinstance(input_size, int) and not isinstance(input_size, bool):
        if not 1 <= input_size <= _checks.MAX_RESOLUTION:
            raise bad
        channels = getattr(model, "in_channels", None)
        if not isinstance(channels, int):
            first = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
            if first is None:
                raise ValueError(f"input_size: got {input_size!r} for a model without Conv2d, "
                                 "expected the input's full shape as a tuple")
            channels = first.in_channels
        return (channels, input_size, input_size)
    if (isinstance(input_size, (tuple, list)) and input_size
            and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in input_size)
            and max(input_size[-2:]) <= _checks.MAX_RESOLUTION and max(input_size) <= _checks.MAX_CHANNELS):
        return tuple(input_size)
    raise bad


def walk(model: nn.Module, input_size, traced: bool = False) -> Flow:
    """Propagate the input's shape through `model` by the rules (or, `traced=True`, by one
    meta-device forward pass with hooks)."""
    _checks.module("model", model)
    shape = input_shape(model, input_size)
    flow = Flow(model)
    if traced:
        flow.trace(model, shape)
    else:
        flow(model, shape)
    return flow
