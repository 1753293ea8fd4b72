"""Bad input on the command line: exit code 2 (1 for a table that fails its shape check), exactly one line on
stderr, no traceback (issue 17). Most cases call `mnv3lib.cli.main`, the console script's entry point, in-process
(fast); a few representative ones run the installed `mnv3lib` script in a subprocess, as a reader types them."""
from __future__ import annotations

import struct
import urllib.error
import zlib

import pytest
import torch
import torchvision
from matplotlib import cbook

from mnv3lib.cli import main
from test_cli import EXAMPLES, one_line_error, run

PHOTO = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
HEADER = "input,operator,exp,out,SE,NL,s\n"
STEM = "224²×3,conv2d 3×3,–,16,–,HS,2\n"


def cli(capsys, *args):
    try:
        code = main([str(a) for a in args])
    except SystemExit as e:  # argparse's own errors
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def one_line(capsys, *args, code=2) -> str:
    got, _, err = cli(capsys, *args)
    lines = err.strip().splitlines()
    assert got == code and len(lines) == 1 and "Traceback" not in err, (got, err)
    return lines[0]


@pytest.mark.parametrize("args,match", [
    (("compare", "v3-large:inf"), "width: got 'inf', expected a number > 0 and <= 4"),
    (("compare", "v3-large:nan"), "width: got 'nan'"),
    (("compare", "v3-large:1e999"), "width: got '1e999'"),
    (("compare", "v2:5"), "width: got '5', expected a number > 0 and <= 4"),
    (("compare", "v2:-1"), "width: got '-1'"),
    (("compare", "v2:1:5000"), "resolution: got '5000', expected a number > 0 and <= 4096"),
    (("compare", "v2:1:0"), "resolution: got '0'"),
    (("compare", "v3-large:4:4096"), "resolution: got 4096 at width 4, whose largest activation takes"),
    (("compare", "v2:1:224:9"), "model spec: got 'v2:1:224:9', expected MODEL[:WIDTH[:RESOLUTION]]"),
    (("compare", "v2:1:224.5"), "resolution: got '224.5', expected a whole number"),
    (("summary", "v2", "--width", "inf"), "width: got 'inf'"),
    (("summary", "v1", "--width", "1e308"), "width: got '1e308'"),
    (("summary", "v2", "--classes", "1000000"), "classes: got '1000000', expected a number > 0 and <= 100000"),
    (("summary", "v2", "--classes", "0"), "classes: got '0'"),
    (("summary", "v2", "--classes", "2.5"), "classes: got '2.5', expected a whole number"),
    (("summary", "v3-small", "--resolution", "99999"), "resolution: got '99999'"),
    (("summary", "v3-small", "--resolution", "1e3"), "resolution: got '1e3', expected a whole number"),
    (("summary", "v2", "--width", "4", "--resolution", "4096"), "whose largest activation takes"),
    (("check", EXAMPLES / "v3_large.csv", "--resolution", "5000"), "resolution: got '5000'"),
    (("check", EXAMPLES / "v3_large.csv", "--resolution", "2048"), "resolution: got 2048, expected a number > 0 and "
                                                                   "<= 1024 for a table check"),
    (("check", EXAMPLES), "table: '" + str(EXAMPLES) + "' is a directory, expected a .csv or .yaml file"),
    (("check", EXAMPLES / "README.md"), "does not exist"),
    (("predict", PHOTO, "--model", "v1"), "model: got 'v1', expected v2, v3-large or v3-small"),
    (("predict", PHOTO, "--model", "v9"), "model: got 'v9'"),
    (("predict", EXAMPLES, "--weights", "x.pth"), "image: '" + str(EXAMPLES) + "' is a directory"),
    (("predict", PHOTO, "--weights", EXAMPLES), "weights: '" + str(EXAMPLES) + "' is a directory"),
])
def test_bad_arguments(capsys, args, match):
    assert match in one_line(capsys, *args)


@pytest.mark.parametrize("cells,match", [
    (STEM + "112²×16,bneck 3×3,16,100000000000000000000,–,RE,1\n", "out: got 100000000000000000000 in V3Row"),
    (STEM + "112²×16,bneck 3×3,1000000,16,–,RE,1\n", "exp: got 1000000"),
    ("99999²×3,conv2d 3×3,–,16,–,HS,2\n", "input resolution: got 99999"),
    (STEM + "112²×16,bneck 33×33,16,16,–,RE,1\n", "kernel: got 33"),
    (STEM + "112²×16,bneck 3×3,16,16,–,RE,3\n", "stride: got 3"),
    (STEM + "112²×16,conv2d 1×1,64,16,–,RE,1\n", "conv2d: got exp=64"),
    (STEM + "112²×16,pool 7×7,–,–,✓,–,1\n", "pool: got se=True"),
    (STEM + "112²×16,bneck 3×3,16,16,–,RE,1\n112²×16,\"conv2d 1×1, NBN\",–,1280,✓,HS,2\n",
     "conv2d NBN: got se=True, stride=2"),
    (STEM + "112²×16,bneck 3×3,16,16,–,RE,1\n112²×16,bneck 3×3,16,16,maybe,RE,1\n",
     "SE: got 'maybe' in bad.csv line 4"),
    (STEM + "112²×16,bneck 3×3,16,16,–,RE,1\n112²×16,bneck 3×3,16,16,–,RE,1.5\n", "s: got '1.5' in bad.csv line 4"),
])
def test_bad_table_cells(capsys, tmp_path, cells, match):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + cells, encoding="utf-8")
    line = one_line(capsys, "check", path)
    assert match in line and line.startswith("mnv3lib check: error: "), line


@pytest.mark.parametrize("cells,match", [
    # a pool between bnecks, a conv2d 1×1 in the middle: the builder would build something else
    (STEM + "112²×16,pool 7×7,–,–,–,–,1\n112²×16,bneck 3×3,16,16,–,RE,1\n", "line 4 (bneck 3×3): out of order"),
    (STEM + "112²×16,conv2d 1×1,–,16,–,HS,1\n112²×16,bneck 3×3,16,16,–,RE,1\n", "line 4 (bneck 3×3): out of order"),
    (STEM + "112²×16,bneck 3×3,16,24,–,RE,2\n112²×24,bneck 3×3,72,24,–,RE,1\n",
     "line 4 (bneck 3×3): table says input 112²×24, the network gives 56²×24"),
])
def test_tables_that_contradict_the_network_fail_the_check(capsys, tmp_path, cells, match):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + cells, encoding="utf-8")
    assert match in one_line(capsys, "check", path, code=1)


def test_a_table_too_big_to_build(capsys, tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text(HEADER + STEM + "112²×16,bneck 3×3,16000,16000,✓,RE,1\n" * 3, encoding="utf-8")
    assert "rows: the table describes about" in one_line(capsys, "check", path)


def test_excel_csv_with_bom_checks(capsys, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (EXAMPLES / "v3_large.csv").read_bytes())
    code, out, err = cli(capsys, "check", path)
    assert code == 0 and "every row's input matches" in out, err


def test_summary_with_other_classes_says_the_paper_has_1000(capsys):
    code, out, _ = cli(capsys, "summary", "v3-small", "--classes", "10")
    last = out.strip().splitlines()[-1]
    assert code == 0 and "with 10 classes (2.54M params with the paper's 1000)" in last and "1000 classes" in last


# --------------------------------------------------------------------------- predict: files people have
def _png_header(path, side):
    """A PNG whose header declares side×side pixels: enough for PIL to refuse it before decoding."""
    chunk = lambda kind, data: (struct.pack(">I", len(data)) + kind + data  # noqa: E731
                                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
                     + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize("side", [20000, 10000])  # above twice PIL's limit (an error), above it (a warning)
def test_decompression_bomb(capsys, tmp_path, side):
    line = one_line(capsys, "predict", _png_header(tmp_path / "bomb.png", side), "--weights", "x.pth")
    assert "image:" in line and "declares more pixels than PIL decodes safely" in line


@pytest.fixture(scope="module")
def small_state():
    return torchvision.models.mobilenet_v3_small(weights=None).state_dict()


@pytest.mark.parametrize("change,match", [
    (lambda s: s.update({"features.0.0.weight": s["features.0.0.weight"].tolist()}),
     "features.0.0.weight holds a list, expected a tensor"),
    (lambda s: s.update({"features.0.0.weight": torch.tensor(0.5)}), "features.0.0.weight has shape ()"),
    (lambda s: s.update({k: torch.tensor(1.0) for k in s}),
     "classifier.3.weight holds a tensor of shape (), expected a 2-D"),
    (lambda s: [v.fill_(float("nan")) for v in s.values() if v.is_floating_point()], "holds NaN or infinite values"),
    (lambda s: s.pop("features.0.0.weight"), "missing keys features.0.0.weight"),
    (lambda s: s.update({(1, 2): torch.zeros(1)}), "state dict: key (1, 2) is of type tuple, expected str keys"),
])
def test_state_dicts_that_do_not_fit(capsys, tmp_path, small_state, change, match):
    state = {k: v.clone() for k, v in small_state.items()}
    change(state)
    torch.save(state, tmp_path / "w.pth")
    line = one_line(capsys, "predict", PHOTO, "--model", "v3-small", "--weights", tmp_path / "w.pth")
    assert match in line, line


def test_a_list_saved_as_weights(capsys, tmp_path):
    torch.save([1, 2, 3], tmp_path / "w.pth")
    assert "holds a list, expected a state dict" in one_line(capsys, "predict", PHOTO, "--weights", tmp_path / "w.pth")


def test_download_without_network(capsys, monkeypatch):
    def offline(url, *args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
    monkeypatch.setattr(torchvision.models._api, "load_state_dict_from_url", offline)
    line = one_line(capsys, "predict", PHOTO, "--model", "v3-small", "--download")
    assert "download: cannot fetch" in line and "(URLError)" in line and "--weights FILE" in line


# --------------------------------------------------------------------------- the installed script itself
# (a few: each start of the script imports torch, ~5 s on a busy 2-core machine; main() above is what it runs)
def test_the_console_script_gives_one_line():
    assert "width: got 'inf'" in one_line_error(run("compare", "v3-large:inf", ok=False))


def test_the_console_script_refuses_nan_weights_and_a_bomb(tmp_path, small_state):
    torch.save({k: v.clone().fill_(float("nan")) if v.is_floating_point() else v for k, v in small_state.items()},
               tmp_path / "nan.pth")
    line = one_line_error(run("predict", PHOTO, "--model", "v3-small", "--weights", tmp_path / "nan.pth", ok=False))
    assert "holds NaN or infinite values" in line
    line = one_line_error(run("predict", _png_header(tmp_path / "bomb.png", 20000), "--weights", "x", ok=False))
    assert "decompression bomb" in line
