"""What a network costs, counted layer by layer in the papers' convention.

MAdds are the multiply-adds of convolution and linear layers only (MobileNetV1 §3.1, V2 §6.1,
V3 §6.1): a k×k conv costs k·k·(C_in/groups)·C_out·H_out·W_out, so a depthwise k×k costs
k·k·C·H_out·W_out and a pointwise 1×1 costs C_in·C_out·H·W; a linear layer C_in·C_out.
BatchNorm, activations, pooling, the SE gate's multiply and residual adds are not counted, nor
are biases. The two 1×1 convs of squeeze-and-excite ARE conv layers and are counted (on the 1×1
pooled map they cost C·C/4 each): that is torchvision's convention too, whose 0.217 / 0.057 GMACs
for V3-Large / Small need them (without them: 0.215 / 0.056).

Nothing is run: the shape reaching each layer follows from the layers' hyper-parameters
(`mnv3lib._shapeflow`), so `madds` and `cost_table` take about a millisecond.
"""
from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from . import _checks, blocks, layers
from ._render import html_table, text_table
from ._shapeflow import input_shape, numel, rule_for, walk

__all__ = ["CostRow", "CostTable", "count_params", "madds", "cost_table", "peak_memory", "memory_profile"]

try:  # torchvision's SE, so that the SE convs of torchvision's own models are typed "SE" too
    from torchvision.ops import SqueezeExcitation as _TorchvisionSE
    _SE = (layers.SqueezeExcite, _TorchvisionSE)
except ImportError:  # pragma: no cover
    _SE = (layers.SqueezeExcite,)


def count_params(model: nn.Module) -> int:
    """All parameters, BN affine and biases included, from each layer's hyper-parameters:
    conv k·k·C_in/groups·C_out (+ C_out biases), linear C_in·C_out (+ C_out), BatchNorm 2·C."""
    _checks.module("model", model)
    total = 0
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            kh, kw = m.kernel_size
            total += kh * kw * m.in_channels // m.groups * m.out_channels
            total += m.out_channels if m.bias is not None else 0
        elif isinstance(m, nn.Linear):
            total += m.in_features * m.out_features + (m.out_features if m.bias is not None else 0)
        elif isinstance(m, nn.modules.batchnorm._NormBase):
            total += 2 * m.num_features if m.affine else 0  # γ and β; running statistics are buffers
        else:  # any other module: its own tensors
            total += sum(p.numel() for p in m.parameters(recurse=False))
    return total


@dataclass(frozen=True)
class CostRow:
    """One conv or linear layer. `params` = weights + biases; `weights` alone is what MobileNetV1's
    Table 2 counts. `activations` = elements of the output (one image)."""
    name: str
    type: str
    params: int
    madds: int
    out_shape: tuple
    activations: int
    weights: int


def _layer_type(m: nn.Module, in_se: bool) -> str:
    if isinstance(m, nn.Linear):
        return "FC"
    if in_se:
        return "SE"
    k = "×".join(map(str, m.kernel_size))
    if m.groups > 1:  # one filter per channel: V1 §3.1's depthwise conv
        return f"depthwise {k}" if m.groups == m.in_channels == m.out_channels else f"grouped {k}"
    return "pointwise 1×1" if m.kernel_size == (1, 1) else f"conv {k}"


def _row(name: str, m: nn.Module, out: tuple, in_se: bool) -> CostRow:
    if isinstance(m, nn.Conv2d):
        kh, kw = m.kernel_size
        weights, width = kh * kw * m.in_channels // m.groups * m.out_channels, m.out_channels
    else:
        weights, width = m.in_features * m.out_features, m.out_features
    positions = numel(out) // width  # H_out·W_out for a conv, 1 for a linear layer on a vector
    bias = width if m.bias is not None else 0
    return CostRow(name, _layer_type(m, in_se), weights + bias, weights * positions, out, numel(out), weights)


class CostTable:
    """Per-layer costs in forward order, list-like. `total_params` is the whole model's
    (`count_params`): parameters outside conv/linear layers (BatchNorm's) are `other_params`
    and appear as the type "BN & other"."""

    HEADERS = ["#", "layer", "type", "output", "activations", "params", "MAdds"]

    def __init__(self, rows: list[CostRow], total_params: int):
        self.rows = list(rows)
        self.total_params = total_params
        self.total_madds = sum(r.madds for r in self.rows)
        self.other_params = total_params - sum(r.params for r in self.rows)

    def __len__(self):
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, i):
        return self.rows[i]

    def by_type(self) -> dict[str, tuple[int, int]]:
        """{type: (params, MAdds)} in order of first appearance; sums to the totals."""
        out: dict[str, tuple[int, int]] = {}
        for r in self.rows:
            p, m = out.get(r.type, (0, 0))
            out[r.type] = (p + r.params, m + r.madds)
        if self.other_params:
            out["BN & other"] = (self.other_params, 0)
        return out

    def shares(self, weights_only: bool = False) -> dict[str, tuple[float, float]]:
        """{type: (% of params, % of MAdds)}. `weights_only=True` counts conv/FC weights alone
        (no biases, no BN): the convention of MobileNetV1's Table 2."""
        if weights_only:
            per: dict[str, tuple[int, int]] = {}
            for r in self.rows:
                w, m = per.get(r.type, (0, 0))
                per[r.type] = (w + r.weights, m + r.madds)
        else:
            per = self.by_type()
        tp, tm = sum(p for p, _ in per.values()), self.total_madds
        return {t: (100 * p / tp if tp else 0.0, 100 * m / tm if tm else 0.0) for t, (p, m) in per.items()}

    def _body(self) -> list[list]:
        rows = [[i, r.name, r.type, r.out_shape, r.activations, r.params, r.madds] for i, r in enumerate(self.rows)]
        if self.other_params:
            rows.append(["", "(BatchNorm and other parameters)", "BN & other", "", "", self.other_params, 0])
        rows.append(["", "total", "", "", "", self.total_params, self.total_madds])
        return rows

    def __str__(self):
        return text_table(self.HEADERS, self._body())

    def __repr__(self):
        return f"CostTable({len(self)} layers, {self.total_params:,} params, {self.total_madds:,} MAdds)"

    def _repr_html_(self):
        return html_table(self.HEADERS, self._body(), repr(self))


def cost_table(model: nn.Module, input_size=224, traced: bool = False) -> CostTable:
    """One row per conv/linear layer (SE convs typed "SE") in forward order: type, parameters,
    MAdds, output shape and size; V1 Table 2's breakdown, for any network or block.

    `input_size`: H = W as an int (channels from the model), or a (C, H, W) tuple, e.g. for a
    single block. `traced=True` takes the shapes from one meta-device forward pass with hooks
    instead of the analytic rules (same numbers, ~100× slower: the tests compare the two).
    """
    flow = walk(model, input_size, traced)
    in_se = {s for m in model.modules() if isinstance(m, _SE) for s in m.modules()}
    rows = [_row(name, m, out, m in in_se) for name, m, _, out in flow.layers]
    return CostTable(rows, count_params(model))


def madds(model: nn.Module, input_size=224) -> int:
    """Multiply-adds of the conv and linear layers (SE convs included): the papers' "MAdds"."""
    return sum(r.madds for r in cost_table(model, input_size))


# ---------------------------------------------------------------------------------------------
# Activation memory, MobileNetV2 §5.1 and Table 3.
_OPERATIONS = (blocks.InvertedResidual, layers.ConvBNAct, nn.Conv2d, nn.Linear, nn.AdaptiveAvgPool2d, nn.AvgPool2d)


def _operations(model: nn.Module, input_size, fuse_stem: bool):
    """[(name, in_shape, out_shape)] of the operations whose outputs are materialized."""
    flow = walk(model, input_size)
    ops: list[tuple[str, tuple, tuple]] = []
    for name, m, i, o in flow.trail:  # completion order: an operation follows those inside it
        if isinstance(m, _OPERATIONS) or rule_for(m) is None:
            ops = [op for op in ops if name and not op[0].startswith(name + ".")]  # keep the outermost
            ops.append((name, i, o))
    if fuse_stem and len(ops) > 1:
        def first_layer(op_name):
            m = next(m for n, m, _, _ in flow.layers if n == op_name or n.startswith(op_name + "."))
            return _layer_type(m, False)
        (n0, i0, _), (n1, _, o1) = ops[0], ops[1]
        if first_layer(n0).startswith("conv") and first_layer(n1).startswith("depthwise"):
            ops[:2] = [(f"{n0} + {n1}", i0, o1)]
    return input_shape(model, input_size), ops


def _bytes(bytes_per_value) -> None:
    _checks.integer("bytes_per_value", bytes_per_value, 1, _checks.MAX_BYTES_PER_VALUE,
                    why=" (2 for the papers' 16-bit values, 4 for float32)")


def memory_profile(model: nn.Module, input_size=224, bytes_per_value: int = 2,
                   fuse_stem: bool = True) -> list[tuple[str, int]]:
    """Bytes of every tensor that must be materialized, in forward order, the input first.

    The memory model of MobileNetV2 §5.1: an inverted-residual block is ONE operation whose
    expanded inner tensors are disposable (they can be computed a slice at a time), so only the
    thin bottleneck tensors between blocks are stored; every other conv layer (with its BN and
    activation), pooling and linear layer is an operation of its own. With `fuse_stem`, the stem
    conv and a next operation that starts with a depthwise conv are one operation: the trick V2's
    Table 3 caption applies to the first layer (a depthwise conv consumes the stem's channels one
    at a time, so they never all exist at once).
    """
    _bytes(bytes_per_value)
    shape, ops = _operations(model, input_size, fuse_stem)
    return [("input", numel(shape) * bytes_per_value)] + [(n, numel(o) * bytes_per_value) for n, _, o in ops]


def peak_memory(model: nn.Module, input_size=224, bytes_per_value: int = 2, combined: bool = False,
                fuse_stem: bool = True) -> int:
    """Peak activation memory in bytes, in the convention of MobileNetV2 Table 3 (16-bit values).

    Table 3's numbers are the LARGEST SINGLE materialized tensor of `memory_profile`: V1's "1600K"
    is its 64×112×112 output × 2 bytes = 1,605,632 B, V2's "400K" its 16×112×112 bottleneck =
    401,408 B (K = 1000 bytes). `combined=True` reads §5.1's "total size of combined inputs and
    outputs" literally, the largest input + output of one operation; that does not give the table.
    """
    _bytes(bytes_per_value)
    shape, ops = _operations(model, input_size, fuse_stem)
    if combined:
        return max((numel(i) + numel(o)) * bytes_per_value for _, i, o in ops)
    return max([numel(shape)] + [numel(o) for _, _, o in ops]) * bytes_per_value
