"""Bad input, as an adversarial user would try it, reaches a one-line ValueError naming the field, the value and what
was expected — never a traceback from deep inside torch, and never a silent wrong answer (issue 17).

Each case is (what to call, a regex the message must match). The bounds are mnv3lib._checks'.
"""
from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

import mnv3lib
from mnv3lib import blocks, configs, latency, layers, tables
from mnv3lib.configs import V2Row

B = {"v1": mnv3lib.mobilenet_v1, "v2": mnv3lib.mobilenet_v2,
     "v3-large": mnv3lib.mobilenet_v3_large, "v3-small": mnv3lib.mobilenet_v3_small}
_SMALL = mnv3lib.mobilenet_v3_small().eval()
BNECK, NBN, POOL = configs.V3_LARGE[1], configs.V3_LARGE[-2], configs.V3_LARGE[-3]


def one_line_value_error(call, match: str) -> ValueError:
    with pytest.raises(ValueError, match=match) as info:
        call()
    assert "\n" not in str(info.value), str(info.value)
    return info.value


def _huge():  # every cell within bounds, the whole beyond memory
    return [dataclasses.replace(r, exp=16000) if r.operator == "bneck" else r for r in configs.V3_LARGE]


def _with(rows, at, row):
    return [*rows[:at], row, *rows[at:]]


# --------------------------------------------------------------------------- numbers: non-finite, oversized
NUMBERS = [
    *[pytest.param(lambda b=b, w=w: B[b](w),
                   rf"(width_mult|alpha): got {re.escape(repr(w))}, expected a number > 0 and <= 4",
                   id=f"{b}-width-{w}") for b in B for w in (float("inf"), 4.5, 1e308)],
    pytest.param(lambda: mnv3lib.mobilenet_v3_large(width_mult=-float("inf")), r"width_mult: got -inf",
                 id="width--inf"),
    pytest.param(lambda: mnv3lib.mobilenet_v2(num_classes=10**6), r"num_classes: got 1000000, expected an integer >= 1 "
                 r"and <= 100,000", id="classes-1e6"),
    pytest.param(lambda: mnv3lib.mobilenet_v1(num_classes=10**20), r"num_classes: got 10{20}", id="classes-1e20"),
    *[pytest.param(lambda b=b, d=d: B[b](dropout=d), rf"dropout: got {d!r}, expected a number >= 0 and < 1",
                   id=f"{b}-dropout-{d}") for b in ("v2", "v3-large", "v3-small")
      for d in (float("nan"), -0.1, 1.0, "0.2", None)],
    pytest.param(lambda: mnv3lib.mobilenet_v3_small(as_printed="no"), r"as_printed: got 'no', expected True or False",
                 id="as_printed-str"),
    pytest.param(lambda: layers.make_divisible(float("inf")), r"value: got inf", id="make_divisible-inf"),
    pytest.param(lambda: layers.make_divisible(float("nan")), r"value: got nan", id="make_divisible-nan"),
    pytest.param(lambda: layers.make_divisible("8"), r"value: got '8', expected a number >= 0",
                 id="make_divisible-str"),
    pytest.param(lambda: layers.make_divisible(16, 0), r"divisor: got 0, expected an integer >= 1",
                 id="make_divisible-divisor-0"),
    pytest.param(lambda: mnv3lib.papers.reference("mobilenet_v2", "1.0", 224), r"width: got '1.0'", id="reference-str"),
    pytest.param(lambda: mnv3lib.papers.reference("mobilenet_v2", 1.0, 0), r"resolution: got 0", id="reference-res-0"),
]


@pytest.mark.parametrize("call,match", NUMBERS)
def test_numbers_are_finite_and_bounded(call, match):
    one_line_value_error(call, match)


# --------------------------------------------------------------------------- inputs of the wrong kind
DTYPE = r"input dtype: got torch\.{}, expected torch\.float32"
KINDS = [
    *[pytest.param(lambda d=d: _SMALL(torch.zeros(1, 3, 64, 64, dtype=d)), DTYPE.format(str(d).split(".")[1]),
                   id=f"forward-{d}") for d in (torch.uint8, torch.int64, torch.bool, torch.float64, torch.float16,
                                                torch.bfloat16, torch.complex64)],
    pytest.param(lambda: _SMALL(np.zeros((1, 3, 64, 64), np.float32)), r"input: got ndarray, expected a torch\.Tensor",
                 id="forward-numpy"),
    pytest.param(lambda: _SMALL([[[[0.0] * 64] * 64] * 3]), r"input: got list, expected a torch\.Tensor",
                 id="forward-list"),
    pytest.param(lambda: _SMALL(None), r"input: got NoneType, expected a torch\.Tensor", id="forward-None"),
    pytest.param(lambda: mnv3lib.count_params("x"), r"model: got str 'x', expected a torch\.nn\.Module",
                 id="count_params-str"),
    pytest.param(lambda: mnv3lib.count_params(None), r"model: got NoneType", id="count_params-None"),
    pytest.param(lambda: mnv3lib.madds("x"), r"model: got str", id="madds-str"),
    pytest.param(lambda: mnv3lib.cost_table(3), r"model: got int 3", id="cost_table-int"),
    pytest.param(lambda: mnv3lib.peak_memory("x"), r"model: got str", id="peak_memory-str"),
    pytest.param(lambda: mnv3lib.memory_profile([]), r"model: got list", id="memory_profile-list"),
    pytest.param(lambda: mnv3lib.shape_table("x"), r"model: got str", id="shape_table-str"),
    pytest.param(lambda: mnv3lib.check_table(configs.V3_SMALL, model="x"), r"model: got str", id="check_table-str"),
    pytest.param(lambda: latency.measure("x", 64), r"model: got str 'x', expected a torch\.nn\.Module",
                 id="latency-measure-str"),
    pytest.param(lambda: latency.compare(_SMALL, "x", 64, quick=True), r"model: got str", id="latency-compare-str"),
    pytest.param(lambda: latency.time_by_type(None, 64), r"model: got NoneType", id="latency-time_by_type-None"),
    pytest.param(lambda: latency.measure_many([("a", lambda: "x", 64)], ("r", _SMALL, 64), quick=True),
                 r"model: got str", id="latency-measure_many-factory"),
    *[pytest.param(lambda v=v: mnv3lib.peak_memory(_SMALL, 224, bytes_per_value=v),
                   rf"bytes_per_value: got {v!r}, expected an integer >= 1 and <= 8", id=f"peak_memory-bytes-{v!r}")
      for v in (-2, 0, "2", 2.0, 9, True)],
    pytest.param(lambda: mnv3lib.memory_profile(_SMALL, 224, bytes_per_value=-1), r"bytes_per_value: got -1",
                 id="memory_profile-bytes--1"),
    pytest.param(lambda: mnv3lib.madds(_SMALL, 10**6), r"input_size: got 1000000, .* sides <= 4096", id="madds-1e6"),
    pytest.param(lambda: mnv3lib.peak_memory(_SMALL, (3, 5000, 5000)), r"input_size: got \(3, 5000, 5000\)",
                 id="peak_memory-5000"),
    pytest.param(lambda: latency.measure(_SMALL, 5000), r"input_size: got 5000, .* sides <= 4096",
                 id="latency-5000"),
    pytest.param(lambda: latency.measure_many(None, ("r", _SMALL, 64), quick=True), r"entries: got NoneType",
                 id="latency-measure_many-None"),
    *[pytest.param(lambda f=f, v=v: latency.measure(_SMALL, 32, **{f: v}), rf"{f}: got {v}, expected an integer",
                   id=f"latency-{f}-{v}") for f, v in (("repeats", 10**30), ("warmup", 10**6), ("threads", 10**4),
                                                      ("repeats", 0), ("threads", 0))],
    pytest.param(lambda: mnv3lib.check_table(None), r"rows: got NoneType, expected a list of V1Row", id="check_table-None"),
    pytest.param(lambda: layers.activation([]), r"nl: got \[\], expected one of", id="activation-list"),
    pytest.param(lambda: mnv3lib.widgets.explorer(None, a=1), r"update: got NoneType None, expected a function",
                 id="explorer-None"),
    pytest.param(lambda: mnv3lib.widgets.explorer(42, a=1), r"update: got int 42", id="explorer-int"),
    pytest.param(lambda: layers.ConvBNAct(3, 8, kernel=2.5), r"kernel: got 2.5, expected an integer", id="conv-k2.5"),
    pytest.param(lambda: layers.ConvBNAct(3, 8, kernel=4), r"kernel: got 4, expected an odd integer", id="conv-k4"),
    pytest.param(lambda: layers.ConvBNAct(0, 8), r"in_channels: got 0, expected an integer >= 1", id="conv-in-0"),
    pytest.param(lambda: layers.ConvBNAct(6, 8, groups=4), r"groups: got 4, expected a divisor of in_channels 6",
                 id="conv-groups"),
    pytest.param(lambda: layers.ConvBNAct(8, 8, stride=3), r"stride: got 3, expected an integer >= 1 and <= 2",
                 id="conv-stride-3"),
    pytest.param(lambda: layers.SqueezeExcite(16, 0), r"squeeze: got 0, expected an integer >= 1", id="se-0"),
    pytest.param(lambda: blocks.InvertedResidual(16, "64", 16), r"exp: got '64', expected an integer", id="ir-exp-str"),
    pytest.param(lambda: blocks.Bneck(16, 3, 64, 24, "yes", "RE", 1), r"se: got 'yes', expected True or False",
                 id="bneck-se-str"),
    pytest.param(lambda: blocks.Bneck(0, 3, 16, 16, False, "RE", 1), r"in_channels: got 0", id="bneck-in-0"),
    pytest.param(lambda: blocks.DepthwiseSeparable(16, 32, 0), r"stride: got 0", id="dw-stride-0"),
]


@pytest.mark.parametrize("call,match", KINDS)
def test_inputs_of_the_wrong_kind_are_named(call, match):
    one_line_value_error(call, match)


@pytest.mark.parametrize("builder", ["v1", "v2", "v3-large", "v3-small"])
def test_a_batch_of_one_in_training_mode_says_why(builder):
    model = B[builder]()  # fresh: in training mode
    one_line_value_error(lambda: model(torch.randn(1, 3, 32, 32)), r"input: a batch of 1 at 32×32 leaves the last "
                         r"BatchNorm 1 value per channel, and BatchNorm in training mode needs more than 1: call "
                         r"model\.eval\(\)")
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 1000)  # what the message offers does work
    assert model.eval()(torch.randn(1, 3, 32, 32)).shape == (1, 1000)


# --------------------------------------------------------------------------- tables the builder would misread
ROWS = [
    pytest.param(lambda: dataclasses.replace(BNECK, out=10**20), r"out: got 10{20} in V3Row.*<= 16,384", id="out-1e20"),
    pytest.param(lambda: dataclasses.replace(BNECK, exp=10**6), r"exp: got 1000000 .* <= 16,384", id="exp-1e6"),
    pytest.param(lambda: dataclasses.replace(BNECK, input=(10**6, 16)), r"input resolution: got 1000000 .* <= 4,096",
                 id="input-res-1e6"),
    pytest.param(lambda: dataclasses.replace(BNECK, input=(112, 10**9)), r"input channels: got 10{9}",
                 id="input-ch-1e9"),
    pytest.param(lambda: dataclasses.replace(BNECK, kernel=33), r"kernel: got 33 .* \.\.\. 31\)", id="kernel-33"),
    pytest.param(lambda: dataclasses.replace(BNECK, stride=True), r"stride: got True", id="stride-True"),
    pytest.param(lambda: dataclasses.replace(BNECK, se="yes"), r"se: got 'yes' .* expected True or False",
                 id="se-str"),
    pytest.param(lambda: dataclasses.replace(NBN, se=True, stride=2), r"conv2d NBN: got se=True, stride=2 in .*"
                 r"expected exp=None, se=False, stride=1 \(the network has no place for them\)", id="nbn-se-s2"),
    pytest.param(lambda: dataclasses.replace(POOL, se=True), r"pool: got se=True", id="pool-se"),
    pytest.param(lambda: dataclasses.replace(POOL, out=960), r"pool: got out=960", id="pool-out"),
    pytest.param(lambda: dataclasses.replace(configs.V3_LARGE[-4], exp=960), r"conv2d: got exp=960", id="conv-exp"),
    pytest.param(lambda: dataclasses.replace(configs.V2[2], n=1000), r"n: got 1000 .* <= 64", id="v2-n-1000"),
    pytest.param(lambda: dataclasses.replace(configs.V2[2], t=100), r"t: got 100 .* <= 64", id="v2-t-100"),
    pytest.param(lambda: V2Row((224, 3), "conv2d", None, 10**20, 1, 2), r"c: got 10{20}", id="v2-c-1e20"),
    # from_table validates the table the way check does
    pytest.param(lambda: mnv3lib.from_table([dataclasses.replace(configs.V3_LARGE[0])] + [
        dataclasses.replace(r, input=(r.input[0], r.input[1] + 8)) if i == 3 else r
        for i, r in enumerate(configs.V3_LARGE[1:], start=1)]),
        r"^row 3 \(bneck 3×3\): table says input 56²×32, the network gives 56²×24$", id="from_table-input"),
    pytest.param(lambda: mnv3lib.from_table(_with(configs.V3_LARGE, 5, POOL)), r"out of order", id="from_table-pool"),
    pytest.param(lambda: mnv3lib.from_table(_with(configs.V3_LARGE, 5, configs.V3_LARGE[-4])), r"out of order",
                 id="from_table-conv-in-middle"),
    pytest.param(lambda: mnv3lib.from_table(_huge()), r"^rows: the table describes about 1,067M weights, expected "
                 r"at most 200M", id="from_table-1e9-weights"),
    pytest.param(lambda: mnv3lib.check_table(_huge()), r"^rows: the table describes about", id="check_table-1e9-weights"),
    pytest.param(lambda: mnv3lib.from_table(5), r"rows: got int, expected a table file or a list of V3Row",
                 id="from_table-int"),
    pytest.param(lambda: mnv3lib.from_table(configs.V2), r"rows: got \['V2Row'\], expected V3Row rows",
                 id="from_table-v2"),
    pytest.param(lambda: mnv3lib.from_table([]), r"rows: got no rows", id="from_table-empty"),
    pytest.param(lambda: tables.parse_row(["a"]), r"row: got list in row, expected a mapping", id="parse_row-list"),
    pytest.param(lambda: tables.read_table(None), r"table: got NoneType", id="read_table-None"),
]


@pytest.mark.parametrize("call,match", ROWS)
def test_tables_the_builder_would_misread_are_refused(call, match):
    one_line_value_error(call, match)


def test_from_table_shape_errors_are_shape_errors():
    with pytest.raises(mnv3lib.ShapeError):
        mnv3lib.from_table(_with(configs.V3_LARGE, 5, POOL))


# --------------------------------------------------------------------------- files people have
@pytest.mark.parametrize("suffix", [".csv", ".yaml"])
def test_excel_bom_reads_and_line_numbers_are_the_files(tmp_path, suffix):
    src = {".csv": "v3_small_circulated.csv", ".yaml": "v3_small.yaml"}[suffix]
    text = (tables.Path(__file__).parents[1] / "examples" / src).read_text(encoding="utf-8")
    path = tmp_path / f"excel{suffix}"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))  # what Excel's "CSV UTF-8" writes
    rows = tables.read_table(path)
    assert len(rows) == 16
    first_row_line = 1 + next(i for i, line in enumerate(text.splitlines()) if line.startswith(("224", "- {")))
    assert rows.where[0] == f"line {first_row_line}"
    if suffix == ".csv":  # row index 2 (the 56²×16 bneck) sits on the file's line 4: both kinds of error say so
        one_line_value_error(lambda: mnv3lib.check_table(rows), r"^line 4 \(bneck 3×3\): table says input 56²×16")
        bad = text.splitlines()
        bad[3] = bad[3].replace("56²×16", "56²×oops")
        path.write_text("\n".join(bad) + "\n", encoding="utf-8")
        one_line_value_error(lambda: tables.read_table(path), r"input: got '56²×oops' in excel\.csv line 4,")


def test_a_directory_is_named_a_directory(tmp_path):
    one_line_value_error(lambda: tables.read_table(tmp_path), r"table: .* is a directory, expected a \.csv or \.yaml")


# --------------------------------------------------------------------------- torchvision interop
def _tv(arch, classifier=None):
    tv = getattr(torchvision.models, arch)(weights=None)
    if classifier is not None:
        tv.classifier = classifier
    return tv


CLASSIFIER = r"model: its classifier is \({}\), expected torchvision's .*replace only the last layer"
STATE = [
    pytest.param(lambda: mnv3lib.from_torchvision(_tv("mobilenet_v3_large", nn.Linear(960, 10))),
                 CLASSIFIER.format("Linear"), id="v3-large-single-linear"),
    pytest.param(lambda: mnv3lib.from_torchvision(_tv("mobilenet_v3_small", nn.Sequential(
        nn.Linear(576, 1024), nn.Hardswish(), nn.Linear(1024, 10)))), CLASSIFIER.format("Linear, Hardswish, Linear"),
        id="v3-small-no-dropout"),
    pytest.param(lambda: mnv3lib.from_torchvision(_tv("mobilenet_v2", nn.Linear(1280, 10))),
                 CLASSIFIER.format("Linear"), id="v2-single-linear"),
    pytest.param(lambda: mnv3lib.from_torchvision(_tv("mobilenet_v2", nn.Sequential(nn.Linear(1280, 10)))),
                 CLASSIFIER.format("Linear"), id="v2-no-dropout"),
    pytest.param(lambda: mnv3lib.from_torchvision({}, arch=["mobilenet_v2"]), r"arch: got \['mobilenet_v2'\]",
                 id="arch-list"),
    pytest.param(lambda: mnv3lib.from_torchvision({}, arch="mobilenet_v2", width_mult=float("inf")),
                 r"width_mult: got inf", id="width-inf"),
]


def _state(change):
    state = torchvision.models.mobilenet_v3_small(weights=None).state_dict()
    change(state)
    return state


STATE += [
    pytest.param(lambda: _state(lambda s: s.update({"features.0.0.weight": s["features.0.0.weight"].tolist()})),
                 r"state dict: features\.0\.0\.weight holds a list, expected a tensor", id="list-value"),
    pytest.param(lambda: _state(lambda s: s.update({"features.0.0.weight": torch.tensor(1.0)})),
                 r"state dict: features\.0\.0\.weight has shape \(\), expected \(16, 3, 3, 3\)", id="0-dim-value"),
    pytest.param(lambda: _state(lambda s: s["features.1.block.0.0.weight"].fill_(float("nan"))),
                 r"state dict: features\.1\.block\.0\.0\.weight holds NaN or infinite values, expected finite weights",
                 id="nan-weights"),
    pytest.param(lambda: _state(lambda s: s["classifier.0.bias"].fill_(float("inf"))), r"holds NaN or infinite",
                 id="inf-bias"),
    pytest.param(lambda: _state(lambda s: s.update({"classifier.3.weight": torch.zeros(1000)})),
                 r"state dict: classifier\.3\.weight holds a tensor of shape \(1000,\), expected a 2-D",
                 id="1-d-classifier"),
    pytest.param(lambda: _state(lambda s: s.update({1: torch.zeros(1)})),
                 r"state dict: key 1 is of type int, expected str keys", id="int-key"),
    pytest.param(lambda: _state(lambda s: s.update({"classifier.3.weight": [0.0] * 10})),
                 r"state dict: classifier\.3\.weight holds a list, expected a 2-D tensor", id="list-classifier"),
]


@pytest.mark.parametrize("call,match", STATE)
def test_state_dicts_and_models_that_do_not_fit_are_refused(call, match):
    def load():
        source = call()
        return mnv3lib.from_torchvision(source, arch="mobilenet_v3_small") if isinstance(source, dict) else source
    one_line_value_error(load, match)


def test_the_usual_fine_tuning_pattern_still_maps():
    tv = _tv("mobilenet_v3_large")
    tv.classifier[-1] = nn.Linear(1280, 10)
    ours = mnv3lib.from_torchvision(tv.eval())
    x = torch.randn(2, 3, 64, 64)
    assert torch.allclose(ours(x), tv(x), atol=1e-5)
