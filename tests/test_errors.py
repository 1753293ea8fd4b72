"""Bad input raises a ValueError whose one-line message names the field, the value and what was expected."""
import dataclasses

import pytest
import torch
import torchvision
from one_line import raises

import mnv3lib
from mnv3lib import configs
from mnv3lib.configs import V3Row


@pytest.mark.parametrize("value", [0, -1.0, float("nan"), "1.0", None, True])
@pytest.mark.parametrize("builder", [mnv3lib.mobilenet_v2, mnv3lib.mobilenet_v3_large, mnv3lib.mobilenet_v3_small])
def test_width_must_be_positive(builder, value):
    with raises(r"width_mult: got .*, expected a number > 0"):
        builder(width_mult=value)


@pytest.mark.parametrize("value", [0, -0.25])
def test_alpha_must_be_positive(value):
    with raises(rf"alpha: got {value}, expected a number > 0"):
        mnv3lib.mobilenet_v1(alpha=value)


@pytest.mark.parametrize("builder", [mnv3lib.mobilenet_v1, mnv3lib.mobilenet_v2, mnv3lib.mobilenet_v3_large])
@pytest.mark.parametrize("value", [0, -3, 2.5])
def test_num_classes_must_be_at_least_one(builder, value):
    with raises(rf"num_classes: got {value}, expected an integer >= 1"):
        builder(num_classes=value)


BNECK = configs.V3_LARGE[1]


@pytest.mark.parametrize("change,match", [
    (dict(kernel=4), r"kernel: got 4 .* expected a positive odd integer"),
    (dict(kernel=0), r"kernel: got 0 .* expected a positive odd integer"),
    (dict(kernel=-3), r"kernel: got -3 .* expected a positive odd integer"),
    (dict(stride=3), r"stride: got 3 .* expected 1 or 2"),
    (dict(stride=0), r"stride: got 0 .* expected 1 or 2"),
    (dict(nl="GELU"), r"nl: got 'GELU' .* expected one of \('RE', 'HS'\)"),
    (dict(exp=0), r"exp: got 0 .* expected a positive integer"),
    (dict(out=-16), r"out: got -16 .* expected a positive integer"),
    (dict(out=16.5), r"out: got 16.5 .* expected a positive integer"),
    (dict(input=(112, 0)), r"input channels: got 0 .* expected a positive integer"),
    (dict(operator="conv3d"), r"operator: got 'conv3d' .* expected one of"),
])
def test_bad_v3_row(change, match):
    with raises(match):
        dataclasses.replace(BNECK, **change)


def test_bad_v2_and_v1_rows():
    with raises(r"c: got 0 .* expected a positive integer"):
        dataclasses.replace(configs.V2[2], c=0)
    with raises(r"s: got 3|stride: got 3"):
        dataclasses.replace(configs.V2[2], s=3)
    with raises(r"kernel: got 2 .* expected a positive odd integer"):
        dataclasses.replace(configs.V1[1], kernel=2)


def test_bneck_rejects_unknown_nl():
    with raises(r"nl: got 'RE6', expected 'RE' or 'HS'"):
        mnv3lib.blocks.Bneck(16, 3, 64, 24, False, "RE6", 2)


@pytest.mark.parametrize("builder", [mnv3lib.mobilenet_v1, mnv3lib.mobilenet_v2, mnv3lib.mobilenet_v3_small])
def test_forward_input_checks(builder):
    m = builder().eval()
    with raises(r"input: got a 3-D tensor of shape \(3, 64, 64\), expected 4-D"):
        m(torch.randn(3, 64, 64))
    with raises(r"input channels: got 1 \(shape \(1, 1, 64, 64\)\), expected 3"):
        m(torch.randn(1, 1, 64, 64))
    with raises(r"input size: got \(16, 64\), expected height and width >= 32"):
        m(torch.randn(1, 3, 16, 64))
    assert m(torch.randn(1, 3, 32, 32)).shape == (1, 1000)


def test_from_torchvision_rejects_unknown_models():
    with raises(r"model: got ResNet, expected torchvision's MobileNetV2 or MobileNetV3"):
        mnv3lib.from_torchvision(torchvision.models.resnet18(weights=None))
    with raises(r"source: got str"):
        mnv3lib.from_torchvision("mobilenet_v2.pth")
    with raises(r"arch: got 'mobilenet_v4'"):
        mnv3lib.from_torchvision({}, arch="mobilenet_v4")


def test_from_torchvision_names_missing_and_unexpected_keys():
    state = torchvision.models.mobilenet_v3_large(weights=None).state_dict()
    del state["features.4.block.2.fc1.weight"]
    state["features.99.weight"] = torch.zeros(1)
    with pytest.raises(mnv3lib.StateDictMismatch) as info:
        mnv3lib.from_torchvision(state, arch="mobilenet_v3_large")
    msg = str(info.value)
    assert "missing keys features.4.block.2.fc1.weight" in msg
    assert "unexpected keys features.99.weight" in msg and "\n" not in msg
    assert isinstance(info.value, ValueError)


def test_from_torchvision_names_a_shape_mismatch():
    state = torchvision.models.mobilenet_v3_small(weights=None, width_mult=0.5).state_dict()
    with raises(r"state dict: features.0.0.weight has shape .* expected .* width 1.0"):
        mnv3lib.from_torchvision(state, arch="mobilenet_v3_small", width_mult=1.0)


def test_to_torchvision_rejects_v1():
    with raises(r"model: got arch 'mobilenet_v1'"):
        mnv3lib.to_torchvision(mnv3lib.mobilenet_v1())


def test_v3_row_requires_bneck_fields():
    with raises(r"bneck: got exp=None"):
        V3Row((112, 16), "bneck", 3, None, 16, False, "RE", 1)
