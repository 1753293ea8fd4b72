"""Chapter 5's comparer: pick any variants and see them side by side, live in a notebook and on the static page.

Too many combinations to draw one figure each (three slots × family × width × resolution × SE × NL), so the comparer
embeds *records* — one row of numbers per variant, computed by mnv3lib when the chapter executes — and a small script
(comparer.js) that fills the table and places each chosen variant on a Pareto plot drawn once by matplotlib. The
script computes nothing: every number it shows is a record's. The same HTML is what a notebook displays, so the
comparer is one definition for every reader.
"""
from __future__ import annotations

import base64
import html
import io
import json
import uuid
from pathlib import Path

from .static_explorer import _control_html

_SCRIPT = (Path(__file__).with_name("comparer.js")).read_text()
FIELDS = ("params", "madds", "peak", "top1", "ms")


def record_key(family: str, width: float, res: int, se: bool, nl: str) -> str:
    """The key a record is stored under; V1 and V2 have no SE / NL columns, so theirs are fixed."""
    if not family.startswith("V3"):
        se, nl = True, "table"
    return f"{family}|{width:g}|{res}|{int(bool(se))}|{nl}"


def axes_frame(fig, ax) -> dict:
    """Where `ax` sits in the saved PNG (fractions of its width and height, from the top left) and its data limits,
    so the page can place a point (x, y) where matplotlib would."""
    x0, y0, x1, y1 = ax.get_position().extents
    return {"left": x0, "right": x1, "top": 1 - y1, "bottom": 1 - y0, "xlim": list(ax.get_xlim()),
            "ylim": list(ax.get_ylim()), "xlog": ax.get_xscale() == "log", "ylog": ax.get_yscale() == "log"}


def comparer_html(records: dict, slots: list[dict], options: dict, figure, frames: dict, notes: dict) -> str:
    """The comparer as one HTML fragment.

    records: key (record_key) → {params, madds, peak, top1 or None, ms or None, label}
    slots: one dict per slot (A, B, C) of its default values {family, width, res, se, nl}
    options: {family: [...], width: [...], res: [...], nl: [...]} — the values each control offers
    figure: the Pareto plot (a matplotlib Figure, saved as drawn: no tight bounding box, so frames hold)
    frames: {"madds_top1": axes_frame(...), "madds_ms": axes_frame(...)} — where to mark a variant
    notes: column labels and captions, e.g. {"ms": "latency on the machine that built this page (ms)"}
    """
    uid = f"mnv3-c-{uuid.uuid4().hex[:10]}"
    specs = []
    for s, default in zip("abc", slots):
        for field, kind in (("family", "select"), ("width", "select"), ("res", "select"), ("se", "checkbox"),
                            ("nl", "select")):
            values = [False, True] if kind == "checkbox" else list(options[field])
            labels = ["off", "on"] if kind == "checkbox" else [f"{v:g}" if isinstance(v, float) else str(v)
                                                                for v in values]
            label = {"family": f"{s.upper()}:", "width": "width", "res": "resolution", "se": "SE (V3)",
                     "nl": "NL (V3)"}[field]
            specs.append({"name": f"{s}_{field}", "label": label, "kind": kind, "values": values, "labels": labels,
                          "index": values.index(default[field])})
    buf = io.BytesIO()
    figure.savefig(buf, format="png")  # no bbox_inches="tight": the frames are fractions of this exact canvas
    png = base64.b64encode(buf.getvalue()).decode("ascii")
    payload = {"name": "comparer", "controls": [{k: s[k] for k in ("name", "label", "kind", "labels", "index")}
                                                for s in specs],
               "values": [s["values"] for s in specs], "records": records, "frames": frames, "notes": notes}
    data = json.dumps(payload, separators=(",", ":")).replace("</", "<\\/")
    rows = "".join(f'<div class="mnv3-slot">{"".join(_control_html(uid, 5 * k + j, specs[5 * k + j]) for j in range(5))}'
                   f'</div>' for k in range(len(slots)))
    return (f'<div class="mnv3-explorer mnv3-comparer" id="{uid}" data-explorer="comparer" '
            f'data-states="{len(records)}">'
            f'<div class="mnv3-controls" role="group" aria-label="comparer controls">{rows}</div>'
            f'<div class="mnv3-view" aria-live="polite"></div>'
            f'<div class="mnv3-plot" style="position:relative;max-width:100%">'
            f'<img class="mnv3-figure" src="data:image/png;base64,{png}" alt="{html.escape(notes.get("plot", ""))}" '
            f'style="width:100%;height:auto;display:block"></div>'
            f'<script type="application/json" class="mnv3-data">{data}</script>'
            f'<script>{_SCRIPT}\nmnv3Comparer(document.getElementById("{uid}"));</script></div>')


class Comparer:
    """Displays as the comparer's HTML (in a notebook, and in the book)."""

    def __init__(self, html_text: str):
        self.html = html_text

    def _repr_html_(self) -> str:
        return self.html


FAMILY_COLORS = {"V1": "#4c72b0", "V2": "#55a868", "V3-Large": "#c44e52", "V3-Small": "#dd8452"}
WIDTH_OPTIONS = (0.25, 0.35, 0.5, 0.75, 1.0, 1.25, 1.4)
RES_OPTIONS = (96, 128, 160, 192, 224, 256)


def pareto_plot(paper: list, latency_ms: dict):
    """Left: the papers' top-1 against counted MAdds, with the Pareto front; right: latency measured on this machine
    against MAdds, for every measured variant. Returns (figure, frames) for `comparer_html`."""
    import matplotlib.pyplot as plt

    from .variants import costs, pareto

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(9, 3.6))
    points = [(costs(v)["madds"] / 1e6, p.top1) for v, p in paper]
    for (v, _), (x, y) in zip(paper, points):
        ax.scatter(x, y, color=FAMILY_COLORS[v.family], s=18, marker="D" if v.tf else "o", zorder=3)
    ax.step(*zip(*pareto(points)), where="post", color="#999999", lw=1, label="Pareto front")
    for v, ms in latency_ms.items():
        bx.scatter(costs(v)["madds"] / 1e6, ms, color=FAMILY_COLORS[v.family], s=12, alpha=0.7)
    for a in (ax, bx):
        a.set_xscale("log")
        a.set_xlabel("MAdds (M), counted by mnv3lib", fontsize=9)
        a.spines[["top", "right"]].set_visible(False)
        a.tick_params(labelsize=8)
    ax.set_xlim(10, 1500)
    ax.set_ylabel("ImageNet top-1 % (the papers')", fontsize=9)
    bx.set_yscale("log")
    bx.set_xlim(5, 2000)
    bx.set_ylabel("latency, machine that built the page (ms)", fontsize=9)
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=f) for f, c in FAMILY_COLORS.items()]
    fig.legend(handles=handles, loc="lower center", ncol=4, frameon=False, fontsize=8.5)
    fig.subplots_adjust(bottom=0.25, top=0.95, wspace=0.3, left=0.08, right=0.98)
    frames = {"madds_top1": axes_frame(fig, ax), "madds_ms": axes_frame(fig, bx)}
    plt.close(fig)
    return fig, frames


def for_variants(latency_ms: dict, paper: list, slots: list[dict] | None = None) -> Comparer:
    """The comparer over every family × WIDTH_OPTIONS × RES_OPTIONS (× SE × NL for V3): counted costs for each,
    the paper's top-1 where a paper reports that very network, and `latency_ms` (Variant → ms, measured on the
    machine that executes the chapter) where it was measured."""
    from .variants import BUILDERS, SWAP, Variant, costs

    top1 = {v: p.top1 for v, p in paper if not v.tf}  # V3's 0.75 rows are scaled differently (chapter 4)
    ms = {(v.family, v.width, v.res, v.se, v.nl): t for v, t in latency_ms.items() if not v.tf}
    records = {}
    for family in BUILDERS:
        v3 = family.startswith("V3")
        for width in WIDTH_OPTIONS:
            for res in RES_OPTIONS:
                for se in ((True, False) if v3 else (True,)):
                    for nl in (SWAP if v3 else ("table",)):
                        v = Variant(family, width, res, se, nl)
                        # a nonlinearity has no parameters or MAdds and stores no extra tensor: NL shares the counts
                        c = costs(Variant(family, width, res, se))
                        records[record_key(family, width, res, se, nl)] = {
                            "label": v.label, "params": c["params"], "madds": c["madds"], "peak": c["peak"],
                            "top1": top1.get(v), "ms": ms.get((family, width, res, se, nl))}
    slots = slots or [dict(family="V2", width=1.0, res=224, se=True, nl="table"),
                      dict(family="V3-Large", width=1.0, res=224, se=True, nl="table"),
                      dict(family="V3-Small", width=1.0, res=224, se=True, nl="table")]
    fig, frames = pareto_plot(paper, {v: t for v, t in latency_ms.items() if not v.tf})
    options = {"family": [*BUILDERS, "none"], "width": list(WIDTH_OPTIONS), "res": list(RES_OPTIONS),
               "nl": list(SWAP)}
    notes = {"top1": "top-1 % (paper)", "ms": "latency (ms), machine that built the page",
             "plot": "the papers' top-1 and the measured latency against MAdds; the chosen variants are marked"}
    return Comparer(comparer_html(records, slots, options, fig, frames, notes))
