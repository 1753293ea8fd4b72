"""Measured CPU latency, done honestly: batch 1, warm-up, the median of repeated runs, a fixed
thread count, and a reference model measured in the same run.

MobileNetV3 §6.1 measures latency at batch 1 on a single large core of a phone; here it is
measured on *your* CPU, by default on one thread as well. Absolute milliseconds depend on the
machine — CPU, PyTorch build, thread count, whatever else is running — so compare models only
within one run, and prefer the ratio to the reference model over the milliseconds.

`measure` times one model, `compare` two (interleaved), `measure_many` a grid (in rounds, with the
reference before and after), and `time_by_type` splits one forward pass by layer type.

Quick mode (few repeats, for CI): `quick=True`, or the environment variable ``MNV3LIB_QUICK=1``.
``MNV3LIB_QUICK=0`` forces full measurements. When the variable is unset, quick mode is on only
inside a pytest run (tests/test_chapters.py executes the chapters there), so a reader's own run measures properly.
"""
from __future__ import annotations

import gc
import html
import os
import statistics
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from ._checks import MAX_RESOLUTION, integer, module
from ._render import html_table, text_table

__all__ = ["ENV", "Settings", "FULL", "QUICK", "quick_mode", "settings", "fixed_threads",
           "Latency", "LatencyRatio", "LatencyTable", "measure", "compare", "measure_many", "time_by_type"]

ENV = "MNV3LIB_QUICK"


@dataclass(frozen=True)
class Settings:
    """How much to measure: untimed warm-up calls, timed calls (one forward pass each), threads,
    and for `measure_many` the rounds the timed calls are split into."""
    warmup: int
    repeats: int
    threads: int = 1  # one core, like the V3 paper's single large core (§6.1)
    rounds: int = 1   # passes over all models: a burst of load then spoils a round, not a model


FULL = Settings(warmup=5, repeats=30, rounds=3)
QUICK = Settings(warmup=2, repeats=5)


def quick_mode() -> bool:
    """True when ``MNV3LIB_QUICK`` says so, or when it is unset and pytest is running us."""
    value = os.environ.get(ENV, "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    if value:
        raise ValueError(f"{ENV}: got {value!r}, expected 1 (quick) or 0 (full)")
    return "PYTEST_CURRENT_TEST" in os.environ  # the chapters' kernels inherit it from the test


def settings(quick: bool | None = None) -> Settings:
    """QUICK or FULL; `quick=None` asks `quick_mode()`."""
    return QUICK if (quick_mode() if quick is None else quick) else FULL


@contextmanager
def fixed_threads(threads: int) -> Iterator[None]:
    """Run the block with `torch.set_num_threads(threads)`, restoring the previous count after."""
    _count("threads", threads)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# What a measurement may ask for: enough to be careful, not enough to hang a session by a typo.
_MAXIMA = {"warmup": 1000, "repeats": 10_000, "threads": 256, "rounds": 100}


def _count(field: str, value, minimum: int = 1) -> None:
    integer(field, value, minimum, _MAXIMA.get(field))


def _shape(input_size) -> tuple[int, int, int]:
    """(C, H, W) from an int (a square RGB image) or a (C, H, W) tuple."""
    if isinstance(input_size, int) and not isinstance(input_size, bool) and 1 <= input_size <= MAX_RESOLUTION:
        return (3, input_size, input_size)
    if (isinstance(input_size, tuple) and len(input_size) == 3 and max(input_size[1:], default=0) <= MAX_RESOLUTION
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in input_size)):
        return input_size
    raise ValueError(f"input_size: got {input_size!r:.60}, expected a positive int (square RGB image) "
                     f"or a (C, H, W) tuple of positive ints, sides <= {MAX_RESOLUTION}")


@dataclass(frozen=True)
class Latency:
    """Per-call times (ms) of one model at batch 1; `median_ms` is the number to quote."""
    name: str
    input_size: tuple[int, int, int]
    threads: int
    times_ms: tuple[float, ...]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def iqr_ms(self) -> tuple[float, float]:
        """First and third quartiles: how much the calls scattered around the median."""
        if len(self.times_ms) < 2:
            return (self.times_ms[0], self.times_ms[0])
        q = statistics.quantiles(self.times_ms, n=4)
        return (q[0], q[2])

    def __str__(self) -> str:
        lo, hi = self.iqr_ms
        c, h, w = self.input_size
        return (f"{self.name} @{h}×{w}: {self.median_ms:.2f} ms median of {len(self.times_ms)} "
                f"(quartiles {lo:.2f}–{hi:.2f}), {self.threads} thread{'s' * (self.threads > 1)}")


@dataclass(frozen=True)
class LatencyRatio:
    """A model and a reference measured interleaved in one run; `ratio` = model / reference medians."""
    model: Latency
    reference: Latency

    @property
    def ratio(self) -> float:
        return self.model.median_ms / self.reference.median_ms

    def __str__(self) -> str:
        return f"{self.model}\n{self.reference}\nratio {self.model.name} / {self.reference.name}: {self.ratio:.3f}"


@dataclass(frozen=True)
class LatencyTable:
    """Latencies of many models measured in one run, with the reference measured before and after.

    `reference` pools both measurements; `drift` = after / before shows how steady the machine was
    (far from 1: something else was using the CPU, re-run).
    """
    rows: tuple[Latency, ...]
    reference: Latency
    drift: float

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Latency]:
        return iter(self.rows)

    def __getitem__(self, key: int | str) -> Latency:
        if isinstance(key, str):
            for row in self.rows:
                if row.name == key:
                    return row
            raise KeyError(f"name: got {key!r}, expected one of {[r.name for r in self.rows]}")
        return self.rows[key]

    def ratio(self, name: str) -> float:
        """Median latency of `name` over the reference's."""
        return self[name].median_ms / self.reference.median_ms

    HEADERS = ["model", "input", "median ms", "× reference"]

    def _body(self) -> list[list]:
        return [[r.name, f"{r.input_size[1]}×{r.input_size[2]}", round(r.median_ms, 2),
                 round(r.median_ms / self.reference.median_ms, 3)] for r in self.rows]

    def _note(self) -> str:
        return f"reference: {self.reference}; drift after/before {self.drift:.3f}"

    def __str__(self) -> str:
        return text_table(self.HEADERS, self._body()) + "\n" + self._note()

    def _repr_html_(self) -> str:
        return html_table(self.HEADERS, self._body()) + f"<p><small>{html.escape(self._note())}</small></p>"


def _timed_call(model: nn.Module, x: torch.Tensor) -> float:
    start = time.perf_counter()
    model(x)
    return (time.perf_counter() - start) * 1e3


@contextmanager
def _measuring(models: Iterable[nn.Module], threads: int) -> Iterator[None]:
    """eval mode, no autograd, no garbage collection pauses, fixed threads; all restored after."""
    models = [module("model", m) for m in models]
    modes = [m.training for m in models]
    gc_was_on = gc.isenabled()
    with fixed_threads(threads), torch.inference_mode():
        for m in models:
            m.eval()
        gc.disable()
        try:
            yield
        finally:
            if gc_was_on:
                gc.enable()
            for m, mode in zip(models, modes):
                m.train(mode)


def _resolve(quick, warmup, repeats, threads, rounds=None) -> Settings:
    base = settings(quick)
    pick = lambda given, default: default if given is None else given  # noqa: E731
    s = Settings(pick(warmup, base.warmup), pick(repeats, base.repeats), pick(threads, base.threads),
                 pick(rounds, base.rounds))
    _count("warmup", s.warmup, 0)
    for field in ("repeats", "threads", "rounds"):
        _count(field, getattr(s, field))
    return s


def _input(input_size, seed: int = 0) -> torch.Tensor:
    return torch.randn(1, *_shape(input_size), generator=torch.Generator().manual_seed(seed))


def measure(model: nn.Module, input_size=224, name: str | None = None, *, quick: bool | None = None,
            warmup: int | None = None, repeats: int | None = None, threads: int | None = None) -> Latency:
    """Latency of one forward pass at batch 1: `warmup` untimed calls, then `repeats` timed ones.

    Defaults come from `settings(quick)`. The model is put in eval mode for the measurement and
    returned to its previous mode; the thread count is restored too.
    """
    s = _resolve(quick, warmup, repeats, threads)
    x = _input(input_size)
    with _measuring([model], s.threads):
        for _ in range(s.warmup):
            model(x)
        times = tuple(_timed_call(model, x) for _ in range(s.repeats))
    return Latency(name or type(model).__name__, tuple(x.shape[1:]), s.threads, times)


def compare(model: nn.Module, reference: nn.Module, input_size=224, names: tuple[str, str] | None = None, *,
            reference_size=None, quick: bool | None = None, warmup: int | None = None,
            repeats: int | None = None, threads: int | None = None) -> LatencyRatio:
    """`model` against `reference`, interleaved call by call (ABBA order) so that a drifting
    machine — turbo, heat, a background job — slows both alike and the ratio stays fair."""
    s = _resolve(quick, warmup, repeats, threads)
    xa, xb = _input(input_size), _input(input_size if reference_size is None else reference_size)
    na, nb = names or (type(model).__name__, type(reference).__name__)
    ta, tb = [], []
    with _measuring([model, reference], s.threads):
        for _ in range(s.warmup):
            model(xa)
            reference(xb)
        for i in range(s.repeats):
            pairs = ((model, xa, ta), (reference, xb, tb))
            for m, x, out in pairs if i % 2 == 0 else pairs[::-1]:
                out.append(_timed_call(m, x))
    return LatencyRatio(Latency(na, tuple(xa.shape[1:]), s.threads, tuple(ta)),
                        Latency(nb, tuple(xb.shape[1:]), s.threads, tuple(tb)))


Entry = tuple  # (name, model or zero-argument factory returning one, input_size)


def measure_many(entries: Iterable[Entry], reference: Entry,
                 progress: Callable[[int, int, str], None] | None = None, *, quick: bool | None = None,
                 warmup: int | None = None, repeats: int | None = None, threads: int | None = None,
                 rounds: int | None = None) -> LatencyTable:
    """Measure every `(name, model_or_factory, input_size)` entry in turn, with the reference
    measured before the first and after the last; in `rounds` passes over them all, each with its
    warm-up and a share of the `repeats` timed calls, so that a burst of load spoils one round of
    every model rather than all the calls of one. Factories are called once per round, one at a
    time, so a long grid never holds every model in memory. `progress(done, total, name)` is called
    before each measurement (`name`: the model about to be timed) and at the end with name "".
    """
    if not isinstance(entries, Iterable) or isinstance(entries, (str, bytes)):
        raise ValueError(f"entries: got {type(entries).__name__}, expected a list of (name, model or factory, input_size)")
    entries = list(entries)
    for e in entries + [reference]:
        if not (isinstance(e, tuple) and len(e) == 3 and isinstance(e[0], str)):
            raise ValueError(f"entry: got {e!r:.80}, expected (name, model or factory, input_size)")
    s = _resolve(quick, warmup, repeats, threads, rounds)
    kw = dict(warmup=s.warmup, repeats=-(-s.repeats // s.rounds), threads=s.threads)  # ceil

    def run(entry: Entry) -> Latency:
        name, model, size = entry
        model = model if isinstance(model, nn.Module) else model()
        return measure(model, size, name, **kw)

    todo = [reference, *entries, reference]
    total, results = s.rounds * len(todo), [[] for _ in todo]
    for r in range(s.rounds):
        for i, entry in enumerate(todo):
            if progress is not None:
                progress(r * len(todo) + i, total, entry[0])
            results[i].append(run(entry))
    if progress is not None:
        progress(total, total, "")
    pooled = [Latency(rs[0].name, rs[0].input_size, s.threads, sum((x.times_ms for x in rs), ()))
              for rs in results]
    before, *rows, after = pooled
    reference_all = Latency(before.name, before.input_size, s.threads, before.times_ms + after.times_ms)
    return LatencyTable(tuple(rows), reference_all, after.median_ms / before.median_ms)


_UNIT_NAMES = {nn.ReLU: "ReLU", nn.ReLU6: "ReLU6", nn.Hardswish: "h-swish", nn.Hardsigmoid: "h-sigmoid",
               nn.BatchNorm2d: "BatchNorm", nn.AdaptiveAvgPool2d: "pool", nn.Dropout: None, nn.Identity: None}


def _units(model: nn.Module, input_size) -> dict[nn.Module, str]:
    """module → type for every timed unit: each squeeze-and-excite as a whole, every other leaf alone;
    convs and linear layers get `mnv3lib.costs` types ("depthwise 3×3", "pointwise 1×1", ...)."""
    from .costs import cost_table
    from .layers import HSigmoid, HSwish, SqueezeExcite

    names = {HSwish: "h-swish", HSigmoid: "h-sigmoid", **_UNIT_NAMES}
    cost_types = {row.name: row.type for row in cost_table(model, input_size)}
    units, inside_se = {}, set()
    for name, m in model.named_modules():
        if isinstance(m, SqueezeExcite):
            units[m] = "SE"
            inside_se.update(x for x in m.modules() if x is not m)
        elif m not in inside_se and not list(m.children()):
            kind = cost_types.get(name) or names.get(type(m), type(m).__name__)
            if kind is not None:
                units[m] = kind
    return units


def time_by_type(model: nn.Module, input_size=224, *, quick: bool | None = None, warmup: int | None = None,
                 repeats: int | None = None, threads: int | None = None) -> dict[str, float]:
    """Where a forward pass spends its time: {layer type: median ms per pass}, most expensive first,
    the counterpart of `CostTable.by_type()` for MAdds (MobileNetV3 §6: MAdds are not latency).

    Forward hooks time every unit (each SE block as one unit); "other" is what no unit covers:
    residual adds, flatten, Python. The hooks add a few microseconds per unit, so the shares are
    a slight overestimate for cheap layers; `measure` gives the unhooked total.
    """
    s = _resolve(quick, warmup, repeats, threads)
    x, units = _input(input_size), _units(model, input_size)
    started: dict[nn.Module, float] = {}
    per_pass: dict[str, float] = {}

    def pre(m, args):
        started[m] = time.perf_counter()

    def post(m, args, out):
        per_pass[units[m]] = per_pass.get(units[m], 0.0) + (time.perf_counter() - started[m]) * 1e3

    hooks = [h for m in units for h in (m.register_forward_pre_hook(pre), m.register_forward_hook(post))]
    passes = []
    try:
        with _measuring([model], s.threads):
            for i in range(s.warmup + s.repeats):
                per_pass.clear()
                total = _timed_call(model, x)
                if i >= s.warmup:
                    passes.append({**per_pass, "other": total - sum(per_pass.values())})
    finally:
        for h in hooks:
            h.remove()
    medians = {k: statistics.median(p.get(k, 0.0) for p in passes) for k in passes[0]}
    return dict(sorted(medians.items(), key=lambda kv: -kv[1]))
