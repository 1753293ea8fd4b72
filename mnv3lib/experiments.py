"""The papers' design claims in miniature (chapter 6): each claim is a one-line change of a table or a block,
trained on the digits over several seeds, in parallel processes (one CPU thread each).

    runs = [Run("v2", 0.25, "relu-projection", seed) for seed in (0, 1, 2)]
    results = run_all(runs)          # one record per run: test accuracy, history, params, MAdds
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace

from torch import nn

from .blocks import InvertedResidual
from .layers import activation
from .models import paper_rows

__all__ = ["VARIANTS", "Run", "variant_rows", "build_variant", "run", "run_all", "summarise"]

# variant → what it changes, with the paper's claim it tests
VARIANTS = {
    "paper": "the paper's network",
    "relu-projection": "ReLU6 after each bottleneck's 1×1 projection (V2 §3.2 and Figure 6a: linear is better)",
    "relu-only": "ReLU wherever the body's rows say h-swish (V3 §5.2: h-swish is better)",
    "no-se": "no squeeze-and-excite anywhere (V3 §5.3: SE is better)",
}


@dataclass(frozen=True)
class Run:
    """One training run: network, width, variant, seed, and the recipe (chapter 6's defaults)."""
    arch: str
    width: float
    variant: str = "paper"
    seed: int = 0
    epochs: int = 3
    size: int = 16
    batch_size: int = 32
    lr: float = 3e-3
    bn_momentum: float = 0.1   # fit's default; MobileNetV3's reference value is 0.01 (the chapter's pitfall)
    recalibrate: bool = True   # fit's default: exact running statistics after each epoch
    cache: bool = False        # also save the network where `train.digits_model` finds it

    def __post_init__(self):
        if self.variant not in VARIANTS:
            raise ValueError(f"variant: got {self.variant!r}, expected one of {', '.join(VARIANTS)}")


def variant_rows(arch: str, variant: str) -> list:
    """The paper's rows of `arch`, edited for a V3 variant: "relu-only" turns every HS of the body (stem,
    bnecks, last conv) into RE, "no-se" clears every SE column. Other variants keep the rows."""
    rows = paper_rows(arch)
    if variant == "relu-only":  # the body's h-swish (§5.2); the head after the pool keeps the paper's NL
        return [replace(r, nl="RE") if r.nl == "HS" and r.operator != "conv2d NBN" else r for r in rows]
    if variant == "no-se":
        return [replace(r, se=False) if getattr(r, "se", False) else r for r in rows]
    return rows


def build_variant(arch: str, width: float, variant: str = "paper", seed: int = 0, size: int = 16) -> nn.Module:
    """The small-image network of `arch` (`train.build`, stem at stride 1) in `variant`, seeded."""
    from .train import build

    if variant in ("relu-only", "no-se") and not arch.startswith("v3"):
        raise ValueError(f"variant: got {variant!r} for {arch!r}, expected a v3 network (only V3 has HS and SE)")
    model = build(arch, width, 10, seed, input_size=size, rows=variant_rows(arch, variant))
    if variant == "relu-projection":  # the linear bottleneck made non-linear: one activation per block
        for block in model.modules():
            if isinstance(block, InvertedResidual):
                block.project.act = activation("RE6")
    return model


def run(r: Run) -> dict:
    """Train one `Run` on the digits (train split; validation each epoch) and test it: a plain-values record."""
    from . import costs, data
    from .train import RECIPE, evaluate, fit, recalibrate_bn, save_digits_model

    recipe = {"batch_size": r.batch_size, "lr": r.lr, "bn_momentum": r.bn_momentum}
    if r.cache and (r.variant != "paper" or not r.recalibrate or any(RECIPE[k] != v for k, v in recipe.items())):
        raise ValueError(f"cache: got True for {r}, expected only the paper's variant trained with train.RECIPE")
    start = time.process_time()
    model = build_variant(r.arch, r.width, r.variant, r.seed, r.size)
    splits = {s: data.digits(s, r.size) for s in data.SPLITS}
    history = fit(model, splits["train"], splits["val"], r.epochs, r.batch_size, r.lr, r.seed,
                  bn_momentum=r.bn_momentum, recalibrate=r.recalibrate, progress=False)
    test = evaluate(model, splits["test"])
    if r.cache:
        save_digits_model(model, history, r.arch, r.width, r.seed, r.epochs, r.size)
    record = {**asdict(r), "test_acc": test["acc"], "test_loss": test["loss"], "history": history,
              "params": costs.count_params(model), "madds": costs.madds(model, r.size),
              "cpu_seconds": time.process_time() - start}  # this process's CPU time: the run's cost
    if not r.recalibrate:  # the pitfall: what batch statistics, and recalibrated running ones, would give
        record["test_acc_batch_stats"] = evaluate(model, splits["test"], train_mode=True)["acc"]
        recalibrate_bn(model, splits["train"])
        record["test_acc_recalibrated"] = evaluate(model, splits["test"])["acc"]
    return record


def _worker_init() -> None:
    import torch

    torch.set_num_threads(1)


def run_all(runs: list[Run], workers: int | None = None) -> list[dict]:
    """`run` each of `runs`, in `workers` processes (default: the CPU count, at most 2 here), results in
    order. Each run is seeded and single-threaded, so the records do not depend on `workers`."""
    runs = list(runs)
    workers = workers or min(2, os.cpu_count() or 1)
    if workers == 1:
        return [run(r) for r in runs]
    import multiprocessing

    # spawn: a fresh interpreter per worker (forking a process that has run torch's thread pool can hang)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_worker_init) as pool:
        return list(pool.map(run, runs))


def summarise(records: list[dict], key=lambda r: (r["arch"], r["width"], r["variant"])) -> dict:
    """Group records by `key` (default network, width, variant): {key: {"mean", "min", "max", "n", "accs"}}
    of the test accuracy over seeds."""
    groups: dict = {}
    for r in records:
        groups.setdefault(key(r), []).append(r["test_acc"])
    return {k: {"mean": sum(a) / len(a), "min": min(a), "max": max(a), "n": len(a), "accs": a}
            for k, a in groups.items()}
