"""Build the book, serve it on localhost and read every page in headless Chromium (used by test_rendered_book.py).

The pages load one script from cdn.jsdelivr.net (MathJax), pinned to an exact npm version in _config.yml. The
browser never reaches the network: requests for those pinned npm files
are answered from a local copy of the same npm packages (`make test` fills `.venv/cdn/` with `npm pack`), every
other external request is aborted and reported. So math and widgets really render in the test, identically here,
offline, and on a CI runner that has the network. Explorers are static HTML + script (mnv3lib.widgets): no widget
manager is loaded.
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[1]
CDN_MIRROR = ROOT / ".venv" / "cdn"  # <npm name>@<version>/<file>, filled by `make test` (Makefile)
CDN_PREFIX = "https://cdn.jsdelivr.net/npm/"
CHROMIUM = "/usr/bin/chromium"  # Debian's package; Playwright drives it (`playwright install` cannot download here)
CHROMIUM_FLAGS = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def book_config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def toc_docnames() -> list[str]:
    """Every page the table of contents lists, in reading order (e.g. 'book/intro')."""
    from sphinx_external_toc.parsing import parse_toc_yaml

    site = parse_toc_yaml(ROOT / "_toc.yml")
    order, todo = [], [site.root]
    while todo:
        doc = todo.pop(0)
        order.append(doc.docname)
        todo = [site[ref] for tree in doc.subtrees for ref in tree.files()] + todo
    return order


def chapter_notebooks() -> dict[str, Path]:
    """Chapters are the pages built from notebooks: docname -> book/<name>.ipynb."""
    return {d: ROOT / f"{d}.ipynb" for d in toc_docnames() if (ROOT / f"{d}.ipynb").exists()}


# ---------------------------------------------------------------- building
@dataclass
class Build:
    html: Path
    seconds: float
    returncode: int
    log: str


def build_book(out: Path, cache: Path | None = None) -> Build:
    """`jupyter-book build . -W -n --keep-going` into out/_build/html, from an empty output folder.

    With `cache`, the build uses the configuration of _config.yml with `execute_notebooks: cache` and that
    jupyter-cache folder (the Pages workflow restores it keyed on mnv3lib and the requirements); otherwise every
    notebook executes, as _config.yml says (`force`).
    """
    shutil.rmtree(out / "_build" / "html", ignore_errors=True)
    shutil.rmtree(out / "_build" / ".doctrees", ignore_errors=True)
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT), "-W", "-n", "--keep-going",
           "--path-output", str(out)]
    if cache is not None:
        config = book_config()
        config["execute"].update(execute_notebooks="cache", cache=str(cache.resolve()))
        derived = out / "_build" / "_config.cache.yml"
        derived.parent.mkdir(parents=True, exist_ok=True)
        derived.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
        cmd += ["--config", str(derived)]
    start = time.perf_counter()
    run = subprocess.run(cmd, check=False, cwd=ROOT, capture_output=True, text=True)
    return Build(out / "_build" / "html", time.perf_counter() - start, run.returncode, run.stdout + run.stderr)


def page_weight(html: Path, page: str) -> int:
    """Bytes of a page's own: its HTML and the local images it shows (the shared theme and CDN scripts aside)."""
    file = html / page
    text = file.read_text(errors="replace")
    images = {(file.parent / unquote(src)).resolve() for src in re.findall(r'<img[^>]+src="([^"]+)"', text)
              if not src.startswith(("data:", "http:", "https:"))}
    return file.stat().st_size + sum(i.stat().st_size for i in images if i.is_file())


def site_pages(html: Path) -> list[str]:
    """Every HTML page of the built site, as paths relative to its root (theme assets excluded)."""
    return sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html")
                  if not p.relative_to(html).parts[0].startswith("_"))


# ---------------------------------------------------------------- serving
@contextlib.contextmanager
def serve(html: Path):
    """Serve `html` on 127.0.0.1 (a free port) from a thread; yields the base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads, block_on_close = True, False  # Chromium's idle preconnected sockets must not block close

    server = Server(("127.0.0.1", 0), functools.partial(Quiet, directory=str(html)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def mirrored_file(url: str) -> Path | None:
    """The local copy of a pinned jsdelivr npm file (`.../npm/<name>@<version>/<path>`), if the mirror holds it."""
    if not url.startswith(CDN_PREFIX):
        return None
    spec_path = unquote(urlsplit(url).path)[len("/npm/"):]
    match = re.match(r"((?:@[^/]+/)?[^/@]+@[0-9][^/]*)/(.+)", spec_path)
    if not match:  # a version range ("mathjax@3") is not pinned: do not guess what the CDN would serve
        return None
    path = (CDN_MIRROR / match[1] / match[2]).resolve()
    return path if path.is_file() and CDN_MIRROR.resolve() in path.parents else None


def browser_unavailable() -> str | None:
    """Why the browser check cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is missing (it is in requirements.txt: run `make test`)"
    if not os.access(CHROMIUM, os.X_OK):
        return (f"no Chromium at {CHROMIUM}: install Debian's package (`apt-get install chromium`); "
                "`make test` does it when run as root or under CI")
    if not (CDN_MIRROR / ".complete").exists():
        return f"no CDN mirror at {CDN_MIRROR} (`make test` fills it with npm pack; needs npm)"
    return None


# ---------------------------------------------------------------- reading pages
@dataclass
class Page:
    path: str
    url: str = ""
    js_errors: list[str] = field(default_factory=list)
    failed_local: list[str] = field(default_factory=list)  # same-origin requests that failed or returned >= 400
    facts: dict = field(default_factory=dict)  # what PAGE_FACTS_JS returned


EMPTY_FACTS = {"images": [], "links": [], "launch": [], "tables": [], "streams": [], "colabBootstrapVisible": False,
               "math": {"script": "absent", "count": 0, "rendered": 0, "errors": []},
               "widgets": {"views": [], "explorers": 0},
               "structure": {"h1": [], "h2Count": 0, "articleImages": 0, "figureBeforeThirdH2": False,
                             "objectivesBeforeSecondH2": False}}
# Runs in the page once it has loaded: waits for images and MathJax, then reports.
PAGE_FACTS_JS = (Path(__file__).with_name("page_facts.js")).read_text()


MIRROR_TYPES = {".mjs": "text/javascript", ".wasm": "application/wasm"}


def offline_route(origin: str, blocked: list[str]):
    """A Playwright route handler: the site's own files pass, pinned CDN files come from the local mirror, anything
    else is aborted and its URL appended to `blocked`."""

    def route(r):
        url = r.request.url
        if url.startswith(origin + "/"):
            return r.continue_()
        local = mirrored_file(url)
        if local is not None:
            # crossorigin="anonymous" scripts with integrity need CORS, as jsdelivr sends it; Playwright guesses the
            # type from the extension, except for ES modules and WebAssembly, which need theirs (as jsdelivr sends)
            kind = MIRROR_TYPES.get(local.suffix)
            return r.fulfill(path=str(local), headers={"Access-Control-Allow-Origin": "*"},
                             **({"content_type": kind} if kind else {}))
        blocked.append(url)
        return r.abort("blockedbyclient")

    return route


def read_pages(base_url: str, html: Path, timeout_ms: int = 30_000) -> tuple[dict[str, Page], list[str]]:
    """Open every page of the site in one headless Chromium; returns the pages' reports and the blocked external
    URLs."""
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []
    origin = base_url.rstrip("/")
    route = offline_route(origin, blocked)

    pages = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.route("**/*", route)
        try:
            for path in site_pages(html):
                redirects = re.search(r'<meta http-equiv="refresh"', (html / path).read_text()[:4000], re.IGNORECASE)
                pages[path] = _read_page(context, base_url + path, path, origin, timeout_ms, bool(redirects))
        finally:
            context.close()
            browser.close()
    return pages, blocked


def _read_page(context, url: str, path: str, origin: str, timeout_ms: int, redirects: bool) -> Page:
    page_report = Page(path=path, url=url)
    tab = context.new_page()
    tab.on("pageerror", lambda exc: page_report.js_errors.append(f"uncaught: {exc}"))
    tab.on("console", lambda msg: msg.type == "error" and not msg.text.startswith("Failed to load resource")
           and page_report.js_errors.append(f"console.error: {msg.text}"))
    tab.on("requestfailed", lambda req: req.url.startswith(origin)
           and page_report.failed_local.append(f"{req.url} ({req.failure})"))
    tab.on("response", lambda resp: resp.url.startswith(origin) and resp.status >= 400
           and page_report.failed_local.append(f"{resp.url} (HTTP {resp.status})"))
    try:
        tab.goto(url, wait_until="load", timeout=timeout_ms)
        if redirects:  # index.html sends the reader to the root page
            tab.wait_for_url(lambda u: u != url, wait_until="load", timeout=timeout_ms)
        page_report.url = tab.url
        page_report.facts = tab.evaluate(PAGE_FACTS_JS, timeout_ms)
    except Exception as exc:  # noqa: BLE001 - one bad page must not hide the others' reports
        page_report.js_errors.append(f"could not read the page: {str(exc).splitlines()[0]}")
        page_report.facts = EMPTY_FACTS
    finally:
        tab.close()
    return page_report


# ---------------------------------------------------------------- links
class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value)


@functools.cache
def anchors(file: Path) -> frozenset[str]:
    parser = _Anchors()
    parser.feed(file.read_text(errors="replace"))
    return frozenset(parser.ids)


def broken_link(href: str, origin: str, html: Path) -> str | None:
    """Why a same-origin link does not resolve inside the built site, or None."""
    parts = urlsplit(href)
    target = html / unquote(parts.path).lstrip("/")
    if target.is_dir():
        target = target / "index.html"
    if not target.is_file():
        return f"{href}: no file {target.relative_to(html)}"
    if parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in anchors(target):
        return f"{href}: no element with id '{unquote(parts.fragment)}' in {target.relative_to(html)}"
    return None
