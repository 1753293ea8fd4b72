"""Variants of the four families, as small records: what chapter 5 compares (V1 §3.3 and §4.2, V2 §6.1, V3 §5.2–§5.3).

A variant is a family at a width and an input resolution; a V3 variant may also switch squeeze-and-excite off or use
one nonlinearity everywhere, by editing the rows of the paper's table (`edit_rows`). Costs are counted, not run:
networks are built on PyTorch's `meta` device, once per network whatever the resolution.
"""
from __future__ import annotations

import dataclasses
from functools import lru_cache

import torch

from . import models, papers
from .costs import cost_table, peak_memory

BUILDERS = {"V1": models.mobilenet_v1, "V2": models.mobilenet_v2,
            "V3-Large": models.mobilenet_v3_large, "V3-Small": models.mobilenet_v3_small}
# the widths each paper sweeps (V1 Table 6, V2 Figure 5 / Table 4, V3 Table 3 and torchvision's builders)
WIDTHS = {"V1": (0.25, 0.5, 0.75, 1.0), "V2": (0.35, 0.5, 0.75, 1.0, 1.4),
          "V3-Large": (0.5, 0.75, 1.0, 1.25), "V3-Small": (0.5, 0.75, 1.0, 1.25)}
RESOLUTIONS = (128, 160, 192, 224)
# "NL" choices for V3: the table's column, or one nonlinearity everywhere
SWAP = {"table": {}, "all RE": {"HS": "RE"}, "all HS": {"RE": "HS"}}
ARCH = {"V1": "mobilenet_v1", "V2": "mobilenet_v2", "V3-Large": "mobilenet_v3_large",
        "V3-Small": "mobilenet_v3_small"}


def edit_rows(rows, se: bool = True, nl: str = "table"):
    """V3 table rows with SE switched off (`se=False`) and/or one nonlinearity everywhere (`nl`: a key of SWAP)."""
    if nl not in SWAP:
        raise ValueError(f"nl: got {nl!r}, expected one of {list(SWAP)}")
    return [dataclasses.replace(r, se=r.se and se, nl=SWAP[nl].get(r.nl, r.nl)) for r in rows]


@dataclasses.dataclass(frozen=True)
class Variant:
    family: str            # "V1", "V2", "V3-Large", "V3-Small"
    width: float           # V1's α, V2's and V3's width multiplier
    res: int = 224         # input resolution
    se: bool = True        # V3 only: keep the table's SE column
    nl: str = "table"      # V3 only: "table", "all RE" or "all HS"
    tf: bool = False       # V3 only: scaled as the paper's reference code (papers.mobilenet_v3_tf)

    def __post_init__(self):
        if self.family not in BUILDERS:
            raise ValueError(f"family: got {self.family!r}, expected one of {list(BUILDERS)}")
        if not self.family.startswith("V3") and (not self.se or self.nl != "table" or self.tf):
            raise ValueError(f"se / nl / tf: {self.family} has no SE or NL columns, expected the defaults")

    @property
    def name(self) -> str:
        """The network, whatever the resolution: 'V3-Large ×1 (no SE)'."""
        extra = ([] if self.se else ["no SE"]) + ([] if self.nl == "table" else [self.nl])
        return (f"{self.family} ×{self.width:g}{'*' if self.tf else ''}"
                + (f" ({', '.join(extra)})" if extra else ""))

    @property
    def label(self) -> str:
        return f"{self.name} @{self.res}"

    def build(self, device="cpu"):
        """The network (on `device`; "meta" gives shapes without weights)."""
        with torch.device(device):
            if self.tf:
                return papers.mobilenet_v3_tf(self.family[3:].lower(), self.width)
            model = BUILDERS[self.family](self.width)
            if self.family.startswith("V3") and (not self.se or self.nl != "table"):
                model = models.MobileNetV3(edit_rows(model.rows, self.se, self.nl), self.width)
            return model


@lru_cache(maxsize=None)
def meta_network(v: Variant):
    return v.build("meta")


@lru_cache(maxsize=None)
def costs(v: Variant) -> dict:
    """Parameters, MAdds, peak activation memory (16-bit values, V2 §5.1) and (params, MAdds) by layer type."""
    model = meta_network(dataclasses.replace(v, res=0))
    table = cost_table(model, v.res)
    return dict(params=table.total_params, madds=table.total_madds, peak=peak_memory(model, v.res),
                by_type=table.by_type())


def grid(widths: dict = WIDTHS, resolutions=RESOLUTIONS) -> list[Variant]:
    """Every family at the widths its paper sweeps and at each resolution."""
    return [Variant(f, w, r) for f in BUILDERS for w in widths[f] for r in resolutions]


def paper_points(variants) -> list[tuple[Variant, object]]:
    """The variants a paper reports an ImageNet accuracy for, with the paper's numbers; V3's 0.75 rows were scaled
    by the paper's reference code (`tf=True`)."""
    out = []
    for v in variants:
        point = papers.reference(ARCH[v.family], v.width, v.res)
        if point is not None:
            tf = v.family.startswith("V3") and v.width != 1.0
            out.append((dataclasses.replace(v, tf=tf), point))
    return out


def pareto(points):
    """The (cost, accuracy) points no other point beats on both counts, by increasing cost."""
    front, best = [], float("-inf")
    for x, y in sorted(points):
        if y > best:
            front.append((x, y))
            best = y
    return front
