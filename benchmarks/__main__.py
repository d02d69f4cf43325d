"""``python -m benchmarks`` (what ``make bench`` runs): every benchmark, the table, the JSON.

Options: ``--quick`` (or ``BENCH_QUICK=1``) for small sizes and short runs; ``--only rest,ws`` to
run some of them; ``--out FILE`` (default ``bench-results.json`` at the repository root);
``--no-postgres`` to leave PostgreSQL out of the growth benchmark.

A run of every benchmark writes the file whole. A partial run (``--only``) merges into it: only
its benchmarks' figures are replaced, and the run is noted in ``partial_runs``
(:mod:`benchmarks.results`); it is refused before it starts when the file is of the other mode.

A benchmark that fails is reported (and makes the exit code 1) but does not stop the others; a
missed target is a result, not a failure.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path

from rich.console import Console

from benchmarks import (
    bench_flows,
    bench_growth,
    bench_memory,
    bench_rest,
    bench_sockets,
    bench_workers,
    bench_ws,
)
from benchmarks.harness import RESULTS_VERSION, Config, Figure, Report
from benchmarks.loadgen import wrk_available
from benchmarks.procs import ROOT
from benchmarks.results import MergeRefused, check_mergeable, load, merge, write_json

Bench = Callable[[Config, Report], Awaitable[list[Figure]]]

BENCHMARKS: dict[str, Bench] = {
    "rest": bench_rest.run,
    "ws": bench_ws.run,
    "growth": bench_growth.run,
    "memory": bench_memory.run,
    "flows": bench_flows.run,
    "workers": bench_workers.run,
    "sockets": bench_sockets.run,
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, short runs")
    parser.add_argument("--only", default="", help=f"comma-separated: {', '.join(BENCHMARKS)}")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results.json")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    unknown = set(filter(None, args.only.split(","))) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    return args


async def main(argv: list[str]) -> int:
    args = parse_args(argv)
    quick = args.quick or os.environ.get("BENCH_QUICK", "") not in ("", "0")
    changes = {"cache_dir": ROOT / "data" / "bench", "postgres": not args.no_postgres}
    config = Config.quick_run(**changes) if quick else Config.full(**changes)
    selected = [n for n in BENCHMARKS if not args.only or n in args.only.split(",")]
    partial = selected != list(BENCHMARKS)
    # Piped output (CI logs) would otherwise be cut to 80 columns and fold every row.
    console = Console(width=None if sys.stdout.isatty() else 180)
    existing = None
    if partial:
        try:
            existing = load(args.out)
            check_mergeable(existing, RESULTS_VERSION, "quick" if quick else "full", args.out)
        except MergeRefused as exc:
            console.print(f"[red]error[/]: {exc}")
            return 2
    report = Report(config)
    report.context["load_generator"] = "wrk" if wrk_available() else "python"
    started = time.perf_counter()
    failed = False
    for name in selected:
        console.print(f"[bold]{name}[/] ...")
        began = time.perf_counter()
        try:
            report.add(await BENCHMARKS[name](config, report))
        except Exception as exc:
            failed = True
            traceback.print_exc()
            report.skipped[name] = f"failed: {type(exc).__name__}: {exc}"
        console.print(f"  {name} took {time.perf_counter() - began:.1f} s")
    elapsed = time.perf_counter() - started
    report.print(console)
    if partial:
        merged = merge(existing, report.to_json(elapsed), selected)
        write_json(args.out, merged)
        console.print(f"{len(report.figures)} figures of {', '.join(selected)} in {elapsed:.0f} s; "
                      f"merged into {args.out} ({len(merged['figures'])} figures in all)")
    else:
        report.write(args.out, elapsed)
        console.print(f"{len(report.figures)} figures in {elapsed:.0f} s; written to {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.exit(asyncio.run(main(sys.argv[1:])))
