"""An experiment in which squeeze-and-excite gates mean something (V3 §5.3): a tiny network of two bnecks with SE,
trained for a few seconds on the handwritten digits that ship inside scikit-learn (no download), whose gates then
differ from digit to digit, where an untrained SE gates every channel at about 1/2.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from .blocks import Bneck
from .layers import ConvBNAct

__all__ = ["digits", "TinySENet", "train", "accuracy", "gates_by_class", "gates_figure"]


def digits(seed: int = 0):
    """scikit-learn's 8×8 digits as (train, test) pairs of tensors: images (N, 1, 8, 8) scaled to about unit
    variance, labels (N,). A fixed, seeded split: 1,297 training and 500 test images."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = torch.tensor(data.images, dtype=torch.float32)[:, None] / 16.0
    x = (x - x.mean()) / x.std()
    y = torch.tensor(data.target)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    test, train_ = order[:500], order[500:]
    return (x[train_], y[train_]), (x[test], y[test])


class TinySENet(nn.Module):
    """stem 3×3 → 16 (h-swish), bneck 3×3 exp 64 → 24 with SE (8×8), bneck 3×3 exp 96 → 32 with SE, stride 2
    (4×4), global pool, linear → 10 classes. BatchNorm momentum 0.1: a few hundred steps must converge."""

    def __init__(self):
        super().__init__()
        bn = dict(bn_momentum=0.1)
        self.stem = ConvBNAct(1, 16, 3, 1, nl="HS", **bn)
        self.blocks = nn.Sequential(Bneck(16, 3, 64, 24, True, "HS", 1, **bn),
                                    Bneck(24, 3, 96, 32, True, "HS", 2, **bn))
        self.head = nn.Linear(32, 10)

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)).mean((2, 3)))


def train(model: nn.Module, data, steps: int = 150, batch: int = 64, lr: float = 0.02, seed: int = 0):
    """Adam on cross-entropy for `steps` mini-batches (seeded), on one thread (tiny tensors: more threads only
    wait for each other on a shared machine); returns the model in eval mode."""
    x, y = data
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model.train()
        for _ in range(steps):
            i = torch.randint(len(y), (batch,), generator=g)
            loss = nn.functional.cross_entropy(model(x[i]), y[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
    finally:
        torch.set_num_threads(threads)
    return model.eval()


@torch.no_grad()
def accuracy(model: nn.Module, data) -> float:
    x, y = data
    return (model.eval()(x).argmax(1) == y).float().mean().item()


@torch.no_grad()
def gates_by_class(model: nn.Module, data, block: int = 1) -> torch.Tensor:
    """The SE gate of `model.blocks[block]`, averaged over the images of each class: (10, exp channels)."""
    x, y = data
    se = model.blocks[block].se
    seen = {}
    handle = se.register_forward_hook(lambda m, inputs, out: seen.update(g=m.scale(inputs[0])[:, :, 0, 0]))
    model.eval()(x)
    handle.remove()
    return torch.stack([seen["g"][y == c].mean(0) for c in range(10)])


def gates_figure(untrained: torch.Tensor, trained: torch.Tensor, accuracies=(None, None), block: int = 1):
    """Two heat maps, digit class × channel: the mean SE gate before and after training."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    fig.subplots_adjust(bottom=0.16, top=0.83, left=0.06, right=0.86, wspace=0.08)
    for ax, gates, title, acc in zip(axes, (untrained, trained), ("freshly initialised", "trained"), accuracies):
        im = ax.imshow(np.asarray(gates), cmap="viridis", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
        extra = f", test accuracy {acc:.0%}" if acc is not None else ""
        ax.set_title(f"{title}{extra}", fontsize=10)
        ax.set_xlabel("channel of the expanded tensor")
    axes[0].set_yticks(range(10))
    axes[0].set_ylabel("digit")
    fig.colorbar(im, cax=fig.add_axes((0.88, 0.16, 0.015, 0.67)), label="mean gate $g_c$")
    fig.suptitle(f"Squeeze-and-excite gates of bneck {block}, averaged over each digit's test images", fontsize=10)
    plt.close(fig)
    return fig
