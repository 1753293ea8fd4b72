"""The networks on the reader's own device: ONNX files published with the site, run in the page by onnxruntime-web.

MobileNets were designed for the phone in the reader's pocket (V1 §1, V3 §6.1 measure on a Pixel phone), but every
latency elsewhere in the book is the build machine's. The site is static files, so the page runs the networks itself,
with ONNX Runtime's WebAssembly build (single-threaded: static hosts cannot send cross-origin-isolation headers):

    manifest = export_models("_static/models")   # the ONNX files + manifest.json, at build time (relative to book/)
    measure_panel(manifest)                       # "Measure on this device": reader's latency vs MAdds
    draw_panel(manifest)                          # "Draw a digit": the chapter-6 network classifies a drawing

The page turns a drawing into a digit exactly as `canvas_to_digit` does, then follows `mnv3lib.data.preprocess`
step by step; tests/test_on_device.py drives both panels in headless Chromium and compares with Python.
"""
from __future__ import annotations

import html
import json
import platform
import uuid
from pathlib import Path

import numpy as np
import torch

from . import deploy

__all__ = [
    "MODELS_URL",
    "ORT_WEB_INTEGRITY",
    "ORT_WEB_URL",
    "ORT_WEB_VERSION",
    "DrawPanel",
    "MeasurePanel",
    "canvas_to_digit",
    "draw_panel",
    "export_models",
    "measure_panel",
    "store_weights_fp16",
]

# onnxruntime-web, pinned: the page loads this exact npm file from jsdelivr (byte for byte the npm file, so the
# integrity hash holds); tests serve the same npm package locally (tests/cdn_packages.txt). Change all three together.
ORT_WEB_VERSION = "1.31.1"
ORT_WEB_URL = f"https://cdn.jsdelivr.net/npm/onnxruntime-web@{ORT_WEB_VERSION}/dist/ort.wasm.min.js"
ORT_WEB_INTEGRITY = "sha384-tNxIwEqSlcdvKtUte98AsccPbDKM958LBXB/+3BLS42TTihXHKTWgdqPqXI/lot8"
MODELS_URL = "../_static/models/"  # from a chapter page (book/*.html) to the files export_models wrote to book/_static
FILES = {"V1": "mobilenet_v1.onnx", "V2": "mobilenet_v2.onnx", "V3-Large": "mobilenet_v3_large.onnx",
         "V3-Small": "mobilenet_v3_small.onnx"}
_SCRIPT = (Path(__file__).with_name("on_device.js")).read_text()


def canvas_to_digit(rgba) -> np.ndarray:
    """A drawing (H×W×4 RGBA canvas pixels, uint8; H and W multiples of 8) → an 8×8 digit with values 0..16,
    as scikit-learn's digits are: ink = alpha / 255, averaged over each of the 8×8 blocks, times 16.

    The "Draw a digit" panel does exactly this in the page (on_device.js, `toDigit`), then `data.preprocess`'s steps.
    """
    a = np.asarray(rgba)
    if a.ndim != 3 or a.shape[2] != 4 or a.shape[0] % 8 or a.shape[1] % 8 or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"rgba: got shape {a.shape}, expected (H, W, 4) canvas pixels with H and W multiples of 8")
    h, w = a.shape[0] // 8, a.shape[1] // 8
    ink = a[:, :, 3].astype(np.float64) / 255.0
    return ink.reshape(8, h, 8, w).mean(axis=(1, 3)) * 16.0


def store_weights_fp16(path, min_elements: int = 1024) -> Path:
    """Rewrite an fp32 ONNX file so that its large weights are *stored* as float16, each followed by a Cast to
    float32: the file is half the size, and ONNX Runtime folds the Casts when it loads the model (constant folding),
    so the graph it runs — and times — is the fp32 graph, with weights rounded to float16 (about 3 significant
    digits; irrelevant for the untrained timing networks). Returns `path`."""
    onnx = deploy._need("onnx")
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    inits, casts = [], []
    for init in graph.initializer:
        if init.data_type == TensorProto.FLOAT and int(np.prod(init.dims)) >= min_elements:
            half = numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), f"{init.name}__fp16")
            casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT,
                                          name=f"{init.name}__cast"))
            inits.append(half)
        else:
            inits.append(init)
    nodes = casts + list(graph.node)
    graph.ClearField("initializer")
    graph.initializer.extend(inits)
    graph.ClearField("node")
    graph.node.extend(nodes)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))
    return Path(path)


def _python_latency(paths: dict[str, Path], inputs: dict[str, np.ndarray]) -> dict[str, float]:
    """Median ms per file in ONNX Runtime (Python, one thread), timed interleaved (`limit.time_interleaved`)."""
    from .limit import time_interleaved

    calls = {}
    for name, p in paths.items():
        sess = deploy.session(p, threads=1)
        feed = {sess.get_inputs()[0].name: inputs[name]}
        calls[name] = (lambda s=sess, f=feed: s.run(None, f))
    return {k: round(v.median_ms, 3) for k, v in time_interleaved(calls).items()}


def export_models(folder, seed: int = 0, model: torch.nn.Module | None = None, size: int | None = None,
                  networks: dict | None = None, digits: dict | None = None) -> dict:
    """The files the page runs, written to `folder` with a manifest.json; returns the manifest.

    V1, V2, V3-Large and V3-Small (`deploy.networks(seed)`: untrained, real-scale BatchNorm statistics; 224×224,
    batch 1, fp32 compute with weights stored as float16: `store_weights_fp16`), and the digits network (`model`,
    by default chapter 6's `train.digits_model()`; input side `size`, by default the model's `input_size` or 32) as
    fp32 and int8 (`deploy.export_digits`, calibrated on digits training images). The manifest lists each file
    with its size in bytes, the networks' MAdds (`mnv3lib.madds`), and the median latency of each file in ONNX
    Runtime in Python on one thread, measured on the machine that built the page.
    A chapter that already exported them passes the files instead of exporting twice: `networks` as
    `deploy.export_networks` returns them ({name: fp32 .onnx}), `digits` as `deploy.export_digits` does.
    """
    import shutil

    from .costs import madds

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if networks is not None and set(networks) != set(FILES):
        raise ValueError(f"networks: got {sorted(networks)}, expected a file for each of {list(FILES)}")
    # the networks' BatchNorm statistics matter only for an export; MAdds need the architecture alone
    nets = deploy.networks(seed) if networks is None else {k: build() for k, build in deploy._networks().items()}
    paths = {}
    for name, net in nets.items():
        target = folder / FILES[name]
        if networks is None:
            deploy.export_onnx(net, target, 224)
        elif Path(networks[name]).resolve() != target.resolve():
            deploy._load(networks[name])  # one line if it is not an ONNX file
            shutil.copyfile(networks[name], target)
        paths[name] = store_weights_fp16(target)
    if digits is None:
        if model is None:
            from .train import digits_model  # chapter 6's network, trained once and cached

            model = digits_model()
        size = size or getattr(model, "input_size", 32)
        digit_paths = deploy.export_digits(model, folder, size=size, seed=seed)
    else:
        digit_paths = {k: folder / Path(digits[k]).name for k in ("fp32", "int8")}
        for k, target in digit_paths.items():
            if Path(digits[k]).resolve() != target.resolve():
                shutil.copyfile(digits[k], target)
    size = int(deploy.session(digit_paths["fp32"]).get_inputs()[0].shape[-1])  # the side the file was exported at
    x224 = np.random.default_rng(seed).standard_normal((1, 3, 224, 224), dtype=np.float32)
    from .data import digits_arrays, preprocess

    xd = preprocess(digits_arrays("test", seed)[0][:1], size).numpy()
    all_paths = {**paths, **{f"digits-{k}": p for k, p in digit_paths.items()}}
    ms = _python_latency(all_paths, {**{k: x224 for k in paths}, **{f"digits-{k}": xd for k in digit_paths}})
    import onnxruntime

    manifest = {
        "onnxruntime_web": ORT_WEB_VERSION,
        "build_machine": {"label": "the machine that built this page", "runtime": f"ONNX Runtime {onnxruntime.__version__}"
                          " (Python), 1 thread", "cpu": platform.processor() or platform.machine(),
                          "system": f"{platform.system()} {platform.machine()}"},
        "networks": [{"name": name, "file": p.name, "bytes": p.stat().st_size, "madds": madds(nets[name], 224),
                      "input": [1, 3, 224, 224], "weights": "float16 storage, float32 compute", "ms": ms[name]}
                     for name, p in paths.items()],
        "digits": {"size": size, "classes": list(range(10)), "input": [1, 3, size, size],
                   "files": {k: {"file": p.name, "bytes": p.stat().st_size, "ms": ms[f"digits-{k}"]}
                             for k, p in digit_paths.items()}},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def _config(manifest: dict, base: str, repeats: int, warmup: int) -> dict:
    return {"manifest": manifest, "base": base, "ort": {"url": ORT_WEB_URL, "integrity": ORT_WEB_INTEGRITY,
                                                         "dist": ORT_WEB_URL.rsplit("/", 1)[0] + "/"},
            "repeats": repeats, "warmup": warmup}


def _panel(kind: str, cfg: dict, body: str) -> str:
    uid = f"mnv3-d-{uuid.uuid4().hex[:10]}"
    data = json.dumps(cfg, separators=(",", ":")).replace("</", "<\\/")
    return (f'<div class="mnv3-ondevice mnv3-{kind}" id="{uid}">{body}'
            f'<script type="application/json" class="mnv3-data">{data}</script>'
            f'<script>{_SCRIPT}\nmnv3OnDevice.{kind}(document.getElementById("{uid}"));</script></div>')


class MeasurePanel:
    """"Measure on this device": on a button press the page loads each network (lazily, with progress), warms it up,
    times repeated runs and plots its medians against MAdds beside the build machine's (`manifest["networks"]`)."""

    def __init__(self, manifest: dict, base: str = MODELS_URL, repeats: int = 15, warmup: int = 3):
        self.config = _config(manifest, base, repeats, warmup)

    def _repr_html_(self) -> str:
        rows = "".join(
            f'<tr data-model="{html.escape(n["name"])}"><td>{html.escape(n["name"])}</td>'
            f'<td>{n["madds"] / 1e6:,.0f} M</td><td>{n["bytes"] / 1e6:.1f} MB</td><td>{n["ms"]:.1f}</td>'
            f'<td class="mnv3-here">–</td></tr>' for n in self.config["manifest"]["networks"])
        machine = self.config["manifest"]["build_machine"]
        body = (f'<p><button type="button" class="mnv3-go">Measure on this device</button> '
                f'<progress class="mnv3-progress" max="1" value="0" hidden></progress></p>'
                f'<p class="mnv3-status" aria-live="polite">Nothing is downloaded until you press the button '
                f'(about {sum(n["bytes"] for n in self.config["manifest"]["networks"]) / 1e6:.0f} MB of models, '
                f'and ONNX Runtime Web).</p>'
                f'<div class="mnv3-scroll"><table class="mnv3-table"><thead><tr><th>network</th><th>MAdds</th>'
                f'<th>file</th><th title="{html.escape(machine["runtime"])}">build machine (ms)</th>'
                f'<th>this device (ms)</th></tr></thead><tbody>{rows}</tbody></table></div>'
                f'<div class="mnv3-plot"></div><p class="mnv3-ua"></p>')
        return _panel("measure", self.config, body)


class DrawPanel:
    """"Draw a digit": a canvas the reader draws on; the page makes the 8×8 digit (`canvas_to_digit`), preprocesses it
    as `mnv3lib.data.preprocess` does, runs the digits network (fp32 or int8) and shows the top-3 classes."""

    def __init__(self, manifest: dict, base: str = MODELS_URL, canvas: int = 160):
        if canvas % 8:
            raise ValueError(f"canvas: got {canvas}, expected a multiple of 8 pixels (8×8 blocks make the digit)")
        self.config = {**_config(manifest, base, 0, 0), "canvas": canvas}

    def _repr_html_(self) -> str:
        c = self.config["canvas"]
        options = "".join(f'<option value="{k}">{k}</option>' for k in self.config["manifest"]["digits"]["files"])
        body = (f'<div class="mnv3-draw-row"><canvas class="mnv3-pad" width="{c}" height="{c}" '
                f'aria-label="draw a digit here"></canvas><figure><canvas class="mnv3-seen" '
                f'aria-label="what the network sees"></canvas><figcaption>what the network sees</figcaption></figure>'
                f'<ol class="mnv3-top3"></ol></div>'
                f'<p><label>network <select class="mnv3-variant">{options}</select></label> '
                f'<button type="button" class="mnv3-clear">Clear</button></p>'
                f'<p class="mnv3-status" aria-live="polite">Draw a digit (0–9), large enough to fill the box.</p>')
        return _panel("draw", self.config, body)


def measure_panel(manifest: dict, base: str = MODELS_URL, **kwargs) -> MeasurePanel:
    """The "Measure on this device" panel for a manifest of `export_models`; `base` is the models' URL from the page."""
    return MeasurePanel(manifest, base, **kwargs)


def draw_panel(manifest: dict, base: str = MODELS_URL, **kwargs) -> DrawPanel:
    """The "Draw a digit" panel for a manifest of `export_models`; `base` is the models' URL from the page."""
    return DrawPanel(manifest, base, **kwargs)
