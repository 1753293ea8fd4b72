"""Training a MobileNet in plain PyTorch: `fit`, `evaluate`, checkpoints, and a cached digits network.

    model = mnv3lib.train.build("v3-small", width=0.5, seed=0)       # small-image network, seeded init
    history = fit(model, data.digits("train"), data.digits("val"), epochs=8)
    evaluate(model, data.digits("test"))                              # {"loss": ..., "acc": ...}

BatchNorm (the pitfall of chapter 6): MobileNetV3's reference momentum 0.01 makes the running statistics
an average over ~100 steps, still mostly their initial values after a few hundred steps of a short run, so
eval-mode accuracy can sit near chance while the batch statistics give 97 %. `fit` therefore trains with
momentum `bn_momentum=0.1` and, after each epoch, recomputes the running statistics exactly with one pass
over the training data (`recalibrate_bn`); the model's own momentum is restored afterwards.
"""
from __future__ import annotations

import hashlib
import math
import os
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from .models import ARCHS, small_image_model

__all__ = ["build", "fit", "evaluate", "recalibrate_bn", "set_bn_momentum", "save_checkpoint",
           "load_checkpoint", "digits_model", "digits_model_path", "save_digits_model", "cache_dir",
           "TrainingDiverged", "PROGRESS_ENV", "CACHE_ENV"]

PROGRESS_ENV, CACHE_ENV = "MNV3LIB_PROGRESS", "MNV3LIB_CACHE"


class TrainingDiverged(ValueError):
    """The loss became NaN or infinite; the message names the epoch and the step."""


def _positive_int(field: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{field}: got {value!r}, expected a positive integer")


def build(arch: str, width: float = 1.0, num_classes: int = 10, seed: int = 0, input_size: int = 32,
          unstrided: int = 2, rows=None) -> nn.Module:
    """`models.small_image_model(arch, width, num_classes, input_size, rows, unstrided)` with its initial
    weights drawn from `seed`."""
    torch.manual_seed(seed)
    return small_image_model(arch, width, num_classes, input_size, rows, unstrided)


def _class_mismatch(ds, outputs: int) -> int | None:
    """The data's class count when it does not fit `outputs`: the declared `num_classes` must equal it;
    without one, the largest label must be below it."""
    n = getattr(ds, "num_classes", None)
    if n is not None:
        return n if n != outputs else None
    n = int(max(int(y) for _, y in ds)) + 1
    return n if n > outputs else None


def _show_progress(progress) -> bool:
    """A bar in a terminal; in a notebook only when asked (`progress=True` or MNV3LIB_PROGRESS=1), so an
    executed book, run with no one watching, holds no progress-bar output."""
    env = os.environ.get(PROGRESS_ENV, "").strip()
    if progress is not None:
        return bool(progress)
    if env in ("0", "1"):
        return env == "1"
    return sys.stderr.isatty() and "PYTEST_CURRENT_TEST" not in os.environ and not os.environ.get("CI")


def set_bn_momentum(model: nn.Module, momentum: float | None) -> dict:
    """Set every BatchNorm's momentum; returns the old values (module → momentum) to restore them."""
    old = {m: m.momentum for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)}
    for m in old:
        m.momentum = momentum
    return old


@torch.no_grad()
def recalibrate_bn(model: nn.Module, ds, batch_size: int = 256) -> None:
    """Recompute every BatchNorm's running mean / variance as the exact average over one pass of `ds`
    (momentum None = cumulative average), with the weights as they are now. Nothing else changes."""
    old = set_bn_momentum(model, None)
    for m in old:
        m.reset_running_stats()
    model.train()
    for x, _ in DataLoader(ds, batch_size=batch_size):
        model(x)
    for m, mom in old.items():
        m.momentum = mom
    model.eval()


@torch.no_grad()
def evaluate(model: nn.Module, ds, batch_size: int = 256, train_mode: bool = False) -> dict:
    """Mean cross-entropy and accuracy of `model` on `ds`, in eval mode (running BatchNorm statistics);
    `train_mode=True` uses each batch's own statistics instead (and leaves the running ones untouched)."""
    was = model.training
    model.eval()
    saved = None
    if train_mode:  # batch statistics without updating the running ones
        bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        saved = [(m, m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone()) for m in bns]
        for m in bns:
            m.train()
    loss = correct = n = 0
    for x, y in DataLoader(ds, batch_size=batch_size):
        out = model(x)
        loss += F.cross_entropy(out, y, reduction="sum").item()
        correct += (out.argmax(1) == y).sum().item()
        n += len(y)
    for m, mean, var, count in saved or ():
        m.running_mean.copy_(mean), m.running_var.copy_(var), m.num_batches_tracked.copy_(count)
    model.train(was)
    return {"loss": loss / n, "acc": correct / n}


def fit(model: nn.Module, train_ds, val_ds=None, epochs: int = 8, batch_size: int = 32, lr: float = 3e-3,
        seed: int = 0, weight_decay: float = 1e-4, bn_momentum: float | None = 0.1, recalibrate: bool = True,
        progress: bool | None = None, threads: int = 1) -> dict:
    """Train `model` on `train_ds` with AdamW and a one-cycle learning-rate schedule (warm-up, then cosine
    decay, per step); returns the history: per-epoch lists "train_loss", "train_acc", "val_loss", "val_acc".

    Seeded: the shuffling comes from `seed`, so the same model and data give the same history on CPU.
    `bn_momentum` replaces every BatchNorm's momentum during training (None keeps the model's own), and
    `recalibrate` recomputes the running statistics after every epoch, before validating (see the module
    docstring): the validation curve is then what eval mode gives with that epoch's weights. The progress
    bar (tqdm) shows in a terminal; in a notebook pass `progress=True` (or set MNV3LIB_PROGRESS=1).
    Stops with `TrainingDiverged` naming epoch and step when the loss is not finite. It runs on `threads`
    CPU threads (1: on these tiny tensors a second thread gains little, and threads waiting for each other
    slow training down many times over when the cores are shared).
    """
    from tqdm.auto import tqdm

    from .latency import fixed_threads

    _positive_int("epochs", epochs)
    _positive_int("batch_size", batch_size)
    head = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    for name, ds in (("train_ds", train_ds), ("val_ds", val_ds)):
        n = _class_mismatch(ds, head.out_features) if ds is not None else None
        if n is not None:
            raise ValueError(f"num_classes: the model has {head.out_features} outputs, {name} has "
                             f"{n} classes, expected them equal")
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(train_ds, batch_size=batch_size, shuffle=True, generator=generator)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, fused=True)  # one kernel per step
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * len(loader))
    old = set_bn_momentum(model, bn_momentum) if bn_momentum is not None else {}
    history = {k: [] for k in ("train_loss", "train_acc", "val_loss", "val_acc")}
    bar = tqdm(total=epochs * len(loader), disable=not _show_progress(progress), leave=False)
    with fixed_threads(threads):
        _loop(model, loader, val_ds, epochs, opt, sched, history, bar, lr, old, train_ds if recalibrate else None)
    model.eval()
    return history


def _loop(model, loader, val_ds, epochs, opt, sched, history, bar, lr, old, recalibrate_on) -> None:
    """fit's epochs: forward, loss, backward, step; then the epoch's validation."""
    try:
        for epoch in range(1, epochs + 1):
            model.train()
            loss_sum = correct = n = 0
            for step, (x, y) in enumerate(loader, 1):
                out = model(x)
                loss = F.cross_entropy(out, y)
                if not math.isfinite(loss.item()):
                    raise TrainingDiverged(f"loss: got {loss.item()} at epoch {epoch}, step {step}, "
                                           f"expected a finite number (try a smaller lr than {lr})")
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                loss_sum += loss.item() * len(y)
                correct += (out.argmax(1) == y).sum().item()
                n += len(y)
                bar.update()
            history["train_loss"].append(loss_sum / n)
            history["train_acc"].append(correct / n)
            if recalibrate_on is not None:  # changes only the running statistics: training is unaffected
                recalibrate_bn(model, recalibrate_on)
            val = evaluate(model, val_ds) if val_ds is not None else {"loss": math.nan, "acc": math.nan}
            history["val_loss"].append(val["loss"])
            history["val_acc"].append(val["acc"])
            bar.set_postfix(epoch=epoch, val_acc=f"{val['acc']:.3f}")
    finally:
        bar.close()
        for m, mom in old.items():
            m.momentum = mom


# --- checkpoints ----------------------------------------------------------------------------------

def _describe(model: nn.Module) -> dict:
    head = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    return {"arch": str(getattr(model, "arch", None) or type(model).__name__),
            "width": float(getattr(model, "width_mult", 1.0)), "num_classes": int(head.out_features)}


def save_checkpoint(model: nn.Module, path, **extra) -> Path:
    """Save `model.state_dict()` with what it is (arch, width, num_classes) and `extra` plain values (e.g. the
    history): tensors, numbers, strings, lists and dicts only, so `torch.load(weights_only=True)` reads it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    torch.save({**_describe(model), **extra, "state_dict": model.state_dict()}, tmp)
    os.replace(tmp, path)  # atomic: a reader never sees half a file
    return path


def load_checkpoint(model: nn.Module, path) -> dict:
    """Load a checkpoint (ours, or a bare state dict) into `model` with `torch.load(weights_only=True)`;
    returns the checkpoint's other entries. A checkpoint of another architecture or width raises a
    one-line ValueError naming both."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"checkpoint: got {str(path)!r}, expected an existing file")
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    sd = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(sd, dict):
        raise ValueError(f"checkpoint: {str(path)!r} holds a {type(ckpt).__name__}, expected a state dict")
    mine, want = model.state_dict(), _describe(model)
    got = {k: ckpt[k] for k in want if k in ckpt} if "state_dict" in ckpt else {}
    bad = next((k for k in mine if k not in sd or sd[k].shape != mine[k].shape), None)
    bad = bad or next((k for k in sd if k not in mine), None)
    if bad is not None or any(got[k] != want[k] for k in got):
        what = ", ".join(f"{k} {v!r}" for k, v in got.items()) or "a state dict"
        where = f"tensor {bad!r} " + (f"has shape {tuple(sd[bad].shape)}" if bad in sd else "is missing") \
            if bad is not None else "its description differs"
        raise ValueError(f"checkpoint: {str(path)!r} holds {what} ({where}), expected "
                         f"{', '.join(f'{k} {v!r}' for k, v in want.items())}")
    model.load_state_dict(sd)
    return {k: v for k, v in ckpt.items() if k != "state_dict"} if "state_dict" in ckpt else {}


# --- the chapter-6 network, cached ----------------------------------------------------------------

def cache_dir() -> Path:
    """Where trained networks are cached: $MNV3LIB_CACHE, else ~/.cache/mnv3lib."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "mnv3lib")


RECIPE = {"batch_size": 32, "lr": 3e-3, "weight_decay": 1e-4, "bn_momentum": 0.1, "split_seed": 0}  # chapter 6's


def _recipe() -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(RECIPE.items()))


def digits_model_path(arch: str, width: float, seed: int, epochs: int, size: int) -> Path:
    """The cache file of `digits_model(arch, width, seed, epochs, size)`: every argument and the recipe in its name."""
    tag = hashlib.sha1(_recipe().encode()).hexdigest()[:8]  # str hash() varies per process: not usable here
    return cache_dir() / f"digits_{arch}_w{width:g}_s{size}_seed{seed}_e{epochs}_{tag}.pt"


def save_digits_model(model: nn.Module, history: dict, arch: str, width: float, seed: int, epochs: int,
                      size: int) -> Path:
    """Write a network trained with RECIPE to the cache, where `digits_model` finds it."""
    return save_checkpoint(model, digits_model_path(arch, width, seed, epochs, size), history=history,
                           input_size=size, recipe=_recipe())


def digits_model(arch: str = "v3-small", width: float = 0.5, seed: int = 0, epochs: int = 6,
                 size: int = 32, cache: bool = True, progress: bool | None = None) -> nn.Module:
    """Chapter 6's best digits network, trained once and then loaded from the cache in a fraction of a second.

    Builds `build(arch, width, 10, seed, input_size=size)` (stem and first stage at stride 1), trains it with
    `fit` on `data.digits("train", size)` for `epochs` with RECIPE (validation on "val"), and caches the
    checkpoint at `digits_model_path(...)` in `cache_dir()` ($MNV3LIB_CACHE, default ~/.cache/mnv3lib).
    Returns the model in eval mode, with attributes `input_size` (feed it `mnv3lib.data.preprocess(images,
    model.input_size)`: 8×8 digits with values 0..16) and `history` (fit's). `cache=False` neither reads nor
    writes the cache. Training is deterministic on CPU for a given seed (about half a minute on one core).
    """
    from . import data

    if arch not in ARCHS:
        raise ValueError(f"arch: got {arch!r}, expected one of {', '.join(ARCHS)}")
    _positive_int("epochs", epochs)
    model = build(arch, width, 10, seed, input_size=size)
    path = digits_model_path(arch, width, seed, epochs, size)
    if cache and path.is_file():
        model.history = load_checkpoint(model, path).get("history")
    else:
        model.history = fit(model, data.digits("train", size, RECIPE["split_seed"]),
                            data.digits("val", size, RECIPE["split_seed"]), epochs,
                            RECIPE["batch_size"], RECIPE["lr"], seed, RECIPE["weight_decay"],
                            RECIPE["bn_momentum"], progress=progress)
        if cache:
            save_digits_model(model, model.history, arch, width, seed, epochs, size)
    model.input_size = size
    return model.eval()
