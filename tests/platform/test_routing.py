"""Two workers sharing one database and one bus: any worker reaches the socket another one holds.

Each "worker" is a whole platform served by uvicorn on its own loopback port; both run in this
process, on the shared in-process bus or on NATS (the bus fixture runs every test on both). The
EPOSes are plain ``websockets`` clients, connected to one worker while the calls come to the other.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from dojo_epos.contract.jsonrpc import ErrorReply, Result
from dojo_epos.contract.tester_models import Status
from dojo_epos.platform import CLOSE_REPLACED, Failure, Platform, PlatformSettings, build_platform_app
from dojo_epos.platform.bus import MemoryBus
from dojo_epos.platform.gateway import ConnectionLost
from dojo_epos.platform.routing import _decode_reply
from dojo_epos.serving import Served, start_server
from tests.platform.buses import bus_settings
from tests.platform.conftest import auth_headers, scope_of
from tests.platform.test_gateway import WsEpos, answer_orders, wait_for

pytestmark = pytest.mark.socket


@dataclass
class Worker:
    platform: Platform
    served: Served

    @property
    def base_url(self) -> str:
        return self.served.url

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.served.port}/epos"

    def holds(self) -> bool:
        """Holds the socket and answers for it on the bus: the other worker can reach it (the
        gateway alone holds it a moment before the subscriptions are made)."""
        return self.platform.router.serving(scope_of())


@pytest.fixture
async def workers(tmp_path: Any, bus_kind: str) -> AsyncIterator[tuple[Worker, Worker]]:
    """Two workers, A and B, on one SQLite file and one bus."""
    shared: dict[str, Any] = bus_settings(bus_kind)
    shared.pop("route_local_first", None)  # as in production: local sockets are called directly
    if bus_kind == "memory":
        shared["bus"] = MemoryBus()
    started: list[Worker] = []
    for name in ("A", "B"):
        platform = Platform(PlatformSettings(
            db_url=f"sqlite:///{tmp_path / 'platform.sqlite3'}", call_timeout=5.0,
            ping_interval=None, worker_id=f"worker-{name}", **shared))
        served = await start_server(build_platform_app(platform=platform), ws_ping_interval=None)
        started.append(Worker(platform, served))
    yield started[0], started[1]
    for worker in started:
        await worker.served.stop()


async def put_ws(worker: Worker, names: list[str]) -> None:
    async with httpx.AsyncClient(base_url=worker.base_url) as client:
        response = await client.put("/epos/integrations/ws", headers=auth_headers(),
                                    json={"capabilities": [{"name": n, "version": "v1"} for n in names]})
    assert response.status_code == 200, response.text


async def test_a_call_through_one_worker_reaches_the_socket_held_by_the_other(
    workers: tuple[Worker, Worker],
) -> None:
    a, b = workers
    await put_ws(a, ["GetOrderById"])
    async with connect(a.ws_url, additional_headers=auth_headers()) as ws:
        epos = WsEpos(ws, answer_orders)
        await wait_for(a.holds)
        found = await b.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
        missing = await b.platform.invoke(scope_of(), "GetOrderById", {"orderId": "nope"})
        epos.task.cancel()
    assert found.ok, found.detail
    assert found.transport == "ws" and found.result is not None
    assert missing.failure is Failure.EPOS_ERROR and missing.error is not None
    assert missing.error.error_type.value == "NotFound"
    assert [m["params"].get("orderId") for m in epos.received] == ["ord_1", "nope"]
    assert not b.holds()
    # The call is counted where the socket is, and logged where it was made.
    assert a.platform.gateway.totals.requests_sent == 2
    assert [r.capability for r in b.platform.invoker.recent()] == ["GetOrderById"] * 2
    assert a.platform.invoker.recent() == []
    # The replies come over the bus as the EPOS's own frames: B logs them as the EPOS sent them.
    sent = [json.loads(json.dumps(answer_orders(m))) for m in epos.received]
    assert [r.reply for r in reversed(b.platform.invoker.recent())] == sent


async def test_no_worker_holding_the_socket_is_not_connected(workers: tuple[Worker, Worker]) -> None:
    a, b = workers
    await put_ws(a, ["GetOrderById"])
    outcome = await b.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
    assert outcome.failure is Failure.NOT_CONNECTED
    assert "no EPOS socket is connected" in (outcome.detail or "")
    assert outcome.duration_ms < 1000  # "no responders" is immediate, not a time-out


async def test_the_time_out_is_the_calls_own(workers: tuple[Worker, Worker]) -> None:
    a, b = workers
    await put_ws(a, ["GetOrderById"])
    async with connect(a.ws_url, additional_headers=auth_headers()) as ws:
        epos = WsEpos(ws, lambda message: None)  # silent
        await wait_for(a.holds)
        outcome = await b.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"},
                                          timeout=0.3)
        epos.task.cancel()
    assert outcome.failure is Failure.TIMED_OUT, outcome.detail
    assert 300 <= outcome.duration_ms < 1200
    assert a.platform.gateway.totals.timeouts == 1


async def test_a_newer_socket_on_another_worker_replaces_the_older_with_4000(
    workers: tuple[Worker, Worker],
) -> None:
    a, b = workers
    await put_ws(a, ["GetOrderById"])
    async with connect(a.ws_url, additional_headers=auth_headers()) as first:
        older = WsEpos(first, answer_orders)
        await wait_for(a.holds)
        async with connect(b.ws_url, additional_headers=auth_headers()) as second:
            newer = WsEpos(second, answer_orders)
            await wait_for(lambda: older.closed is not None)
            assert older.closed is not None and older.closed.rcvd is not None
            assert older.closed.rcvd.code == CLOSE_REPLACED
            await wait_for(lambda: not a.holds())
            outcome = await a.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
            assert outcome.ok, outcome.detail
            assert len(newer.received) == 1 and older.received == []
            newer.task.cancel()


async def test_the_dashboard_lists_every_workers_sockets(workers: tuple[Worker, Worker]) -> None:
    a, b = workers
    async with connect(a.ws_url, additional_headers=auth_headers()) as ws:
        epos = WsEpos(ws, answer_orders)
        await wait_for(a.holds)
        stats = await b.platform.router.stats()
        async with httpx.AsyncClient(base_url=b.base_url) as client:
            page = (await client.get("/dashboard/api/sockets")).json()["html"]
        epos.task.cancel()
    assert stats["workers"] == ["worker-A", "worker-B"]
    assert stats["connected"] == 1
    assert [s["worker"] for s in stats["sockets"]] == ["worker-A"]
    assert "worker-A" in page and "1 connected" in page


async def test_a_registration_changed_on_one_worker_is_seen_at_once_by_the_other(
    workers: tuple[Worker, Worker],
) -> None:
    a, b = workers
    await put_ws(a, ["GetOrderById"])
    assert await b.platform.registry.capability_names(scope_of()) == {"GetOrderById"}  # cached
    await put_ws(a, ["SearchTables"])
    for _ in range(200):  # the notice crosses the bus
        if await b.platform.registry.capability_names(scope_of()) == {"SearchTables"}:
            break
        await asyncio.sleep(0.005)
    assert await b.platform.registry.capability_names(scope_of()) == {"SearchTables"}


async def test_a_flow_running_on_one_worker_is_followed_live_from_the_other(
    workers: tuple[Worker, Worker],
) -> None:
    a, b = workers
    gate = asyncio.Event()
    await put_ws(a, ["ListAreas"])

    async def slow_areas(message: dict[str, Any]) -> None:
        await gate.wait()
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": message["id"], "method": message["method"],
                                  "result": [{"id": "A1", "name": "Terrace"}]}))

    async with connect(a.ws_url, additional_headers=auth_headers()) as ws:
        pending: list[asyncio.Task[None]] = []
        epos = WsEpos(ws, lambda m: pending.append(asyncio.create_task(slow_areas(m))) or None)
        await wait_for(a.holds)
        flow_id = await a.platform.tester.start(scope_of(), "List Areas", {})
        await wait_for(lambda: bool(epos.received))
        seen = await b.platform.tester.result(scope_of(), flow_id)
        assert seen is not None and seen.status is Status.IN_PROGRESS  # not "interrupted"
        gate.set()
        final = await asyncio.wait_for(b.platform.tester.wait(scope_of(), flow_id), 10)
        epos.task.cancel()
    assert final is not None
    assert final.status is Status.SUCCESS, final.steps


class _SlowBus(MemoryBus):
    """A bus whose subscriptions take a moment to be made, as NATS's do under load."""

    async def serve(self, subject: str, responder: Any) -> Any:
        await asyncio.sleep(0.05)
        return await super().serve(subject, responder)


@dataclass
class _Conn:
    scope: Any
    connected_at: Any
    closed: bool = False


class _Gateway:
    """What the router asks of the gateway: the live socket of a scope."""

    def __init__(self) -> None:
        self.live: dict[Any, _Conn] = {}
        self.on_attach: Any = None
        self.on_detach: Any = None

    def connection(self, scope: Any) -> _Conn | None:
        return self.live.get(scope)


async def test_two_sockets_attached_at_once_make_one_responder_per_worker() -> None:
    """A second socket attached while the first one's subscription is being made must not add a
    second responder: two in one worker would each send every call on the one socket."""
    from datetime import UTC, datetime

    from dojo_epos.platform.routing import Router, scope_subject

    bus, gateway = _SlowBus(), _Gateway()
    router = Router(gateway, bus, worker_id="w")  # type: ignore[arg-type]
    first, second = (_Conn(scope_of(), datetime.now(UTC)) for _ in range(2))
    gateway.live[scope_of()] = second
    await asyncio.gather(router._attached(first), router._attached(second))  # type: ignore[arg-type]
    assert len(bus._responders.of(scope_subject(scope_of()))) == 1
    await router.close()


async def test_a_socket_is_served_only_once_its_subscriptions_are_made() -> None:
    """Between a socket's attach and its subscriptions the worker holds it but no other worker can
    reach it: ``serving`` says so, and is what a caller waits on before going through the bus."""
    from datetime import UTC, datetime

    from dojo_epos.platform.routing import Router

    bus, gateway = _SlowBus(), _Gateway()
    router = Router(gateway, bus, worker_id="w")  # type: ignore[arg-type]
    conn = gateway.live[scope_of()] = _Conn(scope_of(), datetime.now(UTC))
    attaching = asyncio.create_task(router._attached(conn))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    assert router.holds(scope_of()) and not router.serving(scope_of())
    await attaching
    assert router.serving(scope_of())
    conn.closed = True
    assert not router.serving(scope_of())
    await router.close()


@pytest.mark.parametrize(("payload", "kind"), [
    ({"id": "r1", "frame": '{"jsonrpc":"2.0","id":"r1","result":{"a":1}}'}, Result),
    ({"id": "r1", "frame": '{"jsonrpc":"2.0","id":"r1","error":{"errorType":"NotFound"}}'},
     ErrorReply),
    ({"id": "r1", "result": {"a": 1}}, Result),  # from a worker that had no frame to pass on
])
def test_a_routed_reply_is_read_from_the_frame_it_carries(payload: dict[str, Any], kind: type
                                                          ) -> None:
    reply = _decode_reply(json.dumps(payload).encode(), "GetOrderByIdV1", 5.0)
    assert isinstance(reply, kind) and reply.id == "r1" and reply.method == "GetOrderByIdV1"
    assert reply.frame == payload.get("frame")


@pytest.mark.parametrize("frame", ["{not json", '"a string"', '{"jsonrpc":"2.0","id":"r1"}'])
def test_a_routed_frame_that_is_no_reply_is_a_lost_connection(frame: str) -> None:
    with pytest.raises(ConnectionLost):
        _decode_reply(json.dumps({"id": "r1", "frame": frame}).encode(), "GetOrderByIdV1", 5.0)
