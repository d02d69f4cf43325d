"""The call log: every invocation is recorded, off the caller's path, and a PUT is seen at once."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from dojo_epos.platform import Failure, Platform
from tests.platform.conftest import RestEpos, scope_of
from tests.platform.test_invoke_rest import register_rest


async def test_every_call_reaches_the_database(http: httpx.AsyncClient, platform: Platform,
                                               rest_epos: RestEpos) -> None:
    platform.invoker.set_http_transport(httpx.ASGITransport(app=rest_epos.app()))
    await register_rest(http, ["GetOrderById"])
    for n in range(25):
        await platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1" if n % 2 else "x"})
    await platform.invoker.flush_log()
    rows = await platform.store.calls(scope_of(), limit=100)
    assert len(rows) == 25
    assert sorted({r.outcome for r in rows}) == ["EposErrorReply", "ok"]
    assert platform.invoker.log_dropped == 0


async def test_a_full_log_queue_drops_and_counts_instead_of_slowing_calls(
    http: httpx.AsyncClient, platform: Platform, rest_epos: RestEpos,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database writer is stuck: calls still succeed, the ring has them all, and the entries
    that do not fit the queue are dropped and counted, not waited for."""
    platform.invoker.calls.queue_size = 2
    platform.invoker.set_http_transport(httpx.ASGITransport(app=rest_epos.app()))
    await register_rest(http, ["GetOrderById"])
    writer_may_go = asyncio.Event()
    write = platform.store.add_calls

    async def stuck_write(batch: list[Any]) -> None:
        await writer_may_go.wait()
        await write(batch)

    monkeypatch.setattr(platform.store, "add_calls", stuck_write)
    for _ in range(10):
        outcome = await platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
        assert outcome.ok
    dropped = platform.invoker.log_dropped
    # The stuck writer holds one batch (the entry it waited for and the queue's 2 it took with it,
    # while it lingered), and 2 more wait in the queue: the rest are dropped.
    assert dropped >= 10 - (1 + 2) - 2
    assert len(platform.invoker.recent(scope_of())) == 10
    writer_may_go.set()
    await platform.invoker.flush_log()
    stored = len(await platform.store.calls(scope_of(), limit=100))
    assert stored == 10 - dropped


async def test_a_new_registration_is_used_by_the_next_call(
    http: httpx.AsyncClient, platform: Platform, rest_epos: RestEpos
) -> None:
    """The registry's cache is dropped on PUT: a capability removed is no longer routed."""
    platform.invoker.set_http_transport(httpx.ASGITransport(app=rest_epos.app()))
    await register_rest(http, ["GetOrderById", "SearchTables"])
    assert (await platform.invoke(scope_of(), "SearchTables", {})).ok
    await register_rest(http, ["GetOrderById"])
    outcome = await platform.invoke(scope_of(), "SearchTables", {})
    assert outcome.failure is Failure.NOT_REGISTERED


async def test_the_writer_batches_calls_and_a_flush_cuts_its_wait_short(
    http: httpx.AsyncClient, platform: Platform, rest_epos: RestEpos,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Calls made while the writer lingers go in one transaction; flush() does not wait it out."""
    platform.invoker.calls.linger = 30.0
    platform.invoker.set_http_transport(httpx.ASGITransport(app=rest_epos.app()))
    await register_rest(http, ["GetOrderById"])
    batches: list[int] = []
    write = platform.store.add_calls

    async def counting_write(batch: list[Any]) -> None:
        batches.append(len(batch))
        await write(batch)

    monkeypatch.setattr(platform.store, "add_calls", counting_write)
    for _ in range(5):
        assert (await platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})).ok
    await asyncio.sleep(0.05)
    assert batches == []  # still lingering
    await asyncio.wait_for(platform.invoker.flush_log(), 5)
    assert batches == [5]
    assert len(await platform.store.calls(scope_of(), limit=100)) == 5
