"""Drive the "on this device" panels (mnv3lib.on_device) in headless Chromium: used by tests/test_on_device.py on a
small site of its own, and by tests/test_rendered_book.py on the built book's pages with the models the chapter
published."""
from __future__ import annotations

import json
from pathlib import Path

import book_site as bs
import numpy as np

MEASURE, DRAW = ".mnv3-measure", ".mnv3-draw"


class Tab:
    """One page in its own browser context, recording uncaught errors, console errors and requests."""

    def __init__(self, browser, base, path, viewport=None, init_script=None):
        self.errors, self.console, self.requests, self.blocked = [], [], [], []
        self.context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900})
        self.context.route("**/*", bs.offline_route(base.rstrip("/"), self.blocked))
        if init_script:
            self.context.add_init_script(init_script)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: m.type == "error" and not m.text.startswith("Failed to load resource")
                     and self.console.append(m.text))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(base + path, wait_until="load")

    def status(self, panel):
        return self.page.inner_text(f"{panel} .mnv3-status")

    def measure(self, timeout=150_000):
        done = self.page.eval_on_selector(MEASURE, "r => r.dataset.done || '0'")
        self.page.click(f"{MEASURE} .mnv3-go")
        self.page.wait_for_function(f"(document.querySelector('{MEASURE}').dataset.done || '0') !== '{done}'",
                                    timeout=timeout)
        return json.loads(self.page.eval_on_selector(MEASURE, "r => r.dataset.results"))

    def close(self):
        self.context.close()


def draw(page, digit: np.ndarray) -> None:
    """One short mouse stroke across the middle of every 8×8 cell whose ink is at least half (8 of 16)."""
    page.locator(f"{DRAW} .mnv3-pad").scroll_into_view_if_needed()  # on a long page the pad starts off-screen
    box = page.eval_on_selector(f"{DRAW} .mnv3-pad", "c => { const r = c.getBoundingClientRect(); "
                                "return [r.left, r.top, r.width]; }")
    cell = box[2] / 8
    for r, c in zip(*np.nonzero(digit >= 8)):
        x, y = box[0] + (c + 0.5) * cell, box[1] + (r + 0.5) * cell
        page.mouse.move(x - cell / 4, y)
        page.mouse.down()
        page.mouse.move(x + cell / 4, y, steps=2)
        page.mouse.up()



def check_published(browser, base: str, path: str, models: Path) -> list[str]:
    """What is wrong with the panels on a built page: the published manifest and models missing, a network's output in
    the page differing from ONNX Runtime in Python, a drawn test digit classified differently, or a JS error."""
    from mnv3lib import deploy, on_device
    from mnv3lib.data import digits_arrays, preprocess

    if not (models / "manifest.json").is_file():
        return [f"no {models.name}/manifest.json in the built site: the chapter's export_models did not publish"]
    manifest = json.loads((models / "manifest.json").read_text())
    problems = [f"{f} is not published" for f in [n["file"] for n in manifest["networks"]]
                + [f["file"] for f in manifest["digits"]["files"].values()] if not (models / f).is_file()]
    if problems:
        return problems
    tab = Tab(browser, base, path)
    try:
        page = tab.page
        if page.query_selector(MEASURE) is None or page.query_selector(DRAW) is None:
            return ["the page lacks one of the two panels"]
        small = next(n for n in manifest["networks"] if n["name"] == "V3-Small")
        x = np.random.default_rng(7).standard_normal((1, 3, 224, 224), dtype=np.float32)
        web = np.array(page.eval_on_selector(MEASURE, "(r, x) => r.mnv3Run(x[0], Float32Array.from(x[1]))",
                                             ["V3-Small", x.ravel().tolist()]), np.float32)
        diff = float(np.abs(web - deploy.run_onnx(models / small["file"], x)[0]).max())
        if diff > 1e-3:
            problems.append(f"V3-Small in the page differs from ONNX Runtime in Python by {diff:.1e}")
        draw(page, digits_arrays("test")[0][0])
        result = page.eval_on_selector(DRAW, "r => r.mnv3Classify()")
        if not result or "top" not in result:
            problems.append(f"a drawn digit was not classified: {tab.status(DRAW)!r}")
        else:
            size = page.eval_on_selector(f"{DRAW} .mnv3-pad", "c => c.width")
            rgba = np.array(page.eval_on_selector(DRAW, "r => r.mnv3Pixels()"), np.uint8).reshape(size, size, 4)
            x = preprocess(on_device.canvas_to_digit(rgba), manifest["digits"]["size"]).numpy()
            py = int(deploy.run_onnx(models / manifest["digits"]["files"]["fp32"]["file"], x)[0].argmax())
            if int(result["top"][0][0]) != py:
                problems.append(f"a drawn digit: the page reads {result['top'][0][0]}, Python {py}")
        problems += [f"JS error: {e}" for e in tab.errors + tab.console]
        return problems
    finally:
        tab.close()
