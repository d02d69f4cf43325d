"""The harness: percentiles, ratios, targets, and the report's JSON and table."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from benchmarks.bench_rest import rounds_for
from benchmarks.harness import (
    Config,
    Figure,
    Report,
    Target,
    closed_loop,
    combine_loops,
    percentile,
    ratio,
)
from benchmarks.loadgen import LoadResult, combine, parse_wrk
from rich.console import Console

from benchmarks import bench_ws


def test_percentile_interpolates_between_ranks() -> None:
    """Linear interpolation, as numpy's default: p50 of 1..4 is 2.5, p99 close to the max."""
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 50) == 2.5
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert math.isclose(percentile(values, 99), 3.97)
    assert percentile([7.0], 99) == 7.0


def test_percentile_refuses_empty_input_and_bad_ranks() -> None:
    """No values or a rank outside 0..100 is an error, not a made-up number."""
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_ratio_is_value_over_baseline_and_none_without_one() -> None:
    """The ratio divides by the baseline; a missing or zero baseline gives no ratio."""
    assert ratio(50.0, 200.0) == 0.25
    assert ratio(1.0, None) is None
    assert ratio(1.0, 0.0) is None
    assert ratio(None, 1.0) is None


def test_targets_judge_the_ratio_or_the_value() -> None:
    """A ratio target reads value/baseline; a value target reads the value alone."""
    at_least = Target("ratio", ">=", 0.35)
    assert Figure("a", 40.0, "req/s", 100.0, at_least).met is True
    assert Figure("a", 30.0, "req/s", 100.0, at_least).met is False
    assert Figure("a", 30.0, "req/s", None, at_least).met is None
    at_most = Target("value", "<=", 200.0)
    assert Figure("m", 199.0, "MiB", 1000.0, at_most).met is True
    assert Figure("m", 201.0, "MiB", 1.0, at_most).met is False
    assert Figure("x", 1.0, "ms").met is None
    assert str(at_least) == "ratio >= 0.35"


def test_report_writes_every_field_of_every_figure(tmp_path: Path) -> None:
    """bench-results.json holds value, baseline, ratio, target, met and unit for each figure."""
    report = Report(Config.quick_run())
    report.add([Figure("rest.x.rps", 350.0, "req/s", 1000.0, Target("ratio", ">=", 0.35), "n"),
                Figure("rest.x.p99", 2.0, "ms", 1.0)])
    report.skipped["growth.postgresql"] = "unreachable"
    out = tmp_path / "bench-results.json"
    report.write(out, 12.3)
    data = json.loads(out.read_text())
    first, second = data["figures"]
    assert first == {"name": "rest.x.rps", "value": 350.0, "baseline": 1000.0, "ratio": 0.35,
                     "target": "ratio >= 0.35", "met": True, "unit": "req/s", "notes": "n",
                     "details": {}}
    assert second["ratio"] == 2.0 and second["met"] is None and second["target"] is None
    assert data["mode"] == "quick" and data["elapsed_seconds"] == 12.3
    assert data["skipped"] == {"growth.postgresql": "unreachable"}
    assert data["machine"]["cpus"] >= 1
    assert not out.with_name(out.name + ".tmp").exists()


def test_report_table_shows_each_figure_and_its_verdict() -> None:
    """The printed table names every figure and marks missed targets."""
    report = Report(Config.quick_run())
    report.add([Figure("ws.fast", 1.0, "calls/s", 10.0, Target("ratio", ">=", 0.5))])
    console = Console(record=True, width=200)
    report.print(console)
    text = console.export_text()
    assert "ws.fast" in text and "NO" in text and "ratio >= 0.5" in text


async def test_closed_loop_keeps_the_asked_concurrency_in_flight() -> None:
    """With n workers the peak of calls in flight is n, and every counted call has a latency."""
    in_flight, peak = 0, 0

    async def call() -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio_sleep()
        in_flight -= 1

    result = await closed_loop(call, concurrency=4, seconds=0.05)
    assert peak == 4
    assert result["n"] > 0 and result["concurrency"] == 4
    assert result["p50_ms"] <= result["p99_ms"]


async def asyncio_sleep() -> None:
    import asyncio

    await asyncio.sleep(0.001)


WRK_OUTPUT = """Running 2s test @ http://127.0.0.1:8000/
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.86ms  500.00us  12.00ms   90.00%
    Req/Sec     8.40k   300.00     9.00k    80.00%
  Latency Distribution
     50%    1.73ms
     75%    2.00ms
     90%  850.00us
     99%    1.20s
  16750 requests in 2.00s, 18.40MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   8375.12
Transfer/sec:      9.20MB
"""


def test_wrk_output_is_parsed_with_units_and_errors() -> None:
    """Percentiles in us/ms/s become milliseconds; non-2xx answers count as errors."""
    result = parse_wrk(WRK_OUTPUT)
    assert result.rps == 8375.12
    assert result.requests == 16750 and result.seconds == 2.0
    assert result.p50_ms == 1.73 and result.p90_ms == 0.85 and result.p99_ms == 1200.0
    assert result.errors == 3


def test_wrk_output_without_a_summary_is_refused() -> None:
    """Output that is not wrk's summary (a crash, a usage message) is an error."""
    with pytest.raises(ValueError):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_rounds_combine_into_one_result_over_the_whole_time() -> None:
    rounds = [LoadResult("wrk", 200, 0, 2.0, 100.0, 5.0, 8.0, 20.0),
              LoadResult("wrk", 600, 1, 2.0, 300.0, 1.0, 2.0, 4.0),
              LoadResult("wrk", 400, 0, 2.0, 200.0, 3.0, 4.0, 9.0)]
    whole = combine(rounds)
    assert (whole.requests, whole.errors, whole.seconds) == (1200, 1, 6.0)
    assert whole.rps == 200.0  # the whole's rate, not a mean of rates
    assert (whole.p50_ms, whole.p90_ms, whole.p99_ms) == (3.0, 4.0, 9.0)
    with pytest.raises(ValueError):
        combine([])


def test_rest_rounds_are_two_seconds_or_more_and_at_most_four() -> None:
    assert [rounds_for(s) for s in (1.0, 2.0, 3.9, 4.0, 8.0, 30.0)] == [1, 1, 1, 2, 4, 4]


def test_ws_rounds_are_a_second_or_more_and_at_most_three() -> None:
    assert [bench_ws.rounds_for(s) for s in (0.5, 1.0, 2.9, 3.0, 30.0)] == [1, 1, 2, 3, 3]


def test_closed_loop_rounds_combine_into_one() -> None:
    """Rates averaged (equal rounds), counts and dropped entries summed, the longest catch-up,
    percentiles the rounds' median; each round's rate kept."""
    rounds = [{"rate": 100.0, "concurrency": 32, "n": 100, "p50_ms": 1.0, "p99_ms": 5.0,
               "log_dropped": 0, "log_catch_up_ms": 3.0},
              {"rate": 300.0, "concurrency": 32, "n": 300, "p50_ms": 3.0, "p99_ms": 9.0,
               "log_dropped": 2, "log_catch_up_ms": 1.0},
              {"rate": 200.0, "concurrency": 32, "n": 200, "p50_ms": 2.0, "p99_ms": 4.0,
               "log_dropped": 1, "log_catch_up_ms": 2.0}]
    whole = combine_loops(rounds)
    assert whole == {"rate": 200.0, "concurrency": 32, "n": 600, "p50_ms": 2.0, "p99_ms": 5.0,
                     "log_dropped": 3, "log_catch_up_ms": 3.0,
                     "rounds_rate": [100.0, 300.0, 200.0]}
    with pytest.raises(ValueError):
        combine_loops([])
