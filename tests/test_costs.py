"""mnv3lib.costs: parameters, MAdds and activation memory, counted layer by layer in the papers' convention."""
import pytest
import torch
import torchinfo
import torchvision
from torch import nn

import mnv3lib
from mnv3lib.blocks import Bneck, DepthwiseSeparable, InvertedResidual
from mnv3lib.layers import ConvBNAct

BUILDERS = {"v1": mnv3lib.mobilenet_v1, "v2": mnv3lib.mobilenet_v2,
            "v3_large": mnv3lib.mobilenet_v3_large, "v3_small": mnv3lib.mobilenet_v3_small}
TORCHVISION = {  # mnv3lib builder, torchvision builder, torchvision weights enum (metadata only, no download)
    "mobilenet_v2": (mnv3lib.mobilenet_v2, torchvision.models.mobilenet_v2,
                     torchvision.models.MobileNet_V2_Weights.IMAGENET1K_V1),
    "mobilenet_v3_large": (mnv3lib.mobilenet_v3_large, torchvision.models.mobilenet_v3_large,
                           torchvision.models.MobileNet_V3_Large_Weights.IMAGENET1K_V1),
    "mobilenet_v3_small": (mnv3lib.mobilenet_v3_small, torchvision.models.mobilenet_v3_small,
                           torchvision.models.MobileNet_V3_Small_Weights.IMAGENET1K_V1),
}


def test_block_costs_follow_the_papers_formulas():
    # V1 §3.1: depthwise Dk·Dk·M·DF·DF + pointwise M·N·DF·DF (DF the output size)
    t = mnv3lib.cost_table(DepthwiseSeparable(32, 64, stride=2), (32, 112, 112))
    assert [(r.type, r.madds) for r in t] == [("depthwise 3×3", 9 * 32 * 56 * 56), ("pointwise 1×1", 32 * 64 * 56 * 56)]
    # V3 bneck 5×5 with SE on 28²×40, exp 120: SE's two 1×1 convs work on the pooled 1×1 map
    t = mnv3lib.cost_table(Bneck(40, 5, 120, 40, True, "RE", 1), (40, 28, 28))
    assert [(r.type, r.madds) for r in t] == [
        ("pointwise 1×1", 40 * 120 * 28 * 28), ("depthwise 5×5", 25 * 120 * 28 * 28),
        ("SE", 120 * 32), ("SE", 32 * 120), ("pointwise 1×1", 120 * 40 * 28 * 28)]
    assert [r.out_shape for r in t] == [(120, 28, 28), (120, 28, 28), (32, 1, 1), (120, 1, 1), (40, 28, 28)]
    assert t[2].params == 120 * 32 + 32 and t[2].weights == 120 * 32  # SE convs have biases
    assert t.total_params == sum(p.numel() for p in Bneck(40, 5, 120, 40, True, "RE", 1).parameters())


@pytest.mark.parametrize("arch", BUILDERS)
@pytest.mark.parametrize("width,size", [(1.0, 224), (0.75, 192), (0.5, 97)])
def test_analytic_shapes_equal_a_traced_forward(arch, width, size):
    """The analytic walk (milliseconds) and a meta-device forward with hooks give the same rows."""
    model = BUILDERS[arch](width)
    assert mnv3lib.cost_table(model, size).rows == mnv3lib.cost_table(model, size, traced=True).rows


@pytest.mark.parametrize("arch", BUILDERS)
def test_count_params_equals_the_tensors(arch):
    model = BUILDERS[arch]()
    assert mnv3lib.count_params(model) == sum(p.numel() for p in model.parameters())
    assert mnv3lib.cost_table(model).total_params == mnv3lib.count_params(model)


@pytest.mark.parametrize("arch", TORCHVISION)
def test_torchvision_weights_metadata(arch):
    """torchvision's `_ops` (GMACs, read live from the weights enum) and `num_params`, to its 3 decimals."""
    ours, theirs, weights = TORCHVISION[arch]
    for model in (ours(), theirs(weights=None)):
        assert round(mnv3lib.madds(model) / 1e9, 3) == weights.meta["_ops"]
        assert mnv3lib.count_params(model) == weights.meta["num_params"]


def test_se_convs_are_counted_as_torchvision_counts_them():
    """Without SE's 1×1 convs, V3 would be 0.215 / 0.056 GMACs, not torchvision's 0.217 / 0.057."""
    for arch in ("mobilenet_v3_large", "mobilenet_v3_small"):
        ours, _, weights = TORCHVISION[arch]
        t = mnv3lib.cost_table(ours())
        se = sum(r.madds for r in t if r.type == "SE")
        assert se > 0 and round((t.total_madds - se) / 1e9, 3) != weights.meta["_ops"]


@pytest.mark.parametrize("arch", BUILDERS)
def test_torchinfo_reconciles_exactly(arch):
    """torchinfo counts more "mult-adds" than the papers: it multiplies every conv's weight AND bias
    by the output positions, and adds each BatchNorm's and Linear's parameters once (batch 1).
    The papers count conv/linear weights only. Subtracting those extras gives our number exactly."""
    model = BUILDERS[arch]()
    info = torchinfo.summary(model, (1, 3, 224, 224), verbose=0)
    t = mnv3lib.cost_table(model)
    bias_positions = sum((r.params - r.weights) * (r.activations // r.out_shape[0]) for r in t)
    batchnorm = sum(p.numel() for m in model.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters())
    assert batchnorm == t.other_params > 0
    assert info.total_mult_adds == t.total_madds + bias_positions + batchnorm
    assert info.total_params == t.total_params


def test_v3_large_table():
    t = mnv3lib.cost_table(mnv3lib.mobilenet_v3_large())
    assert len(t) == 64 and t[0].type == "conv 3×3" and t[0].out_shape == (16, 112, 112)
    assert t[-1].type == "FC" and t[-1].out_shape == (1000,)
    assert [r.name for r in t if r.type == "SE"][:2] == ["blocks.3.se.fc1", "blocks.3.se.fc2"]
    assert {r.type for r in t} == {"conv 3×3", "depthwise 3×3", "depthwise 5×5", "pointwise 1×1", "SE", "FC"}
    by_type = t.by_type()
    assert sum(p for p, _ in by_type.values()) == t.total_params
    assert sum(m for _, m in by_type.values()) == t.total_madds
    for weights_only in (False, True):
        shares = t.shares(weights_only)
        assert sum(p for p, _ in shares.values()) == pytest.approx(100)
        assert sum(m for _, m in shares.values()) == pytest.approx(100)
    assert t.shares()["pointwise 1×1"][1] > 80  # where the compute goes


def test_any_module_and_layers_without_rules():
    """Plain torch layers work too; a module without a rule (nn.Upsample, or a subclass that
    overrides forward) is traced on the meta device, and still counted exactly."""
    net = nn.Sequential(nn.Conv2d(3, 8, (3, 5), stride=2, padding=(1, 2), bias=True),
                        nn.Upsample(scale_factor=2), nn.Conv2d(8, 8, 3, padding="valid", dilation=2, groups=8),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))
    t = mnv3lib.cost_table(net, (3, 33, 40))
    assert [r.out_shape for r in t] == [(8, 17, 20), (8, 30, 36), (10,)]
    assert [r.type for r in t] == ["conv 3×5", "depthwise 3×3", "FC"]
    assert t.total_madds == 15 * 3 * 8 * 17 * 20 + 9 * 8 * 30 * 36 + 80
    assert t.rows == mnv3lib.cost_table(net, (3, 33, 40), traced=True).rows

    class Doubled(InvertedResidual):  # overrides forward: the InvertedResidual rule must not apply
        def forward(self, x):
            return super().forward(super().forward(x))
    t = mnv3lib.cost_table(Doubled(16, 64, 16), (16, 8, 8))
    assert len(t) == 6 and t.total_madds == 2 * (16 * 64 * 64 + 9 * 64 * 64 + 64 * 16 * 64)


def test_traced_costs_leave_the_model_untouched():
    model = mnv3lib.mobilenet_v2().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    mnv3lib.cost_table(model, traced=True)
    assert model.training and all(m.training for m in model.modules())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("size", [0, -3, 2.5, True, "224", (), (3, 0, 224), None])
def test_bad_input_size(size):
    with pytest.raises(ValueError, match="input_size"):
        mnv3lib.madds(mnv3lib.mobilenet_v3_small(), size)


def test_input_that_does_not_fit():
    with pytest.raises(ValueError, match="input channels"):
        mnv3lib.madds(mnv3lib.mobilenet_v2(), (4, 224, 224))
    with pytest.raises(ValueError, match="input size"):
        mnv3lib.madds(mnv3lib.mobilenet_v2(), 16)  # below the total stride of 32
    with pytest.raises(ValueError, match=r"input_size: .*expected \(64, H, W\)"):
        mnv3lib.cost_table(DepthwiseSeparable(64, 128), (32, 56, 56))
    with pytest.raises(ValueError, match="too small"):
        mnv3lib.cost_table(nn.Conv2d(3, 8, 5), (3, 4, 4))


def test_renders_as_text_and_html():
    t = mnv3lib.cost_table(mnv3lib.mobilenet_v1())
    text = str(t)
    assert "depthwise 3×3" in text and "568,740,352" in text and "4,231,976" in text
    assert len(text.splitlines()) == len(t) + 2 + 2  # header, rule, rows, BN row, total
    html = t._repr_html_()
    assert html.startswith("<table>") and html.count("<tr>") == len(t) + 3 and "568,740,352" in html


# ---------------------------------------------------------------------------------------------
# Activation memory (V2 §5.1, Table 3)
def test_peak_memory_is_the_largest_bottleneck_tensor():
    v1, v2 = mnv3lib.mobilenet_v1(), mnv3lib.mobilenet_v2()
    assert mnv3lib.peak_memory(v1) == 64 * 112 * 112 * 2     # Table 3: 1600K
    assert mnv3lib.peak_memory(v2) == 16 * 112 * 112 * 2     # Table 3: 400K
    assert mnv3lib.peak_memory(v2, fuse_stem=False) == 32 * 112 * 112 * 2  # without the first-layer trick
    assert mnv3lib.peak_memory(v2, bytes_per_value=4) == 2 * mnv3lib.peak_memory(v2)
    assert mnv3lib.peak_memory(v2, combined=True) == (3 * 224 * 224 + 16 * 112 * 112) * 2
    assert mnv3lib.peak_memory(v1, combined=True) == (32 + 64) * 112 * 112 * 2


def test_memory_profile():
    profile = mnv3lib.memory_profile(mnv3lib.mobilenet_v2())
    names = [n for n, _ in profile]
    assert profile[0] == ("input", 3 * 224 * 224 * 2)
    assert names[1] == "stem + blocks.0" and profile[1][1] == 16 * 112 * 112 * 2
    assert names[2:19] == [f"blocks.{i}" for i in range(1, 17)] + ["last_conv"]  # blocks are single operations
    assert names[-2:] == ["pool", "classifier.1"] and profile[-1][1] == 1000 * 2
    assert max(b for _, b in profile) == mnv3lib.peak_memory(mnv3lib.mobilenet_v2())
    v1 = [n for n, _ in mnv3lib.memory_profile(mnv3lib.mobilenet_v1())]
    assert v1[1:4] == ["stem + blocks.0.depthwise", "blocks.0.pointwise", "blocks.1.depthwise"]
    block = mnv3lib.memory_profile(Bneck(40, 5, 240, 40, True, "HS", 1), (40, 14, 14))
    assert block == [("input", 40 * 196 * 2), ("", 40 * 196 * 2)]  # the 240-wide inside is never stored
    assert [b for _, b in mnv3lib.memory_profile(ConvBNAct(3, 8, 3, 2), 32)] == [3 * 32 * 32 * 2, 8 * 16 * 16 * 2]


def test_table_renders_text_and_html_and_rejects_ragged_rows():
    t = mnv3lib.Table(["model", "params"], [["v2", 3_504_872], ["v3-small", 2_542_856]], "two models")
    assert len(t) == 2
    text = str(t).splitlines()
    assert text[0] == "two models" and text[1].split() == ["model", "params"] and "3,504,872" in text[3]
    html = t._repr_html_()
    assert "<caption>two models</caption>" in html and html.count("<tr>") == 3
    with pytest.raises(ValueError, match="rows: row 1 has 1 cells, expected 2"):
        mnv3lib.Table(["a", "b"], [[1, 2], [3]])
