"""Supply chain: the publishing workflow passes zizmor's audit, and every script the pages load from a CDN is pinned.

zizmor (pinned in requirements.txt) audits .github/workflows/ offline: actions pinned to commit SHAs, no persisted
checkout credentials, minimal permissions. The CDN check is static: it reads _config.yml, the book's sources and
mnv3lib's source for scripts from another origin; tests/test_rendered_book.py can apply the same judgement
(`book_checks.unpinned_cdn_scripts`) to the built pages.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from book_checks import cdn_script_problem, unpinned_cdn_scripts

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"


def zizmor_findings(target: Path) -> list[str]:
    """zizmor's findings over `target` (a workflows folder or one workflow file), offline, one line each:
    audit, severity, place, what is wrong."""
    exe = shutil.which("zizmor", path=str(Path(sys.executable).parent)) or shutil.which("zizmor")
    assert exe, "zizmor is not installed next to this Python: it is pinned in requirements.txt (make test installs it)"
    p = subprocess.run([exe, "--offline", "--format", "json", str(target)], capture_output=True, text=True, timeout=120)
    errors = [line for line in p.stderr.splitlines() if line.startswith(("error", "fatal"))]
    assert p.stdout.strip().startswith("["), f"zizmor exited {p.returncode} without a report: {errors}"
    lines = []
    for f in json.loads(p.stdout):
        loc = f["locations"][0]
        path = Path(loc["symbolic"]["key"]["Local"]["verbatim_path"]).name
        row = loc["concrete"]["location"]["start_point"]["row"] + 1
        code = loc["concrete"]["feature"].strip().splitlines()[0]
        lines.append(f"{f['ident']} ({f['determinations']['severity']}) {path}:{row}: {f['desc']}"
                     f" — {loc['symbolic']['annotation']}: {code}")
    return lines


def test_workflows_pass_zizmor_offline():
    findings = zizmor_findings(WORKFLOWS)
    assert not findings, "zizmor --offline .github/workflows/ found:\n" + "\n".join(findings)


def test_zizmor_catches_a_movable_tag_and_persisted_credentials(tmp_path):
    """The audit above can fail: the workflow as it was before the pins has both findings."""
    workflow = tmp_path / "w.yml"
    workflow.write_text(
        "on: push\npermissions: {}\njobs:\n  j:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: read\n"
        "    steps:\n      - uses: actions/checkout@v4\n", encoding="utf-8")
    found = "\n".join(zizmor_findings(workflow))
    assert "unpinned-uses" in found and "artipacked" in found, found


def test_every_action_names_its_version():
    """Each `uses:` is a full commit SHA followed by the release it is, so an update is a reviewable diff."""
    uses = re.findall(r"^\s*(?:-\s*)?uses:\s*(\S+)(.*)$", (WORKFLOWS / "book.yml").read_text(), re.M)
    assert uses
    bad = [u + c for u, c in uses if not (re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", u)
                                          and re.fullmatch(r"\s*# v\d+\.\d+\.\d+\s*", c))]
    assert not bad, f"uses: not `owner/repo@<40-hex sha> # vX.Y.Z`: {bad}"


# ------------------------------------------------------------------------------------------------- CDN scripts

def _config_scripts(config: dict) -> list[tuple[str, str | None]]:
    """(src, integrity) of every script _config.yml makes the pages load."""
    sphinx = (config.get("sphinx") or {}).get("config") or {}
    found = []
    if "mathjax_path" in sphinx:
        found.append((sphinx["mathjax_path"], (sphinx.get("mathjax_options") or {}).get("integrity")))
    for src, attrs in (sphinx.get("nb_ipywidgets_js") or {}).items():
        found.append((src, (attrs or {}).get("integrity")))
    for entry in sphinx.get("html_js_files") or []:  # "file.js" or ["url", {attrs}]
        src, attrs = (entry, {}) if isinstance(entry, str) else (entry[0], entry[1] if len(entry) > 1 else {})
        found.append((src, (attrs or {}).get("integrity")))
    return found


def test_config_cdn_scripts_are_pinned():
    text = (ROOT / "_config.yml").read_text(encoding="utf-8")
    scripts = _config_scripts(yaml.safe_load(text))
    problems = [why for src, integrity in scripts if (why := cdn_script_problem(src, integrity))]
    assert not problems, "_config.yml: " + "; ".join(problems)
    # a script URL anywhere else in the config is loaded some way this test does not know: name it here first
    known = {src for src, _ in scripts}
    other = sorted(set(re.findall(r"https?://[^\s'\"]+\.m?js\b", text)) - known)
    assert not other, f"_config.yml: script URLs outside mathjax_path / nb_ipywidgets_js / html_js_files: {other}"
    assert len(scripts) >= 1  # MathJax (explorers are static HTML + script: no widget manager is loaded)


def test_the_browser_test_mirrors_each_pinned_cdn_package():
    """tests/cdn_packages.txt (the npm packages the browser test serves locally) names each package@version the
    config loads from the CDN, so the rendered-book test runs the very files the published site pins."""
    mirrored = {line.strip() for line in (ROOT / "tests" / "cdn_packages.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#")}
    pinned = {re.match(r"https://cdn\.jsdelivr\.net/npm/((?:@[^/]+/)?[^/@]+@[^/]+)/", src).group(1)
              for src, _ in _config_scripts(yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8")))
              if src.startswith("https://")}
    assert pinned <= mirrored, f"pinned in _config.yml but not in tests/cdn_packages.txt: {sorted(pinned - mirrored)}"


def _sources() -> list[tuple[str, str]]:
    """(name, text) of every book source and mnv3lib module that could put a <script> on a page."""
    out = []
    for path in sorted((ROOT / "book").rglob("*")):
        if path.suffix in (".md", ".html", ".rst"):
            out.append((str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")))
        elif path.suffix == ".ipynb" and ".ipynb_checkpoints" not in path.parts:
            nb = json.loads(path.read_text(encoding="utf-8"))
            for i, cell in enumerate(nb["cells"]):
                texts = ["".join(cell["source"])] + ["".join(o.get("data", {}).get("text/html", ""))
                                                     for o in cell.get("outputs", [])]
                out += [(f"{path.relative_to(ROOT)} cell {i}", t) for t in texts]
    out += [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in sorted((ROOT / "mnv3lib").rglob("*.py"))]
    return out


def test_book_sources_and_library_templates_load_no_unpinned_cdn_script():
    problems = [f"{name}: {why}" for name, text in _sources() for why in unpinned_cdn_scripts(text)]
    assert not problems, "\n".join(problems)


def test_static_javascript_fetches_nothing_from_another_origin():
    """Scripts shipped with the book (html_static_path) may not load code from a URL: that could carry no hash."""
    urls = [f"{p.name}: {u}" for p in (ROOT / "book" / "_static").rglob("*.js")
            for u in re.findall(r"https?://[^\s'\"`)]+", p.read_text(encoding="utf-8"))]
    assert not urls, urls


SHA = "sha384-Wuix6BuhrWbjDBs24bXrjf4ZQ5aFeFWBuKkFekO2t8xFU0iNaLQfp2K6/1Nxveei"


@pytest.mark.parametrize("html,problem", [
    (f'<script src="https://cdn.jsdelivr.net/npm/mathjax@3.2.2/es5/tex-mml-chtml.js" integrity="{SHA}"></script>',
     None),
    (f'<script src="https://cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager@1.0.15/dist/embed-amd.js" '
     f'integrity="{SHA}" crossorigin="anonymous"></script>', None),
    ('<script src="_static/ipywidgets_compat.js"></script>', None),
    ("<script>var x = 1;</script>", None),
    ('<script src="https://cdn.jsdelivr.net/npm/mathjax@3.2.2/es5/tex-mml-chtml.js"></script>', "no integrity"),
    ('<script src="https://cdn.jsdelivr.net/npm/mathjax@3.2.2/es5/tex-mml-chtml.js" integrity="md5-abc"></script>',
     "no integrity"),
    (f'<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js" integrity="{SHA}"></script>',
     "not an exact-version"),
    (f'<script src="https://cdn.jsdelivr.net/npm/mathjax@latest/es5/x.js" integrity="{SHA}"></script>',
     "not an exact-version"),
    (f'<script src="https://cdn.jsdelivr.net/npm/requirejs/require.js" integrity="{SHA}"></script>',
     "not an exact-version"),
    (f'<script src="https://unpkg.com/thebe@0.8.2/lib/index.js" integrity="{SHA}"></script>', "not an exact-version"),
    (f'<script src="//cdn.jsdelivr.net/npm/mathjax@3.2.2/es5/x.js" integrity="{SHA}"></script>',
     "not an exact-version"),
    ('<SCRIPT SRC="http://example.org/a.js"></SCRIPT>', "not an exact-version"),
])
def test_unpinned_cdn_scripts_judges_each_script(html, problem):
    found = unpinned_cdn_scripts(f"<html><head>{html}</head><body></body></html>")
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1 and problem in found[0], found
