"""Figures of training runs (chapter 6): learning curves, accuracy against cost, and the seeds' spread.

Every function takes the plain records of `mnv3lib.experiments.run_all` and returns a matplotlib Figure.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

__all__ = ["label", "learning_curves", "accuracy_vs_cost", "spread"]

_COLORS = {"v1": "tab:blue", "v2": "tab:orange", "v3-small": "tab:green", "v3-large": "tab:red"}


def label(r: dict) -> str:
    """'v3-small ×0.25' or 'v3-small ×0.25, no-se': network, width, and the variant when not the paper's."""
    extra = "" if r["variant"] == "paper" else f", {r['variant']}"
    return f"{r['arch']} ×{r['width']:g}{extra}"


def learning_curves(records: list[dict], metric: str = "acc", ax=None, title: str = ""):
    """Per-epoch training (dashed) and validation (solid) curves, one colour per network, one line per seed."""
    if metric not in ("acc", "loss"):
        raise ValueError(f"metric: got {metric!r}, expected 'acc' or 'loss'")
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(6.4, 3.6))
    seen = set()
    for r in records:
        c = _COLORS.get(r["arch"], "gray")
        epochs = range(1, len(r["history"]["val_acc"]) + 1)
        name = label(r)
        ax.plot(epochs, r["history"][f"train_{metric}"], "--", color=c, alpha=0.5, lw=1)
        ax.plot(epochs, r["history"][f"val_{metric}"], "-", color=c, alpha=0.8, lw=1.5,
                label=None if name in seen else name)
        seen.add(name)
    ax.set(xlabel="epoch", ylabel="accuracy" if metric == "acc" else "cross-entropy",
           title=title or f"validation (solid) and training (dashed) {'accuracy' if metric == 'acc' else 'loss'}")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def accuracy_vs_cost(summary: dict, paper_points: list, cost: str = "madds"):
    """Left: our digits networks, test accuracy (mean, bar = min..max over seeds) against `cost`
    ("madds" or "params"). Right: the papers' ImageNet top-1 against the same cost, labelled as the papers'.
    `summary`: {label: {"mean", "min", "max", "madds", "params", "arch"}}; `paper_points`: PaperPoints."""
    if cost not in ("madds", "params"):
        raise ValueError(f"cost: got {cost!r}, expected 'madds' or 'params'")
    fig, (a, b) = plt.subplots(1, 2, figsize=(9.6, 3.6))
    for name, s in summary.items():
        x = s[cost] / 1e6
        a.errorbar(x, 100 * s["mean"], yerr=[[100 * (s["mean"] - s["min"])], [100 * (s["max"] - s["mean"])]],
                   fmt="o", color=_COLORS.get(s["arch"], "gray"), capsize=3)
        a.annotate(name, (x, 100 * s["mean"]), fontsize=7, xytext=(4, -10), textcoords="offset points")
    for p in paper_points:
        b.scatter(getattr(p, cost) / 1e6, p.top1, color="gray", s=18)
        b.annotate(p.label, (getattr(p, cost) / 1e6, p.top1), fontsize=7, xytext=(3, 3), textcoords="offset points")
    unit = "M MAdds" if cost == "madds" else "M parameters"
    a.set(xscale="log", xlabel=f"{unit} (16×16 input, 10 classes)", ylabel="test accuracy %",
          title="ours: digits, mean and range over seeds")
    b.set(xscale="log", xlabel=f"{unit} (224×224, 1000 classes)", ylabel="ImageNet top-1 %",
          title="the papers' values (ImageNet)")
    for ax in (a, b):
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # 0.5, 2, 100: not 5×10⁻¹
        ax.xaxis.set_minor_formatter(NullFormatter())
    fig.tight_layout()
    return fig


def spread(groups: dict, title: str = "", ax=None):
    """One column per group ({name: [test accuracies]}), a dot per seed and a bar at the mean."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(6.4, 3.2))
    for i, (name, accs) in enumerate(groups.items()):
        ax.scatter([i] * len(accs), [100 * a for a in accs], color="tab:blue", alpha=0.7, zorder=3)
        m = 100 * sum(accs) / len(accs)
        ax.plot([i - 0.25, i + 0.25], [m, m], color="black", lw=2)
    ax.set_xticks(range(len(groups)), list(groups), rotation=20, ha="right", fontsize=8)
    ax.set(ylabel="test accuracy %", title=title)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig
