"""Each benchmark runs end to end at a tiny size and produces well-formed figures.

These start real servers and child processes on loopback ports (that is what the benchmarks
measure); no assertion is about how fast anything was.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from benchmarks.datasets import (
    PostgresUnavailable,
    fresh_postgres,
    history_id,
    read_through,
    seeded_sqlite,
)
from benchmarks.harness import Config, Figure, Report
from benchmarks.loadgen import RequestSpec, run_load
from benchmarks.results import owner

from benchmarks import (
    bench_flows,
    bench_growth,
    bench_memory,
    bench_rest,
    bench_sockets,
    bench_ws,
)

pytestmark = pytest.mark.socket


def check(figures: list[Figure], expected: set[str]) -> None:
    """Every expected figure is there, with a finite value, a unit and a consistent record."""
    assert {f.name for f in figures} == expected
    for figure in figures:
        record = figure.to_json()
        assert set(record) >= {"name", "value", "baseline", "ratio", "target", "met", "unit"}
        assert record["value"] is not None and math.isfinite(record["value"]), figure.name
        assert record["value"] >= 0 and record["unit"]
        if figure.baseline:
            assert record["ratio"] == pytest.approx(figure.value / figure.baseline, rel=1e-3)
        if figure.target is None:
            assert record["met"] is None
        else:
            assert isinstance(record["met"], bool)
        json.dumps(record)


async def test_seeded_sqlite_is_cached_and_grown_from_a_smaller_one(tiny: Config) -> None:
    """The first call seeds, the second reuses the file; a bigger size starts from the smaller."""
    path, cached = await seeded_sqlite(tiny.cache_dir, 20)
    assert not cached and path.exists()
    again, cached_again = await seeded_sqlite(tiny.cache_dir, 20)
    assert again == path and cached_again
    bigger, _ = await seeded_sqlite(tiny.cache_dir, 30)
    assert bigger != path and bigger.stat().st_size >= path.stat().st_size
    assert not list(tiny.cache_dir.glob("*.partial*"))


async def test_rest_benchmark_produces_its_figures(tiny: Config, report: Report) -> None:
    """REST: rps, p50, p99 and the in-memory variant for both queries, against the bare app."""
    figures = await bench_rest.run(tiny, report)
    check(figures, {f"rest.{q}.{k}" for q in ("get_order_by_id", "search_orders")
                    for k in ("rps", "p50", "p99", "in_memory_handler.rps")}
          | {"rest.get_order_by_id.no_cache.rps", "rest.get_order_by_id.no_cache.p50"})
    rps = next(f for f in figures if f.name == "rest.get_order_by_id.rps")
    assert rps.target is not None and rps.details["epos"]["errors"] == 0
    assert rps.details["uncached"]["errors"] == 0 and rps.details["uncached"]["requests"] > 0
    targets = {f.name: f.target for f in figures if f.target is not None}
    assert set(targets) == {"rest.get_order_by_id.rps", "rest.get_order_by_id.no_cache.rps",
                            "rest.search_orders.rps"}


async def test_python_load_generator_counts_requests_and_errors(tiny: Config,
                                                                report: Report) -> None:
    """The fallback generator (used when wrk is absent) reports answers, and 401s as errors."""
    path, _ = await seeded_sqlite(tiny.cache_dir, 20)
    from benchmarks.procs import Child

    epos = await Child.start("benchmarks.bench_rest", "epos", {"db_url": f"sqlite:///{path}"})
    try:
        port = (await epos.read())["port"]
        good = bench_rest.specs(20, sample=5)["get_order_by_id"]
        result = await run_load("127.0.0.1", port, good, concurrency=2, seconds=0.3,
                                warmup=0.1, tool="python")
        assert result.tool == "python" and result.requests > 0 and result.errors == 0
        assert result.p50_ms <= result.p99_ms
        anonymous = RequestSpec("GET", (f"/v1/orders/{history_id(1)}",))
        refused = await run_load("127.0.0.1", port, anonymous, concurrency=1, seconds=0.2,
                                 warmup=0.0, tool="python")
        assert refused.requests > 0 and refused.errors == refused.requests
    finally:
        await epos.stop()


async def test_ws_benchmark_produces_its_figures(tiny: Config, report: Report) -> None:
    """WebSocket: gateway round trips at 1 and 32 in flight, both handlers, and Platform.invoke
    over the WebSocket (with the issue's targets) and over REST (against bare HTTP)."""
    figures = await bench_ws.run(tiny, report)
    check(figures, {f"ws.get_order_by_id.{h}.inflight_{n}" for h in ("in_memory", "sqlite")
                    for n in (1, 32)} | {f"ws.{t}.in_memory.inflight_{n}"
                                         for t in ("invoke", "invoke_over_rest") for n in (1, 32)}
                    | {f"ws.plain_peer.{p}.inflight_{n}" for p in ("gateway", "invoke") for n in (1, 32)})
    # Named for the benchmark that makes them: a partial run (--only ws) replaces what its
    # benchmark owns by that prefix, and a figure under another's prefix was left stale.
    assert {owner(f.name) for f in figures} == {"ws"}
    target = next(f for f in figures if f.name == "ws.get_order_by_id.in_memory.inflight_32")
    assert target.target is not None and target.baseline
    assert all(f.target is not None for f in figures if f.name.startswith("ws.invoke."))
    rest = next(f for f in figures if f.name == "ws.invoke_over_rest.in_memory.inflight_32")
    assert rest.baseline and rest.details["bare_http"]["n"] > 0
    # What the call log did during each invoke figure: a writer behind measures less than the path.
    for figure in (f for f in figures if ".invoke." in f.name):  # ws.plain_peer.invoke too
        assert figure.details["invoke"]["log_dropped"] == 0, figure.notes
        assert figure.details["invoke"]["log_catch_up_ms"] >= 0
    # Each figure against the echo of the rounds taken beside it (one round at the tiny size).
    assert report.context["ws"]["rounds"] == bench_ws.rounds_for(tiny.ws_seconds)
    for figure in (f for f in figures if f.name.startswith(("ws.get_order", "ws.invoke.",
                                                            "ws.plain_peer"))):
        echo = figure.details["echo"]
        assert figure.baseline == echo["rate"] and len(echo["rounds_rate"]) >= 1, figure.name


async def test_growth_benchmark_compares_each_size_with_the_smallest(tiny: Config,
                                                                    report: Report) -> None:
    """Growth: one figure per query and larger size; the target sits on the largest size."""
    figures = await bench_growth.run(tiny, report)
    check(figures, {f"growth.sqlite.{q}.60" for q in bench_growth.QUERIES})
    assert all(f.target is not None for f in figures)
    assert report.context["growth"]["sizes"] == [20, 60]
    assert set(report.context["growth"]["os_cache_seconds"]) == {"sqlite.20", "sqlite.60"}


def test_growth_draws_never_repeat_an_order_until_all_are_drawn() -> None:
    draws = bench_growth.Draws(3)
    first = [draws.distinct(50) for _ in range(50)]
    assert sorted(first) == list(range(50))
    assert 0 <= draws.distinct(50) < 50  # then anew
    a, b = bench_growth.Draws(3), bench_growth.Draws(3)
    assert [a.distinct(10**6) for _ in range(5)] == [b.distinct(10**6) for _ in range(5)]


def test_read_through_reads_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * (3 << 20))
    assert read_through(path) >= 0


@pytest.mark.postgres
async def test_growth_benchmark_on_postgresql(tiny: Config, report: Report) -> None:
    """Growth on PostgreSQL: databases created per size and dropped afterwards."""
    try:
        async with fresh_postgres():
            pass
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    config = Config.quick_run(**{**_fields(tiny), "postgres": True})
    figures = await bench_growth.run(config, report)
    names = {f.name for f in figures}
    assert {f"growth.postgresql.{q}.60" for q in bench_growth.QUERIES} <= names
    assert "growth.postgresql" not in report.skipped


def _fields(config: Config) -> dict[str, object]:
    return {name: getattr(config, name) for name in Config.__dataclass_fields__}


async def test_memory_benchmark_produces_its_figures(tiny: Config, report: Report) -> None:
    """Memory: per-socket figures and the whole-process total against the 200 MB target."""
    figures = await bench_memory.run(tiny, report)
    check(figures, {"memory.per_socket.idle", "memory.per_socket.after_one_call",
                    "memory.total_rss"})
    total = next(f for f in figures if f.name == "memory.total_rss")
    assert total.details["connector"]["after"] >= total.details["connector"]["before"] > 0


async def test_sockets_benchmark_produces_its_figures(tiny: Config, report: Report) -> None:
    """Sockets: the platform's RSS with every socket attached, against a bare websockets server;
    a run below 10,000 sockets is not judged against the 400 MiB target."""
    figures = await bench_sockets.run(tiny, report)
    check(figures, {"sockets.gateway.per_socket.idle", "sockets.gateway.per_socket.after_one_call",
                    "sockets.gateway.total_rss"})
    total = next(f for f in figures if f.name == "sockets.gateway.total_rss")
    assert total.target is None
    for side in ("platform", "bare"):
        assert total.details[side]["after"] > 0 and total.details[side]["before"] > 0


async def test_flows_benchmark_produces_its_figures(tiny: Config, report: Report) -> None:
    """Flows: Pay at Table over REST and WS, with the calls of each run found in the call log."""
    figures = await bench_flows.run(tiny, report)
    check(figures, {"flows.pay_at_table.rest", "flows.pay_at_table.ws"})
    for figure in figures:
        (run,) = figure.details["runs"]
        assert run["calls"] >= 5 and 0 < run["calls_ms"] <= run["flow_ms"]
        assert str(figure.target) == "ratio <= 1.1"  # judged, not left for the README to say


def test_main_refuses_an_unknown_benchmark(tmp_path: Path) -> None:
    """``--only`` names must be benchmarks; a typo is a usage error, not an empty run."""
    from benchmarks.__main__ import parse_args

    with pytest.raises(SystemExit):
        parse_args(["--only", "rest,nope"])
    assert parse_args(["--quick", "--only", "ws", "--out", str(tmp_path / "x.json")]).quick
