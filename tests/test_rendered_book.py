"""The rendered book, as a reader's browser sees it (issue 8).

One build, `jupyter-book build . -W -n --keep-going` into an empty output folder with every chapter executed, is
served on 127.0.0.1, and headless Chromium (Debian's package, driven by Playwright) opens every page of the built
site. External requests never leave the machine: the pinned CDN files are answered from a local npm copy, and
anything else is aborted and reported (book_site.py). The judgements live in book_checks.py. Without Chromium the
module skips and says why; under CI (CI=true) it fails instead.

Environment knobs, both set by the Pages workflow only:
- BOOK_OUTPUT=DIR builds into DIR/_build/html and keeps it, so the workflow deploys the site that was tested.
- BOOK_EXECUTE_CACHE=DIR builds with `execute_notebooks: cache` over that jupyter-cache folder instead of
  `force`. nbmake still executes every chapter afresh in the same `make test`.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import time
from pathlib import Path

import book_checks as check
import book_site as bs
import pytest


@pytest.fixture(scope="module")
def site(request):
    reason = bs.browser_unavailable()
    if reason:
        (pytest.fail if bs.under_ci() else pytest.skip)(f"browser check not run: {reason}")
    with tempfile.TemporaryDirectory(prefix="book-test-") as tmp:
        out = Path(os.environ.get("BOOK_OUTPUT") or tmp)
        cache = os.environ.get("BOOK_EXECUTE_CACHE")
        build = bs.build_book(out, Path(cache) if cache else None)
        pages, blocked, browse_s = {}, [], 0.0
        if build.returncode == 0:
            start = time.perf_counter()
            with bs.serve(build.html) as base:
                pages, blocked = bs.read_pages(base, build.html)
            browse_s = time.perf_counter() - start
        summary = {"pages": len(pages), "chapters": len(bs.chapter_notebooks()), "execute": "cache" if cache else "force",
                   "build_s": round(build.seconds, 1), "browser_s": round(browse_s, 1)}
        capture = request.config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled():  # the measurements, on the terminal whatever the capture mode
            print(f"\nrendered book: {json.dumps(summary)}")
        yield {"build": build, "pages": pages, "blocked": blocked}


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


def test_chapters_that_build_widgets_show_them(site):
    """An explorable must reach the page (as embedded state), not get lost between the kernel and the HTML."""
    problems = {}
    for doc, page in _chapters(site).items():
        nb = json.loads(bs.chapter_notebooks()[doc].read_text())
        code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        if re.search(r"ipywidgets|mnv3lib\.widgets|\bwidgets\.explorer\(", code) and not page.facts["widgets"]["views"]:
            problems[doc] = ["its code builds widgets but its page embeds none"]
    _assert_none(problems)


def test_launch_links_open_the_chapter_notebook_on_the_configured_branch(site):
    repo = bs.book_config()["repository"]
    _assert_none({doc: check.launch_problems(page, doc, repo["url"], repo["branch"])
                  for doc, page in _chapters(site).items()})


def test_execution_report_lists_every_chapter_as_succeeded(site):
    status = check.execution_status(_pages(site)["book/appendix_execution.html"])
    _assert_none({doc: [f"execution report says {status.get(doc, 'nothing')!r}"]
                  for doc in bs.chapter_notebooks() if status.get(doc) != "✅"})
