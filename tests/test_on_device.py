"""The networks on the reader's device (issue 15): mnv3lib.on_device's files and both panels, in headless Chromium.

A small static site is built in a temporary folder — a page at book/on_device.html holding the two panels, the files
`export_models` wrote at _static/models/ — served on 127.0.0.1, with onnxruntime-web answered from the local npm copy
(tests/cdn_packages.txt, book_site.offline_route). The page's numbers are compared with ONNX Runtime in Python: the
four networks' outputs on a fixed input, and digits from the test split drawn onto the canvas with the mouse (the
preprocessed input, computed in Python from the canvas pixels the page reports, and the predicted class). Latencies
in the browser are printed beside ONNX Runtime in Python, never asserted. Without Chromium or the mirror the browser
test skips and says why; under CI (CI=true) it fails instead.
"""
from __future__ import annotations

import base64
import hashlib
import json

import book_site as bs
import numpy as np
import pytest
from book_on_device import DRAW, MEASURE, Tab, draw

from mnv3lib import deploy
from mnv3lib import on_device as od
from mnv3lib.data import digits_arrays, preprocess

pytest.importorskip("onnxruntime")
PHONE = {"width": 390, "height": 844}
DRAWN = 3  # test-split digits drawn on the canvas


# ---------------------------------------------------------------- the page's arithmetic, in Python
def test_canvas_to_digit_averages_alpha_over_blocks():
    rgba = np.zeros((160, 160, 4), np.uint8)
    rgba[40:60, 60:80, 3] = 255          # block (2, 3) fully inked
    rgba[0:20, 0:10, 3] = 255            # half of block (0, 0)
    rgba[140:160, 140:160, :3] = 200     # colour without alpha is no ink
    digit = od.canvas_to_digit(rgba)
    expected = np.zeros((8, 8))
    expected[2, 3], expected[0, 0] = 16, 8
    np.testing.assert_allclose(digit, expected)


def test_canvas_to_digit_then_preprocess_reproduces_a_scanned_digit():
    images, _ = digits_arrays("test")
    alpha = np.kron(images[0] / 16 * 255, np.ones((20, 20)))  # each 8×8 cell as a 20×20 block of its ink
    rgba = np.zeros((160, 160, 4), np.uint8)
    rgba[..., 3] = np.round(alpha).astype(np.uint8)
    digit = od.canvas_to_digit(rgba)
    assert np.abs(digit - images[0]).max() <= 16 / 255 / 2 + 1e-9
    assert (preprocess(digit, 32) - preprocess(images[0], 32)).abs().max().item() < 1e-2


def test_canvas_of_the_wrong_shape_is_one_line():
    with pytest.raises(ValueError, match=r"^rgba: got shape \(100, 100, 4\), expected \(H, W, 4\)"):
        od.canvas_to_digit(np.zeros((100, 100, 4), np.uint8))


# ---------------------------------------------------------------- the exported files
@pytest.fixture(scope="module")
def digits_net():
    from mnv3lib.train import digits_model

    return digits_model()  # chapter 6's network, from its cache (trained there once when missing)


@pytest.fixture(scope="module")
def site(tmp_path_factory, digits_net):
    root = tmp_path_factory.mktemp("on-device-site")
    manifest = od.export_models(root / "_static" / "models", model=digits_net)
    return root, manifest


def test_manifest_lists_every_file_with_size_madds_and_latency(site):
    import mnv3lib

    root, manifest = site
    folder = root / "_static" / "models"
    assert json.loads((folder / "manifest.json").read_text()) == manifest
    assert [n["name"] for n in manifest["networks"]] == list(deploy.NETWORKS)
    nets = deploy.networks()
    for n in manifest["networks"]:
        assert (folder / n["file"]).stat().st_size == n["bytes"]
        assert n["bytes"] <= 15e6, f"{n['name']}: {n['bytes'] / 1e6:.1f} MB, expected at most 15 MB"
        assert n["madds"] == mnv3lib.madds(nets[n["name"]], 224)
        assert n["ms"] > 0
    for f in manifest["digits"]["files"].values():
        assert (folder / f["file"]).stat().st_size == f["bytes"] and f["ms"] > 0
    assert manifest["onnxruntime_web"] == od.ORT_WEB_VERSION


def test_files_a_chapter_already_exported_are_reused(site, tmp_path):
    root, manifest = site
    folder = root / "_static" / "models"
    networks = {n["name"]: folder / n["file"] for n in manifest["networks"]}
    digits = {k: folder / f["file"] for k, f in manifest["digits"]["files"].items()}
    again = od.export_models(tmp_path, networks=networks, digits=digits)
    assert [(n["file"], n["bytes"], n["madds"]) for n in again["networks"]] == \
        [(n["file"], n["bytes"], n["madds"]) for n in manifest["networks"]]
    assert {k: f["bytes"] for k, f in again["digits"]["files"].items()} == \
        {k: f["bytes"] for k, f in manifest["digits"]["files"].items()}
    with pytest.raises(ValueError, match=r"^networks: got \['V1'\], expected a file for each of"):
        od.export_models(tmp_path, networks={"V1": networks["V1"]}, digits=digits)


def test_fp16_storage_runs_the_fp32_graph(site, tmp_path):
    """Weights stored as float16 are cast back when ONNX Runtime loads the file: the graph it runs (and times) is the
    plain fp32 export's, and its outputs differ only by the weights' rounding."""
    root, _ = site
    small = deploy.networks()["V3-Small"]
    plain = deploy.export_onnx(small, tmp_path / "plain.onnx", 224)
    stored = root / "_static" / "models" / od.FILES["V3-Small"]
    assert deploy.runtime_ops(stored) == deploy.runtime_ops(plain)
    x = np.random.default_rng(1).standard_normal((1, 3, 224, 224), dtype=np.float32)
    a, b = deploy.run_onnx(plain, x), deploy.run_onnx(stored, x)
    assert np.abs(a - b).max() <= 2e-2 * np.abs(a).max()
    assert stored.stat().st_size < 0.55 * plain.stat().st_size


def test_the_pinned_onnxruntime_web_file_has_the_pinned_hash():
    local = bs.mirrored_file(od.ORT_WEB_URL)
    if local is None:
        (pytest.fail if bs.under_ci() else pytest.skip)(f"{od.ORT_WEB_URL} is not in the CDN mirror (`make test`)")
    digest = base64.b64encode(hashlib.sha384(local.read_bytes()).digest()).decode()
    assert od.ORT_WEB_INTEGRITY == f"sha384-{digest}"
    assert (local.parent / "ort-wasm-simd-threaded.wasm").is_file() and od.ORT_WEB_URL.startswith(bs.CDN_PREFIX)


def test_canvas_size_must_make_8x8_blocks(site):
    with pytest.raises(ValueError, match=r"^canvas: got 100, expected a multiple of 8"):
        od.draw_panel(site[1], canvas=100)


# ---------------------------------------------------------------- in the browser
def _page(body: str) -> str:
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            'content="width=device-width, initial-scale=1"><title>on this device</title></head>'
            f'<body style="margin:0 8px;font-family:sans-serif">{body}</body></html>')


@pytest.fixture(scope="module")
def browser_site(site):
    reason = bs.browser_unavailable() or (None if bs.mirrored_file(od.ORT_WEB_URL) else
                                          f"onnxruntime-web@{od.ORT_WEB_VERSION} is not in the CDN mirror "
                                          f"{bs.CDN_MIRROR} (`make test` fills it)")
    if reason:
        (pytest.fail if bs.under_ci() else pytest.skip)(f"browser check not run: {reason}")
    root, manifest = site
    book = root / "book"
    book.mkdir(exist_ok=True)
    measure = od.measure_panel(manifest, repeats=7, warmup=2)._repr_html_()
    (book / "on_device.html").write_text(_page(measure + od.draw_panel(manifest)._repr_html_()))
    broken = od.measure_panel(manifest, base="../_static/nowhere/")._repr_html_()
    (book / "missing.html").write_text(_page(broken + od.draw_panel(manifest, base="../_static/nowhere/")._repr_html_()))
    return root, manifest


@pytest.fixture(scope="module")
def chromium(browser_site):
    from playwright.sync_api import sync_playwright

    root, manifest = browser_site
    with bs.serve(root) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=bs.CHROMIUM, args=bs.CHROMIUM_FLAGS, headless=True)
        try:
            yield browser, base, root, manifest
        finally:
            browser.close()


def test_panels_in_chromium(chromium, capsys):
    browser, base, root, manifest = chromium
    folder = root / "_static" / "models"
    tab = Tab(browser, base, "book/on_device.html")
    report = {}
    try:
        page = tab.page
        assert not [u for u in tab.requests if u.endswith(".onnx") or "onnxruntime-web" in u], \
            "nothing heavy loads before the reader asks"
        assert "Mozilla" in page.inner_text(f"{MEASURE} .mnv3-ua")

        # 1. each network in the page = ONNX Runtime in Python, on a fixed input
        x = np.random.default_rng(7).standard_normal((1, 3, 224, 224), dtype=np.float32)
        for n in manifest["networks"]:
            web = np.array(page.eval_on_selector(MEASURE, "(r, x) => r.mnv3Run(x[0], Float32Array.from(x[1]))",
                                                 [n["name"], x.ravel().tolist()]), np.float32)
            py = deploy.run_onnx(folder / n["file"], x)[0]
            diff, scale = float(np.abs(web - py).max()), float(np.abs(py).max())
            report[n["name"]] = {"max_abs_diff": diff, "logit_scale": scale, "relative": diff / scale}
            # untrained logits are small: the difference is checked against their scale too
            assert diff <= 1e-3 and diff <= 1e-3 * scale, (n["name"], report[n["name"]])

        # 2. a digit drawn with the mouse: same input and same class as Python on the canvas pixels the page reports
        images, labels = digits_arrays("test")
        drawn = []
        for i in range(DRAWN):
            page.click(f"{DRAW} .mnv3-clear")
            draw(page, images[i])
            for variant in ("fp32", "int8"):
                page.select_option(f"{DRAW} .mnv3-variant", variant)
                result = page.eval_on_selector(DRAW, "r => r.mnv3Classify()")
                assert result and "logits" in result, tab.status(DRAW)
                rgba = np.array(page.eval_on_selector(DRAW, "r => r.mnv3Pixels()"), np.uint8).reshape(160, 160, 4)
                expected = preprocess(od.canvas_to_digit(rgba), manifest["digits"]["size"]).numpy()
                web_input = np.array(page.eval_on_selector(DRAW, "r => r.mnv3Preprocessed()"), np.float32)
                input_diff = float(np.abs(web_input - expected.ravel()).max())
                py = deploy.run_onnx(folder / manifest["digits"]["files"][variant]["file"], expected)[0]
                web_class, py_class = int(result["top"][0][0]), int(py.argmax())
                drawn.append({"index": i, "label": int(labels[i]), "variant": variant, "input_diff": input_diff,
                              "logit_diff": float(np.abs(np.array(result["logits"]) - py).max()),
                              "page": web_class, "python": py_class})
                assert input_diff <= 1e-3 and web_class == py_class, drawn[-1]
                assert tab.status(DRAW).startswith(f"The {variant} network reads {web_class}")
                assert page.eval_on_selector_all(f"{DRAW} .mnv3-top3 li", "l => l.length") == 3
            assert max(d["logit_diff"] for d in drawn if d["variant"] == "fp32") <= 1e-3

        # 3. an empty canvas: one line, no prediction
        page.click(f"{DRAW} .mnv3-clear")
        assert page.eval_on_selector(DRAW, "r => r.mnv3Classify()") is None
        assert tab.status(DRAW) == "The canvas is empty: draw a digit (0–9) in the box."
        assert page.eval_on_selector_all(f"{DRAW} .mnv3-top3 li", "l => l.length") == 0

        # 4. the reader presses the button: latencies on this device, beside the build machine's
        here = tab.measure()
        assert set(here) == {n["name"] for n in manifest["networks"]}, tab.status(MEASURE)
        assert tab.status(MEASURE).startswith("Done:")
        assert page.eval_on_selector_all(f"{MEASURE} svg circle", "c => c.length") >= len(here)
        assert not tab.errors and not tab.console and not tab.blocked, (tab.errors, tab.console, tab.blocked)
    finally:
        tab.close()
    # ONNX Runtime in Python again, right after the browser's runs: the machine is shared, and its load drifts
    x224 = np.random.default_rng(0).standard_normal((1, 3, 224, 224), dtype=np.float32)
    now = od._python_latency({n["name"]: folder / n["file"] for n in manifest["networks"]},
                             {n["name"]: x224 for n in manifest["networks"]})

    with capsys.disabled():
        machine = manifest["build_machine"]
        print(f"\non this device (headless Chromium, onnxruntime-web {od.ORT_WEB_VERSION}, WebAssembly, 1 thread) "
              f"beside {machine['runtime']} on the same machine:")
        for n in manifest["networks"]:
            print(f"  {n['name']:<9} {n['bytes'] / 1e6:5.1f} MB  {n['madds'] / 1e6:5.0f} M MAdds  "
                  f"browser {here[n['name']]:7.1f} ms   Python {now[n['name']]:6.1f} ms (at export {n['ms']:.1f})  "
                  f"max |diff| {report[n['name']]['max_abs_diff']:.1e} (logits up to {report[n['name']]['logit_scale']:.2g})")
        for k, f in manifest["digits"]["files"].items():
            print(f"  digits {k}: {f['bytes'] / 1e3:.0f} kB, Python {f['ms']:.2f} ms")
        for d in drawn:
            print(f"  drawn test digit {d['index']} (label {d['label']}), {d['variant']}: page {d['page']}, "
                  f"Python {d['python']}; input diff {d['input_diff']:.1e}, logits diff {d['logit_diff']:.1e}")


def _fits(page, panel, width) -> list[str]:
    return page.eval_on_selector(panel, """(root, width) => {
      const bad = [];
      for (const el of [root, ...root.querySelectorAll('button, select, canvas, svg, table, progress, p, ol')]) {
        const r = el.getBoundingClientRect();
        if (r.width && (r.left < -1 || r.right > width + 1)) bad.push(`${el.tagName.toLowerCase()}.${el.className.baseVal ?? el.className} spans ${Math.round(r.left)}..${Math.round(r.right)} px`);
      }
      if (root.scrollWidth > root.clientWidth + 1) bad.push(`the panel scrolls sideways (${root.scrollWidth} px in ${root.clientWidth})`);
      return bad;
    }""", width)


def test_panels_fit_a_phone(chromium):
    browser, base, _, manifest = chromium
    tab = Tab(browser, base, "book/on_device.html", viewport=PHONE)
    try:
        page = tab.page
        here = tab.measure()  # the plot with both series drawn, and the table filled
        assert set(here) == {n["name"] for n in manifest["networks"]}
        draw(page, digits_arrays("test")[0][0])
        page.eval_on_selector(DRAW, "r => r.mnv3Classify()")
        for panel in (MEASURE, DRAW):
            assert _fits(page, panel, PHONE["width"]) == [], panel
        assert not tab.errors and not tab.console, (tab.errors, tab.console)
    finally:
        tab.close()


def test_failures_are_one_line_in_the_page(chromium):
    browser, base, _, _ = chromium
    tab = Tab(browser, base, "book/missing.html")
    try:
        tab.measure()
        status = tab.status(MEASURE)
        assert status.startswith("Could not run V1: mobilenet_v1.onnx is not on this site (HTTP 404)"), status
        assert "\n" not in status
        assert set(tab.page.eval_on_selector_all(f"{MEASURE} .mnv3-here", "c => c.map(x => x.textContent)")) == {"failed"}
        draw(tab.page, digits_arrays("test")[0][0])
        assert tab.page.eval_on_selector(DRAW, "r => r.mnv3Classify()")["digit"]
        status = tab.status(DRAW)
        assert status == "The digits network cannot run here: digits.onnx is not on this site (HTTP 404).", status
        assert not tab.errors and not tab.console, (tab.errors, tab.console)
    finally:
        tab.close()

    tab = Tab(browser, base, "book/on_device.html", init_script="delete window.WebAssembly")
    try:
        tab.measure()
        assert tab.status(MEASURE) == ("Cannot measure here: this browser cannot run WebAssembly, so the networks "
                                       "cannot run here.")
        assert not tab.errors and not tab.console, (tab.errors, tab.console)
        assert not [u for u in tab.requests if u.endswith(".onnx")]
    finally:
        tab.close()
