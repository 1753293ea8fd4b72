import os
import shutil
import tempfile
from pathlib import Path

import pytest
import torch


def pytest_configure(config):
    # A fresh cache of trained networks (mnv3lib.train.digits_model) for every test run, unless one is named: a
    # network cached by an earlier run of older code must not stand in for what this code trains. The chapters'
    # kernels and the book build inherit the variable.
    if "MNV3LIB_CACHE" not in os.environ:
        os.environ["MNV3LIB_CACHE"] = tempfile.mkdtemp(prefix="mnv3lib-cache-")
        config.add_cleanup(lambda: shutil.rmtree(os.environ.pop("MNV3LIB_CACHE"), ignore_errors=True))


@pytest.fixture(scope="session")
def executed_cache(tmp_path_factory):
    """This run's jupyter-cache: tests/test_chapters.py executes each chapter into it once, and the rendered-book
    test builds the book from it (execute_notebooks: cache), so no chapter executes twice."""
    kept = os.environ.get("BOOK_EXECUTE_CACHE")  # the Pages workflow keeps one between runs
    return Path(kept) if kept else tmp_path_factory.mktemp("jupyter-cache")


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _randomize(model: torch.nn.Module) -> torch.nn.Module:
    """Give every BatchNorm non-trivial statistics and affine parameters, so a weight transfer that
    mixed up two BN layers (or skipped one) would change the outputs."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=g) * 0.5 + 0.75)
                m.weight.copy_(torch.rand(n, generator=g) * 0.5 + 0.75)
                m.bias.copy_(torch.randn(n, generator=g) * 0.1)
    return model.eval()


@pytest.fixture
def randomize():
    return _randomize
