"""mnv3lib.viz: every figure renders, says what the code computed, and is left closed in pyplot."""
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from matplotlib.text import Text  # noqa: E402

import mnv3lib  # noqa: E402
from mnv3lib import blocks, viz  # noqa: E402
from mnv3lib.costs import cost_table  # noqa: E402
from mnv3lib.diagrams import shape_label  # noqa: E402
from mnv3lib.layers import h_sigmoid, h_swish  # noqa: E402


def rendered(fig) -> list[str]:
    """Draw `fig` to PNG, check the picture is real (size, not blank), return every text in it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.tell() > 15_000
    pixels = matplotlib.image.imread(io.BytesIO(buf.getvalue()))
    w, h = fig.get_size_inches() * fig.dpi
    assert abs(pixels.shape[0] - h) <= 1 and abs(pixels.shape[1] - w) <= 1
    assert pixels[..., :3].std() > 0.05  # something drawn, not a blank canvas
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


@pytest.fixture(autouse=True)
def _no_open_figures():
    plt.close("all")
    yield
    assert plt.get_fignums() == [], "a viz function left a figure open in pyplot"


def traced_shapes(block, shape) -> list[str]:
    """Every conv's output shape from a real forward pass (independent of mnv3lib.costs)."""
    seen = []
    hooks = [m.register_forward_hook(lambda m, i, o: seen.append(shape_label(tuple(o.shape[1:]))))
             for m in block.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        out = block.eval()(torch.zeros(1, *shape))
    for h in hooks:
        h.remove()
    return seen, shape_label(tuple(out.shape[1:]))


BLOCKS = {  # id: (block, input_size, (C, H, W), texts that must appear, texts that must not)
    "v1": (blocks.DepthwiseSeparable(32, 64, stride=2), 112, (32, 112, 112),
           ["MobileNetV1 depthwise-separable block", "3×3 depthwise, stride 2", "1×1 conv · pointwise", "32 → 64",
            "ReLU"], ["linear", "identity", "+", "global avg pool", "ReLU6"]),
    "v2": (blocks.InvertedResidual(24, 144, 24, stride=1), (56, 24), (24, 56, 56),
           ["MobileNetV2 inverted residual", "1×1 conv · expand", "24 → 144  (×6)", "3×3 depthwise",
            "1×1 conv · project", "144 → 24", "ReLU6", "linear", "identity", "+"], ["global avg pool", "ReLU"]),
    "v2_t1": (blocks.InvertedResidual(32, 32, 16, stride=1), 112, (32, 112, 112),
              ["3×3 depthwise", "32 → 16", "linear"], ["1×1 conv · expand", "identity"]),
    "v3_se": (blocks.Bneck(24, 5, 72, 40, se=True, nl="RE", stride=2), (24, 56, 56), (24, 56, 56),
              ["MobileNetV3 bneck with SE", "5×5 depthwise, stride 2", "global avg pool", "1×1 conv · squeeze",
               "72 → 24", "24 → 72", "h-sigmoid", "gate 1²×72", "×", "linear"], ["identity", "h-swish"]),
    "v3_hs": (blocks.Bneck(80, 3, 200, 80, se=False, nl="HS", stride=1), 14, (80, 14, 14),
              ["MobileNetV3 bneck", "h-swish", "identity", "+", "200 → 80"], ["global avg pool", "ReLU"]),
}


@pytest.mark.parametrize("key", BLOCKS)
def test_block_diagram_is_drawn_from_the_block(key):
    block, size, shape, present, absent = BLOCKS[key]
    texts = rendered(viz.block_diagram(block, size))
    convs, out = traced_shapes(block, shape)
    labels = [t.removeprefix("input ").removeprefix("output ") for t in texts]
    for s in convs:  # every tensor that flows through the block is labelled with its real shape
        assert s in labels, (s, texts)
    assert f"input {shape_label(shape)}" in texts and f"output {out}" in texts
    for t in present:
        assert t in texts, (t, texts)
    for t in absent:
        assert t not in texts, (t, texts)


def test_block_diagram_counts_one_nonlinearity_badge_per_layer():
    texts = rendered(viz.block_diagram(blocks.Bneck(40, 5, 120, 40, se=True, nl="RE", stride=1), 28))
    # expand, depthwise and SE squeeze use ReLU; the gate is h-sigmoid; the projection is linear
    assert texts.count("ReLU") == 3 and texts.count("h-sigmoid") == 1 and texts.count("linear") == 1


def test_block_diagram_rejects_bad_input():
    block = blocks.InvertedResidual(24, 144, 24)
    with pytest.raises(ValueError, match=r"input_size: got 16 channels in \(56, 16\), expected 24"):
        viz.block_diagram(block, (56, 16))
    with pytest.raises(ValueError, match="input_size: got '56'"):
        viz.block_diagram(block, "56")
    with pytest.raises(ValueError, match="block: got Linear, expected a DepthwiseSeparable"):
        viz.block_diagram(torch.nn.Linear(3, 3), 56)


def test_classic_bottleneck_goes_wide_narrow_wide():
    texts = rendered(viz.classic_bottleneck_diagram(256, 64, 56))
    for t in ["ResNet bottleneck (classic residual)", "1×1 conv · reduce", "256 → 64", "3×3 conv", "64 → 64",
              "1×1 conv · expand", "64 → 256", "input 56²×256", "56²×64", "output 56²×256", "identity", "+"]:
        assert t in texts, t
    assert texts.count("ReLU") == 3  # after the two first convs, and after the addition
    with pytest.raises(ValueError, match="bottleneck: got 0, expected a positive integer"):
        viz.classic_bottleneck_diagram(256, 0)


def test_side_by_side_holds_both_diagrams():
    classic = viz.classic_bottleneck_diagram()
    inverted = viz.block_diagram(blocks.InvertedResidual(24, 144, 24), 56)
    both = viz.side_by_side(classic, inverted)
    texts = rendered(both)
    assert "ResNet bottleneck (classic residual)" in texts and "MobileNetV2 inverted residual" in texts
    assert both.get_figwidth() > classic.get_figwidth() + inverted.get_figwidth()
    styled = lambda f: sorted((t.get_text(), t.get_color(), t.get_fontsize()) for t in f.findobj(Text))  # noqa: E731
    assert set(styled(classic)) | set(styled(inverted)) == set(styled(both))  # redrawn alike
    with pytest.raises(ValueError, match=r"figures\[1\]: got Figure, expected a diagram"):
        viz.side_by_side(classic, plt.figure())
    plt.close("all")


@pytest.mark.parametrize("log", [False, True])
def test_cost_profile_plots_mnv3libs_cost_table(log):
    model = mnv3lib.mobilenet_v3_large()
    fig = viz.cost_profile(model, 224, log=log)
    texts = rendered(fig)
    table = cost_table(model, 224)
    top, bottom = fig.axes
    assert [b.get_height() for b in top.containers[0]] == [r.madds for r in table]
    assert [b.get_height() for b in bottom.containers[0]] == [r.params for r in table]
    assert top.get_yscale() == ("log" if log else "linear")
    title = (f"MobileNetV3-Large at 224²: {table.total_madds / 1e6:.1f}M MAdds, "
             f"{table.total_params / 1e6:.1f}M parameters")
    assert title in texts
    for t in ["112²", "56²", "28²", "14²", "7²", "FC", "depthwise 5×5", "SE", "pointwise 1×1"]:
        assert t in texts, t
    # one colour per layer type
    colors = {r.type: b.get_facecolor() for r, b in zip(table, top.containers[0])}
    assert len(set(colors.values())) == len(colors)


def test_cost_shares_is_v1_table2():
    model = mnv3lib.mobilenet_v1()
    fig = viz.cost_shares(model)
    texts = rendered(fig)
    shares = cost_table(model).shares(weights_only=True)
    madds_ax, params_ax = fig.axes
    types = [t.get_text() for t in madds_ax.get_yticklabels()]
    assert sorted(types) == sorted(shares)
    assert types[0] == "pointwise 1×1"  # ordered by share of MAdds, largest first
    assert [b.get_width() for b in madds_ax.containers[0]] == [shares[t][1] for t in types]
    assert [b.get_width() for b in params_ax.containers[0]] == [shares[t][0] for t in types]
    assert f"{shares['pointwise 1×1'][1]:.2f} %" in texts  # Table 2: 94.86 % (the paper's value)
    assert "MobileNetV1 at 224²: where the cost goes" in texts
    v1_075 = rendered(viz.cost_shares(mnv3lib.mobilenet_v1(0.75), 192))
    assert "MobileNetV1 α = 0.75 at 192²: where the cost goes" in v1_075


def test_cost_shares_can_count_batchnorm():
    texts = rendered(viz.cost_shares(mnv3lib.mobilenet_v2(width_mult=0.5), 160, weights_only=False))
    assert "BN & other" in texts and "MobileNetV2 ×0.5 at 160²: where the cost goes" in texts


def test_activation_functions_plot_mnv3libs_hard_functions():
    fig = viz.activation_functions()
    texts = rendered(fig)
    lines = {ln.get_label(): ln for ax in fig.axes for ln in ax.get_lines() if not ln.get_label().startswith("_")}
    for name, fn in (("h-sigmoid", h_sigmoid), ("h-swish", h_swish), ("sigmoid", torch.sigmoid),
                     ("swish", F.silu), ("ReLU6", F.relu6), ("ReLU", F.relu)):
        x = torch.as_tensor(lines[name].get_xdata())
        assert torch.allclose(torch.as_tensor(lines[name].get_ydata()), fn(x)), name
    assert lines["ReLU6"].get_xdata().max() > 6  # wide enough to show the ceiling
    x = torch.linspace(-6, 6, 2401)
    gap = (h_swish(x) - F.silu(x)).abs().max()
    assert any(t.startswith(f"h-swish − swish: max {gap:.3f} at x = ") for t in texts), texts
    assert any(t.startswith("h-sigmoid − sigmoid: max ") for t in texts)
    with pytest.raises(ValueError, match="lo, hi: got 2, 1, expected numbers with lo < 0 < hi"):
        viz.activation_functions(2, 1)


def test_viz_is_loaded_on_demand():
    import os
    import subprocess
    import sys
    code = ("import sys, mnv3lib; assert 'matplotlib' not in sys.modules and 'ipywidgets' not in sys.modules; "
            "assert callable(mnv3lib.viz.block_diagram) and 'matplotlib' in sys.modules; "
            "assert callable(mnv3lib.widgets.explorer)")
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "MPLBACKEND": "Agg"})
