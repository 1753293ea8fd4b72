"""How fast the book's explorables answer on the static page, and what each chapter page weighs (issue 12).

Serves a built book (default `_build/html`, from `make book`) on 127.0.0.1 and drives every explorer in headless
Chromium at a phone's width, as tests/test_rendered_book.py does, `--rounds` times; prints, per explorer, its number
of precomputed states, the median and the slowest response (control event → view shown, images decoded, measured
by the page), and per chapter page its own weight (HTML + local images). Goals: median < 100 ms, page ≤ 5 MB.

    make book && .venv/bin/python benchmarks/bench_explorables.py [--html _build/html] [--rounds 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import book_explorers as bx  # noqa: E402
import book_site as bs  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if not (args.html / "index.html").is_file():
        sys.exit(f"--html: no built book at {args.html} (expected index.html there): run `make book` first")
    pages = [p for p in bs.site_pages(args.html) if "mnv3-explorer" in (args.html / p).read_text(errors="replace")]
    times: dict[tuple[str, str], list[float]] = {}
    states: dict[tuple[str, str], int] = {}
    with bs.serve(args.html) as base:
        for _ in range(args.rounds):
            route = bs.offline_route(base.rstrip("/"), [])
            for run in bx.drive_all(base, pages, bs.CHROMIUM, bs.CHROMIUM_FLAGS, route):
                times.setdefault((run.page, run.name), []).extend(m.response_ms for m in run.moves)
                states[(run.page, run.name)] = run.states
    print(f"{'page':38s} {'explorer':22s} {'states':>6s} {'moves':>6s} {'median ms':>10s} {'max ms':>8s}")
    for (page, name), ts in times.items():
        print(f"{page:38s} {name:22s} {states[(page, name)]:6d} {len(ts):6d} {statistics.median(ts):10.1f} "
              f"{max(ts):8.1f}")
    print(f"\n{'chapter page':38s} {'own weight (MB)':>16s}   (goal <= 5 MB)")
    for page in sorted({p for p, _ in times}):
        print(f"{page:38s} {bs.page_weight(args.html, page) / 1e6:16.2f}")


if __name__ == "__main__":
    main()
