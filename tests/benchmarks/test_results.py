"""A partial run (``--only``) merges its figures into bench-results.json; a full run writes it whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from benchmarks.harness import Config, Figure, Report
from benchmarks.results import merge

from benchmarks import __main__ as bench_main

Values = dict[str, float]


def fake(name: str, values: Values) -> Any:
    """A benchmark that measures nothing: its figures are ``values[name.<figure>]``."""
    async def run(config: Config, report: Report) -> list[Figure]:
        report.context[name] = {"ran": values[f"{name}.a"]}
        return [Figure(key, value, "ms") for key, value in values.items()
                if key.startswith(f"{name}.")]
    return run


@pytest.fixture
def values(monkeypatch: pytest.MonkeyPatch) -> Values:
    """Three fake benchmarks in place of the real ones; change ``values`` to change their figures."""
    found: Values = {"rest.a": 1.0, "rest.b": 2.0, "ws.a": 3.0, "flows.a": 4.0}
    monkeypatch.setattr(bench_main, "BENCHMARKS",
                        {name: fake(name, found) for name in ("rest", "ws", "flows")})
    return found


def figures(path: Path) -> dict[str, float]:
    return {f["name"]: f["value"] for f in json.loads(path.read_text())["figures"]}


async def test_a_partial_run_replaces_only_its_own_figures_and_is_noted(
        values: Values, tmp_path: Path) -> None:
    out = tmp_path / "bench-results.json"
    assert await bench_main.main(["--quick", "--out", str(out)]) == 0
    full = json.loads(out.read_text())
    assert "partial_runs" not in full
    values.update({"ws.a": 30.0, "rest.a": 10.0})  # rest changes too, but is not run again
    assert await bench_main.main(["--quick", "--only", "ws", "--out", str(out)]) == 0
    merged = json.loads(out.read_text())
    assert [f["name"] for f in merged["figures"]] == ["rest.a", "rest.b", "ws.a", "flows.a"]
    assert figures(out) == {"rest.a": 1.0, "rest.b": 2.0, "ws.a": 30.0, "flows.a": 4.0}
    assert merged["context"]["ws"] == {"ran": 30.0} and merged["context"]["rest"] == {"ran": 1.0}
    assert (merged["started"], merged["elapsed_seconds"]) == (full["started"],
                                                              full["elapsed_seconds"])
    (note,) = merged["partial_runs"]
    assert note["benchmarks"] == ["ws"] and note["mode"] == "quick" and "started" in note
    assert await bench_main.main(["--quick", "--out", str(out)]) == 0  # a full run: whole again
    assert "partial_runs" not in json.loads(out.read_text())
    assert figures(out)["rest.a"] == 10.0


async def test_a_partial_run_into_a_file_of_the_other_mode_is_refused_before_it_runs(
        values: Values, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench-results.json"
    assert await bench_main.main(["--quick", "--out", str(out)]) == 0
    before = out.read_text()
    capsys.readouterr()
    assert await bench_main.main(["--only", "ws", "--out", str(out)]) == 2
    assert out.read_text() == before
    printed = capsys.readouterr().out
    assert "a full partial run would mix them" in printed and "ws ..." not in printed


def test_merge_drops_a_benchmarks_old_figures_and_skips_and_adds_new_ones() -> None:
    """A figure the benchmark no longer makes goes; one it makes for the first time comes."""
    existing = {"version": 1, "mode": "full", "figures": [
        {"name": "rest.old", "value": 1}, {"name": "ws.a", "value": 2}],
        "skipped": {"rest.postgresql": "unreachable", "ws.x": "no"}, "context": {"workers_run": 1}}
    run = {"version": 1, "mode": "full", "started": "t", "elapsed_seconds": 1.0, "machine": {},
           "figures": [{"name": "rest.new", "value": 3}, {"name": "memory.a", "value": 4}],
           "skipped": {}, "context": {"rest": {"orders": 5}, "load_generator": "python"}}
    merged = merge(existing, run, ["rest", "memory"])
    assert [f["name"] for f in merged["figures"]] == ["rest.new", "ws.a", "memory.a"]
    assert merged["skipped"] == {"ws.x": "no"}
    assert merged["context"] == {"workers_run": 1, "rest": {"orders": 5}}
    assert merged["partial_runs"][0]["load_generator"] == "python"
    assert merge(None, run, ["rest", "memory"])["partial_runs"][0]["benchmarks"] == [
        "rest", "memory"]
