"""The browser checks can fail: a small site with one good page and one broken page, read by the same code.

test_rendered_book.py passing means little unless each check would catch the fault it names, so each fault is
planted here once and must be reported, and the good page must come out clean.
"""
from __future__ import annotations

import base64

import book_checks as check
import book_site as bs
import pytest

PNG_1x1 = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
MATHJAX = '<script defer src="https://cdn.jsdelivr.net/npm/mathjax@3.2.2/es5/tex-mml-chtml.js"></script>'
HEAD = f"<!doctype html><html><head><meta charset='utf-8'>{MATHJAX}</head>"
GOOD = HEAD + """<body><main>
<h1>Good</h1><p>Learning objectives: read a page.</p><img src="dot.png" alt="">
<h2 id="here">Here</h2><p><span class="math">\\(a^2 + b^2\\)</span> <a href="bad.html">bad</a> <a href="#here">here</a></p>
<div class="cell_output"><div class="output stream">all fine</div></div>
</main></body></html>"""
BAD = HEAD + """<body><main>
<h1>Bad</h1><h2>One</h2><h2>Two</h2><h2>Three</h2><img src="missing.png" alt="">
<img src="https://example.org/tracker.png" alt="">
<a href="nowhere.html">gone</a> <a href="good.html#no-such-id">no anchor</a>
<p><span class="math">\\(x^^2\\)</span></p>
<div class="cell_output"><div class="output stderr">oops</div></div>
<div class="cell_output"><div class="output stream">UserWarning: x is deprecated</div></div>
<div class="cell_output"><div class="output stream"> 40%|████      | 4/10</div></div>
<pre>if "google.colab" in sys.modules: install()</pre>
<script type="application/vnd.jupyter.widget-view+json">{"version_major": 2, "version_minor": 0, "model_id": "abc"}</script>
<script>throw new Error("planted failure")</script>
</main></body></html>"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    reason = bs.browser_unavailable()
    if reason:
        (pytest.fail if bs.under_ci() else pytest.skip)(f"browser check not run: {reason}")
    html = tmp_path_factory.mktemp("site")
    (html / "good.html").write_text(GOOD)
    (html / "bad.html").write_text(BAD)
    (html / "dot.png").write_bytes(PNG_1x1)
    with bs.serve(html) as base:
        read, blocked = bs.read_pages(base, html, timeout_ms=15_000)
    return read["good.html"], read["bad.html"], blocked, html


def test_the_good_page_passes_every_check(pages):
    good, _, _, html = pages
    assert good.facts["math"]["rendered"] == 1  # MathJax ran, from the local CDN mirror
    for problems in (check.js_errors(good), check.failed_requests(good), check.broken_images(good),
                     check.broken_links(good, html), check.math_problems(good), check.output_noise(good),
                     check.widget_problems(good), check.chapter_structure(good)):
        assert problems == []


def test_each_planted_fault_is_reported(pages):
    _, bad, blocked, html = pages
    assert check.js_errors(bad) == ["uncaught: planted failure"]
    assert any("missing.png" in f for f in check.failed_requests(bad))
    assert check.unmirrored_requests(blocked) == ["https://example.org/tracker.png"]
    assert sorted(p.split("/")[-1] for p in check.broken_images(bad)) == ["missing.png", "tracker.png"]
    links = check.broken_links(bad, html)
    assert len(links) == 2 and "no file nowhere.html" in links[0] + links[1] and "no-such-id" in links[0] + links[1]
    assert check.math_problems(bad) == ["TeX error: Missing open brace for superscript"]
    noise = check.output_noise(bad)
    assert [p.split(":")[0] for p in noise] == ["stderr output", "noise in output", "noise in output",
                                                "the Colab bootstrap cell is visible (tag it remove-cell)"]
    assert check.widget_problems(bad)[0].startswith("1 ipywidgets view(s) that nothing draws on the static page")
    assert check.chapter_structure(bad) == ["first figure not near the top (it comes after the 3rd section heading)",
                                            "no learning objectives before the 2nd section heading"]


# ---------------------------------------------------------------- explorers: a live one and a frozen one
def _explorer_page(tmp, frozen: bool) -> str:
    import ipywidgets as w
    from mnv3lib import widgets

    def view(n, on):
        return f"n = {n}, on = {on}"

    ex = widgets.explorer(view, facts=lambda n, on: {"n": n, "on": on}, name="planted",
                          n=w.SelectionSlider(options=[1, 2, 3, 4], value=2, description="n"),
                          on=w.Checkbox(value=False, description="on"))
    html = ex.static_html()
    if frozen:  # every state shows the first view: what a page with saved widget state did
        import json
        import re

        data = re.search(r'<script type="application/json" class="mnv3-data">(.*?)</script>', html).group(1)
        payload = json.loads(data.replace("<\\/", "</"))
        shown = re.search(r'data-state="([0-9,]+)"', html).group(1)
        payload["states"] = {k: payload["states"][shown] for k in payload["states"]}
        html = html.replace(data, json.dumps(payload).replace("</", "<\\/"))
    return HEAD + f"<body><main><h1>E</h1>{html}</main></body></html>"


def test_the_explorer_driver_sees_live_and_frozen_explorers(tmp_path):
    import book_explorers as bx

    if bs.browser_unavailable():
        (pytest.fail if bs.under_ci() else pytest.skip)(f"browser check not run: {bs.browser_unavailable()}")
    (tmp_path / "live.html").write_text(_explorer_page(tmp_path, frozen=False))
    (tmp_path / "frozen.html").write_text(_explorer_page(tmp_path, frozen=True))
    with bs.serve(tmp_path) as base:
        blocked = []
        runs = bx.drive_all(base, ["live.html", "frozen.html"], bs.CHROMIUM, bs.CHROMIUM_FLAGS,
                            bs.offline_route(base.rstrip("/"), blocked))
    live, frozen = runs
    assert live.name == "planted" and live.states == 8
    assert [(m.control, m.value) for m in live.moves] == [("n", 1), ("n", 3), ("n", 4), ("on", True)]
    assert all(m.changed for m in live.moves) and live.keyboard_changed
    assert [m.facts for m in live.moves] == [{"n": 1, "on": False}, {"n": 3, "on": False}, {"n": 4, "on": False},
                                             {"n": 4, "on": True}]
    assert all(m.values == [m.facts["n"], m.facts["on"]] for m in live.moves)
    assert not any(m.changed for m in frozen.moves)
    assert live.layout_problems == [] and not any(m.requests for m in live.moves) and not blocked
