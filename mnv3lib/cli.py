"""The `mnv3lib` command line: a quick look at the networks from a terminal.

    mnv3lib summary v3-large --width 0.75 --resolution 192
    mnv3lib compare v2 v3-large:0.75 v3-small:1.0:160 --latency
    mnv3lib check examples/v3_small_circulated.csv
    mnv3lib predict photo.jpg --weights mobilenet_v3_large.pth

Every subcommand is a thin layer over the library: what it prints, a chapter can compute too.
Bad input ends with one line on stderr and exit code 2 (1 for a table that fails its shape check).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import math
import sys
import warnings
from pathlib import Path

MODELS = {"v1": "mobilenet_v1", "v2": "mobilenet_v2",
          "v3-large": "mobilenet_v3_large", "v3-small": "mobilenet_v3_small"}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of argparse's usage + error
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _model_name(text: str) -> str:
    if text not in MODELS:
        raise ValueError(f"model: got {text!r}, expected one of {', '.join(MODELS)}")
    return text


# What the command line accepts (mnv3lib._checks explains the bounds): beyond them a network exhausts memory.
LIMITS = {"width": 4.0, "resolution": 4096, "classes": 100_000}


def _number(field: str, text: str, kind=float):
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"{field}: got {text!r}, expected a {'number' if kind is float else 'whole number'}") from None
    if not (math.isfinite(value) and 0 < value <= LIMITS[field]):
        raise ValueError(f"{field}: got {text!r}, expected a number > 0 and <= {LIMITS[field]:g}")
    return value


def build(name: str, width: float = 1.0, classes: int = 1000):
    """The mnv3lib model for a command-line MODEL name."""
    import mnv3lib

    builder = getattr(mnv3lib, MODELS[_model_name(name)])
    return builder(width, num_classes=classes) if name != "v1" else builder(alpha=width, num_classes=classes)


MAX_ACTIVATION_BYTES = 2e9  # the largest float32 tensor a summary or latency run may create


def _check_resolution(model, resolution: int) -> None:
    from . import cost_table

    if resolution < model.total_stride:
        raise ValueError(f"resolution: got {resolution}, expected at least {model.total_stride} "
                         "(the network's total stride)")
    largest = max(r.activations for r in cost_table(model, resolution)) * 4
    if largest > MAX_ACTIVATION_BYTES:
        raise ValueError(f"resolution: got {resolution} at width {model.width_mult:g}, whose largest activation "
                         f"takes {largest / 1e9:.1f} GB in float32, expected at most {MAX_ACTIVATION_BYTES / 1e9:g} GB "
                         "(a smaller resolution or width)")


def _paper_line(name: str, width: float, resolution: int, params: int, madds: int, classes: int = 1000) -> str:
    from . import count_params, papers

    computed = f"computed: {params / 1e6:.2f}M params, {madds / 1e6:.1f}M MAdds"
    if classes != 1000:  # the papers' networks classify ImageNet's 1000 classes: compare like with like
        computed += (f" with {classes:,} classes ({count_params(build(name, width, 1000)) / 1e6:.2f}M params "
                     "with the paper's 1000)")
    ref = papers.reference(MODELS[name], width, resolution)
    if ref is None:
        return f"{computed}  |  paper: no published numbers for this configuration"
    return (f"{computed}  |  paper ({ref.source}, 1000 classes): {ref.params / 1e6:.1f}M params, "
            f"{ref.madds / 1e6:.0f}M MAdds, top-1 {ref.top1:.1f} %")


def summary(args) -> int:
    import torchinfo

    import mnv3lib

    model = build(args.model, args.width, args.classes).eval()
    _check_resolution(model, args.resolution)
    info = torchinfo.summary(model, input_size=(1, 3, args.resolution, args.resolution), verbose=0, depth=2,
                             col_names=("output_size", "num_params"))
    print(info)
    print()
    print(mnv3lib.shape_table(model, args.resolution))
    print()
    params, madds = mnv3lib.count_params(model), mnv3lib.madds(model, args.resolution)
    print(_paper_line(args.model, args.width, args.resolution, params, madds, args.classes))
    return 0


def _spec(text: str):
    name, *rest = text.split(":")
    if len(rest) > 2:
        raise ValueError(f"model spec: got {text!r}, expected MODEL[:WIDTH[:RESOLUTION]] such as v3-large:0.75:192")
    width = _number("width", rest[0]) if rest and rest[0] else 1.0
    resolution = _number("resolution", rest[1], int) if len(rest) > 1 else 224
    return _model_name(name), width, resolution


def compare(args) -> int:
    import mnv3lib
    from mnv3lib import latency

    specs = [_spec(s) for s in args.models]
    rows = []
    for name, width, resolution in specs:
        model = build(name, width).eval()
        _check_resolution(model, resolution)
        rows.append([f"{name}:{width:g}:{resolution}", f"{mnv3lib.count_params(model) / 1e6:.2f}M",
                     f"{mnv3lib.madds(model, resolution) / 1e6:.1f}M",
                     f"{mnv3lib.peak_memory(model, resolution) / 1000:.0f}K"])  # K = 1000 bytes, as V2 Table 3
        if args.latency:
            ms = latency.measure(model, resolution, name=rows[-1][0]).median_ms
            rows[-1].append(f"{ms:.2f} ms")
    header = ["model:width:res", "params", "MAdds", "peak memory (16-bit)"]
    header += ["latency (median)"] if args.latency else []
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths))))
    if args.latency:
        print("latency: batch 1, one thread, median of repeated runs on this CPU; compare within one run only")
    return 0


def check(args) -> int:
    import mnv3lib

    rows = mnv3lib.tables.read_table(args.table)
    if args.resolution > 1024:  # tables are written for 96-224 px; a shape check at most traces 1024 px
        raise ValueError(f"resolution: got {args.resolution}, expected a number > 0 and <= 1024 for a table check")
    try:
        table = mnv3lib.check_table(rows, args.resolution)
    except mnv3lib.ShapeError as e:
        print(f"{args.table}: {e}", file=sys.stderr)
        return 1
    print(table)
    print(f"\n{args.table}: every row's input matches the traced network ({len(rows)} rows)")
    return 0


def predict(args) -> int:
    import torch
    import torchvision.models as tvm

    import mnv3lib

    if args.model == "v1":
        raise ValueError("model: got 'v1', expected v2, v3-large or v3-small (torchvision has no MobileNetV1 weights)")
    arch = MODELS[args.model]
    weights_enum = tvm.get_model_weights(arch).DEFAULT
    image = _image(args.image)
    if args.weights:
        path = Path(args.weights)
        if not path.is_file():
            why = "is a directory" if path.is_dir() else "does not exist"
            raise ValueError(f"weights: {args.weights!r} {why}, expected a torchvision state dict file (.pth)")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:
            raise ValueError(f"weights: cannot load {args.weights!r} ({type(e).__name__}), "
                             "expected a state dict saved with torch.save") from None
        if not isinstance(state, dict):
            raise ValueError(f"weights: {args.weights!r} holds a {type(state).__name__}, expected a state dict")
    elif args.download:
        try:  # torch.hub prints "Downloading: ..."; stdout is for the predictions, stderr for one-line errors
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                state = weights_enum.get_state_dict(progress=False)  # the one place mnv3lib reaches the network
        except (OSError, RuntimeError) as e:  # URLError is an OSError; a corrupt download a RuntimeError
            raise ValueError(f"download: cannot fetch {weights_enum.url} ({type(e).__name__}), expected network "
                             "access; or pass --weights FILE") from None
    else:
        print(f"predict: no weights given. Pass --weights FILE (a torchvision state dict, e.g. saved with "
              f"torch.save(torchvision.models.{arch}(weights='DEFAULT').state_dict(), '{arch}.pth')) "
              "or --download to fetch torchvision's ImageNet weights", file=sys.stderr)
        return 2
    model = mnv3lib.from_torchvision(state, arch=arch).eval()
    x = weights_enum.transforms()(image).unsqueeze(0)
    with torch.no_grad():
        probs = model(x).softmax(dim=1)[0]
    categories = weights_enum.meta["categories"] if model.num_classes == len(weights_enum.meta["categories"]) else None
    top = probs.topk(min(5, model.num_classes))
    for p, i in zip(top.values.tolist(), top.indices.tolist()):
        print(f"{p * 100:6.2f} %  {categories[i] if categories else f'class {i}'}")
    return 0


def _image(name: str):
    """The RGB image in file `name`; a one-line ValueError for a directory, a non-image, or a decompression bomb."""
    from PIL import Image, UnidentifiedImageError

    if Path(name).is_dir():
        raise ValueError(f"image: {name!r} is a directory, expected a JPEG or PNG file")
    try:
        with warnings.catch_warnings():  # PIL warns above MAX_IMAGE_PIXELS and refuses above twice that
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(name).convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ValueError(f"image: {name!r} declares more pixels than PIL decodes safely ({e.args[0].split(',')[0]}), "
                         "expected a photo (a decompression bomb is refused)") from None
    except (OSError, UnidentifiedImageError) as e:
        raise ValueError(f"image: cannot read {name!r} ({type(e).__name__}), expected a JPEG or PNG file") from None


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="mnv3lib", description="MobileNet V1-V3 from the papers' tables: summaries, comparisons, "
                                            "shape checks and predictions.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    s = sub.add_parser("summary", help="torchinfo summary, paper-style shape table, params/MAdds vs the paper")
    s.add_argument("model", help=f"one of {', '.join(MODELS)}")
    s.add_argument("--width", default="1.0", help="width multiplier (alpha for v1), default 1.0")
    s.add_argument("--resolution", default="224", help="input resolution, default 224")
    s.add_argument("--classes", default="1000", help="number of classes, default 1000")
    s.set_defaults(run=summary)
    c = sub.add_parser("compare", help="side-by-side params, MAdds, peak memory (and latency)")
    c.add_argument("models", nargs="+", metavar="MODEL[:W[:R]]", help="e.g. v2 v3-large:0.75 v3-small:1.0:160")
    c.add_argument("--latency", action="store_true", help="also measure CPU latency (batch 1, median)")
    c.set_defaults(run=compare)
    k = sub.add_parser("check", help="build a table file (CSV/YAML, the paper's columns) and shape-check it")
    k.add_argument("table", help="a .csv or .yaml file with columns input, operator, exp, out, SE, NL, s")
    k.add_argument("--resolution", default="224", help="input resolution the table is written for, default 224")
    k.set_defaults(run=check)
    r = sub.add_parser("predict", help="classify an image with torchvision weights from a local file")
    r.add_argument("image", help="a JPEG or PNG file")
    r.add_argument("--model", default="v3-large", help="v2, v3-large (default) or v3-small")
    r.add_argument("--weights", help="a torchvision state dict file (.pth), loaded with weights_only=True")
    r.add_argument("--download", action="store_true", help="fetch torchvision's ImageNet weights (needs a network)")
    r.set_defaults(run=predict)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        for field in ("width",):
            if hasattr(args, field):
                setattr(args, field, _number(field, getattr(args, field)))
        for field in ("resolution", "classes"):
            if hasattr(args, field):
                setattr(args, field, _number(field, getattr(args, field), int))
        if hasattr(args, "model"):
            _model_name(args.model)
        return args.run(args)
    except ValueError as e:
        print(f"mnv3lib {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
