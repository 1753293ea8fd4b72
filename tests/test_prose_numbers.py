"""Numbers that cannot drift.

1. A paper's value is read from `mnv3lib.paper_data` (the one place the papers' numbers are typed), never typed
   again in a chapter's code: a code cell whose literals or strings contain a distinctive paper value fails here.
2. Every `{glue...}` role in a chapter's prose names a key that one of its code cells glues, so the prose shows
   what the code computed (and the `-W` build cannot fail on a missing key).
"""
import io
import json
import re
import tokenize
from pathlib import Path

import pytest

from mnv3lib import paper_data

BOOK = Path(__file__).resolve().parents[1] / "book"
CHAPTERS = sorted(BOOK.glob("*.ipynb"))

# Numbers that are configuration, not results: widths, resolutions and channel counts of the networks, which a
# chapter may type (they are the knobs it turns). Paper values equal to one of them cannot be told apart.
CONFIGURATION = {0.25, 0.35, 0.5, 0.75, 1.0, 1.25, 1.4, 2.0, 4.0,
                 112, 128, 160, 192, 224, 256, 320, 480, 576, 960, 1000, 1024, 1280}


def _values(obj):
    """Every number among the values (not the keys: those are configurations) of paper_data's tables."""
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _values(v)
    elif isinstance(obj, (tuple, list)):
        for v in obj:
            yield from _values(v)
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield obj


def paper_values() -> set:
    """The distinctive paper values: decimals (94.86, 4.2, 3.4 …) and counts of 100 or more (569, 1600 …).
    Small integers (7 ms, 10M, 56M) are left out: 7, 10 and 56 are also kernel sizes, counts and map sizes."""
    found = set()
    for name in dir(paper_data):
        if name.isupper():
            for v in _values(getattr(paper_data, name)):
                if (isinstance(v, float) and v != int(v)) or v >= 100:
                    found.add(float(v))
    return found - CONFIGURATION


NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?!\d|\.\d)")  # 2.5 in "2.5M", not 5.4 in "v3_5.4"
MARKER = "# not a paper value"  # a layout constant that happens to equal one (figsize=(7, 2.4)): say so
FIELD = re.compile(r"\{[^{}]*\}")  # an f-string's replacement field, format spec included


def typed_paper_values(code: str, values: set) -> list:
    """(line, text) of every literal in `code`, number or inside a string, that equals a paper value."""
    hits = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return [(0, "cell does not tokenize")]
    lines = code.splitlines()
    for tok in tokens:
        if tok.start[0] <= len(lines) and MARKER in lines[tok.start[0] - 1]:
            continue
        if tok.type == tokenize.NUMBER:
            candidates = [tok.string]
        elif tok.type == tokenize.STRING or tok.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
            candidates = NUMBER.findall(FIELD.sub("", tok.string))
        else:
            continue
        for text in candidates:
            try:
                value = float(text.replace("_", ""))
            except ValueError:
                continue
            if value in values:
                hits.append((tok.start[0], text))
    return hits


def _cells(path, kind):
    return [(i, "".join(c["source"])) for i, c in enumerate(json.loads(path.read_text())["cells"])
            if c["cell_type"] == kind]


def test_the_paper_values_are_many_and_distinctive():
    values = paper_values()
    assert {569.0, 4.2, 3.4, 300.0, 400.0, 1600.0, 2.5, 2.9, 94.86} <= values
    assert not values & {224.0, 0.75, 7.0, 3.0}


def test_the_scan_finds_what_it_must():
    """The check can fail: yesterday's offenders are found, formats and identifiers are not."""
    values = paper_values()
    assert typed_paper_values('print("(paper, Table 4: 4.2 million)")', values) == [(1, "4.2")]
    assert typed_paper_values("PAPER = (3.4, 300, 400)", values) == [(1, "3.4"), (1, "300"), (1, "400")]
    assert typed_paper_values('paper = "56M, 2.5M"', values) == [(1, "2.5")]
    assert typed_paper_values('x = f"{p:5.4f} at v3_5.4 and 224"\nT_RANGE = range(1, 11)', values) == []
    assert typed_paper_values("PAPER = paper_data.V2_TABLE4[1.0]", values) == []
    assert typed_paper_values(f"plt.subplots(figsize=(7, 2.4))  {MARKER}", values) == []


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_paper_value_is_typed_in_code(path):
    values = paper_values()
    offenders = [f"cell {i} line {line}: {text}" for i, code in _cells(path, "code")
                 for line, text in typed_paper_values(code, values)]
    assert not offenders, (f"{path.name}: paper values typed in code; read them from mnv3lib.paper_data: "
                           + "; ".join(offenders))


GLUED = re.compile(r"""\bglue\(\s*f?["']([^"']+)["']""")
ROLE = re.compile(r"\{glue(?::\w*)?\}`([^`]+)`")


def missing_glue(codes: list, markdowns: list) -> list:
    """Keys that the prose pastes (`{glue:text}`key:fmt``) and no code cell glues; `glue(f"a_{x}")` glues a_*."""
    glued = set()
    for name in (k for code in codes for k in GLUED.findall(code)):
        glued.add(re.compile(re.sub(r"\\\{[^}]*\\\}", ".+", re.escape(name))) if "{" in name else name)
    used = {m.rsplit(":", 1)[0] if ":" in m else m for md in markdowns for m in ROLE.findall(md)}
    return sorted(k for k in used if k not in glued and not any(
        isinstance(g, re.Pattern) and g.fullmatch(k) for g in glued))


def test_the_glue_check_finds_what_it_must():
    code = ['glue("ch9_a", 1)', 'for n in ("x", "y"):\n    glue(f"ch9_b_{n}", 2)']
    assert missing_glue(code, ["{glue:text}`ch9_a:.1f` and {glue:text}`ch9_b_x`"]) == []
    assert missing_glue(code, ["{glue:text}`ch9_c:,` {glue}`ch9_a`"]) == ["ch9_c"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_glued_number_in_prose_is_glued_by_code(path):
    missing = missing_glue([c for _, c in _cells(path, "code")], [m for _, m in _cells(path, "markdown")])
    assert not missing, f"{path.name}: prose pastes keys no code cell glues: {missing}"
