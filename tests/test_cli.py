"""The `mnv3lib` console script, driven in a subprocess as a reader would type it."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision
from matplotlib import cbook

import mnv3lib

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SCRIPT = shutil.which("mnv3lib", path=str(Path(sys.executable).parent))
PHOTO = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)


def run(*args, ok=True):
    assert SCRIPT, "the mnv3lib console script is not installed next to this Python (pip install -e .)"
    p = subprocess.run([SCRIPT, *map(str, args)], capture_output=True, text=True, timeout=240)
    if ok:
        assert p.returncode == 0, p.stderr
    return p


def one_line_error(p, code=2):
    assert p.returncode == code
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in p.stderr, p.stderr
    return lines[0]


def test_python_dash_m_and_help_on_every_subcommand():
    p = subprocess.run([sys.executable, "-m", "mnv3lib", "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and "summary" in p.stdout and "predict" in p.stdout
    for sub in ("summary", "compare", "check", "predict"):
        assert "usage: mnv3lib " + sub in run(sub, "--help").stdout


def test_summary_prints_torchinfo_shape_table_and_paper_values():
    out = run("summary", "v3-small").stdout
    assert "Total params: 2,542,856" in out                      # torchinfo's count
    assert "bneck 5×5" in out and "7²×576" in out                 # the paper-style traced table
    assert "paper" in out and "56M" in out                        # beside the paper's numbers
    assert "2.54M params" in out


def test_summary_with_width_and_resolution():
    out = run("summary", "v1", "--width", "0.5", "--resolution", "160").stdout
    model = mnv3lib.mobilenet_v1(0.5)
    assert f"Total params: {mnv3lib.count_params(model):,}" in out
    assert f"{mnv3lib.madds(model, 160) / 1e6:.1f}M MAdds" in out


def test_compare_side_by_side():
    out = run("compare", "v2", "v3-large:0.75", "v3-small:1.0:160").stdout
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["model:width:res", "params", "MAdds"]
    assert any(line.startswith("v3-large:0.75:224") for line in lines)
    assert "3.50M" in out  # MobileNetV2's 3,504,872 parameters


def test_compare_with_latency():
    out = run("compare", "v3-small:0.5:96", "--latency").stdout
    assert " ms" in out and "median" in out


def test_check_paper_tables_pass():
    for name in ("v3_large.csv", "v3_small.yaml"):
        out = run("check", EXAMPLES / name).stdout
        assert "every row's input matches" in out


def test_check_circulated_table_fails_at_the_stride_error():
    p = run("check", EXAMPLES / "v3_small_circulated.csv", ok=False)
    line = one_line_error(p, code=1)
    assert "line 4" in line and "56²×16" in line and "112²×16" in line  # the file's own line number


def test_example_tables_are_the_papers():
    assert mnv3lib.tables.read_table(EXAMPLES / "v3_large.csv") == mnv3lib.configs.V3_LARGE
    assert mnv3lib.tables.read_table(EXAMPLES / "v3_small.yaml") == mnv3lib.configs.V3_SMALL
    assert mnv3lib.tables.read_table(EXAMPLES / "v3_small_circulated.csv") == mnv3lib.configs.V3_SMALL_CIRCULATED


def test_predict_with_a_local_weights_file(tmp_path):
    tv = torchvision.models.mobilenet_v3_small(weights=None)
    torch.save(tv.state_dict(), tmp_path / "small.pth")
    out = run("predict", PHOTO, "--model", "v3-small", "--weights", tmp_path / "small.pth").stdout
    lines = out.strip().splitlines()
    assert len(lines) == 5 and all("%" in line for line in lines)


def test_predict_without_weights_explains_and_fails():
    line = one_line_error(run("predict", PHOTO, ok=False))
    assert "--weights" in line and "--download" in line


@pytest.mark.parametrize("args,match", [
    (("summary", "v4"), "model: got 'v4'"),
    (("summary", "v2", "--width", "0"), "width: got '0', expected a number > 0"),
    (("summary", "v2", "--width", "-1"), "width: got '-1'"),
    (("summary", "v3-large", "--resolution", "16"), "resolution: got 16, expected at least 32"),
    (("compare", "v2:abc"), "width: got 'abc'"),
    (("compare", "resnet"), "model: got 'resnet'"),
    (("check", "no/such/table.csv"), "table: 'no/such/table.csv' does not exist"),
])
def test_bad_input_is_one_line(args, match):
    assert match in one_line_error(run(*args, ok=False))


@pytest.mark.parametrize("content,match", [
    ("input,operator,exp,out,SE,NL\n224²×3,conv2d 3×3,–,16,–,HS\n", "columns: bad.csv line 2 lacks s"),
    ("input,operator,exp,out,SE,NL,s\n224²×3,conv2d 3×3,–,16,–,GELU,2\n", "nl: got 'GELU'"),
    ("input,operator,exp,out,SE,NL,s\n224²×3,deconv 3×3,–,16,–,HS,2\n", "operator: got 'deconv 3×3'"),
    ("input,operator,exp,out,SE,NL,s\n224²×3,conv2d 3×3,–,16.5,–,HS,2\n", "out: got '16.5'"),
    ("input,operator,exp,out,SE,NL,s\nhuge,conv2d 3×3,–,16,–,HS,2\n", "input: got 'huge'"),
])
def test_bad_table_files(tmp_path, content, match):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    assert match in one_line_error(run("check", path, ok=False))


def test_unparsable_yaml(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("- {input: [unclosed\n", encoding="utf-8")
    assert "table: cannot parse bad.yaml" in one_line_error(run("check", path, ok=False))


def test_unreadable_image_and_unfitting_weights(tmp_path):
    bad_image = tmp_path / "not_an_image.jpg"
    bad_image.write_text("hello")
    weights = tmp_path / "large.pth"
    torch.save(torchvision.models.mobilenet_v3_large(weights=None).state_dict(), weights)
    assert "image: cannot read" in one_line_error(run("predict", bad_image, "--weights", weights, ok=False))
    line = one_line_error(run("predict", PHOTO, "--model", "v3-small", "--weights", weights, ok=False))
    assert "state dict:" in line and "expected" in line
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"\x00not a checkpoint")
    assert "weights: cannot load" in one_line_error(run("predict", PHOTO, "--weights", garbage, ok=False))
