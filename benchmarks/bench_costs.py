"""How long `mnv3lib.madds`, `mnv3lib.cost_table` and `mnv3lib.peak_memory` take: the widgets call them
on every slider move, so the goal is < 50 ms for MobileNetV3-Large (issue 3).

Each call is timed on a freshly built model (no cache to hit), first call and steady state, and
beside it the meta-device trace with forward hooks (`cost_table(..., traced=True)`) that the analytic
walk replaces, and the time to build the model (which a widget pays too).

    .venv/bin/python benchmarks/bench_costs.py
    .venv/bin/python benchmarks/bench_costs.py --repeats 50 --size 320
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

import mnv3lib

GOAL_MS = 50.0
MODELS = ("mobilenet_v3_large", "mobilenet_v3_small", "mobilenet_v2", "mobilenet_v1")


def timed(fn, repeats: int) -> tuple[float, float]:
    """(first call, median of the next `repeats` calls) in milliseconds."""
    times = []
    for _ in range(repeats + 1):
        t = time.perf_counter()
        fn()
        times.append(1e3 * (time.perf_counter() - t))
    return times[0], statistics.median(times[1:])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--size", type=int, default=224)
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"{args.size}×{args.size}, 1 thread; first call / median of {args.repeats} (ms); goal < {GOAL_MS:.0f} ms")
    print(f"{'model':<20} {'build':>7} {'madds':>15} {'cost_table':>15} {'peak_memory':>15} {'traced table':>15}")
    worst = 0.0
    for arch in MODELS:
        t = time.perf_counter()
        model = getattr(mnv3lib, arch)()
        build = 1e3 * (time.perf_counter() - t)
        cells = []
        for fn, reps in ((lambda: mnv3lib.madds(model, args.size), args.repeats),
                         (lambda: mnv3lib.cost_table(model, args.size), args.repeats),
                         (lambda: mnv3lib.peak_memory(model, args.size), args.repeats),
                         (lambda: mnv3lib.cost_table(model, args.size, traced=True), 3)):
            first, median = timed(fn, reps)
            cells.append(f"{first:6.1f} / {median:6.1f}")
            if arch == "mobilenet_v3_large" and len(cells) <= 2:
                worst = max(worst, first, median)
        print(f"{arch:<20} {build:7.1f} " + " ".join(f"{c:>15}" for c in cells))
    verdict = "meets" if worst < GOAL_MS else "MISSES"
    print(f"MobileNetV3-Large madds / cost_table: slowest call {worst:.1f} ms, {verdict} the {GOAL_MS:.0f} ms goal")
    return 0 if worst < GOAL_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
