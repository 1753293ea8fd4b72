"""The rendered book, as a reader's browser sees it (issue 8).

One build, `jupyter-book build . -W -n --keep-going` into an empty output folder with every chapter executed, is
served on 127.0.0.1, and headless Chromium (Debian's package, driven by Playwright) opens every page of the built
site. External requests never leave the machine: the pinned CDN files are answered from a local npm copy, and
anything else is aborted and reported (book_site.py). The judgements live in book_checks.py. Without Chromium the
module skips and says why; under CI (CI=true) it fails instead.

Environment knobs, both set by the Pages workflow only:
- BOOK_OUTPUT=DIR builds into DIR/_build/html and keeps it, so the workflow deploys the site that was tested.
- BOOK_EXECUTE_CACHE=DIR: the jupyter-cache folder to use (kept between runs by the workflow) instead of a temporary
  one. Either way tests/test_chapters.py executes every chapter into it and the build reads it
  (`execute_notebooks: cache`), so each chapter executes once per `make test`.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import time
from pathlib import Path

import book_checks as check
import book_explorers as bx
import book_on_device
import book_site as bs
import explorer_facts
import pytest


@pytest.fixture(scope="module")
def site(request, executed_cache):
    reason = bs.browser_unavailable()
    if reason:
        (pytest.fail if bs.under_ci() else pytest.skip)(f"browser check not run: {reason}")
    with tempfile.TemporaryDirectory(prefix="book-test-") as tmp:
        out = Path(os.environ.get("BOOK_OUTPUT") or tmp)
        # the chapters test_chapters.py executed in this run (any it did not are executed by the build itself)
        build = bs.build_book(out, executed_cache)
        pages, blocked, runs, browse_s = {}, [], [], 0.0
        if build.returncode == 0:
            start = time.perf_counter()
            with bs.serve(build.html) as base:
                pages, blocked = bs.read_pages(base, build.html)
                with_explorers = [p for p, page in pages.items() if page.facts["widgets"].get("explorers")]
                runs = bx.drive_all(base, with_explorers, bs.CHROMIUM, bs.CHROMIUM_FLAGS,
                                    bs.offline_route(base.rstrip("/"), blocked))
            browse_s = time.perf_counter() - start
        summary = {"pages": len(pages), "chapters": len(bs.chapter_notebooks()), "execute": "cache",
                   "build_s": round(build.seconds, 1), "browser_s": round(browse_s, 1)}
        capture = request.config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled():  # the measurements, on the terminal whatever the capture mode
            print(f"\nrendered book: {json.dumps(summary)}")
            for run in runs:
                times = sorted(m.response_ms for m in run.moves)
                median = times[len(times) // 2] if times else float("nan")
                print(f"  explorer {run.name} ({run.page}): {run.states} states, {len(run.moves)} moves, "
                      f"median response {median:.1f} ms, "
                      f"page weight {bs.page_weight(build.html, run.page) / 1e6:.2f} MB")
        yield {"build": build, "pages": pages, "blocked": blocked, "explorers": runs}


def _pages(site) -> dict[str, bs.Page]:
    if site["build"].returncode != 0:
        pytest.fail("the book did not build (see test_book_builds_without_warnings)")
    return site["pages"]


def _chapters(site) -> dict[str, bs.Page]:
    pages = _pages(site)
    return {doc: pages[f"{doc}.html"] for doc in bs.chapter_notebooks()}


def _assert_none(problems: dict[str, list[str]]) -> None:
    listed = "\n".join(f"{page}: {p}" for page, ps in problems.items() for p in ps)
    assert not listed, listed


# ---------------------------------------------------------------- the build and the site
def test_book_builds_without_warnings(site):
    build = site["build"]
    log = re.sub(r"\x1b\[[0-9;]*m", "", build.log)
    problems = [line for line in log.splitlines() if re.search(r"WARNING|ERROR|Error|Traceback", line)
                and "Kernel is running over TCP" not in line]  # jupyter_client's notice, not the book's
    reports = [f"--- {r.name}:\n{r.read_text()[-3000:]}" for r in sorted((build.html / "reports").glob("*.log"))]
    assert build.returncode == 0, ("jupyter-book build failed (-W: any warning fails):\n"
                                   + "\n".join((problems[-40:] or log[-4000:].splitlines()) + reports))


def test_every_toc_page_is_built_and_opened(site):
    pages = _pages(site)
    missing = [d for d in bs.toc_docnames() if f"{d}.html" not in pages]
    assert not missing, f"pages in _toc.yml without an HTML page: {missing}"
    root = f"{bs.toc_docnames()[0]}.html"
    assert pages["index.html"].url.endswith(root), f"index.html leads to {pages['index.html'].url}, not {root}"


# ---------------------------------------------------------------- every page
def test_no_javascript_errors(site):
    _assert_none({p: check.js_errors(page) for p, page in _pages(site).items()})


def test_no_request_leaves_the_machine_unmirrored(site):
    _pages(site)
    leaked = check.unmirrored_requests(site["blocked"])
    assert not leaked, ("pages requested external URLs at load that the test does not mirror (pin them to an exact "
                        f"jsdelivr npm version and list the package in tests/cdn_packages.txt): {leaked}")


def test_local_requests_succeed(site):
    _assert_none({p: check.failed_requests(page) for p, page in _pages(site).items()})


def test_every_image_decodes(site):
    _assert_none({p: check.broken_images(page) for p, page in _pages(site).items()})


def test_every_internal_link_resolves(site):
    _assert_none({p: check.broken_links(page, site["build"].html) for p, page in _pages(site).items()})


def test_math_renders(site):
    pages = _pages(site)
    _assert_none({p: check.math_problems(page) for p, page in pages.items()})
    assert any(page.facts["math"]["count"] for page in pages.values()), "no math on any page: is the check live?"


def test_outputs_carry_no_warnings_progress_bars_or_bootstrap_cell(site):
    _assert_none({p: check.output_noise(page) for p, page in _pages(site).items()})


def test_widget_pages_carry_their_state_and_render(site):
    _assert_none({p: check.widget_problems(page) for p, page in _pages(site).items()})


# ---------------------------------------------------------------- chapter pages (built from book/*.ipynb)
def test_chapters_show_title_objectives_and_a_figure_near_the_top(site):
    _assert_none({doc: check.chapter_structure(page) for doc, page in _chapters(site).items()})


def test_chapters_that_build_explorers_show_them(site):
    """An explorable must reach the page in its static form, not get lost between the kernel and the HTML."""
    problems = {}
    for doc, page in _chapters(site).items():
        nb = json.loads(bs.chapter_notebooks()[doc].read_text())
        code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        calls = len(re.findall(r"\bwidgets\.explorer\(|\bcomparer\.for_variants\(", code))
        if page.facts["widgets"]["explorers"] < calls:
            problems[doc] = [f"its code displays {calls} explorers, its page has {page.facts['widgets']['explorers']}"]
    _assert_none(problems)


# ---------------------------------------------------------------- explorers, driven at a phone's width (issue 12)
def _runs(site):
    _pages(site)
    runs = site["explorers"]
    assert runs, "no explorer found on any page: is the driver live?"
    return runs


def test_every_explorer_answers_every_control(site):
    problems = {}
    for run in _runs(site):
        key = f"{run.page} {run.name}"
        issues = [e for e in run.errors if not check._allowed(e, check.ALLOWED_JS_ERRORS)] + list(run.layout_problems)
        for i, control in enumerate(run.controls):
            moved = {m.value for m in run.moves if m.control == control["name"]}
            if len(moved) < min(2, len(control["labels"]) - 1) and control["name"] not in run.disabled:
                issues.append(f"control {control['name']} moved to {len(moved)} values only")
        issues += [f"moving {m.control} to {m.value!r} changed nothing on the page (frozen)" for m in run.moves
                   if not m.changed]
        issues += [f"moving {m.control} fetched {m.requests}" for m in run.moves if m.requests]
        issues += [] if run.keyboard_changed else ["its first control does not answer the keyboard"]
        if issues:
            problems[key] = issues
    _assert_none(problems)


def test_explorers_show_mnv3libs_numbers_for_every_setting(site):
    problems, checked = {}, 0
    for run in _runs(site):
        expect = explorer_facts.EXPECTED.get(run.name)
        if expect is None:
            continue
        names = [c["name"] for c in run.controls]
        for m in run.moves:
            values = dict(zip(names, m.values))
            want = expect(**values)
            wrong = explorer_facts.differences(m.facts or {}, want)
            checked += 1
            if wrong:
                problems.setdefault(f"{run.page} {run.name}", []).append(f"at {values}: {wrong}")
    _assert_none(problems)
    assert checked >= 20, f"only {checked} settings had their numbers checked"


def test_explorers_answer_within_100_ms(site):
    slow = {}
    for run in _runs(site):
        times = sorted(m.response_ms for m in run.moves)
        median = times[len(times) // 2]
        if not median < 100:
            slow[f"{run.page} {run.name}"] = [f"median response {median:.1f} ms over {len(times)} moves"]
    _assert_none(slow)


def test_chapter_pages_weigh_at_most_5_mb(site):
    html = site["build"].html
    _assert_none({doc: [f"{bs.page_weight(html, f'{doc}.html') / 1e6:.2f} MB of its own (HTML and images)"]
                  for doc in _chapters(site) if bs.page_weight(html, f"{doc}.html") > 5_000_000})


def test_launch_links_open_the_chapter_notebook_on_the_configured_branch(site):
    repo = bs.book_config()["repository"]
    _assert_none({doc: check.launch_problems(page, doc, repo["url"], repo["branch"])
                  for doc, page in _chapters(site).items()})


def test_execution_report_lists_every_chapter_as_succeeded(site):
    status = check.execution_status(_pages(site)["book/appendix_execution.html"])
    _assert_none({doc: [f"execution report says {status.get(doc, 'nothing')!r}"]
                  for doc in bs.chapter_notebooks() if status.get(doc) != "✅"})


# ---------------------------------------------------------------- the networks on the reader's device (issue 15)
def test_on_device_panels_run_the_models_the_book_published(site):
    """Chapter 7's panels on the built page: the models its execution published under _static/models load in the page,
    a network's output equals ONNX Runtime's in Python, and a drawn test digit gets Python's class
    (tests/test_on_device.py checks the panels in full on a site of its own)."""
    from playwright.sync_api import sync_playwright

    html = site["build"].html
    pages = [p for p in _pages(site) if 'class="mnv3-ondevice' in (html / p).read_text(errors="replace")]
    assert pages, "no page shows the on-device panels (mnv3lib.on_device): is chapter 7's section there?"
    with bs.serve(html) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=bs.CHROMIUM, args=bs.CHROMIUM_FLAGS, headless=True)
        try:
            problems = {p: book_on_device.check_published(browser, base, p, html / "_static" / "models")
                        for p in pages}
        finally:
            browser.close()

    def theirs(problem: str) -> bool:  # the theme's known messages (book_checks.ALLOWED_JS_ERRORS), not the panels'
        text = problem.removeprefix("JS error: ")
        return problem != text and any(check._allowed(f"{kind}: {text}", check.ALLOWED_JS_ERRORS)
                                       for kind in ("uncaught", "console.error"))

    _assert_none({p: [x for x in found if not theirs(x)] for p, found in problems.items()})
