"""The papers' cost tables recomputed by mnv3lib, each beside the value the paper prints.

Every function returns a `Comparison`: rows of (what, computed, paper, unit, note). `computed` is
counted here by `mnv3lib.costs` from a network built by mnv3lib; `paper` is quoted from
`mnv3lib.paper_data` (labelled "paper", never computed); the note says where the two differ and why.
Accuracies are the papers' ImageNet results, cited, not recomputed (computed = None).
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape

import torchvision
from torch import nn

from . import configs
from . import paper_data as P
from ._render import html_table, text_table
from .blocks import DepthwiseSeparable
from .costs import cost_table, count_params, madds, peak_memory
from .models import mobilenet_v1, mobilenet_v2, mobilenet_v3_large, mobilenet_v3_small
from .paper_data import PaperPoint, reference, v1_accuracy_points
from .paper_models import conv_mobilenet_v1, mobilenet_v3_small_head, mobilenet_v3_tf

__all__ = ["Comparison", "ComparisonRow", "v1_table2", "v1_table3", "v1_table4", "v1_table6", "v1_table7",
           "v2_headline", "v2_table3", "v3_table3", "v3_width_075", "PaperPoint", "v1_accuracy_points",
           "reference", "conv_mobilenet_v1", "mobilenet_v3_tf", "mobilenet_v3_small_head"]

M = 1e6
CITED = "the paper's ImageNet result, cited (no training here)"


@dataclass(frozen=True)
class ComparisonRow:
    what: str
    computed: float | None
    paper: float | None
    unit: str
    note: str = ""

    @property
    def rel_error(self) -> float | None:
        """(computed − paper) / paper, or None when either is missing."""
        if self.computed is None or self.paper is None:
            return None
        return (self.computed - self.paper) / self.paper


class Comparison:
    """Computed vs paper, list-like; `cmp["what"]` finds a row by its label."""

    HEADERS = ["what", "computed", "paper", "unit", "Δ %", "note"]

    def __init__(self, title: str, rows: list[ComparisonRow], notes: list[str] = ()):
        self.title, self.rows, self.notes = title, list(rows), list(notes)

    def __len__(self):
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, key):
        if isinstance(key, str):
            for r in self.rows:
                if r.what == key:
                    return r
            raise KeyError(f"row: got {key!r}, expected one of {[r.what for r in self.rows]}")
        return self.rows[key]

    def _cells(self, r: ComparisonRow) -> list:
        err = None if r.rel_error is None else round(100 * r.rel_error, 2) + 0.0  # + 0.0: no "-0"
        paper = None if r.paper is None else str(r.paper)  # as printed: 4.0 stays "4.0"
        return [r.what, r.computed, paper, r.unit, err]

    def __str__(self):
        notes = list(dict.fromkeys(r.note for r in self.rows if r.note))  # each distinct note once
        rows = [self._cells(r) + [f"[{notes.index(r.note) + 1}]" if r.note else ""] for r in self.rows]
        refs = [f"[{i}] {n}" for i, n in enumerate(notes, 1)]
        return "\n".join([self.title, text_table(self.HEADERS, rows), *refs, *self.notes])

    def __repr__(self):
        return f"Comparison({self.title!r}, {len(self)} rows)"

    def _repr_html_(self):
        html = html_table(self.HEADERS, [self._cells(r) + [r.note] for r in self.rows], self.title)
        return html + "".join(f"<p><small>{escape(n)}</small></p>" for n in self.notes)


def _row(what, computed, paper, unit, note=""):
    return ComparisonRow(what, None if computed is None else float(computed), paper, unit, note)


# ---------------------------------------------------------------------------------------------
def v1_table2() -> Comparison:
    """V1 Table 2: share of Mult-Adds and parameters by layer type, MobileNet α = 1 at 224."""
    table = cost_table(mobilenet_v1())
    shares = table.shares(weights_only=True)
    ours = {"Conv 1×1": "pointwise 1×1", "Conv DW 3×3": "depthwise 3×3", "Conv 3×3": "conv 3×3",
            "Fully Connected": "FC"}
    rows = []
    for name, (pm, pp) in P.V1_TABLE2.items():
        for col, i, paper in (("Mult-Adds", 1, pm), ("Parameters", 0, pp)):
            fix = P.ERRATA.get(("V1 Table 2", name, col))
            note = f"misprint in the paper, should read {fix[0]}: {fix[1]}" if fix else ""
            rows.append(_row(f"{name}: {col}", shares[ours[name]][i], paper, "%", note))
    weights, with_bn = sum(r.weights for r in table), table.shares()["pointwise 1×1"][0]
    return Comparison("MobileNetV1 Table 2: resource per layer type (α = 1, 224×224)", rows, [
        f"Parameters as the paper counts them: conv and FC weights only ({weights:,}; no biases, no BN). "
        f"Counting BN and biases too ({table.total_params:,}) the 1×1 share is {with_bn:.2f} %."])


def v1_table3() -> Comparison:
    """V1 Table 3: one layer, 14×14×512 → 512, k = 3, as a full conv, depthwise separable, α = 0.75
    and ρ = 0.714 (14 → 10). Parameters = conv weights, as the paper counts them (no BN)."""
    cases = {"Convolution": (nn.Conv2d(512, 512, 3, padding=1, bias=False), (512, 14, 14)),
             "Depthwise Separable Conv": (DepthwiseSeparable(512, 512), (512, 14, 14)),
             "α = 0.75": (DepthwiseSeparable(384, 384), (384, 14, 14)),
             "ρ = 0.714": (DepthwiseSeparable(384, 384), (384, 10, 10))}  # 14 · 0.714 = 10
    rows = []
    for name, (layer, shape) in cases.items():
        t = cost_table(layer, shape)
        paper_madds, paper_params = P.V1_TABLE3[name]
        rows += [_row(f"{name}: MAdds", t.total_madds / M, paper_madds, "M"),
                 _row(f"{name}: params", sum(r.weights for r in t) / M, paper_params, "M")]
    return Comparison("MobileNetV1 Table 3: one 14×14×512 → 512 layer, k = 3", rows)


def v1_table4() -> Comparison:
    """V1 Table 4: MobileNet built with full 3×3 convs ("Conv MobileNet") vs depthwise separable."""
    rows = []
    for name, model in (("Conv MobileNet", conv_mobilenet_v1()), ("MobileNet", mobilenet_v1())):
        acc, paper_madds, paper_params = P.V1_TABLE4[name]
        rows += [_row(f"{name}: top-1", None, acc, "%", CITED),
                 _row(f"{name}: MAdds", madds(model) / M, paper_madds, "M"),
                 _row(f"{name}: params", count_params(model) / M, paper_params, "M")]
    return Comparison("MobileNetV1 Table 4: depthwise separable vs full convolution MobileNet", rows,
                      ["Params: all parameters (BN included), as torchvision counts them."])


def v1_table6() -> Comparison:
    """V1 Table 6: width multiplier α = 1, 0.75, 0.5, 0.25 at 224×224."""
    rows = []
    for alpha, (acc, paper_madds, paper_params) in P.V1_TABLE6.items():
        model = mobilenet_v1(alpha)
        rows += [_row(f"α = {alpha}: top-1", None, acc, "%", CITED),
                 _row(f"α = {alpha}: MAdds", madds(model) / M, paper_madds, "M"),
                 _row(f"α = {alpha}: params", count_params(model) / M, paper_params, "M",
                      "the paper rounds to 0.1M" if alpha == 0.25 else "")]
    return Comparison("MobileNetV1 Table 6: width multiplier", rows)


def v1_table7() -> Comparison:
    """V1 Table 7: resolution 224, 192, 160, 128 at α = 1 (ρ = 1, 0.857, 0.714, 0.571)."""
    rows = []
    model = mobilenet_v1()
    for size, (acc, paper_madds, paper_params) in P.V1_TABLE7.items():
        rows += [_row(f"{size}×{size}: top-1", None, acc, "%", CITED),
                 _row(f"{size}×{size}: MAdds", madds(model, size) / M, paper_madds, "M"),
                 _row(f"{size}×{size}: params", count_params(model) / M, paper_params, "M")]
    return Comparison("MobileNetV1 Table 7: resolution multiplier", rows)


def _weights_and_biases(model: nn.Module) -> int:
    return sum(r.params for r in cost_table(model))


def v2_headline() -> Comparison:
    """V2's headline network (Table 4): 300M MAdds / 3.4M params at width 1.0, and width 1.4."""
    rows = []
    for width, (acc, paper_madds, paper_params) in P.V2_TABLE4.items():
        model = mobilenet_v2(width)
        tf_madds, tf_params = P.V2_TF_README[width]
        no_bn = _weights_and_biases(model) / M
        rows += [_row(f"width {width}: top-1", None, acc, "%", CITED),
                 _row(f"width {width}: MAdds", madds(model) / M, paper_madds, "M",
                      f"the reference code's README: {tf_madds}M"),
                 _row(f"width {width}: params", count_params(model) / M, paper_params, "M",
                      f"all parameters; without BN {no_bn:.3f}M, the README's {tf_params}M"
                      + ("; the paper's 6.9M fits no count of this network" if width == 1.4 else ""))]
    ns = [r.n for r in configs.V2 if r.operator == "bottleneck"]
    rows.append(_row("residual bottleneck layers", len(mobilenet_v2().blocks), P.V2_BOTTLENECK_LAYERS, "layers",
                     f"§4 says {P.V2_BOTTLENECK_LAYERS}; Table 2's n column sums to {sum(ns)} "
                     f"({'+'.join(map(str, ns))}), which mnv3lib builds"))
    return Comparison("MobileNetV2: the headline network (Table 4)", rows)


def v2_table3() -> Comparison:
    """V2 Table 3: the largest activation tensor to materialize, 16-bit values, V1 vs V2 at 224
    (convention in `mnv3lib.costs.peak_memory`; K = 1000 bytes)."""
    v1, v2 = mobilenet_v1(), mobilenet_v2()
    k = lambda b: b / 1000  # noqa: E731
    rows = [
        _row("MobileNetV1: max memory", k(peak_memory(v1)), P.V2_TABLE3["MobileNetV1"], "K",
             "its 64×112×112 output (first depthwise-separable layer) × 2 bytes"),
        _row("MobileNetV2: max memory", k(peak_memory(v2)), P.V2_TABLE3["MobileNetV2"], "K",
             "its 16×112×112 bottleneck × 2 bytes; the stem's 32×112×112 is never materialized (first-layer trick)"),
        _row("ShuffleNet (2x, g=3): max memory", None, P.V2_TABLE3["ShuffleNet (2x, g=3)"], "K",
             "not built by mnv3lib"),
        _row("MobileNetV2 without the first-layer trick", k(peak_memory(v2, fuse_stem=False)), None, "K",
             "the stem's 32×112×112 output stored: twice the table's value"),
        _row("MobileNetV1, largest input + output of one op", k(peak_memory(v1, combined=True)), None, "K",
             "§5.1's wording read literally: does not give the table"),
        _row("MobileNetV2, largest input + output of one op", k(peak_memory(v2, combined=True)), None, "K",
             "the 224×224×3 image + the 16×112×112 output of stem + first block"),
    ]
    return Comparison("MobileNetV2 Table 3: max activation memory (16-bit)", rows, [
        "Table 3's numbers are the largest single tensor that must exist, with each inverted residual "
        "block one operation (§5.1: its expanded inner tensors are disposable)."])


def _torchvision_meta(arch: str) -> dict:
    enum = {"Large": torchvision.models.MobileNet_V3_Large_Weights,
            "Small": torchvision.models.MobileNet_V3_Small_Weights}[arch]
    return enum.IMAGENET1K_V1.meta  # metadata only: nothing is downloaded


def v3_table3() -> Comparison:
    """V3 Table 3 at multiplier 1.0 (Large, Small), and the Small variants the text discusses."""
    rows = []
    for arch, build in (("Large", mobilenet_v3_large), ("Small", mobilenet_v3_small)):
        model, meta = build(), _torchvision_meta(arch)
        acc, paper_madds, paper_params = P.V3_TABLE3[(arch, 1.0)]
        no_se = sum(r.madds for r in cost_table(model) if r.type != "SE") / M
        tv = f"torchvision: {meta['_ops']} GMACs, {meta['num_params']:,} params"
        rows += [_row(f"{arch} 1.0: top-1", None, acc, "%", CITED),
                 _row(f"{arch} 1.0: MAdds", madds(model) / M, paper_madds, "M",
                      f"SE convs included ({no_se:.1f}M without); {tv}; Table 3 and Appendix A differ"),
                 _row(f"{arch} 1.0: MAdds (Appendix A)", madds(model) / M, P.V3_APPENDIX_MADDS[arch], "M"),
                 _row(f"{arch} 1.0: params", count_params(model) / M, paper_params, "M",
                      f"all parameters; conv/FC weights alone {sum(r.weights for r in cost_table(model)) / M:.3f}M"
                      + ("; neither rounds to the printed 5.4" if arch == "Large" else ""))]
    printed = mobilenet_v3_small(as_printed=True)
    rows += [_row("Small as printed (SE on the last conv): MAdds", madds(printed) / M, None, "M",
                  "Table 2's SE ✓ on the last 1×1 conv; the code and torchvision have none")]
    rows += [_row("Small as printed (SE on the last conv): params", count_params(printed) / M, None, "M")]
    earlier = mobilenet_v3_small_head(1280)
    e_madds, e_params = P.V3_SMALL_EARLIER
    rows += [_row("Small with a 1280 head (earlier version): MAdds", madds(earlier) / M, e_madds, "M",
                  f"a 1280 head adds only {(madds(earlier) - madds(mobilenet_v3_small())) / M:.2f}M: "
                  "it does not explain the earlier 66M"),
             _row("Small with a 1280 head (earlier version): params", count_params(earlier) / M, e_params, "M",
                  "the head does explain the earlier 2.9M")]
    return Comparison("MobileNetV3 Table 3 (multiplier 1.0, 224×224)", rows)


def v3_width_075() -> Comparison:
    """V3 Table 3's 0.75 rows: torchvision's width_mult vs the reference code's depth_multiplier
    (see `mobilenet_v3_tf`)."""
    rows = []
    for arch, build in (("Large", mobilenet_v3_large), ("Small", mobilenet_v3_small)):
        acc, paper_madds, paper_params = P.V3_TABLE3[(arch, 0.75)]
        tf_madds, tf_params = P.V3_TF_README[(arch, 0.75)]
        variants = {"torchvision width_mult": build(width_mult=0.75),
                    "reference code": mobilenet_v3_tf(arch.lower(), 0.75),
                    "code, head scaled too": mobilenet_v3_tf(arch.lower(), 0.75, False)}
        rows.append(_row(f"{arch} 0.75: top-1", None, acc, "%", CITED))
        for name, model in variants.items():
            note = {"torchvision width_mult": "scales the printed exp sizes and the 1280/1024 head",
                    "reference code": f"exp relative to the scaled input, head unscaled; README: {tf_madds}M, "
                                      f"{tf_params}M params",
                    "code, head scaled too": "finegrain_classification_mode=False: the head costs params, "
                                             "not MAdds"}[name]
            rows += [_row(f"{arch} 0.75, {name}: MAdds", madds(model) / M, paper_madds, "M", note),
                     _row(f"{arch} 0.75, {name}: params", count_params(model) / M, paper_params, "M")]
    return Comparison("MobileNetV3 Table 3, multiplier 0.75: which scaling the paper used", rows)
