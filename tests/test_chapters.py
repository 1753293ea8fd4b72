"""Every chapter executes, top to bottom, in a fresh kernel — once per test run (issue 17).

Each chapter is executed the way Jupyter Book's `cache` mode executes it (jupyter-cache's `single_nb_execution`, from
the chapter's folder, kernel python3) and the executed notebook is stored in this run's jupyter-cache. The
rendered-book test then builds the book from that cache instead of executing every chapter a second time. The
committed notebooks are never written to. Each chapter's execution time is printed; the budgets (≤ 75 s, the training
chapter ≤ 150 s, on 2 cores) are reported, not asserted: a shared machine makes timed tests flaky.
"""
from __future__ import annotations

import json

import book_site as bs
import nbformat
import pytest
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.executors.utils import single_nb_execution

TIMEOUT_S = 600  # per cell, as _config.yml's execute.timeout allows at most
BUDGET_S = {"book/06_training": 150}  # the rest: 75 s


@pytest.mark.parametrize("doc", list(bs.chapter_notebooks()), ids=lambda d: d.split("/")[-1])
def test_chapter_executes(doc, executed_cache, capsys):
    path = bs.chapter_notebooks()[doc]
    nb = nbformat.read(path, as_version=4)
    result = single_nb_execution(nb, cwd=str(path.parent), timeout=TIMEOUT_S, allow_errors=False, meta_override=True)
    budget = BUDGET_S.get(doc, 75)
    with capsys.disabled():
        print(f"\n  executed {doc} in {result.time:.1f} s (budget {budget} s)"
              + ("" if result.time <= budget else "  <-- over budget"))
    assert result.err is None, f"{path.name} failed to execute:\n{result.exc_string[-4000:]}"
    errors = [i for i, c in enumerate(nb.cells) for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{path.name}: error outputs in cells {errors}"
    cache = get_cache(str(executed_cache))
    cache.cache_notebook_bundle(CacheBundleIn(nb, str(path), data={"execution_seconds": result.time}),
                                check_validity=False, overwrite=True)
    # the committed notebook is untouched: still stripped
    assert not any(c.get("outputs") for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")
