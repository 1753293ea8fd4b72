import pytest
import torch
from torchvision.models._utils import _make_divisible
from torchvision.ops.misc import SqueezeExcitation

from mnv3lib.layers import HSigmoid, HSwish, SqueezeExcite, activation, h_sigmoid, h_swish, make_divisible


@pytest.mark.parametrize("value", [c * w for c in (3, 8, 16, 24, 72, 88, 96, 120, 1280) for w in (0.1, 0.35, 0.5, 0.75, 1.0, 1.3)])
def test_make_divisible_is_torchvisions(value):
    assert make_divisible(value, 8) == _make_divisible(value, 8)


def test_make_divisible_never_loses_more_than_ten_percent():
    for v in range(8, 2000):
        r = make_divisible(v, 8)
        assert r % 8 == 0 and r >= 0.9 * v


def test_hard_activations_follow_the_paper_formula():
    x = torch.linspace(-8, 8, 100_001)
    relu6 = torch.clamp(x + 3, 0, 6)
    assert torch.allclose(h_sigmoid(x), relu6 / 6, atol=1e-7)
    assert torch.allclose(h_swish(x), x * relu6 / 6, atol=1e-6)
    # the fused modules compute the same function as the readable formula
    assert torch.allclose(HSigmoid()(x), h_sigmoid(x), atol=1e-6)
    assert torch.allclose(HSwish()(x), h_swish(x), atol=1e-6)
    # piecewise: 0 below -3, identity above +3
    assert h_swish(torch.tensor(-3.5)) == 0 and h_swish(torch.tensor(4.0)) == 4.0


def test_activations_are_fresh_instances():
    assert activation("HS") is not activation("HS")
    with pytest.raises(ValueError, match="nl: got 'GELU'"):
        activation("GELU")


def test_squeeze_excite_equals_torchvisions_with_hard_sigmoid():
    ours = SqueezeExcite(72, 24)
    theirs = SqueezeExcitation(72, 24, scale_activation=torch.nn.Hardsigmoid)
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(2, 72, 9, 9)
    assert torch.allclose(ours(x), theirs(x), atol=1e-6)
    gate = ours.scale(x)
    assert gate.shape == (2, 72, 1, 1) and gate.min() >= 0 and gate.max() <= 1
