"""mnv3lib.exercises: every checker passes mnv3lib's own solution and fails a broken one with a message that
says what is wrong, without raising."""
import torch
from torch import nn

from mnv3lib import exercises, variants
from mnv3lib.blocks import Bneck, DepthwiseSeparable, InvertedResidual
from mnv3lib.layers import ConvBNAct, SqueezeExcite, h_sigmoid, h_swish


def test_depthwise_separable():
    assert exercises.check_depthwise_separable(DepthwiseSeparable).ok

    class NoReLUAfterPointwise(nn.Module):
        def __init__(self, cin, cout, stride=1, kernel=3):
            super().__init__()
            self.depthwise = ConvBNAct(cin, cin, kernel, stride, groups=cin)
            self.pointwise = ConvBNAct(cin, cout, 1, nl=None)

        def forward(self, x):
            return self.pointwise(self.depthwise(x))

    v = exercises.check_depthwise_separable(NoReLUAfterPointwise)
    assert not v.ok and "outputs differ" in v.message

    def full_conv(cin, cout, stride=1, kernel=3):
        return ConvBNAct(cin, cout, kernel, stride)
    v = exercises.check_depthwise_separable(full_conv)
    assert not v.ok and "parameters, expected" in v.message

    def fixed_kernel(cin, cout, stride=1, kernel=3):
        return DepthwiseSeparable(cin, cout, stride)  # ignores the kernel: fails at 5×5
    v = exercises.check_depthwise_separable(fixed_kernel)
    assert not v.ok and "5×5" in v.message


def test_stub_is_reported_not_raised():
    class Stub(nn.Module):
        def __init__(self, *args):
            super().__init__()

        def forward(self, x):
            raise NotImplementedError("your turn")
    v = exercises.check_depthwise_separable(Stub)
    assert not v.ok and str(v) == "✗ your block's forward raised NotImplementedError: your turn"


def test_inverted_residual():
    assert exercises.check_inverted_residual(InvertedResidual).ok

    class NoResidual(InvertedResidual):
        def __init__(self, *args):
            super().__init__(*args)
            self.use_residual = False
    v = exercises.check_inverted_residual(NoResidual)
    assert not v.ok and "16→96→16, stride 1" in v.message and "outputs differ" in v.message

    def relu_bottleneck(cin, exp, out, stride):
        block = InvertedResidual(cin, exp, out, stride)
        block.project.act = nn.ReLU6()
        return block
    v = exercises.check_inverted_residual(relu_bottleneck)
    assert not v.ok and "outputs differ" in v.message


def test_h_swish():
    assert exercises.check_h_swish(h_swish).ok
    assert "this is h-sigmoid" in exercises.check_h_swish(h_sigmoid).message
    v = exercises.check_h_swish(lambda x: x * torch.clamp(x + 3, 0, 6) / 8)
    assert not v.ok and "expected" in v.message
    assert not exercises.check_h_swish(lambda x: x.tolist()).ok


def test_se_gate():
    assert exercises.check_se_gate(SqueezeExcite).ok

    class SigmoidGate(SqueezeExcite):
        def scale(self, x):
            return torch.sigmoid(self.fc2(self.relu(self.fc1(x.mean((2, 3), keepdim=True)))))

    v = exercises.check_se_gate(SigmoidGate)
    assert not v.ok and "outputs differ" in v.message, v
    v = exercises.check_se_gate(lambda c, s: SqueezeExcite(c, 2 * s))
    assert not v.ok and "parameters, expected" in v.message


def test_cost_formula():
    def ds(Dk, M, N, Df):
        return Dk * Dk * M * Df * Df + M * N * Df * Df
    assert exercises.check_cost_formula(ds).ok
    v = exercises.check_cost_formula(lambda Dk, M, N, Df: Dk * Dk * M * N * Df * Df)
    assert not v.ok and "mnv3lib.madds counts" in v.message

    def ir(h, w, d_in, t, k, d_out, s):
        expand = h * w * d_in * t * d_in if t != 1 else 0
        return expand + (h // s) * (w // s) * d_in * t * (k * k + d_out)
    assert exercises.check_cost_formula(ir, "inverted_residual").ok
    v = exercises.check_cost_formula(lambda h, w, d_in, t, k, d_out, s: h * w * d_in * t * (d_in + k * k + d_out),
                                     "inverted_residual")
    assert not v.ok and "s=2" in v.message


def test_bneck_from_row():
    assert exercises.check_bneck_from_row(Bneck.from_row).ok

    def se_ignored(row):
        return Bneck(row.input[1], row.kernel, row.exp, row.out, False, row.nl, row.stride)
    v = exercises.check_bneck_from_row(se_ignored)
    assert not v.ok and "parameters, expected" in v.message

    def nl_ignored(row):
        return Bneck(row.input[1], row.kernel, row.exp, row.out, row.se, "RE", row.stride)
    v = exercises.check_bneck_from_row(nl_ignored)
    assert not v.ok and "outputs differ" in v.message


def test_pareto():
    assert exercises.check_pareto(variants.pareto).ok
    v = exercises.check_pareto(lambda pts: sorted(pts))
    assert not v.ok and "expected" in v.message


def test_bneck_from_row_is_the_networks_mapping():
    import pytest

    from mnv3lib import configs, mobilenet_v3_large
    model = mobilenet_v3_large()
    rows = [r for r in configs.V3_LARGE if r.operator == "bneck"]
    assert [str(Bneck.from_row(r)) for r in rows] == [str(b) for b in model.blocks]
    with pytest.raises(ValueError, match="row.operator: got 'conv2d'"):
        Bneck.from_row(configs.V3_LARGE[0])
