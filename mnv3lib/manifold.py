"""ReLU and low-dimensional manifolds: MobileNetV2 §3.2 and Figure 1, as experiments.

A point cloud `x` of intrinsic dimension m (a 2-D spiral, or Gaussian features) is embedded into
n dimensions by a random matrix T, passed through ReLU and projected back with T's pseudo-inverse,
as in the paper's Figure 1. Two numbers say how much of `x` survives:

- the *read-out error*: what the best linear (affine) map from the n ReLU outputs back to `x`
  misses, measured on held-out points. The layer after a ReLU is linear (a 1×1 conv), so this is
  what the network can still use;
- the *collapsed fraction*: the share of points whose active ReLU units (those > 0) span fewer than
  m dimensions. Around such a point ReLU is not invertible: information is destroyed, not just
  bent. For Gaussian T a point keeps each unit with probability 1/2, so the fraction is
  P(Binomial(n, 1/2) < m), which `collapse_probability` computes.

With `relu=False` the same functions measure a linear projection: the linear bottleneck of §3.2.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterable

import torch

__all__ = ["FIGURE1_NS", "spiral", "Roundtrip", "roundtrip", "readout_error", "Loss", "information_loss",
           "loss_curve", "collapse_probability", "figure1", "loss_figure"]

FIGURE1_NS = (2, 3, 5, 15, 30)  # the paper's panels


def spiral(points: int = 500, turns: float = 2.0) -> torch.Tensor:
    """A 2-D spiral around the origin, (points, 2) in float64, as in V2 Figure 1 (the input panel)."""
    if isinstance(points, bool) or not isinstance(points, int) or points < 4:
        raise ValueError(f"points: got {points!r}, expected an integer >= 4")
    if not turns > 0:
        raise ValueError(f"turns: got {turns!r}, expected a number > 0")
    r = torch.linspace(0.05, 1.0, points, dtype=torch.float64)  # off the origin: 0 is lost for every T
    angle = 2 * math.pi * turns * r
    return torch.stack([r * torch.cos(angle), r * torch.sin(angle)], dim=1)


@dataclass(frozen=True)
class Roundtrip:
    """One embedding: `hidden` = ReLU(x Tᵀ) (N, n), `back` = hidden · pinv(T)ᵀ (N, m), and the
    points whose active units span fewer than m dimensions (`collapsed`, bool (N,))."""
    n: int
    relu: bool
    T: torch.Tensor
    hidden: torch.Tensor
    back: torch.Tensor
    collapsed: torch.Tensor


@contextmanager
def _one_thread():
    """These are many tiny linear-algebra calls: worker threads only add overhead, and on a busy
    machine spinning threads make them 10× slower. The caller's setting is restored."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _check_points(x) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape[0] < 4:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x: got {shape}, expected a tensor of shape (points >= 4, dims)")


def _check_n(n) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n: got {n!r}, expected an integer >= 1")


def roundtrip(x: torch.Tensor, n: int, seed: int = 0, relu: bool = True) -> Roundtrip:
    """V2 Figure 1: embed `x` (N, m) into n dims with a Gaussian T (n, m), apply ReLU (unless
    `relu=False`), project back with the pseudo-inverse T⁺."""
    _check_points(x)
    _check_n(n)
    x = x.double()
    g = torch.Generator().manual_seed(seed)
    T = torch.randn(n, x.shape[1], generator=g, dtype=torch.float64)
    hidden = x @ T.T
    if relu:
        hidden = hidden.clamp(min=0)
        active = (hidden > 0).double()
        # rank of the rows of T that are active at each point: the local linear map ReLU applies
        rank = torch.linalg.matrix_rank(active[:, :, None] * T[None])
    else:
        rank = torch.linalg.matrix_rank(T).expand(x.shape[0])
    back = hidden @ torch.linalg.pinv(T).T
    return Roundtrip(n, relu, T, hidden, back, rank < x.shape[1])


def readout_error(x: torch.Tensor, hidden: torch.Tensor) -> float:
    """Relative error of the best affine map hidden → x, fitted on the even-indexed points and
    measured on the odd ones: ‖x − x̂‖ / ‖x − mean(x)‖ (0 = everything recoverable, ~1 = nothing)."""
    _check_points(x)
    if hidden.shape[0] != x.shape[0]:
        raise ValueError(f"hidden: got {hidden.shape[0]} points, expected {x.shape[0]} (as many as x)")
    x, z = x.double(), torch.cat([hidden.double(), torch.ones(len(x), 1, dtype=torch.float64)], dim=1)
    w = torch.linalg.lstsq(z[0::2], x[0::2], driver="gelss").solution  # SVD: rank-deficient z is fine
    test = x[1::2]
    return ((z[1::2] @ w - test).norm() / (test - test.mean(0)).norm()).item()


@dataclass(frozen=True)
class Loss:
    """Information loss at width n, mean and standard deviation over random matrices (seeds)."""
    n: int
    relu: bool
    error: float
    error_std: float
    collapsed: float
    collapsed_std: float


def information_loss(x: torch.Tensor, n: int, seeds: Iterable[int] = range(10), relu: bool = True) -> Loss:
    """Read-out error and collapsed fraction of `roundtrip(x, n, seed, relu)`, averaged over `seeds`."""
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds: got none, expected at least one seed")
    errors, collapsed = [], []
    with _one_thread():
        for s in seeds:
            rt = roundtrip(x, n, s, relu)
            errors.append(readout_error(x, rt.hidden))
            collapsed.append(rt.collapsed.double().mean().item())
    e, c = torch.tensor(errors, dtype=torch.float64), torch.tensor(collapsed, dtype=torch.float64)
    std = (lambda t: t.std().item()) if len(seeds) > 1 else (lambda t: 0.0)
    return Loss(n, relu, e.mean().item(), std(e), c.mean().item(), std(c))


def loss_curve(x: torch.Tensor, ns: Iterable[int], seeds: Iterable[int] = range(10),
               relu: bool = True) -> list[Loss]:
    """`information_loss` at every width in `ns`."""
    seeds = list(seeds)
    return [information_loss(x, n, seeds, relu) for n in ns]


def collapse_probability(n: int, m: int = 2) -> float:
    """P(Binomial(n, 1/2) < m): the chance that fewer than m of n random ReLU units are active at a
    point, i.e. that ReLU collapses the m-dimensional neighbourhood of that point."""
    _check_n(n)
    return sum(math.comb(n, j) for j in range(min(m, n + 1))) / 2 ** n


def figure1(ns: Iterable[int] = FIGURE1_NS, seed: int = 0, x: torch.Tensor | None = None, cols: int = 3):
    """V2 Figure 1: the input spiral and its ReLU round trip through n dimensions, one panel per n,
    `cols` panels a row. Colour runs along the spiral; collapsed points are drawn black.
    Returns a Figure (closed in pyplot)."""
    import matplotlib.pyplot as plt

    x = spiral() if x is None else x
    ns = list(ns)
    cols = min(cols, len(ns) + 1)
    rows = -(-(len(ns) + 1) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.9 * rows), squeeze=False)
    axes = axes.ravel()
    for ax in axes[len(ns) + 1:]:
        ax.set_visible(False)
    colour = torch.linspace(0, 1, len(x))
    axes[0].scatter(x[:, 0], x[:, 1], c=colour, cmap="viridis", s=4)
    axes[0].set_title("Input")
    with _one_thread():
        trips = [roundtrip(x, n, seed) for n in ns]
    for ax, n, rt in zip(axes[1:], ns, trips):
        ok = ~rt.collapsed
        ax.scatter(rt.back[ok, 0], rt.back[ok, 1], c=colour[ok], cmap="viridis", s=4, vmin=0, vmax=1)
        ax.scatter(rt.back[~ok, 0], rt.back[~ok, 1], c="black", s=4)
        ax.set_title(f"n = {n}\n{rt.collapsed.double().mean().item():.0%} collapsed", fontsize=10)
    for ax in axes:
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    plt.close(fig)  # the caller shows it (as a cell's value): pyplot must not show it a second time
    return fig


def loss_figure(curves: dict[str, list[Loss]], xlabel: str = "n (dimensions after the embedding)",
                theory_m: int | None = 2):
    """Read-out error and collapsed fraction against width, one line per curve (mean ± 1 std over
    seeds); with `theory_m`, the collapse probability P(Binomial(n, 1/2) < m) dashed."""
    import matplotlib.pyplot as plt

    fig, (ax_e, ax_c) = plt.subplots(1, 2, figsize=(8.5, 3.4))
    for label, losses in curves.items():
        ns = [loss.n for loss in losses]
        for ax, mean, std in ((ax_e, "error", "error_std"), (ax_c, "collapsed", "collapsed_std")):
            m = torch.tensor([getattr(loss, mean) for loss in losses])
            s = torch.tensor([getattr(loss, std) for loss in losses])
            ax.plot(ns, m, "o-", label=label, ms=4)
            ax.fill_between(ns, (m - s).clamp(min=0), m + s, alpha=0.2)
    if theory_m is not None:
        ns = sorted({loss.n for losses in curves.values() for loss in losses})
        fine = range(min(ns), max(ns) + 1)
        ax_c.plot(fine, [collapse_probability(n, theory_m) for n in fine], "k--", lw=1,
                  label=f"P(Bin(n, ½) < {theory_m})")
    ax_e.set_ylabel("linear read-out error (held out)")
    ax_c.set_ylabel("fraction of collapsed points")
    for ax in (ax_e, ax_c):
        ax.set_xlabel(xlabel)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    plt.close(fig)
    return fig
