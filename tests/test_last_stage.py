"""MobileNetV3 §5.1, Figure 5: the original and the efficient last stage."""
import pytest
import torch
from torch import nn

import mnv3lib
from mnv3lib.last_stage import LastStage, original_last_stage


def multiply_adds(module: nn.Module, x: torch.Tensor) -> int:
    """Conv and linear multiply-adds counted with hooks, independently of mnv3lib.costs."""
    total = 0

    def hook(m, inputs, out):
        nonlocal total
        if isinstance(m, nn.Conv2d):
            total += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.Linear):
            total += out.numel() * m.in_features

    handles = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        module.eval()(x)
    for h in handles:
        h.remove()
    return total


def test_original_last_stage_of_large_is_figure_5_left():
    m = original_last_stage(mnv3lib.mobilenet_v3_large())
    expand, dw, project, feature = m.last_conv
    assert (expand.conv.in_channels, expand.conv.out_channels) == (160, 960)
    assert dw.conv.groups == 960 and dw.conv.kernel_size == (3, 3)
    assert (project.conv.out_channels, project.act) == (320, None)  # linear projection
    assert (feature.conv.in_channels, feature.conv.out_channels) == (320, 1280)
    assert [type(c) for c in m.classifier] == [nn.Dropout, nn.Linear]
    assert m.classifier[-1].in_features == 1280
    with torch.no_grad():
        assert m.last_conv(torch.randn(1, 160, 7, 7)).shape == (1, 1280, 7, 7)
        assert m(torch.randn(2, 3, 224, 224)).shape == (2, 1000)


def test_efficient_stage_saves_the_7x7_layers():
    large = mnv3lib.mobilenet_v3_large()
    x = torch.randn(1, 160, 7, 7)
    saved = multiply_adds(LastStage(original_last_stage(large)), x) - multiply_adds(LastStage(large), x)
    # dw 3×3, 960→320 and 320→1280 at 7×7, minus 960→1280 at 1×1 (paper: "30 millions MAdds")
    assert saved == 49 * (960 * 9 + 960 * 320 + 320 * 1280) - 960 * 1280 == 34_317_760


def test_parameters_added_by_the_original_stage():
    large = mnv3lib.mobilenet_v3_large()
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    added = (960 * 9 + 2 * 960) + (960 * 320 + 2 * 320) + (320 * 1280 + 2 * 1280) - (960 * 1280 + 1280)
    assert n(original_last_stage(large)) - n(large) == added


def test_last_stage_is_the_tail_of_the_network(randomize):
    large = randomize(mnv3lib.mobilenet_v3_large())
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        assert torch.allclose(LastStage(large)(large.blocks(large.stem(x))), large(x))


def test_copy_keeps_the_body_and_leaves_the_model_alone(randomize):
    small = randomize(mnv3lib.mobilenet_v3_small(num_classes=10))
    before = {k: v.clone() for k, v in small.state_dict().items()}
    orig = original_last_stage(small)
    assert all(torch.equal(v, small.state_dict()[k]) for k, v in before.items())
    assert orig.last_conv[2].conv.out_channels == 192  # 2 × Small's last bneck output (96)
    assert orig.last_conv[3].conv.out_channels == 1024 and orig.classifier[-1].out_features == 10
    x = torch.randn(1, 3, 224, 224)
    orig.eval()
    with torch.no_grad():
        assert torch.equal(orig.blocks(orig.stem(x)), small.blocks(small.stem(x)))
        assert torch.equal(orig.last_conv[0](small.blocks(small.stem(x))), small.last_conv(small.blocks(small.stem(x))))


def test_bad_arguments():
    with pytest.raises(ValueError, match="proj: got 0"):
        original_last_stage(mnv3lib.mobilenet_v3_large(), proj=0)
    with pytest.raises(ValueError, match="model: got MobileNetV2"):
        original_last_stage(mnv3lib.mobilenet_v2())
    with pytest.raises(ValueError, match="model: got MobileNetV1"):
        LastStage(mnv3lib.mobilenet_v1())
