"""What each explorer of the book must show, computed here from mnv3lib alone (not from the chapter's code).

The rendered-book test reads the numbers an explorer shows (`data-facts`) after each move of a control, and compares
them with these functions of the same control values, so a page cannot show stale or wrong numbers.
"""
from __future__ import annotations

import math
from dataclasses import replace

import mnv3lib
from mnv3lib import blocks, configs, costs, manifold
from mnv3lib.models import MobileNetV2, MobileNetV3


def _v1(alpha, resolution):
    net = mnv3lib.mobilenet_v1(alpha)
    return {"parameters": mnv3lib.count_params(net), "MAdds": mnv3lib.madds(net, resolution)}


def _spiral(n, seed):
    trip = manifold.roundtrip(manifold.spiral(), n, seed)
    return {"collapsed": trip.collapsed.double().mean().item(), "theory (n + 1)/2ⁿ": (n + 1) / 2**n}


def _v2(width_mult, t):
    rows = [replace(r, t=t) if r.operator == "bottleneck" and r.t == 6 else r for r in configs.V2]
    net = MobileNetV2(rows, width_mult=width_mult)
    return {"parameters (M)": costs.count_params(net) / 1e6, "MAdds (M)": costs.madds(net) / 1e6,
            "peak memory (KB)": costs.peak_memory(net) / 1e3}


def _bneck(resolution, exp, kernel, se, stride):
    b = blocks.Bneck(80, kernel, exp, 112, se, "HS", stride)
    return {"parameters": costs.count_params(b), "MAdds": costs.madds(b, input_size=(80, resolution, resolution))}


def _large_small(width, resolution, se, hswish):
    out = {}
    for arch, build in (("Large", mnv3lib.mobilenet_v3_large), ("Small", mnv3lib.mobilenet_v3_small)):
        rows = [replace(r, se=r.se and se, nl="RE" if not hswish and r.nl == "HS" else r.nl) for r in build().rows]
        net = MobileNetV3(rows, width)
        out[f"{arch} parameters"] = mnv3lib.count_params(net)
        out[f"{arch} MAdds"] = mnv3lib.madds(net, resolution)
    return out


def _comparer(**values):
    from mnv3lib import papers, variants

    out = {}
    for s in "abc":
        family = values[f"{s}_family"]
        if family == "none":
            continue
        v3 = family.startswith("V3")
        v = variants.Variant(family, values[f"{s}_width"], values[f"{s}_res"], values[f"{s}_se"] or not v3,
                             values[f"{s}_nl"] if v3 else "table")
        c = variants.costs(v)
        point = papers.reference(variants.ARCH[family], v.width, v.res)
        # the paper's V3 at another width than 1.0 is scaled differently from this network (chapter 4)
        top1 = point.top1 if point is not None and not (v3 and v.width != 1.0) and v.se and v.nl == "table" else None
        slot = s.upper()
        out.update({f"{slot} params": c["params"], f"{slot} MAdds": c["madds"], f"{slot} peak": c["peak"],
                    f"{slot} top-1": top1})
    return out


def _deploy_runtimes(network, unit):
    build = {"V1": mnv3lib.mobilenet_v1, "V2": mnv3lib.mobilenet_v2, "V3-Large": mnv3lib.mobilenet_v3_large,
             "V3-Small": mnv3lib.mobilenet_v3_small}[network]
    return {"MAdds": mnv3lib.madds(build(), 224)}  # the measured latencies have no independent recomputation


EXPECTED = {"deploy-runtimes": _deploy_runtimes, "comparer": _comparer, "v1-width-resolution": _v1, "v2-spiral": _spiral, "v2-width-expansion": _v2,
            "v3-bneck-costs": _bneck, "v3-large-vs-small": _large_small}


def differences(shown: dict, expected: dict) -> list[str]:
    """What the page shows that differs from what mnv3lib computes (numbers to 1e-9 relative)."""
    wrong = [f"{k} missing" for k in expected if k not in shown]
    for k, want in expected.items():
        got = shown.get(k)
        if got is None or want is None:
            if (got is None) != (want is None) and k in shown:
                wrong.append(f"{k}: page {got!r}, mnv3lib {want!r}")
            continue
        if not math.isclose(float(got), float(want), rel_tol=1e-9, abs_tol=1e-12):
            wrong.append(f"{k}: page {got!r}, mnv3lib {want!r}")
    return wrong
