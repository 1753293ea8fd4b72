"""Launching a chapter: the repository is named once (_config.yml), and Binder and Colab get what they need.

The browser test (test_rendered_book.py) checks the launch links on the rendered pages; these checks need no build.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import book_site as bs
import pytest

ROOT = bs.ROOT
CONFIG = bs.book_config()
REPO_URL, BRANCH = CONFIG["repository"]["url"], CONFIG["repository"]["branch"]
CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))
# Needed to build and test the book, not to run a chapter: Binder leaves them out.
BUILD_AND_TEST_TOOLS = {"jupyter-book", "myst-nb", "pytest", "jupyter-cache", "playwright"}


def pins(path: Path) -> dict[str, str]:
    """name -> version of every `name==version` line of a requirements file."""
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return {m[1].lower(): m[2] for line in lines if (m := re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line))}


def colab_cell_source() -> str:
    """The bootstrap cell every chapter starts its code with (see /work/helpers/COLAB_CELL.md), from this repository's
    one repository address and branch (_config.yml) and the book's torchinfo pin (requirements.txt)."""
    torchinfo = pins(ROOT / "requirements.txt")["torchinfo"]
    return (
        "# Colab only: install what Colab lacks (mnv3lib from the book's repository, torchinfo). Elsewhere: nothing.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    import subprocess\n"
        "\n"
        f'    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "torchinfo=={torchinfo}",\n'
        f'                    "mnv3lib @ git+{REPO_URL}@{BRANCH}"], check=True)'
    )


def test_repository_and_launch_buttons_are_configured():
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", REPO_URL), REPO_URL
    assert BRANCH == "main"
    launch = CONFIG["launch_buttons"]
    assert launch["binderhub_url"] == "https://mybinder.org"
    assert launch["colab_url"] == "https://colab.research.google.com"
    assert launch["notebook_interface"] == "jupyterlab"  # Binder opens the chapter in JupyterLab
    assert CONFIG["html"]["use_repository_button"] is True


def test_repository_address_is_written_once():
    """Only _config.yml names the repository; chapters' Colab cells repeat it and are checked against it below."""
    skip = {".git", ".venv", "_build", "node_modules", ".pytest_cache"}
    found = []
    for path in ROOT.rglob("*"):
        if path.is_file() and not skip & set(path.relative_to(ROOT).parts) and path.suffix != ".ipynb":
            text = path.read_text(errors="ignore") if path.stat().st_size < 2_000_000 else ""
            if REPO_URL in text:
                found.append(path.relative_to(ROOT).as_posix())
    assert found == ["_config.yml"], f"the repository address is written in {found}; keep it in _config.yml only"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_starts_with_the_hidden_colab_bootstrap_cell(path):
    cells = json.loads(path.read_text())["cells"]
    first = next((c for c in cells if c["cell_type"] == "code"), None)
    assert first is not None, f"{path.name} has no code cell"
    source = "".join(first["source"]).strip()
    assert source == colab_cell_source(), (f"{path.name}: the first code cell must be exactly\n{colab_cell_source()}\n"
                                           f"found:\n{source}")
    assert "remove-cell" in first.get("metadata", {}).get("tags", []), f"{path.name}: tag the Colab cell remove-cell"
    later = [i for i, c in enumerate(cells) if c is not first and "google.colab" in "".join(c["source"])]
    assert not later, f"{path.name}: cells {later} repeat the Colab bootstrap"


def test_colab_cell_does_nothing_outside_colab():
    namespace = {}
    exec(colab_cell_source(), namespace)  # noqa: S102 - google.colab is not imported here: no install may run
    assert "subprocess" not in namespace


def test_binder_environment_pins_what_the_chapters_need_as_the_book_does():
    book, binder = pins(ROOT / "requirements.txt"), pins(ROOT / "binder" / "requirements.txt")
    differ = {name: (binder[name], book.get(name)) for name in binder if binder[name] != book.get(name)}
    assert not differ, f"binder/requirements.txt pins differ from requirements.txt (binder, book): {differ}"
    missing = set(book) - BUILD_AND_TEST_TOOLS - set(binder)
    assert not missing, f"binder/requirements.txt lacks {sorted(missing)}"
    text = (ROOT / "binder" / "requirements.txt").read_text()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in text  # CPU wheels: no 3 GB of CUDA on Binder
    post = (ROOT / "binder" / "postBuild").read_text()
    assert "pip install --no-deps --quiet -e ." in post and (ROOT / "binder" / "postBuild").stat().st_mode & 0o111
