"""The book's figures. Every function returns a matplotlib Figure (closed in pyplot, so a notebook
shows it once, as the cell's value, and nothing leaks).

- `block_diagram`, `classic_bottleneck_diagram`, `side_by_side`: blocks drawn from their own
  configuration (from `mnv3lib.diagrams`);
- `cost_profile`, `cost_shares`: MAdds and parameters along a network and by layer type, from
  `mnv3lib.costs.cost_table` (V1 Table 2's view for any network);
- `activation_functions`: ReLU, ReLU6, sigmoid, swish and their hard versions (V3 §5.2, Figure 6).

Import it explicitly (`from mnv3lib import viz`, or `mnv3lib.viz` after `import mnv3lib`): it loads
matplotlib, which `import mnv3lib` alone does not.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from matplotlib.colors import to_rgb

from .costs import cost_table
from .diagrams import KIND_COLORS, block_diagram, classic_bottleneck_diagram, shape_label, side_by_side
from .layers import h_sigmoid, h_swish

__all__ = ["block_diagram", "classic_bottleneck_diagram", "side_by_side", "cost_profile", "cost_shares",
           "activation_functions", "type_color", "shape_label"]

_NAMES = {"mobilenet_v1": "MobileNetV1", "mobilenet_v2": "MobileNetV2", "mobilenet_v3_large": "MobileNetV3-Large",
          "mobilenet_v3_small": "MobileNetV3-Small", "mobilenet_v3_small_as_printed": "MobileNetV3-Small (as printed)"}


def _closed(fig):
    plt.close(fig)  # the caller owns it; pyplot would otherwise display it a second time
    return fig


def type_color(layer_type: str):
    """The colour of a `cost_table` layer type ("conv 3×3", "depthwise 5×5", "SE", ...): one hue per
    kind (the block diagrams' hues), darker for larger kernels."""
    kind = layer_type.split()[0]
    base = to_rgb(KIND_COLORS.get(kind, ("", "#8c8c8c"))[1])
    k = int(layer_type.split()[-1].split("×")[0]) if "×" in layer_type else 1
    dark = {1: 0.0, 3: 0.0, 5: 0.3}.get(k, 0.5)
    return tuple(c * (1 - dark) for c in base)


def _model_name(model, input_size) -> str:
    name = _NAMES.get(getattr(model, "arch", None), type(model).__name__)
    width = getattr(model, "width_mult", 1.0)
    width = "" if width == 1 else f" α = {width:g}" if hasattr(model, "alpha") else f" ×{width:g}"  # V1 says α
    size = f"{input_size}²" if isinstance(input_size, int) else "×".join(map(str, input_size))
    return f"{name}{width} at {size}"


def _si(n: float, tick: bool = False) -> str:
    """568740352 → '568.7M' (or '500M' for an axis tick)."""
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= scale:
            return f"{n / scale:g}{unit}" if tick else f"{n / scale:.{2 if unit == 'G' else 1}f}{unit}"
    return f"{n:g}"


def cost_profile(model, input_size=224, log: bool = False):
    """Per-layer MAdds (top) and parameters (bottom) along the network, one bar per conv / linear
    layer in forward order, coloured by layer type; shaded bands mark the output resolution.
    Shows where the compute goes (the early high-resolution 1×1 convs) and where the
    parameters go (the late wide layers and the classifier): V1 §3, V2 §5.1, V3 §5.1."""
    table = cost_table(model, input_size)
    rows = list(table)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 5.2), sharex=True, gridspec_kw=dict(hspace=0.12))
    x = range(len(rows))
    colors = [type_color(r.type) for r in rows]
    for ax, values, label in ((top, [r.madds for r in rows], "MAdds"),
                              (bottom, [r.params for r in rows], "parameters")):
        ax.bar(x, values, color=colors, width=0.8)
        ax.set_ylabel(label + (" (log)" if log else ""))
        ax.set_yscale("log" if log else "linear")
        if not log:
            ax.yaxis.set_major_formatter(lambda v, _: _si(v, tick=True))
        ax.spines[["top", "right"]].set_visible(False)
    # bands of equal output resolution (the network's stages); SE rows sit in their block's band
    bands = []  # [first, last, label]
    for i, r in enumerate(rows):
        label = "FC" if len(r.out_shape) == 1 else bands[-1][2] if r.type == "SE" else f"{r.out_shape[1]}²"
        if bands and bands[-1][2] == label:
            bands[-1][1] = i
        else:
            bands.append([i, i, label])
    for k, (first, last, label) in enumerate(bands):
        if k % 2:
            for ax in (top, bottom):
                ax.axvspan(first - 0.5, last + 0.5, color="#f0f0f0", zorder=0, lw=0)
        top.annotate(label, ((first + last) / 2, 1.0), xycoords=("data", "axes fraction"),
                     ha="center", va="bottom", fontsize=8, color="#555555")
    types = list(dict.fromkeys(r.type for r in rows))
    handles = [plt.Rectangle((0, 0), 1, 1, color=type_color(t)) for t in types]
    fig.legend(handles, types, fontsize=8.5, ncol=len(types), loc="lower center", frameon=False)
    fig.subplots_adjust(bottom=0.17, top=0.88)
    bottom.set_xlabel("conv / linear layer, in forward order (shaded bands: output resolution)")
    bottom.set_xlim(-0.7, len(rows) - 0.3)
    fig.suptitle(f"{_model_name(model, input_size)}: {_si(table.total_madds)} MAdds, "
                 f"{_si(table.total_params)} parameters", fontsize=11, y=0.99)
    return _closed(fig)


def cost_shares(model, input_size=224, weights_only: bool = True):
    """Share of MAdds and of parameters by layer type, as in MobileNetV1's Table 2. With
    `weights_only=True` (Table 2's convention) parameters are conv / FC weights alone; False counts
    biases and BatchNorm too ("BN & other")."""
    shares = cost_table(model, input_size).shares(weights_only=weights_only)
    types = sorted(shares, key=lambda t: -shares[t][1])
    fig, axes = plt.subplots(1, 2, figsize=(8.5, 0.5 * len(types) + 1.3), sharey=True,
                             gridspec_kw=dict(wspace=0.08))
    y = range(len(types))
    for ax, col, label in ((axes[0], 1, "share of MAdds"), (axes[1], 0, "share of parameters")):
        values = [shares[t][col] for t in types]
        ax.barh(y, values, color=[type_color(t) for t in types], height=0.65)
        for yi, v in zip(y, values):
            ax.text(v + 1.5, yi, f"{v:.2f} %", va="center", fontsize=9)
        ax.set_xlim(0, 118)
        ax.set_xticks([0, 25, 50, 75, 100])
        ax.set_title(label, fontsize=10)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_yticks(list(y), types)
    axes[0].invert_yaxis()
    fig.suptitle(f"{_model_name(model, input_size)}: where the cost goes", fontsize=11)
    fig.subplots_adjust(top=1 - 0.75 / fig.get_figheight(), bottom=0.45 / fig.get_figheight(), left=0.17, right=0.98)
    return _closed(fig)


def activation_functions(lo: float = -6.0, hi: float = 6.0):
    """ReLU and ReLU6; sigmoid vs h-sigmoid; swish vs h-swish; and hard minus smooth (V3 §5.2,
    Figure 6). The hard versions are `mnv3lib.layers.h_sigmoid` / `h_swish` themselves; the largest
    gaps are measured on the plotted grid and written in the last panel."""
    if not (isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and lo < 0 < hi):
        raise ValueError(f"lo, hi: got {lo!r}, {hi!r}, expected numbers with lo < 0 < hi")
    x = torch.linspace(lo, hi, 2401)
    xr = torch.linspace(lo, hi + 4, 2401)  # wider, so that ReLU6's ceiling shows
    curves = {"ReLU": F.relu(xr), "ReLU6": F.relu6(xr), "sigmoid": torch.sigmoid(x), "h-sigmoid": h_sigmoid(x),
              "swish": F.silu(x), "h-swish": h_swish(x)}  # swish = x·sigmoid(x) (β = 1), torch's SiLU
    fig, axes = plt.subplots(2, 2, figsize=(8.5, 6.4), gridspec_kw=dict(hspace=0.38, wspace=0.22))
    panels = (("ReLU and ReLU6 (the hard functions' building block)", ("ReLU", "ReLU6"), ("#7f7f7f", "#c44e52")),
              ("sigmoid vs h-sigmoid = ReLU6(x + 3) / 6", ("sigmoid", "h-sigmoid"), ("#4c72b0", "#dd8452")),
              ("swish vs h-swish = x · ReLU6(x + 3) / 6", ("swish", "h-swish"), ("#4c72b0", "#dd8452")))
    for ax, (title, names, colors) in zip(axes.flat, panels):
        xs = xr if names[0] == "ReLU" else x
        for name, color in zip(names, colors):
            hard = name.startswith("h-") or name == "ReLU6"
            ax.plot(xs, curves[name], color=color, lw=2.0, ls="--" if hard else "-", label=name)
        ax.set_xlim(float(xs[0]), float(xs[-1]))
        ax.set_title(title, fontsize=9.5)
        ax.legend(fontsize=9, loc="upper left", frameon=False)
    ax = axes[1, 1]
    for name, smooth, color in (("h-sigmoid", "sigmoid", "#55a868"), ("h-swish", "swish", "#8172b3")):
        diff = curves[name] - curves[smooth]
        i = int(diff.abs().argmax())
        label = f"{name} − {smooth}: max {diff.abs().max():.3f} at x = {x[i]:.2f}"
        ax.plot(x, diff, color=color, lw=2.0, label=label)
        ax.plot([x[i]], [diff[i]], "o", color=color, ms=4)
    ax.set_title("hard minus smooth", fontsize=9.5)
    ax.set_xlim(lo, hi)
    ax.set_ylim(-0.24, 0.2)
    ax.legend(fontsize=8, loc="lower center", frameon=False)
    for ax in axes.flat:
        ax.axhline(0, color="#bbbbbb", lw=0.8, zorder=0)
        ax.axvline(0, color="#bbbbbb", lw=0.8, zorder=0)
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=8.5)
    fig.suptitle("Nonlinearities of MobileNetV1–V3: smooth (solid) and hard, piecewise-linear (dashed)", fontsize=11)
    return _closed(fig)
