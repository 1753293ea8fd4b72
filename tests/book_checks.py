"""What a rendered page must satisfy: one function per check, each returning the page's problems (empty = fine).

Used by test_rendered_book.py on the real book and by test_book_checks.py on a small broken site, which proves that
every check can fail. The allowlists below are the only exceptions, each with its reason.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from book_site import Page, broken_link

ALLOWED_JS_ERRORS = [
    # sphinx-thebe 0.3.1 emits `const THEBE_JS_URL = ...` twice per page (once per setup step). Harmless: thebe only
    # starts when a reader clicks "Live code", and the book does not enable it. Not ours to fix.
    re.compile(r"^uncaught: Identifier 'THEBE_JS_URL' has already been declared$"),
    # pydata-sphinx-theme 0.17 logs this on a reader's first visit (no colour mode stored yet), then falls back to
    # "auto" as intended: a console.error, no failure.
    re.compile(r"^console\.error: Got invalid theme mode: \. Resetting to auto\.$"),
]
# External URLs a page may request at load without failing; everything else must come from the CDN mirror.
ALLOWED_EXTERNAL: list[re.Pattern] = []
# Same-origin requests that may fail: none.
ALLOWED_LOCAL_FAILURES: list[re.Pattern] = []
# What a reader should never see in an output cell: warnings, tracebacks, tqdm-style progress bars, carriage returns.
NOISE = re.compile(r"Warning\b|warnings\.warn|Traceback \(most recent call last\)|\d+%\|[^|\n]*\||\r")


def _allowed(text: str, patterns: list[re.Pattern]) -> bool:
    return any(p.search(text) for p in patterns)


def js_errors(page: Page) -> list[str]:
    return [e for e in page.js_errors if not _allowed(e, ALLOWED_JS_ERRORS)]


def failed_requests(page: Page) -> list[str]:
    return [f for f in page.failed_local if not _allowed(f, ALLOWED_LOCAL_FAILURES)]


def unmirrored_requests(blocked: list[str]) -> list[str]:
    return sorted({u for u in blocked if not _allowed(u, ALLOWED_EXTERNAL)})


def broken_images(page: Page) -> list[str]:
    return [f"image not decoded: {i['src']}" for i in page.facts["images"] if not i["ok"]]


def broken_links(page: Page, html: Path) -> list[str]:
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    local = sorted({h for h in page.facts["links"] if h.startswith(origin + "/")})
    return [why for h in local if (why := broken_link(h, origin, html))]


def math_problems(page: Page) -> list[str]:
    m = page.facts["math"]
    problems = [f"{m['count'] - m['rendered']} of {m['count']} math elements not typeset (MathJax {m['script']})"
                ] if m["rendered"] < m["count"] else []
    return problems + [f"TeX error: {e}" for e in m["errors"]]


def output_noise(page: Page) -> list[str]:
    problems = [f"stderr output: {s['text'][:120]!r}" for s in page.facts["streams"] if "stderr" in s["classes"]]
    problems += [f"noise in output: {s['text'][:120]!r}" for s in page.facts["streams"] if NOISE.search(s["text"])]
    if page.facts["colabBootstrapVisible"]:
        problems.append("the Colab bootstrap cell is visible (tag it remove-cell)")
    return problems


def widget_problems(page: Page) -> list[str]:
    """The book loads no widget manager (explorers are static HTML + script), so a widget view on a page would show
    nothing: a frozen or missing explorable."""
    views = page.facts["widgets"]["views"]
    return [f"{len(views)} ipywidgets view(s) that nothing draws on the static page: display an mnv3lib.widgets "
            "explorer (it carries a static form) instead"] if views else []


def chapter_structure(page: Page) -> list[str]:
    """A chapter opens with its title, names its learning objectives, and shows a first figure near the top."""
    s = page.facts["structure"]
    problems = [] if len(s["h1"]) == 1 and s["h1"][0] else [f"expected one title (h1), found {s['h1']}"]
    problems += [] if s["articleImages"] else ["no figure (img) in the page body"]
    if s["articleImages"] and not s["figureBeforeThirdH2"]:
        problems.append("first figure not near the top (it comes after the 3rd section heading)")
    problems += [] if s["objectivesBeforeSecondH2"] else ["no learning objectives before the 2nd section heading"]
    return problems


def launch_problems(page: Page, docname: str, repo_url: str, branch: str) -> list[str]:
    """Binder (JupyterLab) and Colab open this chapter's notebook on the configured repository and branch."""
    slug = urlsplit(repo_url).path.strip("/")
    expected = {f"https://mybinder.org/v2/gh/{slug}/{branch}?urlpath=lab/tree/{docname}.ipynb",
                f"https://colab.research.google.com/github/{slug}/blob/{branch}/{docname}.ipynb"}
    missing = expected - set(page.facts["launch"])
    return [f"missing launch links {sorted(missing)}; found {page.facts['launch']}"] if missing else []


def execution_status(page: Page) -> dict[str, str]:
    """The execution report's Status column (✅ / ❌) by document, read from the rendered {nb-exec-table}."""
    rows = [r for table in page.facts["tables"] for r in table if r and r[0] != "Document"]
    return {r[0]: r[-1] for r in rows if len(r) == 5}


# A CDN script the site may load: an exact npm version on jsdelivr (which serves npm files byte for byte), so that its
# integrity hash can hold. "mathjax@3", "@latest", a range, or another host cannot be pinned by a hash.
PINNED_CDN_URL = re.compile(r"^https://cdn\.jsdelivr\.net/npm/(@[a-z0-9][\w.-]*/)?[a-z0-9][\w.-]*"
                            r"@\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?/[^?#]+$")
INTEGRITY = re.compile(r"^(sha256|sha384|sha512)-[A-Za-z0-9+/]{43,}={0,2}$")


def cdn_script_problem(src: str, integrity: str | None) -> str | None:
    """Why a script loaded from `src` is not pinned (None: a local script, or an exact-version CDN file with a hash)."""
    if not re.match(r"^(https?:)?//", src.strip()):
        return None  # same-origin: part of the published site itself
    if not PINNED_CDN_URL.match(src.strip()):
        return f"{src}: not an exact-version npm file on cdn.jsdelivr.net"
    if not integrity or not all(INTEGRITY.match(h) for h in integrity.split()):
        return f"{src}: no integrity hash (sha256/384/512) — got {integrity!r}"
    return None


class _Scripts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.found.append((a["src"], a.get("integrity")))


def unpinned_cdn_scripts(html_text: str) -> list[str]:
    """Every `<script src=...>` of a page from another origin that lacks an exact version or an integrity hash."""
    parser = _Scripts()
    parser.feed(html_text)
    return [why for src, integrity in parser.found if (why := cdn_script_problem(src, integrity))]
