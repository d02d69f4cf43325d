"""The benchmark harness: figures, their targets, percentiles, and the report.

A :class:`Figure` is one number a benchmark produced (``value``) next to the bare baseline measured
in the same run (``baseline``); ``ratio`` is always ``value / baseline``, and a :class:`Target`
says which of the two is judged and how. These machines are noisy, so targets are put on ratios
wherever a baseline exists: both sides of a ratio suffer the same noise.

:class:`Report` collects the figures of a run with a description of the machine, writes
``bench-results.json`` and renders the table that ``make bench`` prints.
"""

from __future__ import annotations

import asyncio
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.table import Table

from benchmarks.results import write_json

__all__ = [
    "Config",
    "Figure",
    "Report",
    "Target",
    "closed_loop",
    "combine_loops",
    "machine",
    "percentile",
    "ratio",
    "summarize",
]

#: Bumped when the shape of ``bench-results.json`` changes.
RESULTS_VERSION = 1


@dataclass(frozen=True, slots=True)
class Config:
    """How big and how long: the full run, or ``--quick`` (``BENCH_QUICK=1``) for a smoke run."""

    quick: bool = False
    #: Order counts for the growth benchmark (the first is the one the others are compared with).
    growth_sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    #: Orders in the database behind the REST and WebSocket benchmarks.
    rest_orders: int = 10_000
    #: Seconds of load per REST measurement (after ``warmup`` seconds thrown away).
    load_seconds: float = 8.0
    warmup_seconds: float = 1.0
    #: Connections the HTTP load generator keeps busy.
    http_concurrency: int = 16
    #: Seconds per WebSocket measurement.
    ws_seconds: float = 3.0
    #: Calls per query in the growth benchmark.
    growth_samples: int = 300
    #: Connector sockets in the memory benchmark.
    sockets: int = 10_000
    #: EPOS sockets held at one platform's gateway in the sockets benchmark.
    gateway_sockets: int = 10_000
    #: Runs of each flow.
    flow_runs: int = 10
    #: Where seeded SQLite databases are kept between runs.
    cache_dir: Path = Path("data/bench")
    #: Whether PostgreSQL takes part in the growth benchmark (skipped if unreachable anyway).
    postgres: bool = True

    @classmethod
    def full(cls, **changes: Any) -> Config:
        return cls(**changes)

    @classmethod
    def quick_run(cls, **changes: Any) -> Config:
        values: dict[str, Any] = dict(
            quick=True, growth_sizes=(1_000, 10_000, 50_000), rest_orders=1_000,
            load_seconds=2.0, warmup_seconds=0.5, ws_seconds=1.0, growth_samples=100,
            sockets=1000, flow_runs=3, gateway_sockets=1_000)
        values.update(changes)
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Target:
    """A bound on a figure's ``ratio`` (the usual case) or on its ``value``."""

    subject: Literal["ratio", "value"]
    op: Literal[">=", "<="]
    bound: float

    def met_by(self, figure: Figure) -> bool | None:
        """Whether ``figure`` meets the target; None when the judged number is missing."""
        number = figure.ratio if self.subject == "ratio" else figure.value
        if number is None or math.isnan(number):
            return None
        return number >= self.bound if self.op == ">=" else number <= self.bound

    def __str__(self) -> str:
        return f"{self.subject} {self.op} {self.bound:g}"


def ratio(value: float | None, baseline: float | None) -> float | None:
    """``value / baseline``; None when either is missing or the baseline is zero."""
    if value is None or baseline is None or baseline == 0:
        return None
    return value / baseline


@dataclass
class Figure:
    """One measured number, its same-run baseline, and whether it meets its target."""

    name: str
    value: float | None
    unit: str
    baseline: float | None = None
    target: Target | None = None
    notes: str = ""
    #: Supporting numbers (percentiles, counts) kept in the JSON but not in the table.
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return ratio(self.value, self.baseline)

    @property
    def met(self) -> bool | None:
        """True/False against the target; None for a figure that has no target."""
        return None if self.target is None else self.target.met_by(self)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "value": _rounded(self.value), "baseline": _rounded(self.baseline),
            "ratio": _rounded(self.ratio), "target": None if self.target is None else str(
                self.target), "met": self.met, "unit": self.unit, "notes": self.notes,
            "details": self.details,
        }


def _rounded(number: float | None) -> float | None:
    if number is None or math.isnan(number):
        return None
    return float(f"{number:.4g}") if abs(number) < 1e4 else round(number, 1)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) with linear interpolation between closest ranks (what
    numpy calls ``linear``); ValueError for an empty sequence."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0..100")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarize(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99/mean in milliseconds and the count, for a list of durations in seconds."""
    if not seconds:
        return {"n": 0}
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50_ms": percentile(ms, 50), "p90_ms": percentile(ms, 90),
            "p99_ms": percentile(ms, 99), "mean_ms": sum(ms) / len(ms)}


def machine() -> dict[str, Any]:
    """What the run ran on (absolute numbers mean little without it)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_mb: int | None = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_mb = int(line.split()[1]) // 1024
    except OSError:
        pass
    return {"cpu": cpu, "cpus": os.cpu_count(), "memory_mb": memory_mb,
            "os": platform.platform(), "python": sys.version.split()[0]}


class Report:
    """The figures of one run, plus its context; written as JSON and printed as a table."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.started = datetime.now(UTC)
        self.figures: list[Figure] = []
        self.skipped: dict[str, str] = {}
        self.context: dict[str, Any] = {}

    def add(self, figures: Iterable[Figure]) -> None:
        self.figures.extend(figures)

    def to_json(self, elapsed_seconds: float) -> dict[str, Any]:
        return {
            "version": RESULTS_VERSION,
            "started": self.started.isoformat(timespec="seconds"),
            "elapsed_seconds": round(elapsed_seconds, 1),
            "mode": "quick" if self.config.quick else "full",
            "machine": machine(),
            "context": self.context,
            "skipped": self.skipped,
            "figures": [f.to_json() for f in self.figures],
        }

    def write(self, path: Path, elapsed_seconds: float) -> None:
        """Write the JSON next to ``path`` first and rename, so a reader never sees half a file."""
        write_json(path, self.to_json(elapsed_seconds))

    def table(self) -> Table:
        table = Table(title="dojo-epos benchmarks" + (" (quick)" if self.config.quick else ""))
        numeric = ("value", "baseline", "ratio")
        for column in ("figure", *numeric, "target", "met", "notes"):
            table.add_column(column, overflow="fold",
                             justify="right" if column in numeric else "left")
        for f in self.figures:
            met = {True: "[green]yes[/]", False: "[red]NO[/]", None: "-"}[f.met]
            table.add_row(f.name, _show(f.value, f.unit), _show(f.baseline, f.unit),
                          "-" if f.ratio is None else f"{f.ratio:.3g}",
                          "-" if f.target is None else str(f.target), met, f.notes)
        return table

    def print(self, console: Console | None = None) -> None:
        console = console or Console()
        console.print(self.table())
        for name, reason in self.skipped.items():
            console.print(f"[yellow]skipped[/] {name}: {reason}")


def _show(number: float | None, unit: str) -> str:
    if number is None:
        return "-"
    text = f"{number:,.0f}" if abs(number) >= 100 else f"{number:.3g}"
    return f"{text} {unit}"


async def closed_loop(call: Callable[[], Awaitable[object]], *, concurrency: int, seconds: float,
                      warmup: float = 0.0) -> dict[str, float]:
    """Keep ``concurrency`` calls in flight for ``warmup + seconds``; each worker starts its next
    call when the previous returns. Returns calls per second and latency percentiles (ms) over
    the calls that started after the warm-up."""
    loop = asyncio.get_running_loop()
    start = loop.time() + warmup
    stop = start + seconds
    latencies: list[float] = []

    async def worker() -> None:
        while True:
            began = time.perf_counter()
            now = loop.time()
            if now >= stop:
                return
            await call()
            if now >= start:
                latencies.append(time.perf_counter() - began)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {"rate": len(latencies) / seconds, "concurrency": concurrency, **summarize(latencies)}


#: How :func:`combine_loops` joins a number the rounds share (any other: the rounds' median).
_SUMMED = frozenset({"n", "log_dropped"})
_LARGEST = frozenset({"log_catch_up_ms"})


def combine_loops(rounds: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Rounds of :func:`closed_loop` (equally long) as one: ``rate`` their mean, counts summed,
    the call log's catch-up the longest, each percentile the median of the rounds' (as
    :func:`benchmarks.loadgen.combine` does for wrk); ``rounds_rate`` keeps each round's rate."""
    if not rounds:
        raise ValueError("no rounds to combine")
    out: dict[str, Any] = {}
    for key in rounds[0]:
        values = [r[key] for r in rounds]
        if key == "rate":
            out[key] = sum(values) / len(values)
        elif key in _SUMMED:
            out[key] = sum(values)
        elif key in _LARGEST:
            out[key] = max(values)
        elif key == "concurrency":
            out[key] = values[0]
        else:
            out[key] = statistics.median(values)
    out["rounds_rate"] = [round(r["rate"], 1) for r in rounds]
    return out
