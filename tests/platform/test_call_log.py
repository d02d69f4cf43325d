"""The call log: every invocation is recorded, off the caller's path, and a PUT is seen at once;
a reply is kept as the EPOS sent it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from dojo_epos.platform import Failure, Platform, calllog
from tests.platform.conftest import LiveServer, RestEpos, auth_headers, make_order, scope_of
from tests.platform.test_gateway import register_ws, wait_for, ws_epos
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


# -- what the log keeps of a reply: the EPOS's own text -------------------------------------------


async def _stored_replies(platform: Platform) -> list[str]:
    """The reply column's text as the database holds it, oldest first."""
    await platform.invoker.flush_log()
    async with platform.store.engine.connect() as conn:
        rows = (await conn.exec_driver_sql(
            "SELECT reply FROM platform_calls ORDER BY id")).all()
    return [r[0] for r in rows]


def _odd_order() -> str:
    """An order as another EPOS may write it: its own spacing, an escape where we would write the
    character, and a member the contract does not define."""
    order = json.dumps(make_order().to_wire("ws"), separators=(", ", ": "))
    order = order.replace('"T1"', '"T\\u0031"')  # the table id, spelled with an escape
    return order[:-1] + ', "x-vendor": [1]}'


def _odd_frame(request_id: str) -> str:
    """A reply frame in another EPOS's member order, around :func:`_odd_order`."""
    return f'{{"id": {json.dumps(request_id)}, "result": {_odd_order()}, "jsonrpc": "2.0"}}'


@pytest.mark.socket
async def test_a_websocket_reply_is_logged_as_the_frame_the_epos_sent(live: LiveServer) -> None:
    """Not our reading of it re-encoded: the frame verbatim, in the ring and in the database."""
    sent: list[str] = []

    async def epos(ws: ClientConnection) -> None:
        async for frame in ws:
            sent.append(_odd_frame(json.loads(frame)["id"]))
            await ws.send(sent[-1])

    async with connect(live.ws_url, additional_headers=auth_headers()) as ws:
        task = asyncio.create_task(epos(ws))
        await wait_for(lambda: live.platform.gateway.connection(scope_of()) is not None)
        await register_ws(live, ["GetOrderById"])
        outcome = await live.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
        task.cancel()
    assert outcome.ok, outcome.detail
    assert outcome.reply == {"result": json.loads(sent[0])["result"]}  # the reply as data
    [logged] = live.platform.invoker.recent(scope_of())
    assert logged.reply == json.loads(sent[0]) and logged.reply["result"]["x-vendor"] == [1]
    assert await _stored_replies(live.platform) == sent


async def test_a_rest_body_is_logged_as_the_epos_sent_it(http: httpx.AsyncClient,
                                                        platform: Platform) -> None:
    body = _odd_order().encode()

    async def odd_epos(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    platform.invoker.set_http_transport(httpx.ASGITransport(app=odd_epos))
    await register_rest(http, ["GetOrderById"])
    outcome = await platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
    assert outcome.ok, outcome.detail  # the order is read, the other members ignored
    [stored] = await _stored_replies(platform)
    assert stored == '{"status":200,"body":' + body.decode() + "}"
    assert json.loads(stored) == outcome.reply == {"status": 200, "body": json.loads(body)}


@pytest.mark.socket
async def test_a_reply_frame_longer_than_the_log_keeps_is_noted_not_stored(
    live: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(calllog, "MAX_LOGGED_BYTES", 200)
    monkeypatch.setattr(calllog._bounded_text, "__defaults__", (200,))
    async with ws_epos(live):
        await register_ws(live, ["GetOrderById"])
        outcome = await live.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
    assert outcome.ok
    [logged] = live.platform.invoker.recent(scope_of())
    assert logged.reply["truncated"] is True and logged.reply["jsonBytes"] > 200
    assert logged.reply["excerpt"].startswith('{"jsonrpc": "2.0"')
    [stored] = await _stored_replies(live.platform)
    assert json.loads(stored) == logged.reply
