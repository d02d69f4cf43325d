"""Fixtures for the benchmark smoke tests: a tiny configuration and a throwaway cache folder.

These tests run each benchmark end to end at the smallest sizes that still exercise every code
path, and check the records they produce are well formed. They never judge a timing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.harness import Config, Report


@pytest.fixture
def tiny(tmp_path: Path) -> Config:
    return Config.quick_run(
        growth_sizes=(20, 60), rest_orders=50, load_seconds=0.5, warmup_seconds=0.1,
        http_concurrency=2, ws_seconds=0.2, growth_samples=3, sockets=5, flow_runs=1, gateway_sockets=5,
        cache_dir=tmp_path / "cache", postgres=False)


@pytest.fixture
def report(tiny: Config) -> Report:
    return Report(tiny)
