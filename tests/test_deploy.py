"""mnv3lib.deploy and mnv3lib.limit: BatchNorm folding, ONNX export and ONNX Runtime equal to PyTorch, int8
accuracy and size, the same graph as torchvision's export, and one-line errors. No assertion depends on how fast
this machine is. One thread throughout: on a shared 2-core machine two OpenMP threads can be 100× slower."""
import sys

import numpy as np
import pytest
import torch
import torchvision

import mnv3lib
from mnv3lib import deploy, limit

pytest.importorskip("onnxruntime")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """V3-Small for 10 classes with non-trivial BatchNorm statistics, exported at 32×32."""
    from conftest import _randomize

    torch.manual_seed(0)
    model = _randomize(mnv3lib.mobilenet_v3_small(num_classes=10))
    return model, deploy.export_onnx(model, tmp_path_factory.mktemp("onnx") / "small.onnx", 32)


def test_fold_batchnorm_removes_every_bn_and_keeps_outputs(randomize):
    for build in (mnv3lib.mobilenet_v2, mnv3lib.mobilenet_v3_large):
        model = randomize(build())
        before = deploy.count_batchnorm(model)
        folded, removed = deploy.fold_batchnorm(model)
        assert removed == before > 0 and deploy.count_batchnorm(folded) == 0
        assert deploy.count_batchnorm(model) == before, "the original is left alone"
        x = torch.randn(2, 3, 64, 64)
        with torch.no_grad():
            assert (folded(x) - model(x)).abs().max() <= 1e-5


def test_fold_batchnorm_counts_torchvision_layers_too():
    tv = torchvision.models.mobilenet_v3_small(weights=None).eval()
    folded, removed = deploy.fold_batchnorm(tv)
    assert removed == deploy.count_batchnorm(tv) and deploy.count_batchnorm(folded) == 0


def test_export_runs_in_onnxruntime_with_pytorch_outputs(small):
    model, path = small
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        expected = model(x).numpy()
    assert np.abs(deploy.run_onnx(path, x) - expected).max() <= 1e-4
    ops = deploy.onnx_ops(path)
    assert "BatchNormalization" not in ops, "the exporter folds BatchNorm as fold_batchnorm does"
    assert ops["HardSwish"] > 0 and ops["Conv"] == sum(isinstance(m, torch.nn.Conv2d) for m in model.modules())


@pytest.mark.parametrize("arch", ["mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"])
def test_same_graph_as_torchvision_export(arch, tmp_path):
    """Readable code costs nothing once exported: the same operators, in the same numbers."""
    ours = getattr(mnv3lib, arch)().eval()
    theirs = getattr(torchvision.models, arch)(weights=None).eval()
    a = deploy.onnx_ops(deploy.export_onnx(ours, tmp_path / "ours.onnx", 64))
    b = deploy.onnx_ops(deploy.export_onnx(theirs, tmp_path / "tv.onnx", 64))
    assert a == b


def test_int8_keeps_digits_accuracy_and_shrinks_the_file(tmp_path):
    from mnv3lib.data import digits

    model = _digits_classifier()
    size = getattr(model, "input_size", 32)  # chapter 6's network records the size it was trained at
    paths = deploy.export_digits(model, tmp_path, size=size, calibration=100)
    test = digits("test", size=size)
    fp32, int8 = (deploy.onnx_accuracy(paths[k], test) for k in ("fp32", "int8"))
    assert fp32 > 80, "the classifier was trained"
    assert int8 >= fp32 - 1.0, f"int8 {int8:.1f} % against fp32 {fp32:.1f} %"
    assert deploy.file_mb(paths["int8"]) < 0.4 * deploy.file_mb(paths["fp32"])
    assert deploy.onnx_ops(paths["int8"])["QuantizeLinear"] > 0


def _digits_classifier():
    """Chapter 6's cached trained network when the library has it; otherwise a V3-Small trained here briefly."""
    try:
        from mnv3lib.train import digits_model
    except ImportError:
        digits_model = None
    if digits_model is not None:
        return digits_model().eval()
    from torch.utils.data import DataLoader

    from mnv3lib.data import digits

    torch.manual_seed(0)
    model = mnv3lib.mobilenet_v3_small(width_mult=0.5, num_classes=10)
    opt = torch.optim.AdamW(model.parameters(), 5e-3)
    loader = DataLoader(digits("train", size=32), 64, shuffle=True, generator=torch.Generator().manual_seed(0))
    for _ in range(6):
        for x, y in loader:
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    for m in model.modules():  # exact statistics of the final weights (V3's momentum 0.01 is far too slow here)
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    with torch.no_grad():
        for x, _ in loader:
            model(x)
    return model.eval()


def test_export_refuses_a_model_in_training_mode(tmp_path):
    with pytest.raises(ValueError, match=r"^model: got a model in training mode, expected eval mode") as e:
        deploy.export_onnx(mnv3lib.mobilenet_v3_small().train(), tmp_path / "x.onnx", 32)
    assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match="training mode"):
        deploy.fold_batchnorm(mnv3lib.mobilenet_v3_small().train())


def test_calibration_of_wrong_shape_or_dtype_is_one_line(small, tmp_path):
    _, path = small
    cases = [(torch.randn(4, 3, 64, 64), r"^calibration: got shape \(4, 3, 64, 64\), expected \(N, 3, 32, 32\)"),
             (torch.randn(3, 32, 32), r"^calibration: got shape \(3, 32, 32\)"),
             (torch.randn(4, 3, 32, 32, dtype=torch.float64), r"^calibration: got dtype float64, expected float32"),
             (torch.zeros(4, 3, 32, 32, dtype=torch.uint8), r"^calibration: got dtype uint8"),
             (torch.zeros(0, 3, 32, 32), r"^calibration: got 0 images")]
    for data, message in cases:
        with pytest.raises(ValueError, match=message) as e:
            deploy.quantize_int8(path, tmp_path / "q.onnx", data)
        assert "\n" not in str(e.value)


def test_a_file_that_is_not_onnx_is_one_line(tmp_path):
    bad = tmp_path / "notes.onnx"
    bad.write_text("these are not the weights you are looking for\n" * 20)
    for call in (deploy.run_onnx, deploy.onnx_ops, deploy.session):
        args = (bad, np.zeros((1, 3, 32, 32), np.float32)) if call is deploy.run_onnx else (bad,)
        with pytest.raises(ValueError, match=r"^path: '.*notes.onnx' is not an ONNX model") as e:
            call(*args)
        assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match=r"^path: got '.*missing.onnx', expected an existing .onnx file"):
        deploy.session(tmp_path / "missing.onnx")


def test_missing_onnxruntime_says_how_to_install(monkeypatch, small):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` now raises ImportError
    with pytest.raises(ValueError, match=r"^onnxruntime: not installed, .*pip install onnxruntime==") as e:
        deploy.run_onnx(small[1], np.zeros((1, 3, 32, 32), np.float32))
    assert isinstance(e.value, ImportError) and "\n" not in str(e.value)


def test_physical_limit_and_interleaved_timing():
    seen = []
    rates = limit.matmul_throughput(size=128, calls={"spy": lambda: seen.append(torch.get_num_threads())})
    assert rates["torch.mm"] > 0 and rates["ORT MatMul"] > 0
    warmup, repeats = limit.rounds()
    assert len(seen) == warmup + repeats and set(seen) == {1}
    assert len(rates["spy"].times_ms) == repeats
    assert limit.limit_ms(2e9, 1e12) == pytest.approx(2.0)


def test_activations_compute_their_formulas_in_onnxruntime():
    import onnxruntime as ort

    x = np.linspace(-5, 5, 2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    t = torch.from_numpy(x)
    expected = {"ReLU": torch.relu(t), "h-sigmoid": mnv3lib.layers.h_sigmoid(t), "sigmoid": torch.sigmoid(t),
                "h-swish": mnv3lib.layers.h_swish(t), "swish": t * torch.sigmoid(t),
                "h-swish as x·ReLU6(x+3)/6": mnv3lib.layers.h_swish(t)}
    assert set(expected) == set(limit.ACTIVATIONS)
    for name, want in expected.items():
        sess = ort.InferenceSession(limit.activation_model(name, x.shape), providers=["CPUExecutionProvider"])
        assert np.abs(sess.run(None, {"x": x})[0] - want.numpy()).max() <= 1e-5, name
    with pytest.raises(ValueError, match=r"^name: got 'gelu', expected one of"):
        limit.activation_model("gelu")
