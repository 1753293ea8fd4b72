"""Deployed MobileNets against this CPU's physical limit, measured as ratios in one interleaved run.

For V1, V2, V3-Large and V3-Small (width 1.0, 224×224, batch 1; seeded random weights, `mnv3lib.deploy.networks`):
exports to ONNX (`mnv3lib.deploy.export_networks`), int8 copies calibrated on real digits, then eager PyTorch,
eager + channels_last, (torch.compile with --compile), ONNX Runtime fp32 and int8, and the two matrix products that
set the physical limit (`mnv3lib.limit`), all timed call by call, interleaved. Prints:
  - ORT fp32 V3-Large / physical limit (goal ≤ 1.5), against the best measured matmul rate and against torch.mm's;
  - the int8 speed-up over fp32 per network, and eager / ORT fp32 per network;
  - whether mnv3lib's export is the same graph as torchvision's (tests/test_deploy.py asserts it).

    .venv/bin/python benchmarks/bench_deploy.py                  # 1 thread, 31 interleaved calls each
    .venv/bin/python benchmarks/bench_deploy.py --threads 2 --repeats 61 --compile

Absolute milliseconds depend on the machine and its load; the ratios are the result.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
import torchvision

import mnv3lib
from mnv3lib import deploy, limit

GOAL = 1.5


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=31, help="timed calls per runtime, interleaved")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--compile", action="store_true", help="also time torch.compile (slow to compile)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)  # the exports and calibration too: on a shared machine, fewer is faster

    with tempfile.TemporaryDirectory() as tmp:
        nets = deploy.networks()
        fp32 = deploy.export_networks(tmp)
        int8 = deploy.quantize_networks(fp32, deploy.calibration_images(16, 224))
        print(f"{'network':<9} {'fp32 MB':>8} {'int8 MB':>8}  graph = torchvision's export")
        for name in nets:
            same = _same_graph_as_torchvision(name, fp32[name], Path(tmp))
            print(f"{name:<9} {deploy.file_mb(fp32[name]):>8.1f} {deploy.file_mb(int8[name]):>8.1f}  {same}")
        calls = {n: limit.runners(m, 224, fp32[n], int8[n], compile=args.compile, threads=args.threads)
                 for n, m in nets.items()}
        madds = {n: mnv3lib.madds(m, 224) for n, m in nets.items()}
        limit.ROUNDS["full"] = (args.warmup, args.repeats)
        table = limit.measure_runtimes(calls, madds, threads=args.threads)

    rates = ", ".join(f"{k} {v / 1e9:.1f}" for k, v in table.rates.items())
    print(f"\nbatch 1, 224×224, {args.threads} thread(s), {args.repeats} interleaved calls each; "
          f"matmul GMAC/s: {rates}")
    head = f"{'network':<9} {'MAdds M':>8} {'limit ms':>9}" + "".join(f" {r:>22}" for r in table.runtimes)
    print(head + "\n" + "-" * len(head))
    for n in table.networks:
        cells = "".join(f" {table.ms[n, r]:>10.2f} ms {table.ratio(n, r):>6.2f}×" for r in table.runtimes)
        print(f"{n:<9} {madds[n] / 1e6:>8.1f} {table.limit_ms(n):>9.2f}{cells}")
    print()
    for n in table.networks:
        print(f"{n:<9} int8 speed-up over fp32 {table.ms[n, 'ORT fp32'] / table.ms[n, 'ORT int8']:.2f}×, "
              f"eager / ORT fp32 {table.ms[n, 'eager'] / table.ms[n, 'ORT fp32']:.2f}×")
    ratio = table.ratio("V3-Large", "ORT fp32")
    mm_only = table.ms["V3-Large", "ORT fp32"] / limit.limit_ms(madds["V3-Large"], table.rates["torch.mm"])
    verdict = "meets" if ratio <= GOAL else "MISSES"
    print(f"\nV3-Large ORT fp32 / physical limit: {ratio:.2f}× ({verdict} the goal ≤ {GOAL}); "
          f"against torch.mm's rate alone: {mm_only:.2f}×")
    return 0


def _same_graph_as_torchvision(name: str, ours: Path, tmp: Path) -> str:
    arch = {"V1": None, "V2": "mobilenet_v2", "V3-Large": "mobilenet_v3_large",
            "V3-Small": "mobilenet_v3_small"}[name]
    if arch is None:
        return "(torchvision has no MobileNetV1)"
    theirs = deploy.export_onnx(getattr(torchvision.models, arch)(weights=None).eval(), tmp / f"tv_{arch}.onnx")
    a, b = deploy.onnx_ops(ours), deploy.onnx_ops(theirs)
    return f"same ({sum(a.values())} nodes)" if a == b else f"DIFFERENT: ours {dict(a - b)}, theirs {dict(b - a)}"


if __name__ == "__main__":
    raise SystemExit(main())
