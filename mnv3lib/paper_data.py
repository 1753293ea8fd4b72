"""The papers' numbers, as printed, in one place: PAPER values, never computed ones.

`mnv3lib.papers` recomputes each of them and prints both side by side. Sources: MobileNetV1
(Howard et al. 2017, arXiv 1704.04861), MobileNetV2 (Sandler et al. 2018, arXiv 1801.04381),
MobileNetV3 (Howard et al. 2019, arXiv 1905.02244 v5), and the README of the papers' reference
code (tensorflow/models, research/slim/nets/mobilenet), quoted where the paper is ambiguous.
Known misprints are kept as printed; `ERRATA` holds what they should read, with the reason.
`v1_accuracy_points` and `reference` hand the same values out as records, for plots and the CLI.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import _checks

V1 = "MobileNetV1 (arXiv 1704.04861)"
V2 = "MobileNetV2 (arXiv 1801.04381)"
V3 = "MobileNetV3 (arXiv 1905.02244)"
TF_README = "tensorflow/models research/slim/nets/mobilenet/README.md"

# V1 Table 2, "Resource per layer type": type → (% of Mult-Adds, % of parameters)
V1_TABLE2 = {
    "Conv 1×1": (94.86, 74.95),
    "Conv DW 3×3": (3.06, 1.06),
    "Conv 3×3": (1.19, 0.02),
    "Fully Connected": (0.18, 24.33),
}

# V1 Table 3, "Resource usage for modifications to standard convolution", one layer with
# Dk = 3, M = N = 512, DF = 14: modification → (Million Mult-Adds, Million Parameters)
V1_TABLE3 = {
    "Convolution": (462, 2.36),
    "Depthwise Separable Conv": (52.3, 0.27),
    "α = 0.75": (29.6, 0.15),
    "ρ = 0.714": (15.1, 0.15),
}

# V1 Table 4, "Depthwise Separable vs Full Convolution MobileNet": (ImageNet top-1 %, M Mult-Adds, M params)
V1_TABLE4 = {
    "Conv MobileNet": (71.7, 4866, 29.3),
    "MobileNet": (70.6, 569, 4.2),
}

# V1 Table 6, "MobileNet Width Multiplier" (224×224): α → (top-1 %, M Mult-Adds, M params)
V1_TABLE6 = {1.0: (70.6, 569, 4.2), 0.75: (68.4, 325, 2.6), 0.5: (63.7, 149, 1.3), 0.25: (50.6, 41, 0.5)}

# V1 Table 7, "MobileNet Resolution" (α = 1): input size → (top-1 %, M Mult-Adds, M params)
V1_TABLE7 = {224: (70.6, 569, 4.2), 192: (69.1, 418, 4.2), 160: (67.2, 290, 4.2), 128: (64.4, 186, 4.2)}

# V2 Table 4 ("Performance on ImageNet"): width → (top-1 %, M MAdds, M params)
V2_TABLE4 = {1.0: (72.0, 300, 3.4), 1.4: (74.7, 585, 6.9)}
V2_BOTTLENECK_LAYERS = 19  # V2 §4: "followed by 19 residual bottleneck layers"
# The reference code's README (not the paper): mobilenet_v2_1.0_224 and _1.4_224 → (M MACs, M params)
V2_TF_README = {1.0: (300, 3.47), 1.4: (582, 6.06)}

# V2 Table 3, max memory to materialize (16-bit floats), the table's "max" row, in K(bytes)
V2_TABLE3 = {"MobileNetV1": 1600, "MobileNetV2": 400, "ShuffleNet (2x, g=3)": 600}

# V3 Table 3, ImageNet classification: (model, multiplier) → (top-1 %, M MAdds, M params)
V3_TABLE3 = {
    ("Large", 1.0): (75.2, 219, 5.4),
    ("Large", 0.75): (73.3, 155, 4.0),
    ("Small", 1.0): (67.4, 56, 2.5),
    ("Small", 0.75): (65.4, 44, 2.0),
}
V3_APPENDIX_MADDS = {"Large": 217, "Small": 57}  # V3 Appendix A, multiplier 1.0, resolution 224
V3_SMALL_EARLIER = (66, 2.9)  # an earlier arXiv version of V3 (head 1280): M MAdds, M params
# V3 §5.1 (Figure 5): what the efficient last stage and the 16-filter stem save, on a Pixel phone (TFLite).
V3_SECTION51 = {"last stage MAdds": 30, "last stage ms": 7, "last stage %": 11, "stem MAdds": 10, "stem ms": 2}
# The reference code's README: (model, multiplier) → (M MACs, M params)
V3_TF_README = {("Large", 1.0): (217, 5.4), ("Large", 0.75): (155, 4.0),
                ("Small", 1.0): (66, 2.9), ("Small", 0.75): (44, 2.4)}

# Misprints: (table, row, column) → (what it should read, why)
ERRATA = {
    ("V1 Table 2", "Conv 3×3", "Mult-Adds"): (1.91, "digits swapped: with 1.19 the column sums to 99.29 %, "
                                                    "with 1.91 to 100.01 %"),
    ("V1 Table 2", "Conv 1×1", "Parameters"): (74.59, "digits swapped: with 74.95 the column sums to 100.36 %, "
                                                      "with 74.59 to 100.00 %"),
}


# ---------------------------------------------------------------------------------------------
# The papers' points, for plots and for `python -m mnv3lib` (paper values only, nothing computed).
@dataclass(frozen=True)
class PaperPoint:
    """One printed row: `table` "6" (width α at 224) or "7" (resolution at α = 1); MAdds and params as counts."""
    table: str
    label: str
    alpha: float
    resolution: int
    top1: float
    madds: int
    params: int
    source: str


def v1_accuracy_points() -> list[PaperPoint]:
    """V1 Tables 6 and 7 as points (accuracy vs MAdds), the paper's values."""
    six = [PaperPoint("6", f"α = {a}", a, 224, acc, round(m * 1e6), round(p * 1e6), f"{V1} Table 6")
           for a, (acc, m, p) in V1_TABLE6.items()]
    seven = [PaperPoint("7", f"{r}×{r}", 1.0, r, acc, round(m * 1e6), round(p * 1e6), f"{V1} Table 7")
             for r, (acc, m, p) in V1_TABLE7.items()]
    return six + seven


def reference(arch: str, width: float = 1.0, resolution: int = 224) -> PaperPoint | None:
    """The paper's (top-1, MAdds, params) for an mnv3lib builder name ("mobilenet_v1", ...), width
    and resolution, or None where the paper prints no such row. V3's 0.75 rows are the reference
    code's scaling, not torchvision's width_mult (see `mnv3lib.papers.v3_width_075`)."""
    if not isinstance(arch, str):
        raise ValueError(f"arch: got {type(arch).__name__}, expected a builder name such as 'mobilenet_v2'")
    _checks.number("width", width, 0, _checks.MAX_WIDTH)
    _checks.integer("resolution", resolution, 1, _checks.MAX_RESOLUTION)
    key = (arch, float(width), int(resolution))
    table: dict = {}
    for p in v1_accuracy_points():
        table[("mobilenet_v1", p.alpha, p.resolution)] = (p.top1, p.madds / 1e6, p.params / 1e6, p.source)
    for w, (acc, m, p) in V2_TABLE4.items():
        table[("mobilenet_v2", w, 224)] = (acc, m, p, f"{V2} Table 4")
    for (name, w), (acc, m, p) in V3_TABLE3.items():
        note = ", reference-code scaling" if w != 1.0 else ""
        table[(f"mobilenet_v3_{name.lower()}", w, 224)] = (acc, m, p, f"{V3} Table 3{note}")
    if key not in table:
        return None
    acc, m, p, source = table[key]
    label = f"{arch} {width:g} @ {resolution}"
    return PaperPoint("", label, float(width), int(resolution), acc, round(m * 1e6), round(p * 1e6), source)
