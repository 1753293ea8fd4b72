"""Issue 3, item 3: traced shape tables line up with the papers' tables, and check_table finds bad rows."""
import dataclasses
import functools
import re
from html.parser import HTMLParser

import pytest
import torch
from torch import nn

import mnv3lib
from mnv3lib import ShapeError, check_table, configs, shape_table
from mnv3lib.blocks import Bneck, DepthwiseSeparable, InvertedResidual
from mnv3lib.layers import make_divisible
from mnv3lib.models import MobileNetV3



@functools.cache
def built(arch: str, width: float = 1.0, **kw) -> nn.Module:
    """Each network built once: shape_table leaves a model as it was (test_trace_leaves_the_model_as_it_was)."""
    return getattr(mnv3lib, arch)(width, **kw)


V3 = {"mobilenet_v3_large": (lambda: built("mobilenet_v3_large"), configs.V3_LARGE),
      "mobilenet_v3_small": (lambda: built("mobilenet_v3_small", as_printed=True), configs.V3_SMALL)}


def stated(rows):
    return [(r.input[0], r.input[1]) for r in rows]


# --- shape_table: the trace is the papers' table --------------------------------------------------

@pytest.mark.parametrize("arch", V3)
def test_v3_trace_lines_up_with_the_paper_row_for_row(arch):
    builder, rows = V3[arch]
    t = shape_table(builder())
    assert len(t) == len(rows) == {"mobilenet_v3_large": 20, "mobilenet_v3_small": 16}[arch]
    assert [r.input for r in t] == stated(rows)          # every Input cell, traced
    sbs = t.side_by_side(rows)
    assert sbs.all_match and sbs.mismatches == []
    ops = [r.operator for r in t]
    assert ops[0] == "conv2d 3×3" and ops[-4:] == ["conv2d 1×1", "pool 7×7", "conv2d 1×1, NBN", "conv2d 1×1, NBN"]
    # read from the modules: exp, SE, NL and stride of every bneck are the paper's
    assert [(r.exp, r.se, r.nl, r.stride) for r in t if r.operator.startswith("bneck")] == \
        [(r.exp, r.se, r.nl, r.stride) for r in rows if r.operator == "bneck"]
    assert t[-1].out == 1000 and t[-2].nl == "HS" and t[-1].nl is None


def test_trace_reads_the_model_not_the_config():
    """The torchvision-style Small (no SE on its last conv) differs from the printed Table 2 at that row only."""
    sbs = shape_table(built("mobilenet_v3_small")).side_by_side(configs.V3_SMALL)
    assert sbs.mismatches == [12]
    traced, paper, ok = sbs[12]
    assert (traced.operator, traced.se, paper.se, ok) == ("conv2d 1×1", False, True, False)
    # a model built from the circulated table traces as what was built: SE on the stem, s=1 on row 1
    t = shape_table(MobileNetV3(configs.V3_SMALL_CIRCULATED))
    assert t[0].se and t[1].stride == 1 and t[2].input == (112, 16) and not t[12].se


def test_v2_one_row_per_block_and_grouped_as_table_2():
    t = shape_table(built("mobilenet_v2"))
    assert len(t) == 1 + 17 + 3  # stem, 17 bottlenecks, conv2d 1×1, avgpool, classifier
    assert all(r.nl == "RE6" for r in t[:19]) and t[-1].operator == "conv2d 1×1"
    g = t.grouped()
    assert len(g) == len(configs.V2) == 11
    assert [(r.t, r.out, r.n, r.stride) for r in g[1:8]] == [(r.t, r.c, r.n, r.s) for r in configs.V2[1:8]]
    assert [r.input for r in g] == stated(configs.V2)
    assert t.side_by_side(configs.V2).all_match  # V2 rows are compared with the grouped trace


def test_v1_dw_and_pw_rows_as_table_1():
    t = shape_table(built("mobilenet_v1"))
    assert len(t) == len(configs.V1) == 29
    assert [r.operator for r in t].count("conv dw 3×3") == 13
    assert [r.operator for r in t].count("conv 1×1") == 13
    assert [r.input for r in t] == stated(configs.V1)
    assert t.side_by_side(configs.V1).all_match
    assert (t[-2].operator, t[-1].operator, t[-1].out) == ("avg pool 7×7", "fc", 1000)


@pytest.mark.parametrize("size,pool", [(224, 7), (192, 6), (160, 5), (96, 3)])
def test_other_resolutions(size, pool):
    t = shape_table(built("mobilenet_v3_large"), size)
    res = [r.input[0] for r in t]
    assert res[0] == size and res[1] == size // 2 and t[17].operator == f"pool {pool}×{pool}"
    assert res[17] == pool and res[18:] == [1, 1]
    # resolution halves exactly where a row has s = 2 (ceil: "same" padding)
    for a, b in zip(t[:17], t[1:18]):
        assert b.input[0] == -(-a.input[0] // a.stride)


def test_non_square_input():
    t = shape_table(built("mobilenet_v3_small"), (224, 160))
    assert t[0].input == ((224, 160), 3) and t[1].input == ((112, 80), 16)
    assert t[13].operator == "pool 7×5" and t[14].input == (1, 576)
    assert "224×160×3" in str(t)


@pytest.mark.parametrize("width", [0.5, 0.75, 1.25])
def test_other_widths_follow_the_modules(width):
    t = shape_table(built("mobilenet_v3_large", width))
    assert [r.input[0] for r in t] == [r.input[0] for r in configs.V3_LARGE]  # width never changes resolution
    for a, b in zip(t[1:16], configs.V3_LARGE[1:16]):
        assert (a.exp, a.out) == (make_divisible(b.exp * width), make_divisible(b.out * width))
    for a, b in zip(t[:-2], t[1:-1]):  # each row's out is the next row's input channels (pool: –)
        assert b.input[1] == (a.out if a.out is not None else a.input[1])


def test_single_blocks_with_channels_in_input_size():
    t = shape_table(Bneck(24, 5, 72, 40, True, "RE", 2), (24, 56, 56))
    assert len(t) == 1
    assert dataclasses.astuple(t[0])[:9] == ((56, 24), "bneck 5×5", 72, 40, True, "RE", 2, 3.0, 1)
    assert shape_table(InvertedResidual(16, 96, 24, 2), (16, 112, 112))[0].operator == "bottleneck"
    ds = shape_table(DepthwiseSeparable(32, 64, 2), 112)  # channels from the first conv
    assert [(r.operator, r.input, r.out) for r in ds] == [("conv dw 3×3", (112, 32), 32), ("conv 1×1", (56, 32), 64)]


def test_trace_leaves_the_model_as_it_was():
    m = mnv3lib.mobilenet_v3_small().train()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    shape_table(m)
    assert m.training and not any(x._forward_hooks for x in m.modules())
    assert all(torch.equal(before[k], v) for k, v in m.state_dict().items())  # BN statistics untouched


# --- rendering --------------------------------------------------------------------------------------

class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.tag = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        self.tag = tag

    def handle_data(self, data):
        if self.tag in ("td", "th") and data.strip():
            self.rows[-1].append(data.strip())


def test_text_rendering_is_aligned_paper_notation():
    t = shape_table(built("mobilenet_v3_small"))
    lines = str(t).splitlines()
    assert len(lines) == 2 + len(t)  # title, header, one line per row
    assert re.split(r"\s+", lines[1].strip()) == ["Input", "Operator", "exp", "out", "SE", "NL", "s"]
    assert len({len(x) for x in lines[1:]}) == 1  # every column aligned
    assert re.split(r"\s{2,}", lines[3].strip()) == ["112²×16", "bneck 3×3", "16", "16", "✓", "RE", "2"]
    assert re.split(r"\s{2,}", lines[2 + 13].strip()) == ["7²×576", "pool 7×7", "–", "–", "–", "–", "1"]
    assert "None" not in str(t) and "True" not in str(t)


def test_html_rendering_has_one_cell_per_column():
    t = shape_table(built("mobilenet_v3_large"))
    p = _Cells()
    p.feed(t._repr_html_())
    assert p.rows[0] == t.COLUMNS and len(p.rows) == 1 + len(t)
    assert p.rows[5] == ["56²×24", "bneck 5×5", "72", "40", "✓", "RE", "2"]
    assert "<caption>mobilenet_v3_large, input 224×224×3, traced</caption>" in t._repr_html_()


def test_side_by_side_marks_the_rows_that_differ():
    printed = shape_table(built("mobilenet_v3_small", as_printed=True))
    sbs = printed.side_by_side(configs.V3_SMALL_CIRCULATED)
    assert sbs.mismatches == [0, 1, 12]  # its three errors: SE on the stem, s=1 on row 1, no SE on row 12
    lines = str(sbs).splitlines()
    assert [x.rstrip()[-1] for x in lines[2:]] == ["✗", "✗"] + ["✓"] * 10 + ["✗"] + ["✓"] * 3
    assert lines[-1].split()[-2] == "1" and " k " in lines[-1]  # the paper's k classes, traced 1000
    assert sbs._repr_html_().count("background") == 3
    short = printed.side_by_side(configs.V3_SMALL[:-1])
    assert short.mismatches == [15] and short[15][1] is None  # a missing paper row is a mismatch


def test_indexing_and_slicing():
    t = shape_table(built("mobilenet_v3_large"))
    assert t[1:3].rows == t.rows[1:3] and len(t[1:3]) == 2 and t[-1] is t.rows[-1]
    assert [r.name for r in t[:2]] + [t[-1].name] == ["stem", "blocks.0", "classifier.3"]


# --- check_table ----------------------------------------------------------------------------------

@pytest.mark.parametrize("rows,n", [(configs.V3_LARGE, 20), (configs.V3_SMALL, 16), (configs.V2, 11),
                                    (configs.V1, 29)])
def test_the_papers_tables_pass(rows, n):
    t = check_table(rows)
    assert len(t) == n and [r.input for r in t] == stated(rows)


def test_the_circulated_small_table_fails_at_the_row_after_the_wrong_stride():
    with pytest.raises(ShapeError) as e:
        check_table(configs.V3_SMALL_CIRCULATED)
    assert str(e.value) == "row 2 (bneck 3×3): table says input 56²×16, the network gives 112²×16"
    assert isinstance(e.value, ValueError)
    assert (e.value.row, e.value.field, e.value.stated, e.value.traced) == (2, "input", (56, 16), (112, 16))


def test_v1_as_printed_fails_at_the_pointwise_after_the_misprinted_stride():
    with pytest.raises(ShapeError, match=r"^row 26 \(conv 1×1\): table says input 7²×1024, "
                                         r"the network gives 4²×1024$"):
        check_table(configs.V1_AS_PRINTED)


def test_a_wrong_channel_count_fails_at_its_row():
    rows = list(configs.V3_LARGE)
    rows[5] = dataclasses.replace(rows[5], input=(28, 24))
    with pytest.raises(ShapeError, match=r"^row 5 \(bneck 5×5\): table says input 28²×24, "
                                         r"the network gives 28²×40$"):
        check_table(rows)


def test_a_v2_row_with_a_wrong_stride_fails_at_the_next_row():
    rows = list(configs.V2)
    rows[3] = dataclasses.replace(rows[3], s=1)  # 56² stays 56²: the next row's 28² input is wrong
    with pytest.raises(ShapeError, match=r"^row 4 \(bottleneck\): table says input 28²×32, "
                                         r"the network gives 56²×32$"):
        check_table(rows)


ORDER_V3 = "conv2d, bneck…, conv2d, pool, conv2d NBN…"


@pytest.mark.parametrize("rows,message", [
    (configs.V3_LARGE[:3] + configs.V3_LARGE[16:17] + configs.V3_LARGE[3:16] + configs.V3_LARGE[17:],
     f"row 4 (bneck 3×3): out of order, tables are read as {ORDER_V3}"),  # the last conv moved up
    (configs.V3_LARGE[1:], f"row 0 (bneck 3×3): out of order, tables are read as {ORDER_V3}"),  # no stem
    (configs.V1[:1] + configs.V1[2:3] + configs.V1[1:2] + configs.V1[3:],
     "row 1 (conv 1×1): out of order, tables are read as conv, (dw, pw)…, pool, fc"),
    (configs.V2[:9] + configs.V2[8:9] + configs.V2[9:],
     "row 9 (conv2d 1×1): out of order, tables are read as conv2d, bottleneck…, conv2d 1x1, avgpool, classifier"),
])
def test_a_row_the_builder_cannot_read_where_it_stands(rows, message):
    with pytest.raises(ShapeError) as e:  # found before anything is built: the builders would misread them
        check_table(rows)
    assert str(e.value) == message and e.value.field == "order"


def test_an_operator_that_is_not_what_the_network_has():
    with pytest.raises(ShapeError, match=r"^row 1 \(bottleneck\): table says operator bottleneck, "
                                         r"the network gives bneck 3×3$"):
        check_table(configs.V2, model=built("mobilenet_v3_small"))
    rows = list(configs.V3_LARGE)
    rows[16] = dataclasses.replace(rows[16], stride=2)  # the last 1×1 conv at s=2: the pool sees 4², not 7²
    with pytest.raises(ShapeError, match=r"^row 17 \(pool 7×7\): table says operator pool 7×7, "
                                         r"the network gives pool 4×4$"):
        check_table(rows)
    extra = configs.V3_SMALL + [configs.V3_SMALL[-1]]
    with pytest.raises(ShapeError, match=r"^row 16 .*the network gives no such row \(it has 16\)$"):
        check_table(extra)


def test_width_is_one_and_a_scaled_table_states_scaled_channels():
    width = 0.75
    ch = lambda c: None if c is None else make_divisible(c * width)  # noqa: E731
    scaled = [dataclasses.replace(r, input=(r.input[0], ch(r.input[1]) if r is not configs.V3_LARGE[0] else 3),
                                  exp=ch(r.exp), out=ch(r.out)) for r in configs.V3_LARGE]
    traced = check_table(scaled)  # a table written at width 0.75 passes and builds torchvision's 0.75 network
    assert traced.rows == shape_table(built("mobilenet_v3_large", width)).rows
    # the width-1 table against the 0.75 network: the first channel count that rounding changes
    first = next(i for i, (a, b) in enumerate(zip(scaled, configs.V3_LARGE)) if a.input != b.input)
    assert first == 5
    with pytest.raises(ShapeError, match=r"^row 5 \(bneck 5×5\): table says input 28²×40, "
                                         r"the network gives 28²×32$"):
        check_table(configs.V3_LARGE, model=built("mobilenet_v3_large", width))


def test_check_at_another_resolution_needs_a_table_written_for_it():
    rows = [dataclasses.replace(r, input=(r.input[0] * 160 // 224 if r.input[0] > 1 else 1, r.input[1]),
                                kernel=5 if r.operator == "pool" else r.kernel) for r in configs.V3_SMALL]
    assert len(check_table(rows, input_size=160)) == 16
    with pytest.raises(ShapeError, match=r"^row 0 \(conv2d 3×3\): table says input 224²×3, "
                                         r"the network gives 160²×3$"):
        check_table(configs.V3_SMALL, input_size=160)


@pytest.mark.parametrize("rows", [[], configs.V3_SMALL[:3] + configs.V2[:3], ["not a row"]])
def test_bad_rows_are_a_one_line_value_error(rows):
    with pytest.raises(ValueError, match=r"^rows: got .*, expected a non-empty list of one kind: "
                                         r"V1Row, V2Row or V3Row"):
        check_table(rows)


@pytest.mark.parametrize("size", [0, -3, 22.5, "224", (224,), (3, 224, 224, 1), True, 5000, (3, 224, 10**6)])
def test_bad_input_size_is_a_one_line_value_error(size):
    with pytest.raises(ValueError, match=r"^input_size: got .*, expected a positive int, \(H, W\) or \(C, H, W\)"
                                         r" with sides <= 4096$"):
        shape_table(built("mobilenet_v3_small"), size)


def test_unknown_modules_are_refused():
    with pytest.raises(ValueError, match=r"^model: got a Conv2d at '0', expected mnv3lib"):
        shape_table(nn.Sequential(nn.Conv2d(3, 8, 3)), 32)
