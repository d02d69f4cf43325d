"""Record and replay, round trip: record a scope's calls, replay them against the same EPOS (all
match), against a changed EPOS (the change is caught, exit 1, JUnit failure), over REST by URL, and
the rules for volatile fields. The CLI runs as a separate process, as in an EPOS engineer's CI."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from dojo_epos.contract.recording import RecordingError, parse_recording
from dojo_epos.epos.rest import build_rest_app
from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
from dojo_epos.replay import MASK, Rules, UrlTarget, diff, exit_code, replay
from tests.platform.conftest import DemoHandler, RestEpos, scope_of
from tests.platform.test_invoke_rest import register_rest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    platform = Platform(PlatformSettings(db_url=f"sqlite:///{tmp_path / 'platform.sqlite3'}",
                                         call_timeout=5.0, ping_interval=None))
    yield platform
    await platform.close()


@pytest.fixture
async def http(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_platform_app(platform=platform))
    async with httpx.AsyncClient(transport=transport, base_url="http://platform") as client:
        yield client


@pytest.fixture
async def recording(http: httpx.AsyncClient, platform: Platform, tmp_path: Path) -> Path:
    """Four calls to the demo EPOS over REST, recorded live (one answered with an EPOSError)."""
    platform.invoker.set_http_transport(httpx.ASGITransport(app=RestEpos(DemoHandler()).app()))
    await register_rest(http, ["GetOrderById", "SearchTables", "ExtendOrderLock"])
    path = tmp_path / "calls.jsonl"
    platform.invoker.recorder.start(scope_of(), path)
    for params in ({"orderId": "ord_1"}, {"orderId": "missing"}):
        await platform.invoke(scope_of(), "GetOrderById", params)
    await platform.invoke(scope_of(), "SearchTables", {})
    await platform.invoke(scope_of(), "ExtendOrderLock", {
        "orderId": "ord_1", "lockId": "l1", "expiry": "2030-01-01T00:00:00Z"})
    platform.invoker.recorder.stop(scope_of())
    return path


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "dojo_epos.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def test_replay_against_the_same_epos_matches_and_exits_0(recording: Path) -> None:
    done = _cli("replay", str(recording), "--handler", "tests.replay_handlers:same")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 matched, 0 differed, 0 skipped" in done.stderr
    assert done.stdout.count("OK ") == 4


def test_replay_catches_a_changed_reply_with_exit_1_and_a_junit_failure(
        recording: Path, tmp_path: Path) -> None:
    report = tmp_path / "replay.xml"
    done = _cli("replay", str(recording), "--handler", "tests.replay_handlers:changed",
                "--junit", str(report))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "DIFF  0001 GetOrderById" in done.stdout
    assert "result.totalAmount.value: 1300, recorded 1250" in done.stdout
    assert "3 matched, 1 differed" in done.stderr
    suite = ET.parse(report).getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("4", "1")
    [failed] = [c for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed.get("name") == "0001 GetOrderById"


def test_a_file_that_is_not_a_recording_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "dojo-epos-recording", "version": 99}\n', encoding="utf-8")
    done = _cli("replay", str(bad), "--handler", "tests.replay_handlers:same")
    assert done.returncode == 2
    assert "version 99 is not supported" in done.stderr
    neither = _cli("replay", str(bad))
    assert neither.returncode == 2 and "--url or --handler" in neither.stderr


async def test_replay_by_url_over_rest(recording: Path) -> None:
    app = build_rest_app(DemoHandler(), username="dojo", password="pw")
    target = UrlTarget("http://epos.test", "dojo", "pw", transport=httpx.ASGITransport(app=app))
    try:
        parsed = parse_recording(recording.read_text(encoding="utf-8").splitlines())
        results = await replay(parsed, target)
    finally:
        await target.aclose()
    assert [r.differences for r in results] == [[], [], [], []]
    assert exit_code(results) == 0


def test_a_replay_that_compared_nothing_is_not_a_pass() -> None:
    """Every call skipped (recorded without an answer), or no call at all: exit 1, not 0."""
    from dojo_epos.replay import CaseResult

    skipped = [CaseResult(1, "GetOrderById", skipped="recorded without an answer (TransportError)")]
    assert exit_code(skipped) == 1
    assert exit_code([]) == 1
    assert exit_code([*skipped, CaseResult(2, "SearchTables")]) == 0
    assert exit_code([CaseResult(1, "GetOrderById", differences=["result.total: 1 != 2"])]) == 1


def test_volatile_fields_timestamps_and_ignored_paths_are_not_compared() -> None:
    rules = Rules(ignore_paths=("result.id", "result.items.*.ref"))
    recorded = {"result": {"id": "ord_9", "at": "2026-12-01T10:00:00+00:00", "total": 5,
                           "items": [{"ref": "a", "n": 1}], "traceId": "t1"}}
    now = {"result": {"id": "ord_10", "at": "2026-12-02T11:30:00.123Z", "total": 5,
                      "items": [{"ref": "b", "n": 1}], "traceId": "t2"}}
    assert diff(rules.normalise(recorded), rules.normalise(now)) == []
    assert rules.normalise(now)["result"]["id"] == MASK
    now["result"]["items"][0]["n"] = 2
    assert diff(rules.normalise(recorded), rules.normalise(now)) == [
        "result.items.0.n: 2, recorded 1"]
    strict = Rules(mask_timestamps=False)
    assert diff(strict.normalise(recorded), strict.normalise(now))[0].startswith("result.at:")


def test_the_reader_names_the_line_it_cannot_read() -> None:
    header = '{"format": "dojo-epos-recording", "version": 1}'
    with pytest.raises(RecordingError, match="line 2: missing params, answer"):
        parse_recording([header, '{"capability": "GetOrderById"}'])
    with pytest.raises(RecordingError, match="line 1: not a dojo-epos-recording"):
        parse_recording(['{"some": "json"}'])
    with pytest.raises(RecordingError, match="empty file"):
        parse_recording([])
