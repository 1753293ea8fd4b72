"""mnv3lib.papers: every cost table of the three papers, recomputed, within tolerance of the printed value."""
import pytest

import mnv3lib
from mnv3lib import paper_data, papers


def printed_precision_matches(row) -> bool:
    """The computed value rounds to the paper's number at the paper's printed precision (4.232 → 4.2)."""
    decimals = len(str(row.paper).split(".")[1]) if "." in str(row.paper) else 0
    return round(row.computed, decimals) == row.paper


@pytest.fixture(scope="module")
def v1_tables():
    return {n: getattr(papers, f"v1_table{n}")() for n in (2, 3, 4, 6, 7)}


@pytest.mark.parametrize("n", [3, 4, 6, 7])
def test_v1_madds_within_1_percent(v1_tables, n):
    rows = [r for r in v1_tables[n] if r.what.endswith("MAdds")]
    assert len(rows) == {3: 4, 4: 2, 6: 4, 7: 4}[n]
    for r in rows:
        assert abs(r.rel_error) < 0.01, r


@pytest.mark.parametrize("n", [3, 4, 6, 7])
def test_v1_params_match_the_printed_digits(v1_tables, n):
    rows = [r for r in v1_tables[n] if r.what.endswith("params")]
    assert rows and all(printed_precision_matches(r) for r in rows), rows


@pytest.mark.parametrize("n", [4, 6, 7])
def test_v1_accuracy_is_cited_not_computed(v1_tables, n):
    rows = [r for r in v1_tables[n] if r.what.endswith("top-1")]
    assert rows and all(r.computed is None and r.paper > 50 and "cited" in r.note for r in rows)


def test_v1_table2_shares_and_its_two_misprints(v1_tables):
    t = v1_tables[2]
    assert len(t) == 8
    for r in t:
        fix = next((v for (tab, row, col), v in paper_data.ERRATA.items()
                    if tab == "V1 Table 2" and r.what == f"{row}: {col}"), None)
        if fix:  # the printed value is off; the corrected one is what the network gives
            assert abs(r.computed - fix[0]) < 0.01 and abs(r.computed - r.paper) > 0.3 and "misprint" in r.note
        else:
            assert abs(r.computed - r.paper) < 0.01, r
    assert sum(r.computed for r in t if "Mult-Adds" in r.what) == pytest.approx(100)
    assert sum(r.computed for r in t if "Parameters" in r.what) == pytest.approx(100)


def test_v1_table3_is_one_layer():
    t = papers.v1_table3()
    assert t["Convolution: MAdds"].computed == 3 * 3 * 512 * 512 * 14 * 14 / 1e6
    assert t["ρ = 0.714: MAdds"].computed == (9 * 384 + 384 * 384) * 10 * 10 / 1e6


def test_v1_table4_conv_mobilenet_is_v1_with_full_convs():
    conv = papers.conv_mobilenet_v1()
    t = mnv3lib.cost_table(conv)
    assert {r.type for r in t} == {"conv 3×3", "FC"} and len(t) == 15
    assert [r.out_shape for r in t] == [r.out_shape for r in mnv3lib.cost_table(mnv3lib.mobilenet_v1())
                                        if r.type != "depthwise 3×3"]


def test_v2_headline():
    t = papers.v2_headline()
    assert abs(t["width 1.0: MAdds"].rel_error) < 0.01 and abs(t["width 1.4: MAdds"].rel_error) < 0.01
    assert round(t["width 1.0: params"].computed, 1) == 3.5  # 3,504,872: the paper's 3.4 is 3 % low
    assert "3.471M" in t["width 1.0: params"].note and "3.47M" in t["width 1.0: params"].note
    assert "6.9M" in t["width 1.4: params"].note
    layers = t["residual bottleneck layers"]
    assert (layers.computed, layers.paper) == (17, 19) and "17" in layers.note


def test_v2_table3_memory():
    t = papers.v2_table3()
    assert t["MobileNetV1: max memory"].computed == 1605.632 and abs(t["MobileNetV1: max memory"].rel_error) < 0.01
    assert t["MobileNetV2: max memory"].computed == 401.408 and abs(t["MobileNetV2: max memory"].rel_error) < 0.01
    assert t["ShuffleNet (2x, g=3): max memory"].computed is None
    assert t["MobileNetV2 without the first-layer trick"].computed == 2 * 401.408
    combined = t["MobileNetV2, largest input + output of one op"].computed
    assert abs(combined - 400) / 400 > 0.5  # §5.1's literal rule is not the table's


def test_v3_table3():
    t = papers.v3_table3()
    for arch in ("Large", "Small"):
        assert abs(t[f"{arch} 1.0: MAdds (Appendix A)"].rel_error) < 0.01
        assert abs(t[f"{arch} 1.0: params"].rel_error) < 0.02
        assert t[f"{arch} 1.0: top-1"].computed is None
    assert abs(t["Small 1.0: MAdds"].rel_error) < 0.01
    assert abs(t["Large 1.0: MAdds"].rel_error) < 0.015 and "0.217 GMACs" in t["Large 1.0: MAdds"].note
    earlier = t["Small with a 1280 head (earlier version): params"]
    assert round(earlier.computed, 1) == earlier.paper == 2.9  # the earlier 2.9M is the 1280 head ...
    assert t["Small with a 1280 head (earlier version): MAdds"].rel_error < -0.1  # ... its 66M is not


def test_v3_width_075_reference_code_scaling_matches_the_paper():
    t = papers.v3_width_075()
    for arch, madds_tol, params_tol in (("Large", 0.01, 0.01), ("Small", 0.015, 0.025)):
        assert abs(t[f"{arch} 0.75, reference code: MAdds"].rel_error) < madds_tol
        assert abs(t[f"{arch} 0.75, reference code: params"].rel_error) < params_tol
        assert t[f"{arch} 0.75, torchvision width_mult: MAdds"].rel_error < -0.09  # not the paper's network
        assert t[f"{arch} 0.75, torchvision width_mult: params"].rel_error < -0.15
        assert t[f"{arch} 0.75, code, head scaled too: params"].rel_error < -0.13  # the head is the params gap


@pytest.mark.parametrize("arch", ["large", "small"])
def test_reference_code_scaling_is_torchvision_at_1(arch):
    ours = getattr(mnv3lib, f"mobilenet_v3_{arch}")()
    tf = papers.mobilenet_v3_tf(arch, 1.0)
    assert sorted(v.shape for v in tf.state_dict().values()) == sorted(v.shape for v in ours.state_dict().values())


def test_reference_code_scaling_at_075():
    tf, tv = papers.mobilenet_v3_tf("large", 0.75), mnv3lib.mobilenet_v3_large(0.75)
    assert tf.blocks[1].expand.conv.out_channels == 64 and tv.blocks[1].expand.conv.out_channels == 48
    assert tf.classifier[0].out_features == 1280 and tv.classifier[0].out_features == 960
    assert papers.mobilenet_v3_tf("large", 0.75, finegrain_classification_mode=False).classifier[0].out_features == 960
    with pytest.raises(ValueError, match="arch"):
        papers.mobilenet_v3_tf("medium")
    with pytest.raises(ValueError, match="depth_multiplier"):
        papers.mobilenet_v3_tf("small", 0)


def test_comparison_renders_and_looks_up():
    t = papers.v2_table3()
    text, html = str(t), t._repr_html_()
    assert text.startswith("MobileNetV2 Table 3") and "1600" in text and "1606" in text and "[1]" in text
    assert html.count("<tr>") == len(t) + 1 and "paper" in html and "1600" in html
    row = t[0]
    assert row.rel_error == pytest.approx((row.computed - row.paper) / row.paper)
    with pytest.raises(KeyError, match="row"):
        t["no such row"]


def test_paper_points_and_reference():
    points = papers.v1_accuracy_points()
    assert [p.table for p in points] == ["6"] * 4 + ["7"] * 4 and points[0].madds == 569_000_000
    ref = papers.reference("mobilenet_v3_small", 1.0, 224)
    assert (ref.top1, ref.madds, ref.params) == (67.4, 56_000_000, 2_500_000) and "Table 3" in ref.source
    assert papers.reference("mobilenet_v1", 1.0, 160).madds == 290_000_000
    assert papers.reference("mobilenet_v2", 0.5, 224) is None
