"""mnv3lib.manifold: the ReLU-and-manifolds experiments of MobileNetV2 §3.2 / Figure 1."""
import math

import matplotlib
import pytest
import torch

from mnv3lib import manifold

matplotlib.use("Agg")


def test_spiral_is_a_2d_curve_around_the_origin():
    x = manifold.spiral(200, turns=2.0)
    assert x.shape == (200, 2) and x.dtype == torch.float64
    r = x.norm(dim=1)
    assert torch.all(r[1:] > r[:-1])  # radius grows along the curve
    assert r.min() > 0 and abs(r.max().item() - 1.0) < 1e-12


def test_readout_error_decreases_with_n_and_n30_is_nearly_perfect():
    x = manifold.spiral()
    curve = manifold.loss_curve(x, manifold.FIGURE1_NS, seeds=range(5))
    errors = [loss.error for loss in curve]
    assert all(a > b for a, b in zip(errors, errors[1:])), errors
    assert errors[0] > 0.4          # n = 2: most of the spiral is lost
    assert errors[-1] < 0.01        # n = 30: a linear read-out recovers it


def test_collapsed_fraction_matches_the_binomial_law():
    x = manifold.spiral()
    for n in (2, 3, 5):
        loss = manifold.information_loss(x, n, seeds=range(200))
        p = manifold.collapse_probability(n, 2)
        assert abs(loss.collapsed - p) < 0.05, (n, loss.collapsed, p)
    assert manifold.information_loss(x, 30, seeds=range(5)).collapsed == 0.0


def test_collapse_probability_values():
    assert manifold.collapse_probability(2) == 0.75
    assert manifold.collapse_probability(3) == 0.5
    assert math.isclose(manifold.collapse_probability(30), 31 / 2 ** 30)
    assert manifold.collapse_probability(4, m=8) == 1.0  # fewer units than dimensions: always


def test_roundtrip_is_pseudo_inverse_of_relu_embedding():
    x = manifold.spiral(50)
    rt = manifold.roundtrip(x, 5, seed=3)
    assert rt.T.shape == (5, 2) and rt.hidden.shape == (50, 5) and rt.back.shape == (50, 2)
    assert torch.all(rt.hidden >= 0)
    assert torch.allclose(rt.back, rt.hidden @ torch.linalg.pinv(rt.T).T)
    # a collapsed point has fewer than 2 active units (Gaussian rows are never parallel)
    assert torch.equal(rt.collapsed, (rt.hidden > 0).sum(1) < 2)
    # the same seed gives the same matrix, another seed another one
    assert torch.equal(manifold.roundtrip(x, 5, seed=3).T, rt.T)
    assert not torch.equal(manifold.roundtrip(x, 5, seed=4).T, rt.T)


def test_linear_projection_keeps_everything_once_wide_enough():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(400, 8, generator=g, dtype=torch.float64)
    narrow = manifold.information_loss(x, 4, seeds=range(3), relu=False)
    assert narrow.collapsed == 1.0 and narrow.error > 0.5
    linear = manifold.information_loss(x, 8, seeds=range(3), relu=False)
    assert linear.error < 1e-6 and linear.collapsed == 0.0
    relu = manifold.information_loss(x, 8, seeds=range(3), relu=True)
    assert relu.error > 0.5 and relu.collapsed > 0.9  # the narrow ReLU bottleneck destroys it


def test_figures_have_one_panel_per_width():
    fig = manifold.figure1((2, 30), seed=1)
    assert len(fig.axes) == 3 and fig.axes[1].get_title().startswith("n = 2")
    grid = manifold.figure1(seed=0)  # input + 5 panels: 2 rows of 3
    assert len(grid.axes) == 6 and grid.axes[0].get_subplotspec().get_geometry()[:2] == (2, 3)
    x = manifold.spiral(100)
    fig2 = manifold.loss_figure({"ReLU": manifold.loss_curve(x, (2, 3), seeds=range(2))})
    assert len(fig2.axes) == 2 and len(fig2.axes[1].get_lines()) == 2  # curve + theory
    import matplotlib.pyplot as plt
    plt.close("all")


@pytest.mark.parametrize("call, field", [
    (lambda: manifold.spiral(2), "points"),
    (lambda: manifold.spiral(100, turns=0), "turns"),
    (lambda: manifold.roundtrip(manifold.spiral(), 0), "n"),
    (lambda: manifold.roundtrip(torch.zeros(10), 3), "x"),
    (lambda: manifold.information_loss(manifold.spiral(), 3, seeds=[]), "seeds"),
    (lambda: manifold.readout_error(manifold.spiral(10), torch.zeros(9, 3)), "hidden"),
])
def test_bad_input_names_the_field(call, field):
    with pytest.raises(ValueError, match=f"^{field}: "):
        call()
