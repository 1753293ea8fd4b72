"""The static form of an explorer: every setting precomputed, swapped by a few lines of JavaScript.

The published book is static files, so an explorer's Python callback cannot run there. Its controls take
discrete values, so the views of *every* combination are computed when the chapter executes and embedded in
one HTML output with a small script that shows the one the controls select — HoloViews' HoloMap / Panel's
`embed` idea, and what ipywidgets issue #1903 asks for. The numbers and figures on the page are therefore
exactly mnv3lib's, and nothing is fetched when a control moves.

Views are deduplicated (two settings that draw the same thing share one copy) and the grid is bounded:
an explorer with too many combinations, or whose views weigh too much, is refused with one line.
"""
from __future__ import annotations

import html
import itertools
import json
import math
import uuid
from pathlib import Path

MAX_STATES = 256
MAX_BYTES = 4_000_000  # one explorer's embedded views; a chapter page must stay ≤ 5 MB in all

_SCRIPT = (Path(__file__).with_name("static_explorer.js")).read_text()


class ExplorerTooLarge(ValueError):
    """An explorer whose precomputed grid is too large for a static page."""


def control_spec(name: str, w) -> dict:
    """The discrete values an ipywidgets control can take, as {name, label, kind, values, labels, index}."""
    label = getattr(w, "description", "") or name
    kind_name = type(w).__name__
    if hasattr(w, "_options_values"):
        values, labels = list(w._options_values), [str(x) for x in w._options_labels]
        kind = "radio" if kind_name == "ToggleButtons" else "select" if kind_name == "Dropdown" else "range"
    elif kind_name == "Checkbox":
        values, labels, kind = [False, True], ["off", "on"], "checkbox"
    elif hasattr(w, "min") and hasattr(w, "max") and hasattr(w, "step"):
        count = int(math.floor((w.max - w.min) / w.step + 1e-9)) + 1
        if kind_name.startswith("Int"):
            values = [int(w.min + i * w.step) for i in range(count)]
        else:
            values = [round(w.min + i * w.step, 10) for i in range(count)]
        labels, kind = [f"{v:g}" for v in values], "range"
    else:
        raise ValueError(f"controls: {name}={kind_name} has no discrete values, expected a slider, Dropdown, "
                         "SelectionSlider, ToggleButtons or Checkbox")
    current = _index_of(values, w.value)
    if current is None:
        raise ValueError(f"controls: {name}={w.value!r} is not one of its own values {values}")
    return {"name": name, "label": label, "kind": kind, "values": values, "labels": labels, "index": current}


def _index_of(values: list, value) -> int | None:
    for i, v in enumerate(values):
        if v == value or (isinstance(v, float) and isinstance(value, (int, float)) and math.isclose(v, value)):
            return i
    return None


def grid_size(specs: list[dict]) -> int:
    return math.prod(len(s["values"]) for s in specs)


def output_html(out: dict) -> str:
    """One notebook display output (see widgets.render) as an HTML fragment."""
    if out.get("output_type") == "stream":
        return f'<pre class="mnv3-error">{html.escape(out["text"])}</pre>'
    data = out.get("data", {})
    if "text/html" in data:
        return f'<div class="mnv3-html">{data["text/html"]}</div>'
    if "image/png" in data:
        alt = html.escape(data.get("text/plain", "figure"), quote=True)
        return f'<img class="mnv3-figure" src="data:image/png;base64,{data["image/png"]}" alt="{alt}">'
    if "image/svg+xml" in data:
        return f'<div class="mnv3-svg">{data["image/svg+xml"]}</div>'
    return f'<pre class="mnv3-text">{html.escape(data.get("text/plain", ""))}</pre>'


def build(name: str, specs: list[dict], view, max_states: int = MAX_STATES, max_bytes: int = MAX_BYTES) -> str:
    """The explorer as one self-contained HTML fragment. `view(values)` returns the display outputs of one
    setting; it is called once per combination of the controls' values."""
    size = grid_size(specs)
    if size > max_states:
        sizes = " × ".join(f"{s['name']} {len(s['values'])}" for s in specs)
        raise ExplorerTooLarge(f"explorer {name!r}: {size:,} combinations of its controls ({sizes}), expected at "
                               f"most {max_states} for the static page: give its controls fewer values")
    fragments: list[str] = []
    seen: dict[str, int] = {}
    states: dict[str, list[int]] = {}
    for combo in itertools.product(*(range(len(s["values"])) for s in specs)):
        values = {s["name"]: s["values"][i] for s, i in zip(specs, combo)}
        parts = []
        for out in view(values):
            frag = output_html(out)
            if frag not in seen:
                seen[frag] = len(fragments)
                fragments.append(frag)
            parts.append(seen[frag])
        states[",".join(map(str, combo))] = parts
    weight = sum(len(f) for f in fragments)
    if weight > max_bytes:
        raise ExplorerTooLarge(f"explorer {name!r}: its {size} views weigh {weight / 1e6:.1f} MB, expected at most "
                               f"{max_bytes / 1e6:.1f} MB: give its controls fewer values or draw smaller figures")
    uid = f"mnv3-x-{uuid.uuid4().hex[:10]}"
    payload = {"name": name, "controls": [{k: s[k] for k in ("name", "label", "kind", "labels", "index")}
                                          for s in specs],
               "values": [[_jsonable(v) for v in s["values"]] for s in specs],
               "fragments": fragments, "states": states}
    data = json.dumps(payload, separators=(",", ":")).replace("</", "<\\/")
    current = ",".join(str(s["index"]) for s in specs)
    first = "".join(fragments[i] for i in states[current])
    controls = "".join(_control_html(uid, i, s) for i, s in enumerate(specs))
    return (f'<div class="mnv3-explorer" id="{uid}" data-explorer="{html.escape(name, quote=True)}" '
            f'data-states="{size}" data-state="{current}">'
            f'<div class="mnv3-controls" role="group" aria-label="{html.escape(name, quote=True)} controls">'
            f'{controls}</div>'
            f'<div class="mnv3-view" aria-live="polite">{first}</div>'
            f'<script type="application/json" class="mnv3-data">{data}</script>'
            f'<script>{_SCRIPT}\nmnv3Explorer(document.getElementById("{uid}"));</script></div>')


def _jsonable(v):
    return v if isinstance(v, (bool, int, float, str)) or v is None else str(v)


def _control_html(uid: str, i: int, s: dict) -> str:
    cid, label = f"{uid}-c{i}", html.escape(str(s["label"]))
    shown = html.escape(s["labels"][s["index"]])
    if s["kind"] == "checkbox":
        checked = " checked" if s["values"][s["index"]] else ""
        return (f'<label class="mnv3-control" for="{cid}"><input type="checkbox" id="{cid}" data-control="{i}"'
                f'{checked}> {label}</label>')
    if s["kind"] in ("select", "radio"):
        options = "".join(f'<option value="{j}"{" selected" if j == s["index"] else ""}>{html.escape(lab)}</option>'
                          for j, lab in enumerate(s["labels"]))
        return (f'<label class="mnv3-control" for="{cid}">{label} <select id="{cid}" data-control="{i}">'
                f'{options}</select></label>')
    return (f'<label class="mnv3-control" for="{cid}">{label} <input type="range" id="{cid}" data-control="{i}" '
            f'min="0" max="{len(s["values"]) - 1}" step="1" value="{s["index"]}" aria-valuetext="{shown}"> '
            f'<output for="{cid}">{shown}</output></label>')
