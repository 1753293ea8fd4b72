"""Checkers for the book's "implement it yourself" exercises: each compares the reader's code with mnv3lib's
and answers in one line what is right or wrong. A checker never raises on the reader's mistakes (a stub that
raises NotImplementedError is reported, not propagated), so a chapter with an unfinished exercise still runs.

Modules are compared by output shape, parameter count and parameter shapes, then by their outputs on a fixed
input after mnv3lib's weights are copied into the reader's module, tensor by tensor in registration order within
each shape. Papers: V1 §3.1 (depthwise separable), V2 §3.3 (inverted residual), V3 §5.2 (h-swish), §5.3 (SE).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import torch
from torch import nn

from . import configs
from .blocks import Bneck, DepthwiseSeparable, InvertedResidual
from .costs import madds
from .latency import fixed_threads
from .layers import SqueezeExcite, h_sigmoid, h_swish

__all__ = ["Verdict", "check_depthwise_separable", "check_inverted_residual", "check_h_swish",
           "check_se_gate", "check_cost_formula", "check_bneck_from_row", "check_pareto"]


@dataclass(frozen=True)
class Verdict:
    """A checker's answer: `ok`, and one line saying what is right or wrong."""
    ok: bool
    message: str

    def __str__(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.message}"

    __repr__ = __str__

    def __bool__(self) -> bool:
        return self.ok


def _fail(message: str) -> Verdict:
    return Verdict(False, message)


def _call(what: str, fn, *args, **kwargs):
    """(result, None) or (None, Verdict) when the reader's code raises."""
    try:
        return fn(*args, **kwargs), None
    except Exception as err:  # noqa: BLE001  the reader's code: report, never propagate
        return None, _fail(f"{what} raised {type(err).__name__}: {err}")


def _randomize(module: nn.Module, seed: int = 0) -> nn.Module:
    """Random weights everywhere, BatchNorm's affine parameters and running statistics included, so that
    two BatchNorms or two convolutions swapped by mistake change the output."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for t in [*module.parameters(), *module.buffers()]:
            if t.is_floating_point():
                t.copy_(torch.rand(t.shape, generator=g) * 0.5 + 0.5 if t.dim() == 1 else
                        torch.randn(t.shape, generator=g) / max(1, t[0].numel()) ** 0.5)
    return module.eval()


def _copy(src: nn.Module, dst: nn.Module) -> str | None:
    """Copy src's tensors into dst, in registration order within each shape; a message if they do not fit."""
    def by_shape(m):
        groups = defaultdict(list)
        for t in [*m.parameters(), *(b for b in m.buffers() if b.is_floating_point())]:
            groups[tuple(t.shape)].append(t)
        return groups
    a, b = by_shape(src), by_shape(dst)
    if {k: len(v) for k, v in a.items()} != {k: len(v) for k, v in b.items()}:
        return "its weights and BatchNorm statistics do not have the shapes of mnv3lib's"
    with torch.no_grad():
        for shape, tensors in a.items():
            for s, d in zip(tensors, b[shape]):
                d.copy_(s)
    return None


def _compare_modules(name: str, make, reference: nn.Module, input_size: tuple, what: str) -> Verdict:
    """The reader's module (built by `make()`) against `reference` on one fixed input, on one thread (small
    tensors: more threads only wait for each other on a shared machine)."""
    with fixed_threads(1):
        return _compare(name, make, reference, input_size, what)


def _compare(name: str, make, reference: nn.Module, input_size: tuple, what: str) -> Verdict:
    mine, bad = _call(f"building {name}", make)
    if bad is not None:
        return bad
    if not isinstance(mine, nn.Module):
        return _fail(f"{name} returned {type(mine).__name__}, expected an nn.Module")
    reference = _randomize(reference)
    x = torch.randn(1, *input_size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = reference(x)
        got, bad = _call(f"{name}'s forward", mine.eval(), x)
    if bad is not None:
        return bad
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        return _fail(f"{what}: output {shape} for input {tuple(x.shape)}, expected {tuple(want.shape)}")
    n_mine, n_ref = (sum(p.numel() for p in m.parameters()) for m in (mine, reference))
    if n_mine != n_ref:
        return _fail(f"{what}: {n_mine:,} parameters, expected {n_ref:,}")
    bad = _copy(reference, mine)
    if bad is not None:
        return _fail(f"{what}: right shape and parameter count, but {bad}")
    with torch.no_grad():
        got = mine.eval()(x)
    err = (got - want).abs().max().item()
    if err > 1e-5 * max(1.0, want.abs().max().item()):
        return _fail(f"{what}: with mnv3lib's weights the outputs differ by up to {err:.3g} "
                     "(an activation, a stride, the order of layers or the residual?)")
    return Verdict(True, f"{what}: output {tuple(want.shape)}, {n_ref:,} parameters and the same outputs as mnv3lib")


def check_depthwise_separable(cls_or_fn, in_channels: int = 8, out_channels: int = 16) -> Verdict:
    """V1 §3.1: `cls_or_fn(in_channels, out_channels, stride, kernel)` against `DepthwiseSeparable`,
    at strides 1 and 2 and kernels 3 and 5."""
    for stride, kernel in ((1, 3), (2, 3), (1, 5)):
        what = f"depthwise separable {in_channels}→{out_channels}, stride {stride}, {kernel}×{kernel}"
        v = _compare_modules("your block", lambda s=stride, k=kernel: cls_or_fn(in_channels, out_channels, s, k),
                             DepthwiseSeparable(in_channels, out_channels, stride, kernel),
                             (in_channels, 14, 14), what)
        if not v:
            return v
    return Verdict(True, "depthwise separable: shapes, parameters and outputs equal mnv3lib's "
                         "(strides 1 and 2, kernels 3 and 5)")


def check_inverted_residual(cls_or_fn) -> Verdict:
    """V2 §3.3, Table 1: `cls_or_fn(in_channels, exp, out, stride)` against `InvertedResidual` (ReLU6,
    3×3, linear projection, residual when stride 1 and in == out), in four cases."""
    for cin, exp, out, stride in ((16, 96, 16, 1), (16, 96, 24, 2), (16, 96, 24, 1), (16, 16, 16, 1)):
        what = f"inverted residual {cin}→{exp}→{out}, stride {stride}"
        v = _compare_modules("your block", lambda a=(cin, exp, out, stride): cls_or_fn(*a),
                             InvertedResidual(cin, exp, out, stride), (cin, 14, 14), what)
        if not v:
            return v
    return Verdict(True, "inverted residual: shapes, parameters and outputs equal mnv3lib's "
                         "(with and without residual and expansion, strides 1 and 2)")


def check_h_swish(fn) -> Verdict:
    """V3 §5.2: `fn(x)` against h-swish(x) = x·ReLU6(x + 3)/6 on [-6, 6] (also accepts h-sigmoid, and says so)."""
    x = torch.linspace(-6, 6, 1201, dtype=torch.float64)
    y, bad = _call("your function", fn, x.clone())
    if bad is not None:
        return bad
    if not isinstance(y, torch.Tensor) or y.shape != x.shape:
        return _fail(f"h-swish: expected a tensor of shape {tuple(x.shape)}, got {type(y).__name__}")
    y = y.double()
    if torch.allclose(y, h_sigmoid(x), atol=1e-6):
        return _fail("h-swish: this is h-sigmoid; h-swish multiplies it by x")
    err = (y - h_swish(x)).abs()
    if err.max() > 1e-6:
        i = int(err.argmax())
        return _fail(f"h-swish: at x = {x[i].item():+.2f} you give {y[i].item():.4f}, "
                     f"expected {h_swish(x)[i].item():.4f}")
    return Verdict(True, "h-swish: equal to x·ReLU6(x + 3)/6 on [-6, 6]")


def check_se_gate(cls_or_fn, channels: int = 32, squeeze: int = 8) -> Verdict:
    """V3 §5.3: `cls_or_fn(channels, squeeze)` against `SqueezeExcite` (pool, 1×1 conv + ReLU,
    1×1 conv + h-sigmoid, scale)."""
    return _compare_modules("your SE", lambda: cls_or_fn(channels, squeeze), SqueezeExcite(channels, squeeze),
                            (channels, 7, 7), f"SE on {channels} channels, squeeze {squeeze}")


def _ds_madds(Dk, M, N, Df, stride=1):
    return madds(DepthwiseSeparable(M, N, stride, Dk), (M, Df, Df))


def _ir_madds(h, w, d_in, t, k, d_out, s):
    return madds(InvertedResidual(d_in, d_in * t, d_out, s, k), (d_in, h, w))


_FORMULAS = {
    # name: (counter, argument names, cases)
    "depthwise_separable": (_ds_madds, "Dk, M, N, Df",
                            [(3, 32, 64, 112), (3, 512, 512, 14), (5, 64, 128, 28), (7, 16, 8, 9)]),
    "inverted_residual": (_ir_madds, "h, w, d_in, t, Dk, d_out, s",
                          [(56, 56, 24, 6, 3, 24, 1), (56, 56, 24, 6, 3, 32, 2), (14, 14, 80, 6, 5, 96, 1),
                           (28, 28, 16, 4, 3, 24, 2)]),
}


def check_cost_formula(fn, block: str = "depthwise_separable") -> Verdict:
    """V1 §3.1 equation 4 (`block="depthwise_separable"`: fn(Dk, M, N, Df)) or V2 §3.3 with a stride
    (`"inverted_residual"`: fn(h, w, d_in, t, Dk, d_out, s)): the reader's MAdds formula against
    `mnv3lib.madds` on real blocks."""
    if block not in _FORMULAS:
        raise ValueError(f"block: got {block!r}, expected one of {list(_FORMULAS)}")
    count, names, cases = _FORMULAS[block]
    for case in cases:
        got, bad = _call("your formula", fn, *case)
        if bad is not None:
            return bad
        want = count(*case)
        if got != want:
            args = ", ".join(f"{n}={v}" for n, v in zip(names.split(", "), case))
            return _fail(f"{block} MAdds at {args}: you give {got!r}, mnv3lib.madds counts {want:,}")
    return Verdict(True, f"{block} MAdds: equal to mnv3lib.madds in all {len(cases)} cases")


def check_bneck_from_row(fn) -> Verdict:
    """V3 Tables 1 and 2: `fn(row)` → the bneck the row describes, against `Bneck.from_row`, for every bneck
    row of MobileNetV3-Large and -Small."""
    rows = [r for r in configs.V3_LARGE + configs.V3_SMALL if r.operator == "bneck"]
    for i, row in enumerate(rows):
        what = f"bneck row {row.input[0]}²×{row.input[1]} k{row.kernel} exp {row.exp} out {row.out}"
        size = (row.input[1], 8, 8)  # a small map: the block's weights do not depend on it
        v = _compare_modules("your function", lambda r=row: fn(r), Bneck.from_row(row), size, what)
        if not v:
            return v
    return Verdict(True, f"all {len(rows)} bneck rows of Tables 1 and 2 built like mnv3lib's Bneck.from_row")


def check_pareto(fn) -> Verdict:
    """Chapter 5: `fn(points)` → the (cost, accuracy) points no other point beats on both counts, by
    increasing cost (`mnv3lib.variants.pareto`)."""
    from .variants import pareto
    cases = [[(1, 50), (2, 60), (3, 55), (4, 70)], [(5, 1), (1, 1), (2, 3), (2, 2)], [(3, 9)], []]
    for points in cases:
        got, bad = _call("your function", fn, list(points))
        if bad is not None:
            return bad
        want = pareto(points)
        if list(got or []) != want:
            return _fail(f"pareto of {points}: you give {got!r}, expected {want}")
    return Verdict(True, f"Pareto front: right on all {len(cases)} cases (ties and an empty list included)")
