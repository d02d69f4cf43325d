"""The store's small public API that the tester builds on: flow results, URLs, call log."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dojo_epos.platform import Platform, PlatformSettings
from dojo_epos.platform.store import Store, async_url
from tests.platform.conftest import scope_of


async def test_flow_results_round_trip_are_replaced_and_scoped(platform: Platform) -> None:
    """save_flow_result replaces; another scope never sees it; unknown ids are None."""
    store = platform.store
    await store.save_flow_result(scope_of(), "flow-1", {"status": "IN_PROGRESS", "steps": []})
    await store.save_flow_result(scope_of(), "flow-1", {"status": "SUCCESS", "steps": [1]})
    await store.save_flow_result(scope_of(), "flow-2", ["any", "json"])
    assert await store.get_flow_result(scope_of(), "flow-1") == {"status": "SUCCESS",
                                                                 "steps": [1]}
    assert await store.get_flow_result(scope_of(software_house="x"), "flow-1") is None
    assert await store.get_flow_result(scope_of(), "nope") is None
    assert set(await store.flow_ids(scope_of())) == {"flow-1", "flow-2"}


@pytest.mark.parametrize(("url", "expected"), [
    ("sqlite:///data/p.db", "sqlite+aiosqlite:///data/p.db"),
    ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
    ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
    ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
])
def test_plain_database_urls_get_the_async_driver(url: str, expected: str) -> None:
    """The CLI's --db takes the URL people write; the store picks the async driver."""
    assert async_url(url) == expected


async def test_an_in_memory_database_works() -> None:
    """sqlite:// with no file keeps one shared connection, so tables persist between calls."""
    platform = Platform(PlatformSettings(db_url="sqlite://"))
    try:
        await platform.store.save_flow_result(scope_of(), "f", {"ok": True})
        assert await platform.store.get_flow_result(scope_of(), "f") == {"ok": True}
    finally:
        await platform.close()


async def test_a_call_log_from_before_the_expected_column_gains_it(tmp_path: Path) -> None:
    """A platform database created before calls knew whether they were expected still opens; its
    old rows read as not expected and new rows keep the flag."""
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE platform_calls (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                    "environment VARCHAR(16) NOT NULL, key_fingerprint VARCHAR(64) NOT NULL, "
                    "software_house_id VARCHAR(200) NOT NULL, capability VARCHAR(80) NOT NULL, "
                    "transport VARCHAR(8), outcome VARCHAR(32) NOT NULL, detail TEXT, request JSON, "
                    "reply JSON, duration_ms FLOAT NOT NULL, started_at VARCHAR(40) NOT NULL)")
        scope = scope_of()
        old.execute("INSERT INTO platform_calls (environment, key_fingerprint, software_house_id, "
                    "capability, outcome, duration_ms, started_at) VALUES (?, ?, ?, 'GetOrderById', "
                    "'EposErrorReply', 1.0, '2026-01-01T00:00:00Z')",
                    (scope.environment.value, scope.key_fingerprint, scope.software_house_id))
    store = Store(f"sqlite:///{path}")
    try:
        (before,) = await store.calls(scope_of())
        assert before.expected is False
        await store.add_calls([(scope_of(), {
            "capability": "GetOrderById", "transport": "rest", "outcome": "EposErrorReply",
            "detail": None, "request": None, "reply": None, "duration_ms": 1.0,
            "started_at": datetime.now(UTC), "expected": True})])
        newest, _old = await store.calls(scope_of())
        assert newest.expected is True
    finally:
        await store.close()


async def _call_log_round_trip(store: Store) -> None:
    """Shared by the SQLite and PostgreSQL tests: encoded text and plain values read back alike."""
    from dojo_epos.platform.store import EncodedJSON

    order = {"id": "o1", "lines": [{"qty": 2, "name": "Burger \u00e9"}], "total": 12.5}
    base = {"capability": "GetOrderById", "transport": "ws", "outcome": "ok", "detail": None,
            "duration_ms": 1.0, "started_at": datetime.now(UTC), "expected": False}
    await store.add_calls([
        (scope_of(), {**base, "request": EncodedJSON('{"orderId": "o1"}'),
                      "reply": EncodedJSON('{"result": {"id": "o1", "lines": '
                                           '[{"qty": 2, "name": "Burger \\u00e9"}], '
                                           '"total": 12.5}}')}),
        (scope_of(), {**base, "request": {"orderId": "o1"}, "reply": {"result": order}}),
        (scope_of(), {**base, "request": None, "reply": EncodedJSON("7")}),
    ])
    third, second, first = await store.calls(scope_of())
    assert first.request == second.request == {"orderId": "o1"}
    assert first.reply == second.reply == {"result": order}
    assert third.request is None and third.reply == 7


async def test_call_log_rows_take_encoded_json_as_it_is(platform: Platform) -> None:
    """The call log hands the store each request and reply encoded once (store.EncodedJSON):
    stored as that text, not encoded again, and read back as the value."""
    await _call_log_round_trip(platform.store)
