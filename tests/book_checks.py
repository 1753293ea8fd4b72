"""What a rendered page must satisfy: one function per check, each returning the page's problems (empty = fine).

Used by test_rendered_book.py on the real book and by test_book_checks.py on a small broken site, which proves that
every check can fail. The allowlists below are the only exceptions, each with its reason.
"""
from __future__ import annotations

import re
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
