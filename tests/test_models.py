"""The facts of issue 2: mnv3lib is the papers' architecture and torchvision's, number for number."""
import pytest
import torch
import torchvision
from torch import nn

import mnv3lib
from mnv3lib import configs
from mnv3lib.blocks import Bneck, InvertedResidual
from mnv3lib.layers import HSwish, SqueezeExcite, make_divisible

WIDTHS = [0.5, 0.75, 1.0, 1.25]
PAIRS = {
    "mobilenet_v2": (mnv3lib.mobilenet_v2, torchvision.models.mobilenet_v2),
    "mobilenet_v3_large": (mnv3lib.mobilenet_v3_large, torchvision.models.mobilenet_v3_large),
    "mobilenet_v3_small": (mnv3lib.mobilenet_v3_small, torchvision.models.mobilenet_v3_small),
}


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("arch", PAIRS)
def test_parameter_count_equals_torchvision(arch, width):
    ours, theirs = PAIRS[arch]
    assert n_params(ours(width_mult=width)) == n_params(theirs(weights=None, width_mult=width))


@pytest.mark.parametrize("arch", PAIRS)
def test_state_dict_shapes_equal_torchvision(arch):
    ours, theirs = PAIRS[arch]
    assert sorted(v.shape for v in ours().state_dict().values()) == \
        sorted(v.shape for v in theirs(weights=None).state_dict().values())


def test_mobilenet_v1_parameter_count():
    # conv weights (no bias), BN weight + bias, FC 1024×1000 + bias: the paper's "4.2M"
    assert n_params(mnv3lib.mobilenet_v1()) == 4_231_976


def test_mobilenet_v1_follows_table_1():
    m = mnv3lib.mobilenet_v1()
    assert len(m.blocks) == 13  # 13 depthwise-separable layers
    assert [b.pointwise.conv.out_channels for b in m.blocks] == \
        [64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024]
    assert [b.depthwise.conv.stride[0] for b in m.blocks] == [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1]
    assert m(torch.randn(1, 3, 224, 224)).shape == (1, 1000)


@pytest.mark.parametrize("alpha,channels", [(0.25, 256), (0.5, 512), (0.75, 768)])
def test_mobilenet_v1_width_multiplier(alpha, channels):
    assert mnv3lib.mobilenet_v1(alpha=alpha).classifier.in_features == channels


@pytest.mark.parametrize("arch", PAIRS)
def test_outputs_equal_torchvision_after_from_torchvision(arch, randomize):
    _, theirs = PAIRS[arch]
    tv = randomize(theirs(weights=None, width_mult=0.75))
    ours = mnv3lib.from_torchvision(tv)
    assert ours.arch == arch and ours.width_mult == 0.75 and not ours.training
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        diff = (ours(x) - tv(x)).abs().max().item()
    assert diff <= 1e-5
    assert tv(x).abs().max() > 1e-2  # the comparison is not between two near-zero outputs


@pytest.mark.parametrize("arch", PAIRS)
def test_to_torchvision_round_trips(arch, randomize):
    ours_builder, _ = PAIRS[arch]
    ours = randomize(ours_builder(width_mult=1.0, num_classes=10))
    tv = mnv3lib.to_torchvision(ours)
    assert type(tv).__module__.startswith("torchvision")
    back = mnv3lib.from_torchvision(tv)
    x = torch.randn(2, 3, 160, 160)
    with torch.no_grad():
        assert (tv(x) - ours(x)).abs().max().item() <= 1e-5
        assert (back(x) - ours(x)).abs().max().item() <= 1e-5
    assert all(torch.equal(a, b) for a, b in zip(ours.state_dict().values(), back.state_dict().values()))


def test_from_torchvision_accepts_a_state_dict(randomize):
    tv = randomize(torchvision.models.mobilenet_v3_small(weights=None, num_classes=7))
    ours = mnv3lib.from_torchvision(tv.state_dict(), arch="mobilenet_v3_small").eval()
    assert ours.num_classes == 7
    x = torch.randn(1, 3, 96, 96)
    with torch.no_grad():
        assert (ours(x) - tv(x)).abs().max().item() <= 1e-5


# --- MobileNetV3 details as in torchvision -------------------------------------------------------

def test_v3_batchnorm_settings():
    m = mnv3lib.mobilenet_v3_large()
    bns = [b for b in m.modules() if isinstance(b, nn.BatchNorm2d)]
    assert bns and all(b.eps == 1e-3 and b.momentum == 0.01 for b in bns)
    v2bns = [b for b in mnv3lib.mobilenet_v2().modules() if isinstance(b, nn.BatchNorm2d)]
    assert all(b.eps == 1e-5 and b.momentum == 0.1 for b in v2bns)


@pytest.mark.parametrize("builder", [mnv3lib.mobilenet_v3_large, mnv3lib.mobilenet_v3_small])
def test_v3_squeeze_excite_width_and_gate(builder):
    for b in builder().blocks:
        exp = b.depthwise.conv.out_channels
        if b.se is not None:
            assert b.se.fc1.out_channels == make_divisible(exp // 4, 8)
            assert isinstance(b.se.gate, mnv3lib.layers.HSigmoid)


@pytest.mark.parametrize("builder", [mnv3lib.mobilenet_v3_large, mnv3lib.mobilenet_v3_small])
def test_v3_expand_conv_only_when_exp_differs_from_input(builder):
    m = builder()
    cin = m.stem.conv.out_channels
    for b in m.blocks:
        exp = b.depthwise.conv.in_channels
        assert (b.expand is None) == (exp == cin)
        cin = b.project.conv.out_channels
    assert m.blocks[0].expand is None  # both tables open with exp 16 on a 16-channel input


@pytest.mark.parametrize("builder", [mnv3lib.mobilenet_v3_large, mnv3lib.mobilenet_v3_small])
@pytest.mark.parametrize("width", WIDTHS)
def test_v3_last_conv_is_six_times_last_bneck(builder, width):
    m = builder(width_mult=width)
    assert m.last_conv.conv.out_channels == 6 * m.blocks[-1].project.conv.out_channels


def test_v3_classifier_has_dropout_02():
    for m in (mnv3lib.mobilenet_v3_large(), mnv3lib.mobilenet_v3_small(), mnv3lib.mobilenet_v2()):
        drops = [d for d in m.classifier if isinstance(d, nn.Dropout)]
        assert [d.p for d in drops] == [0.2]
    head = mnv3lib.mobilenet_v3_large().classifier
    assert [type(x) for x in head] == [nn.Linear, HSwish, nn.Dropout, nn.Linear]
    assert head[0].out_features == 1280 and mnv3lib.mobilenet_v3_small().classifier[0].out_features == 1024


def test_v3_rows_are_the_papers_tables():
    large = [r for r in configs.V3_LARGE if r.operator == "bneck"]
    small = [r for r in configs.V3_SMALL if r.operator == "bneck"]
    assert len(configs.V3_LARGE) == 20 and len(large) == 15
    assert len(configs.V3_SMALL) == 16 and len(small) == 11
    m = mnv3lib.mobilenet_v3_large()
    assert [(b.depthwise.conv.kernel_size[0], b.depthwise.conv.out_channels, b.project.conv.out_channels,
             b.se is not None, b.depthwise.conv.stride[0]) for b in m.blocks] == \
        [(r.kernel, r.exp, r.out, r.se, r.stride) for r in large]
    nls = ["HS" if isinstance(b.depthwise.act, HSwish) else "RE" for b in m.blocks]
    assert nls == [r.nl for r in large]


def test_v3_small_as_printed_has_se_on_last_conv():
    default = mnv3lib.mobilenet_v3_small()
    printed = mnv3lib.mobilenet_v3_small(as_printed=True)
    assert default.last_conv.se is None and isinstance(printed.last_conv.se, SqueezeExcite)
    squeeze = make_divisible(576 // 4, 8)  # 144
    extra = 576 * squeeze + squeeze + squeeze * 576 + 576  # two 1×1 convs with bias
    assert n_params(printed) - n_params(default) == extra == 166_608
    assert n_params(default) == n_params(torchvision.models.mobilenet_v3_small(weights=None))
    with pytest.raises(ValueError, match="arch"):
        mnv3lib.to_torchvision(printed)


def test_v2_blocks():
    m = mnv3lib.mobilenet_v2()
    assert len(m.blocks) == 17  # the rows of Table 2 sum to 17 bottlenecks (the text says 19)
    assert m.blocks[0].expand is None  # t = 1
    assert all(isinstance(b, InvertedResidual) and not isinstance(b, Bneck) for b in m.blocks)
    assert sum(b.use_residual for b in m.blocks) == 10
    assert m.last_conv.conv.out_channels == 1280 and mnv3lib.mobilenet_v2(0.5).last_conv.conv.out_channels == 1280


def test_v3_head_follows_the_tables_nl_column():
    from dataclasses import replace
    rows = [replace(r, nl="RE") if r.operator == "conv2d NBN" and r.out is not None else r for r in configs.V3_LARGE]
    head = mnv3lib.models.MobileNetV3(rows).classifier
    assert isinstance(head[1], nn.ReLU)
