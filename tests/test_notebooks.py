"""Every chapter is committed in the form Jupyter Book and tests/test_chapters.py expect: kernelspec python3, no outputs."""
import json
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
CHAPTERS = sorted(BOOK.glob("*.ipynb"))


def test_there_are_chapters():
    assert CHAPTERS, f"no notebooks under {BOOK}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_is_stripped_and_uses_python3(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    kept = [i for i, c in enumerate(nb["cells"])
            if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not kept, f"{path.name}: code cells {kept} keep outputs or execution counts; commit notebooks stripped"
