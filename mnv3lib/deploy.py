"""From PyTorch to the device: BatchNorm folding, ONNX export, ONNX Runtime, and int8 quantization.

MobileNets exist to run on phones; MobileNetV3 chose h-swish partly because it stays cheap in quantized
inference (§5.2) and measured its latency with a deployed, quantized runtime (§6.1). The steps here:

    folded, removed = fold_batchnorm(model.eval())     # conv weights absorb BatchNorm; outputs unchanged
    export_onnx(model.eval(), "v3.onnx", 224)          # torch.onnx.export (dynamo), checked by onnx.checker
    logits = run_onnx("v3.onnx", x)                     # ONNX Runtime, CPU
    quantize_int8("v3.onnx", "v3.int8.onnx", images)    # static int8, QDQ, per-channel, calibrated on images

Not `torch.ao.quantization`: it is deprecated (torchvision's quantized MobileNetV3 is built on it).
`onnx`, `onnxruntime` and `onnxscript` are imported on first use, so `import mnv3lib` needs none of them.
"""
from __future__ import annotations

import contextlib
import copy
import io
import os
from collections import Counter
from itertools import pairwise
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

__all__ = ["MissingPackage", "PINS", "NETWORKS", "fold_batchnorm", "count_batchnorm", "export_onnx", "onnx_ops",
           "runtime_ops", "session", "run_onnx", "quantize_int8", "calibration_images", "onnx_accuracy",
           "networks", "export_networks", "quantize_networks", "export_digits", "file_mb"]

# The versions requirements.txt pins: the install hint names them.
PINS = {"onnx": "onnx==1.23.2", "onnxruntime": "onnxruntime==1.32.0", "onnxscript": "onnxscript==0.7.2"}
OPSET = 18  # the dynamo exporter's own default; every op MobileNets need (HardSwish: opset 14) exists


class MissingPackage(ValueError, ImportError):
    """An optional package deployment needs is not installed; the message says how to install it."""


def _need(name: str):
    """Import `name` or raise one line saying how to install it."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        raise MissingPackage(f"{name}: not installed, expected it for ONNX deployment: "
                             f"pip install {PINS[name.split('.')[0]]}") from None


def _networks():
    from . import models

    return {"V1": models.mobilenet_v1, "V2": models.mobilenet_v2,
            "V3-Large": models.mobilenet_v3_large, "V3-Small": models.mobilenet_v3_small}


NETWORKS = ("V1", "V2", "V3-Large", "V3-Small")


def count_batchnorm(model: nn.Module) -> int:
    """How many BatchNorm2d layers `model` has."""
    return sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())


def fold_batchnorm(model: nn.Module) -> tuple[nn.Module, int]:
    """A copy of `model` with every BatchNorm folded into the convolution before it, and how many were folded.

    In eval mode BatchNorm is y = γ (x − μ) / √(σ² + ε) + β, an affine map per channel, so it merges into the
    preceding conv: W' = W · γ/√(σ² + ε), b' = (b − μ) · γ/√(σ² + ε) + β (`fuse_conv_bn_eval`). The pair is found
    as a Conv2d followed, in its parent's registration order, by a BatchNorm2d (mnv3lib's `ConvBNAct`,
    torchvision's `Conv2dNormActivation`); the BatchNorm becomes `nn.Identity`. The original is not changed.
    """
    if model.training:
        raise ValueError("model: got a model in training mode, expected eval mode (call model.eval() first): "
                         "folding uses BatchNorm's running statistics")
    folded = copy.deepcopy(model)
    removed = 0
    for parent in folded.modules():
        children = list(parent.named_children())
        for (conv_name, conv), (bn_name, bn) in pairwise(children):
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                setattr(parent, conv_name, fuse_conv_bn_eval(conv, bn))
                setattr(parent, bn_name, nn.Identity())
                removed += 1
    return folded, removed


def _input_size(model: nn.Module, resolution) -> tuple[int, int, int, int]:
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 1:
        raise ValueError(f"resolution: got {resolution!r}, expected a positive integer (pixels per side)")
    return (1, getattr(model, "in_channels", 3), resolution, resolution)


def export_onnx(model: nn.Module, path, resolution: int = 224, *, opset: int = OPSET) -> Path:
    """Export `model` (eval mode) to an ONNX file for a batch-1 square input, and check it with `onnx.checker`.

    Uses `torch.onnx.export(..., dynamo=True)`, the current exporter (`torch.export` + onnxscript): the
    TorchScript exporter is deprecated. Its graph optimizer folds BatchNorm into the convolutions, exactly as
    `fold_batchnorm` does. Input "input" (1, C, resolution, resolution) float32, output "logits".
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model: got {type(model).__name__}, expected a torch.nn.Module")
    if model.training:
        raise ValueError("model: got a model in training mode, expected eval mode (call model.eval() first): "
                         "an export freezes BatchNorm and Dropout as they are")
    onnx = _need("onnx")
    _need("onnxscript")  # the dynamo exporter translates to ONNX with it
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    x = torch.randn(*_input_size(model, resolution), generator=torch.Generator().manual_seed(0))
    with contextlib.redirect_stdout(io.StringIO()):  # the exporter prints its progress steps
        torch.onnx.export(model, (x,), str(path), dynamo=True, opset_version=opset, verbose=False,
                          input_names=["input"], output_names=["logits"], external_data=False)
    onnx.checker.check_model(str(path), full_check=True)
    return path


def _load(path):
    """Parse an ONNX file or raise one line saying it is not one."""
    onnx = _need("onnx")
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path: got {str(path)!r}, expected an existing .onnx file (see export_onnx)")
    try:
        model = onnx.load(str(path))
    except Exception as e:  # protobuf raises DecodeError, or worse, on a file that is not ONNX
        raise ValueError(f"path: {str(path)!r} is not an ONNX model ({type(e).__name__}), "
                         "expected a file written by export_onnx") from None
    if not model.graph.node:
        raise ValueError(f"path: {str(path)!r} holds no ONNX graph, expected a file written by export_onnx")
    return model


def onnx_ops(path) -> Counter:
    """How many nodes of each operator type the ONNX graph at `path` has ({"Conv": 62, ...})."""
    return Counter(node.op_type for node in _load(path).graph.node)


def runtime_ops(path) -> Counter:
    """The operator counts of the graph ONNX Runtime actually runs at `path`, after its optimizations
    (fusions such as Conv + activation → FusedConv, and its own layouts); contrib ops keep their name."""
    import tempfile

    ort = _need("onnxruntime")
    _load(path) if not isinstance(path, bytes) else None
    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.optimized_model_filepath = str(Path(tmp) / "optimized.onnx")
        options.log_severity_level = 3  # no warning that the optimized file is machine-specific: we only read it
        ort.InferenceSession(path if isinstance(path, bytes) else str(path), options,
                             providers=["CPUExecutionProvider"])
        return onnx_ops(options.optimized_model_filepath)


def session(path, threads: int = 1):
    """An ONNX Runtime CPU session on `threads` threads (one by default, like `mnv3lib.latency`),
    with all graph optimizations on, as a deployed app would run it."""
    ort = _need("onnxruntime")
    _load(path)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads: got {threads!r}, expected an integer >= 1")
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: no warnings on stderr for a normal run
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _array(x, field: str, shape=None) -> np.ndarray:
    """`x` (tensor or array) as a contiguous float32 array, checked against the model's input `shape`."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    if not isinstance(x, np.ndarray) or x.dtype != np.float32:
        got = getattr(x, "dtype", type(x).__name__)
        raise ValueError(f"{field}: got dtype {got}, expected float32 images (N, C, H, W)")
    if shape is not None:
        expected = tuple(d if isinstance(d, int) and d > 0 else None for d in shape[1:])
        if x.ndim != 4 or any(e is not None and e != g for e, g in zip(expected, x.shape[1:])):
            want = "×".join("?" if e is None else str(e) for e in expected)
            raise ValueError(f"{field}: got shape {tuple(x.shape)}, expected (N, {want.replace('×', ', ')}) "
                             "as the model's input")
    return np.ascontiguousarray(x)


def run_onnx(model, x) -> np.ndarray:
    """Run an ONNX model (a path or a `session`) on `x` (N, C, H, W) float32, one image at a time
    (the exports are batch 1); returns the stacked outputs as a NumPy array."""
    sess = model if hasattr(model, "run") else session(model)
    inp = sess.get_inputs()[0]
    x = _array(x, "x", inp.shape)
    return np.concatenate([sess.run(None, {inp.name: x[i:i + 1]})[0] for i in range(len(x))])


def quantize_int8(fp32_path, out_path, calibration) -> Path:
    """Static post-training int8 quantization with `onnxruntime.quantization.quantize_static`.

    QDQ format (QuantizeLinear / DequantizeLinear around each quantized op, which ONNX Runtime fuses into int8
    kernels), int8 weights per output channel, uint8 activations whose ranges (min / max) are calibrated on
    `calibration`: real images, float32 (N, C, H, W) of the model's input size. MobileNetV3 §5.2: h-swish's
    piecewise-linear form keeps such quantized inference cheap and accurate.
    """
    ort_q = _need("onnxruntime.quantization")
    inp = session(fp32_path).get_inputs()[0]
    images = _array(calibration, "calibration", inp.shape)
    if len(images) == 0:
        raise ValueError("calibration: got 0 images, expected at least 1 real image (N, C, H, W)")

    class Reader(ort_q.CalibrationDataReader):
        def __init__(self):
            self.it = iter(images[i:i + 1] for i in range(len(images)))

        def get_next(self):
            x = next(self.it, None)
            return None if x is None else {inp.name: x}

    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    pre = out_path.with_suffix(".pre.onnx")
    try:
        # shape inference + graph cleanup first, as onnxruntime's quantization guide recommends
        ort_q.shape_inference.quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=True)
        ort_q.quantize_static(str(pre), str(out_path), Reader(), quant_format=ort_q.QuantFormat.QDQ,
                              per_channel=True, activation_type=ort_q.QuantType.QUInt8,
                              weight_type=ort_q.QuantType.QInt8,
                              calibrate_method=ort_q.CalibrationMethod.MinMax)
    finally:
        pre.unlink(missing_ok=True)
        for extra in out_path.parent.glob("augmented_model*.onnx"):  # calibration leftovers
            extra.unlink(missing_ok=True)
    return out_path


def calibration_images(count: int = 16, size: int = 224, seed: int = 0) -> torch.Tensor:
    """`count` real images for calibration: the first digits of the train split, preprocessed to `size`
    (`mnv3lib.data.preprocess`), float32 (count, 3, size, size)."""
    from .data import digits_arrays, preprocess

    return preprocess(digits_arrays("train", seed)[0][:count], size)


def onnx_accuracy(model, dataset) -> float:
    """Top-1 accuracy (%) of an ONNX model (path or session) on a dataset of (image, label) pairs."""
    images = torch.stack([x for x, _ in dataset]).numpy()
    labels = np.array([int(y) for _, y in dataset])
    return float(100 * (run_onnx(model, images).argmax(1) == labels).mean())


def file_mb(path) -> float:
    """File size in megabytes (10⁶ bytes)."""
    return os.path.getsize(path) / 1e6


def networks(seed: int = 0) -> dict[str, nn.Module]:
    """V1, V2, V3-Large and V3-Small (width 1.0, 1000 classes) in eval mode, with seeded random weights and
    BatchNorm statistics taken from one batch of 2 random 224×224 images: untrained, but with activations of a
    trained network's scale (freshly initialised ones shrink layer after layer), which is enough for timing
    and makes equality checks meaningful."""
    out = {}
    for name, build in _networks().items():
        torch.manual_seed(seed)
        model = build()
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.reset_running_stats()
                m.momentum = None  # cumulative average: one batch sets the statistics exactly
        with torch.no_grad():
            model.train()(torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(seed)))
        out[name] = model.eval()
    return out


def export_networks(folder, resolution: int = 224, seed: int = 0) -> dict[str, Path]:
    """Export the four `networks()` as batch-1 float32 ONNX files in `folder`:
    {"V1": folder/"mobilenet_v1.onnx", "V2": ..., "V3-Large": ..., "V3-Small": ...}."""
    files = dict(zip(NETWORKS, ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small")))
    return {name: export_onnx(model, Path(folder) / f"{files[name]}.onnx", resolution)
            for name, model in networks(seed).items()}


def quantize_networks(paths: dict[str, Path], calibration) -> dict[str, Path]:
    """int8 copies (`quantize_int8`) of the fp32 exports `paths` ({name: path}), beside them as *.int8.onnx."""
    return {name: quantize_int8(p, Path(p).with_suffix(".int8.onnx"), calibration) for name, p in paths.items()}


def export_digits(model: nn.Module, folder, size: int = 32, seed: int = 0,
                  calibration: int = 200) -> dict[str, Path]:
    """The digits classifier (chapter 6) as fp32 and int8 ONNX files in `folder`: {"fp32": ..., "int8": ...}.
    The int8 file is calibrated on the first `calibration` images of the digits' train split."""
    images = calibration_images(calibration, size, seed)
    fp32 = export_onnx(model.eval(), Path(folder) / "digits.onnx", size)
    return {"fp32": fp32, "int8": quantize_int8(fp32, Path(folder) / "digits.int8.onnx", images)}
