"""The call log's held connection: one check-out for many batches, all of a batch or none of it,
and the connection given back on close and when the call log is idle; on a SQLite file and on
PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from dojo_epos.platform.batch_insert import rows_per_statement
from dojo_epos.platform.calllog import CallLog
from dojo_epos.platform.outcome import InvocationResult
from dojo_epos.platform.schema import calls
from dojo_epos.platform.store import Store
from tests.platform.conftest import scope_of
from tests.platform.test_store_postgres import fresh_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    async with contextlib.AsyncExitStack() as stack:
        url = (f"sqlite:///{tmp_path / 'platform.sqlite3'}" if request.param == "sqlite"
               else await stack.enter_async_context(fresh_database()))
        store = Store(url)
        await store.start()
        try:
            yield store
        finally:
            await store.close()


def _entry(n: int, capability: str | None = "GetOrderById") -> dict[str, Any]:
    return {"capability": capability, "transport": "ws", "outcome": "ok", "detail": f"call {n}",
            "request": {"n": n}, "reply": {"result": {"n": n}}, "duration_ms": 1.0,
            "started_at": datetime.now(UTC), "expected": False}


async def test_many_batches_take_one_connection_from_the_pool(store: Store) -> None:
    """The point of the held connection: a check-out (and BEGIN, and reset) per batch cost the
    event loop as much as the rows themselves."""
    checkouts: list[object] = []
    event.listen(store.engine.sync_engine.pool, "checkout", lambda *a: checkouts.append(a))
    for batch in range(5):
        await store.add_calls([(scope_of(), _entry(batch * 10 + i)) for i in range(10)])
    assert len(checkouts) == 1
    rows = await store.calls(scope_of(), limit=100)
    assert len(rows) == 50  # committed: read through another connection
    assert rows[0].detail == "call 49" and rows[0].reply == {"result": {"n": 49}}


async def test_a_batch_with_a_bad_row_stores_none_of_it_and_the_next_batch_is_stored(
        store: Store) -> None:
    good = [(scope_of(), _entry(1)), (scope_of(), _entry(2))]
    bad = [(scope_of(), _entry(3)), (scope_of(), _entry(4, capability=None)),
           (scope_of(), _entry(5))]
    await store.add_calls(good)
    with pytest.raises(Exception, match="(?i)null"):
        await store.add_calls(bad)
    await store.add_calls([(scope_of(), _entry(6))])
    assert [r.detail for r in await store.calls(scope_of())] == ["call 6", "call 2", "call 1"]


async def test_a_batch_longer_than_one_statement_is_stored_whole_or_not_at_all(
        store: Store) -> None:
    """On SQLite a batch goes as multi-row statements of up to ``rows_per_statement`` rows, all
    in one transaction: a bad row in the last statement leaves none of the batch."""
    size = 2 * rows_per_statement(len(calls.columns) - 1) + 5  # every column but the id
    bad = [(scope_of(), _entry(n, capability=None if n == size - 2 else "GetOrderById"))
           for n in range(size)]
    with pytest.raises(Exception, match="(?i)null"):
        await store.add_calls(bad)
    assert await store.calls(scope_of()) == []
    await store.add_calls([(scope_of(), _entry(n)) for n in range(size)])
    rows = await store.calls(scope_of(), limit=size + 1)
    assert [r.detail for r in rows] == [f"call {n}" for n in reversed(range(size))]
    assert rows[0].request == {"n": size - 1} and rows[-1].reply == {"result": {"n": 0}}


async def test_close_gives_the_held_connection_back(store: Store) -> None:
    await store.add_calls([(scope_of(), _entry(1))])
    pool: Any = store.engine.sync_engine.pool
    assert pool.checkedout() == 1
    await store.release_calls_connection()
    assert pool.checkedout() == 0
    await store.add_calls([(scope_of(), _entry(2))])  # and a later batch checks one out again
    assert len(await store.calls(scope_of())) == 2


async def test_an_idle_call_log_gives_the_held_connection_back(store: Store) -> None:
    """A platform with no calls holds none of its database's connections (the writer gives its
    connection back after ``idle`` seconds), and the next call takes one again."""
    pool: Any = store.engine.sync_engine.pool
    log = CallLog(store, linger=0, idle=0.1)
    try:
        log.record(scope_of(), InvocationResult(capability="GetOrderById", ok=True))
        await log.flush()
        assert pool.checkedout() == 1
        for _ in range(100):
            if not pool.checkedout():
                break
            await asyncio.sleep(0.02)
        assert pool.checkedout() == 0
        log.record(scope_of(), InvocationResult(capability="GetOrderById", ok=True))
        await log.flush()
        assert len(await store.calls(scope_of())) == 2
    finally:
        await log.aclose()


async def test_a_store_in_memory_holds_no_connection() -> None:
    """SQLite in memory is one shared connection: a held one would commit others' transactions."""
    store = Store("sqlite:///:memory:")
    moves: list[int] = []
    event.listen(store.engine.sync_engine.pool, "checkout", lambda *a: moves.append(1))
    event.listen(store.engine.sync_engine.pool, "checkin", lambda *a: moves.append(-1))
    try:
        await store.add_calls([(scope_of(), _entry(1))])
        assert moves and sum(moves) == 0  # the batch's connection went back to the pool
        assert [r.detail for r in await store.calls(scope_of())] == ["call 1"]
    finally:
        await store.close()
