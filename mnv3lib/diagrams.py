"""Block diagrams drawn from a block's own configuration: MobileNetV1's depthwise-separable block
(V1 §3.1, Figure 3), MobileNetV2's inverted residual (V2 §3.3, Table 1), MobileNetV3's bneck with or
without squeeze-and-excite (V3 §5, Figure 4), and the classic ResNet bottleneck they invert (V2 Figure 3).

The public entry points are re-exported by `mnv3lib.viz`. Layout is in inches (one data unit = one
inch), so text keeps its size and a diagram reads the same at 100 % on any page.
"""
from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.patches import Circle, FancyBboxPatch
from torch import nn

from .costs import cost_table
from .layers import ConvBNAct, HSigmoid, HSwish, SqueezeExcite

__all__ = ["block_diagram", "classic_bottleneck_diagram", "side_by_side", "KIND_COLORS", "shape_label"]

# Layer kinds: (light fill for diagram boxes, strong colour for bars); viz's cost plots use the same.
KIND_COLORS = {
    "conv": ("#cbd8ef", "#4c72b0"),
    "depthwise": ("#f8d9c4", "#dd8452"),
    "pointwise": ("#d0e9d5", "#55a868"),
    "SE": ("#e0daf1", "#8172b3"),
    "FC": ("#dcdcdc", "#5f5f5f"),
    "pool": ("#e6e6e6", "#8c8c8c"),
}
# Nonlinearity badges: ReLU family red, the hard (h-) family gold, linear an empty dashed badge.
_NL_COLORS = {"ReLU": ("#f6d3d4", "#c44e52"), "ReLU6": ("#f6d3d4", "#c44e52"),
              "h-swish": ("#fbefc0", "#b8920f"), "h-sigmoid": ("#fbefc0", "#b8920f"),
              "linear": ("#ffffff", "#8c8c8c")}
_NL_NAMES = {nn.ReLU: "ReLU", nn.ReLU6: "ReLU6", HSwish: "h-swish", nn.Hardswish: "h-swish",
             HSigmoid: "h-sigmoid", nn.Hardsigmoid: "h-sigmoid", nn.Sigmoid: "sigmoid"}
_TITLES = {"DepthwiseSeparable": "MobileNetV1 depthwise-separable block",
           "InvertedResidual": "MobileNetV2 inverted residual", "Bneck": "MobileNetV3 bneck"}
_INK, _TENSOR = "#333333", ("#ececec", "#555555")
BW, BH, SW, SH = 2.15, 0.56, 1.65, 0.5  # main / SE box width and height
GAP, BADGE = 0.24, 0.82                  # arrow length between a tensor and a box; badge width


def shape_label(shape) -> str:
    """(C, H, W) in the papers' notation: (24, 56, 56) → '56²×24'."""
    c, h, w = shape
    return f"{h}²×{c}" if h == w else f"{h}×{w}×{c}"


@dataclass
class _Op:
    title: str
    detail: str
    kind: str
    nl: str
    out: tuple


@dataclass
class _SE:
    channels: int
    squeeze: int
    inner: str
    gate: str


@dataclass
class _Spec:
    title: str
    input: tuple
    steps: list
    residual: bool
    after_add: str | None = None


def _nl(act: nn.Module | None) -> str:
    return "linear" if act is None else _NL_NAMES.get(type(act), type(act).__name__)


def _input_shape(input_size, channels: int) -> tuple:
    """int → (C, s, s); (resolution, channels) as in `configs` rows → (C, r, r); (C, H, W) as is."""
    if isinstance(input_size, int) and not isinstance(input_size, bool) and input_size > 0:
        return channels, input_size, input_size
    if not (isinstance(input_size, tuple) and len(input_size) in (2, 3)
            and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in input_size)):
        raise ValueError(f"input_size: got {input_size!r}, expected a size such as 56, "
                         "(resolution, channels) such as (56, 24), or (channels, height, width)")
    shape = (input_size[1], input_size[0], input_size[0]) if len(input_size) == 2 else input_size
    if shape[0] != channels:
        raise ValueError(f"input_size: got {shape[0]} channels in {input_size!r}, "
                         f"expected {channels} (the block's input channels)")
    return shape


def _op(role: str, conv: nn.Conv2d, nl: str, out: tuple) -> _Op:
    k, s, cin, cout = conv.kernel_size[0], conv.stride[0], conv.in_channels, conv.out_channels
    stride = f", stride {s}" if s > 1 else ""
    if conv.groups == cin == cout and cin > 1:
        return _Op(f"{k}×{k} depthwise{stride}", f"{cin} channels, one filter each", "depthwise", nl, out)
    if k == 1:
        ratio = f"  (×{cout // cin})" if role == "expand" and cout % cin == 0 else ""
        return _Op(f"1×1 conv · {role}", f"{cin} → {cout}{ratio}", "pointwise", nl, out)
    return _Op(f"{k}×{k} conv{stride}", f"{cin} → {cout}", "conv", nl, out)


def _block_spec(block: nn.Module, input_size) -> _Spec:
    parts = [(n, m) for n, m in block.named_children() if isinstance(m, (ConvBNAct, SqueezeExcite))] \
        if isinstance(block, nn.Module) else []
    if not parts or not isinstance(parts[0][1], ConvBNAct):
        raise ValueError(f"block: got {type(block).__name__}, expected a DepthwiseSeparable, "
                         "InvertedResidual or Bneck from mnv3lib.blocks")
    shape = _input_shape(input_size, parts[0][1].conv.in_channels)
    # each conv's output shape, as mnv3lib.costs computes it for the block's forward pass
    names = {m: n for n, m in block.named_modules()}
    out_shapes = {r.name: r.out_shape for r in cost_table(block, shape)}
    spec = _Spec(_TITLES.get(type(block).__name__, type(block).__name__), shape, [],
                 bool(getattr(block, "use_residual", False)))
    for name, m in parts:  # named_children follows __init__, which follows the forward order
        ses = [m] if isinstance(m, SqueezeExcite) else ([m.se] if m.se is not None else [])
        if isinstance(m, ConvBNAct):
            shape = out_shapes[names[m.conv]]
            spec.steps.append(_op(name, m.conv, _nl(m.act), shape))
        spec.steps += [_SE(se.fc1.in_channels, se.fc1.out_channels, _nl(se.relu), _nl(se.gate)) for se in ses]
    if any(isinstance(s, _SE) for s in spec.steps):
        spec.title += " with SE"
    return spec


class _Canvas:
    """Primitives in inches, with their extent, drawn later by `_figure` at any offset."""

    def __init__(self):
        self.items, self.x0, self.x1, self.y0, self.y1 = [], 0.0, 0.0, 0.0, 0.0

    def _extend(self, x0, x1, y0, y1):
        self.x0, self.x1 = min(self.x0, x0), max(self.x1, x1)
        self.y0, self.y1 = min(self.y0, y0), max(self.y1, y1)

    def box(self, x, y, w, h, colors, dashed=False, round_=0.07):
        self.items.append(("box", x, y, w, h, colors, dashed, round_))
        self._extend(x - w / 2, x + w / 2, y - h / 2, y + h / 2)

    def text(self, x, y, s, size=9.0, ha="center", **kw):
        self.items.append(("text", x, y, s, size, ha, kw))
        w, h = 0.62 * size / 72 * len(s), size / 72  # DejaVu Sans: about 0.6 em per character, a little spare
        if kw.get("rotation") == 90:
            w, h = h, w
        left = {"center": x - w / 2, "left": x, "right": x - w}[ha]
        self._extend(left, left + w, y - h / 2, y + h / 2)

    def path(self, points, arrow=True):
        self.items.append(("path", points, arrow))
        xs, ys = zip(*points)
        self._extend(min(xs), max(xs), min(ys), max(ys))

    def circle(self, x, y, symbol, r=0.14):
        self.items.append(("circle", x, y, r, symbol))
        self._extend(x - r, x + r, y - r, y + r)


def _badge(c: _Canvas, x, y, nl):
    c.box(x, y, BADGE, 0.3, _NL_COLORS.get(nl, ("#ffffff", _INK)), dashed=nl == "linear", round_=0.13)
    c.text(x, y, nl, 8.5, style="italic" if nl == "linear" else "normal")


def _op_box(c: _Canvas, x, y, op: _Op, w=BW, h=BH):
    c.box(x, y, w, h, KIND_COLORS[op.kind])
    c.text(x, y + 0.1, op.title, 9.5, weight="bold")
    c.text(x, y - 0.12, op.detail, 8.0, color="#444444")
    if op.nl:
        _badge(c, x + w / 2 + 0.08 + BADGE / 2, y, op.nl)


def _draw(spec: _Spec) -> _Canvas:
    """Top to bottom: tensor slabs (width ∝ channels, shape beside), op boxes, SE branch, skip."""
    c = _Canvas()
    widest = max([spec.input[0]] + [s.out[0] for s in spec.steps if isinstance(s, _Op)])
    xl = BW / 2 + 0.12  # the column of shape labels, right of the main path

    def tensor(y, shape, prefix=""):
        c.box(0, y, max(0.1, 0.92 * BW * shape[0] / widest), 0.11, _TENSOR, round_=0.01)
        c.text(xl, y, prefix + shape_label(shape), 9.0, ha="left")

    def down(y0, length):
        c.path([(0, y0), (0, y0 - length)])
        return y0 - length

    y = -0.5
    tensor(y, spec.input, "input ")
    y_in, shape = y, spec.input
    y -= 0.06
    if spec.residual:  # room for the shortcut to branch off before the first arrow
        c.path([(0, y), (0, y - 0.16)], arrow=False)
        y -= 0.16
    last = max(i for i, s in enumerate(spec.steps) if isinstance(s, _Op))
    for i, step in enumerate(spec.steps):
        if isinstance(step, _Op):
            y = down(y, GAP) - BH / 2
            _op_box(c, 0, y, step)
            y = down(y - BH / 2, GAP)
            tensor(y, step.out, "output " if i == last and not spec.residual else "")
            shape, y = step.out, y - 0.06
            continue
        # squeeze-and-excite (V3 §5.3): a side branch computes one gate per channel from the
        # pooled tensor; the main path is multiplied by it and keeps its shape
        xs = xl + 1.05 + SW / 2
        y_tap = y - 0.18
        c.path([(0, y_tap), (xs, y_tap), (xs, y_tap - 0.2)])
        c.circle(0, y_tap, "", r=0.035)
        ops = [_Op("global avg pool", f"{shape_label(shape)} → 1²×{step.channels}", "pool", "", None),
               _Op("1×1 conv · squeeze", f"{step.channels} → {step.squeeze}", "SE", step.inner, None),
               _Op("1×1 conv · excite", f"{step.squeeze} → {step.channels}", "SE", step.gate, None)]
        ys = y_tap - 0.2 - SH / 2
        for i, op in enumerate(ops):
            _op_box(c, xs, ys, op, SW, SH)
            if i < 2:
                c.path([(xs, ys - SH / 2), (xs, ys - SH / 2 - 0.34)])
                c.text(xs + 0.1, ys - SH / 2 - 0.17, f"1²×{step.squeeze if i == 1 else step.channels}", 8.0,
                       ha="left", color="#444444")
                ys -= SH + 0.34
        y_mul = ys - SH / 2 - 0.3
        c.path([(xs, ys - SH / 2), (xs, y_mul), (0.14, y_mul)])
        c.text(xs / 2 + 0.1, y_mul + 0.11, f"gate 1²×{step.channels}", 8.0, color="#444444")
        c.path([(0, y_tap), (0, y_mul + 0.14)])
        c.circle(0, y_mul, "×")
        y = down(y_mul - 0.14, GAP)
        tensor(y, shape)
        y -= 0.06
    if spec.residual:
        # identity shortcut (V2 §3.3): only when stride is 1 and input and output widths agree
        y_add = y - GAP - 0.14
        xk = -BW / 2 - 0.3
        c.path([(0, y_in - 0.14), (xk, y_in - 0.14), (xk, y_add), (-0.14, y_add)])
        c.circle(0, y_in - 0.14, "", r=0.035)
        c.text(xk - 0.12, (y_in + y_add) / 2, "identity", 8.0, style="italic", color="#444444", rotation=90)
        c.path([(0, y), (0, y_add + 0.14)])
        c.circle(0, y_add, "+")
        y = y_add - 0.14
        if spec.after_add:  # ResNet applies its last ReLU after the addition
            y = down(y, 0.2) - 0.15
            _badge(c, 0, y, spec.after_add)
            y -= 0.15
        y = down(y, GAP)
        tensor(y, shape, "output ")
    c.text((c.x0 + c.x1) / 2, 0, spec.title, 11.0, weight="bold")  # centred over the whole drawing
    return c


def _render(ax, c: _Canvas, dx: float, dy: float) -> None:
    for kind, *a in c.items:
        if kind == "box":
            x, y, w, h, (fill, edge), dashed, r = a
            ax.add_patch(FancyBboxPatch((x + dx - w / 2, y + dy - h / 2), w, h, fc=fill, ec=edge, lw=1.1,
                                        boxstyle=f"round,pad=0,rounding_size={r}", ls="--" if dashed else "-"))
        elif kind == "text":
            x, y, s, size, ha, kw = a
            ax.text(x + dx, y + dy, s, fontsize=size, ha=ha, va="center", **{"color": _INK, **kw})
        elif kind == "circle":
            x, y, r, symbol = a
            ax.add_patch(Circle((x + dx, y + dy), r, fc="white" if symbol else _INK, ec=_INK, lw=1.1))
            if symbol:
                ax.text(x + dx, y + dy - 0.01, symbol, fontsize=11, ha="center", va="center", color=_INK)
        else:
            points, arrow = a
            xs, ys = [p[0] + dx for p in points], [p[1] + dy for p in points]
            ax.plot(xs[:-1], ys[:-1], color=_INK, lw=1.1, solid_capstyle="butt")
            ax.annotate("", (xs[-1], ys[-1]), (xs[-2], ys[-2]), arrowprops=dict(
                arrowstyle="-|>" if arrow else "-", color=_INK, lw=1.1, shrinkA=0, shrinkB=0, mutation_scale=11))


def _figure(canvases: list, gap: float = 0.6, pad: float = 0.12):
    """One figure holding the canvases left to right, tops aligned; one data unit is one inch."""
    width = sum(c.x1 - c.x0 for c in canvases) + gap * (len(canvases) - 1) + 2 * pad
    height = max(c.y1 - c.y0 for c in canvases) + 2 * pad + 0.3  # + the footnote
    fig = plt.figure(figsize=(width, height))
    plt.close(fig)  # returned, not left open in pyplot: no leak, no second display in notebooks
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(-height, 0)
    ax.axis("off")
    x = pad
    for c in canvases:
        _render(ax, c, x - c.x0, -pad - c.y1)
        x += c.x1 - c.x0 + gap
    ax.text(width / 2, -height + pad + 0.08, "each conv is followed by BatchNorm (not drawn)", fontsize=8,
            ha="center", va="center", color="#777777", style="italic")
    fig._mnv3lib_canvases = list(canvases)  # lets side_by_side redraw it next to others
    return fig


def block_diagram(block: nn.Module, input_size):
    """A block drawn from its own configuration: the layers it holds (expand / depthwise / SE /
    project, or depthwise / pointwise), their kernels, strides, channels and nonlinearities, the
    squeeze-and-excite side branch, the identity shortcut when the block uses one, and the tensor
    shape on every arrow (V1 Figure 3, V2 Table 1, V3 Figure 4).

    `input_size`: the spatial size (56), a configs row's `input` as (resolution, channels) such as
    (56, 24), or (channels, height, width). Returns a matplotlib Figure.
    """
    return _figure([_draw(_block_spec(block, input_size))])


def classic_bottleneck_diagram(channels: int = 256, bottleneck: int = 64, size: int = 56):
    """The ResNet bottleneck MobileNetV2 inverts (V2 §3.3, Figure 3): wide → narrow → wide, with
    the shortcut between the wide tensors and the last ReLU after the addition."""
    for field, value in (("channels", channels), ("bottleneck", bottleneck), ("size", size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{field}: got {value!r}, expected a positive integer")
    inp, mid = (channels, size, size), (bottleneck, size, size)
    steps = [_Op("1×1 conv · reduce", f"{channels} → {bottleneck}", "pointwise", "ReLU", mid),
             _Op("3×3 conv", f"{bottleneck} → {bottleneck}", "conv", "ReLU", mid),
             _Op("1×1 conv · expand", f"{bottleneck} → {channels}", "pointwise", "linear", inp)]
    return _figure([_draw(_Spec("ResNet bottleneck (classic residual)", inp, steps, True, after_add="ReLU"))])


def side_by_side(*figures):
    """Diagrams from `block_diagram` / `classic_bottleneck_diagram` redrawn in one figure, left to
    right (e.g. the classic bottleneck beside the inverted residual, V2 Figure 3)."""
    for i, f in enumerate(figures):
        if not hasattr(f, "_mnv3lib_canvases"):
            raise ValueError(f"figures[{i}]: got {type(f).__name__}, expected a diagram from mnv3lib.viz")
    if not figures:
        raise ValueError("figures: got none, expected at least one diagram")
    return _figure([c for f in figures for c in f._mnv3lib_canvases], gap=0.7)
