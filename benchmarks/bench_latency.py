"""mnv3lib's eager CPU latency as a ratio to torchvision's same model, measured in the same run.

For MobileNetV3-Large, MobileNetV3-Small and MobileNetV2 (width 1.0, 224×224, batch 1), the
torchvision model gets mnv3lib's weights (`mnv3lib.to_torchvision`), and the two are timed call by
call, interleaved (`mnv3lib.latency.compare`), so machine drift slows both alike. The goal is a
ratio ≤ 1.05: the readable library must not be slower than the reference implementation.

    .venv/bin/python benchmarks/bench_latency.py                 # 1 thread, 200 interleaved calls each
    .venv/bin/python benchmarks/bench_latency.py --threads 2 --rounds 5

Absolute milliseconds depend on the machine; the ratios are the result.
"""
from __future__ import annotations

import argparse
import statistics

import mnv3lib
from mnv3lib.latency import compare

GOAL = 1.05
MODELS = ("mobilenet_v3_large", "mobilenet_v3_small", "mobilenet_v2")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=200, help="timed calls per model and round")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3, help="independent rounds; the median ratio is reported")
    ap.add_argument("--size", type=int, default=224)
    args = ap.parse_args()

    print(f"batch 1, {args.size}×{args.size}, {args.threads} thread(s), {args.rounds} rounds × "
          f"{args.repeats} interleaved calls; goal: mnv3lib / torchvision ≤ {GOAL}")
    print(f"{'model':<20} {'mnv3lib ms':>10} {'torchvision ms':>14} {'ratio':>7}  rounds")
    worst = 0.0
    for arch in MODELS:
        ours = getattr(mnv3lib, arch)()
        tv = mnv3lib.to_torchvision(ours)
        results = [compare(ours, tv, args.size, ("mnv3lib", "torchvision"), warmup=args.warmup,
                           repeats=args.repeats, threads=args.threads) for _ in range(args.rounds)]
        ratio = statistics.median(r.ratio for r in results)
        ms_ours = statistics.median(r.model.median_ms for r in results)
        ms_tv = statistics.median(r.reference.median_ms for r in results)
        rounds = " ".join(f"{r.ratio:.3f}" for r in results)
        print(f"{arch:<20} {ms_ours:>10.2f} {ms_tv:>14.2f} {ratio:>7.3f}  {rounds}")
        worst = max(worst, ratio)
    verdict = "meets" if worst <= GOAL else "MISSES"
    print(f"worst ratio {worst:.3f}: {verdict} the goal ≤ {GOAL}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
