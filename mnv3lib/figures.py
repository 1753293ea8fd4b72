"""Teaching figures that carry an argument the prose would otherwise carry alone: the factorisation K = K̂·P of
a depthwise-separable layer (V1 §3.1), V2's memory slicing (§5.1), the search loop of MobileNetV3 (§4) and its
efficient last stage (§5.1, Figure 5). Drawn with matplotlib in the style of `mnv3lib.diagrams` (same colours,
inch-based layout); each function returns a Figure and leaves displaying it to the caller.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from .diagrams import KIND_COLORS

__all__ = ["factorisation", "memory_slicing", "search_loop", "last_stage", "stem_widths"]

_INK = "#333333"


def _closed(fig):
    plt.close(fig)  # shown once by whoever displays it, not again by pyplot
    return fig


def factorisation(K_hat, P):
    """V1 §3.1: the depthwise filters K̂ (M, Dk, Dk), the pointwise matrix P (N, M), and the standard kernel
    K[n, m] = P[n, m]·K̂[m] they make, drawn as an N × M grid of Dk × Dk filters."""
    K_hat, P = np.asarray(K_hat), np.asarray(P)
    M, N = K_hat.shape[0], P.shape[0]
    v = max(np.abs(K_hat).max(), 1e-12)
    vk = max(np.abs(P[:, :, None, None] * K_hat[None]).max(), 1e-12)
    fig = plt.figure(figsize=(9.2, 3.8))
    grid = fig.add_gridspec(N, 2 * M + 1 + M, width_ratios=[1] * M + [0.35] + [1] * M + [1] * M,
                            wspace=0.15, hspace=0.15)
    for m in range(M):
        ax = fig.add_subplot(grid[N // 2 - 1 if N > 1 else 0, m])
        ax.imshow(K_hat[m], cmap="RdBu_r", vmin=-v, vmax=v)
        ax.set_title(f"K̂[{m}]", fontsize=9)
        ax.set_xticks([]), ax.set_yticks([])
    ax = fig.add_subplot(grid[:, M + 1:2 * M + 1])
    ax.imshow(P, cmap="PiYG", vmin=-np.abs(P).max(), vmax=np.abs(P).max())
    for (n, m), p in np.ndenumerate(P):
        ax.text(m, n, f"{p:+.2f}", ha="center", va="center", fontsize=8)
    ax.set_xticks(range(M), [f"m={m}" for m in range(M)], fontsize=8)
    ax.set_yticks(range(N), [f"n={n}" for n in range(N)], fontsize=8)
    ax.set_title("P (N × M)", fontsize=9)
    for n in range(N):
        for m in range(M):
            ax = fig.add_subplot(grid[n, 2 * M + 1 + m])
            ax.imshow(P[n, m] * K_hat[m], cmap="RdBu_r", vmin=-vk, vmax=vk)
            ax.set_xticks([]), ax.set_yticks([])
            if n == 0:
                ax.set_title(f"K[·, {m}]", fontsize=9)
    fig.suptitle("K = K̂ · P: each column of the standard kernel is one depthwise filter, scaled by a row of P\n"
                 f"left: {M} depthwise filters · middle: the 1×1 conv's matrix · right: the {N} × {M} filters of K",
                 fontsize=10)
    fig.subplots_adjust(top=0.76, bottom=0.1, left=0.02, right=0.98)
    return _closed(fig)


def _box(ax, x, y, w, h, text, kind="pool", fontsize=9, dashed=False):
    fill, edge = KIND_COLORS.get(kind, ("#ffffff", "#8c8c8c"))
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                fc=fill, ec=edge, lw=1.2, ls="--" if dashed else "-"))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color=_INK)


def _arrow(ax, a, b, text="", color=_INK, rad=0.0, fontsize=8):
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=11, color=color, lw=1.1,
                                 connectionstyle=f"arc3,rad={rad}", shrinkA=2, shrinkB=2))
    if text:
        ax.text((a[0] + b[0]) / 2 + 0.06, (a[1] + b[1]) / 2, text, fontsize=fontsize, color="#555555",
                va="center")


def _canvas(w, h):
    fig, ax = plt.subplots(figsize=(w, h))
    ax.set_xlim(0, w), ax.set_ylim(0, h), ax.axis("off")
    fig.subplots_adjust(0, 0, 1, 1)
    return fig, ax


def memory_slicing(d_in: int = 24, exp: int = 144, d_out: int = 24, size: int = 56, slices: int = 4):
    """V2 §5.1: an inverted residual evaluated in `slices` groups of expansion channels. Only the input, the output
    being summed into and one slice of the expanded tensor exist at a time."""
    fig, ax = _canvas(9.4, 3.9)
    ax.text(4.7, 3.68, f"V2 §5.1: the expanded {size}²×{exp} tensor is never stored whole", ha="center",
            fontsize=10.5, color=_INK)
    _box(ax, 0.9, 1.9, 1.3, 2.2, f"input\n{size}²×{d_in}\n(stored)", "pointwise")
    _box(ax, 8.5, 1.9, 1.3, 2.2, f"output\n{size}²×{d_out}\n(stored,\nsums the\nslices)", "pointwise")
    h = 2.6 / slices
    for s in range(slices):
        y = 3.2 - h * (s + 0.5)
        live = s == 1
        kind = "depthwise" if live else "pool"
        c = exp // slices
        _box(ax, 3.0, y, 1.55, h * 0.8, f"1×1 expand: {c} ch", kind, 8, dashed=not live)
        _box(ax, 4.9, y, 1.55, h * 0.8, f"dw 3×3: {c} ch", kind, 8, dashed=not live)
        _box(ax, 6.8, y, 1.55, h * 0.8, "1×1 project: +=", kind, 8, dashed=not live)
        _arrow(ax, (1.55, 1.9), (2.2, y), color="#999999")
        _arrow(ax, (3.8, y), (4.1, y), color="#999999")
        _arrow(ax, (5.7, y), (6.0, y), color="#999999")
        _arrow(ax, (7.6, y), (7.85, 1.9), color="#999999")
    ax.text(4.9, 0.28, f"one slice alive at a time (solid): {size}²×{exp // slices} instead of {size}²×{exp}; "
            "expansion and depthwise act per channel,\nthe projection is a sum over channels, so the slices' "
            "partial sums add up to the block's output exactly", ha="center", fontsize=8.5, color="#555555")
    return _closed(fig)


def search_loop():
    """V3 §4: platform-aware NAS (block-wise, an RNN controller trained with reinforcement learning, reward
    ACC·(LAT/TAR)^w with latency measured on the phone), then NetAdapt (layer-wise trimming), then hand changes."""
    fig, ax = _canvas(9.6, 4.0)
    ax.text(4.8, 3.78, "How MobileNetV3 was found (§4, §5)", ha="center", fontsize=10.5, color=_INK)
    _box(ax, 1.35, 2.7, 2.2, 0.8, "RNN controller\nproposes a network\n(block by block)", "conv", 8.5)
    _box(ax, 4.15, 2.7, 2.1, 0.8, "train briefly\n→ ACC(m)", "pointwise", 8.5)
    _box(ax, 4.15, 1.45, 2.1, 0.8, "run on the phone\n→ LAT(m)", "depthwise", 8.5)
    _box(ax, 1.35, 1.45, 2.2, 0.8, "reward\nACC(m)·[LAT(m)/TAR]^w\n(reinforcement learning)", "SE", 8)
    _arrow(ax, (2.45, 2.7), (3.1, 2.7))
    _arrow(ax, (4.15, 2.3), (4.15, 1.85))
    _arrow(ax, (3.1, 1.45), (2.45, 1.45))
    _arrow(ax, (1.35, 1.85), (1.35, 2.3), "update")
    ax.text(2.75, 0.72, "platform-aware NAS (MnasNet's method): Large started from MnasNet-A1;\n"
            "Small was searched anew, with w = −0.15 instead of −0.07", ha="center", fontsize=8, color="#555555")
    _box(ax, 7.55, 2.7, 2.5, 0.8, "NetAdapt: propose smaller layers,\nfine-tune, keep the best ΔACC/ΔLAT;\n"
         "repeat until the target latency", "FC", 7.5)
    _box(ax, 7.55, 1.45, 2.5, 0.8, "hand changes (§5):\nlast stage, 16-filter stem,\nh-swish", "pool", 8)
    _arrow(ax, (5.2, 2.95), (6.3, 2.95))
    ax.text(5.75, 3.1, "searched\nnetwork", fontsize=7.5, color="#555555", ha="center")
    _arrow(ax, (7.55, 2.3), (7.55, 1.85))
    ax.text(7.55, 0.72, "layer-wise: NetAdapt stops at odd widths\n(exp 184, 88): the tables' irregular numbers",
            ha="center", fontsize=8, color="#555555")
    return _closed(fig)


def _stage_rows(table) -> list[tuple[str, float, str]]:
    """(label, MAdds, kind) per layer of a last stage's cost table, with the pooling inserted where the map
    becomes 1×1."""
    out, pooled = [], False
    for r in table:
        flat = len(r.out_shape) == 1
        if flat and not pooled:
            out.append(("global average pool → 1×1", 0.0, "pool"))
            pooled = True
        shape = f"{r.out_shape[0]}" + ("" if flat else f" @ {r.out_shape[1]}×{r.out_shape[2]}")
        kind = "depthwise" if r.type.startswith("depthwise") else "FC" if flat else "pointwise"
        out.append((f"{r.type} → {shape}", r.madds, kind))
    return out


def last_stage(before, after):
    """V3 §5.1, Figure 5: the original and the efficient last stage (cost tables of `LastStage`s, from the last
    bneck's 7×7 output to the logits) as two columns of layers with their MAdds, and why the move is allowed."""
    cols = [(_stage_rows(before), "original"), (_stage_rows(after), "efficient (MobileNetV3)")]
    rows = max(len(c) for c, _ in cols)
    fig, ax = _canvas(9.4, 0.55 * rows + 1.75)
    top = 0.55 * rows + 0.95
    for x, (layers, title) in zip((2.35, 7.05), cols):
        ax.text(x, top + 0.4, f"{title}: {sum(m for _, m, _ in layers) / 1e6:.1f}M MAdds", ha="center",
                fontsize=10, color=_INK)
        for i, (label, m, kind) in enumerate(layers):
            y = top - 0.55 * i
            _box(ax, x, y, 4.2, 0.4, f"{label}    {m / 1e6:.2f}M" if m else label, kind, 8.5)
            if i:
                _arrow(ax, (x, y + 0.55 - 0.2), (x, y + 0.2))
    ax.text(4.7, 0.55, "Average pooling is linear, and so are a 1×1 conv and BatchNorm at inference: "
            "pool(W·x + b) = W·pool(x) + b.\nA layer with no nonlinearity between it and the pool can move past "
            "the pool exactly and then runs once, not 49 times;\nthe h-swish after the 1280-wide layer is what "
            "makes MobileNetV3's move an approximation, paid for in a little accuracy.",
            ha="center", va="center", fontsize=8.5, color="#555555")
    return _closed(fig)


def stem_widths(madds: dict, total: float, paper_saving: float):
    """V3 §5.1: the MAdds of the stem and the first bneck for several stem widths (`madds`: width → MAdds), beside
    the whole 16-filter network's `total`, and the paper's saving for 32 → 16 (in millions)."""
    fig, ax = plt.subplots(figsize=(8, 3.2))
    widths = list(madds)
    bars = ax.bar([str(w) for w in widths], [madds[w] / 1e6 for w in widths],
                  color=[KIND_COLORS["conv"][1] if w == 16 else "#bbbbbb" for w in widths])
    ax.bar_label(bars, [f"{madds[w] / 1e6:.1f}M\n{100 * madds[w] / total:.0f} % of the net" for w in widths],
                 fontsize=8.5, padding=2)
    ax.set_ylim(0, 1.35 * max(madds.values()) / 1e6)
    ax.set_xlabel("filters in the stem's 3×3 conv (the first bneck works on as many channels)")
    ax.set_ylabel("MAdds of stem + first bneck (M)")
    saved = (madds[32] - madds[16]) / 1e6 if 32 in madds and 16 in madds else float("nan")
    ax.set_title(f"Stem 32 → 16: {saved:.1f}M MAdds saved at 112×112 (paper: {paper_saving}M)", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return _closed(fig)
