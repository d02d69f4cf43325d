"""The WebSocket connector on real loopback sockets, against a fake platform: where the socket is the
point (the handshake's headers, frames on a real socket, many requests at once, stopping).

The fake platform is a ``websockets`` server on 127.0.0.1, port 0, with a JSON-RPC peer per
connection. Waits are on events (state changes, frames), never on the clock; ``asyncio.timeout``
appears only as a safety net against a hang.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request as HttpRequest
from websockets.http11 import Response as HttpResponse

from dojo_epos.contract import models as m
from dojo_epos.epos.connector import Connector, ConnectorState, mask_secret
from dojo_epos.epos.handler import RequestContext
from tests.conformance.handlers import ConformanceHandler

pytestmark = pytest.mark.socket

API_KEY = "sk_sandbox_0123456789abcdefghijklmnopqrstuvwxyz"
SAFETY = 20  # seconds; only to turn a hang into a failure


class FakePlatform:
    """Dojo's side of the socket: accepts connectors and lets a test talk to them."""

    def __init__(self) -> None:
        self.server: Server | None = None
        self.port = 0
        self.handshakes: list[Headers] = []
        self.connections: asyncio.Queue[ServerConnection] = asyncio.Queue()

    async def start(self, port: int = 0) -> None:
        self.server = await serve(self._handle, "127.0.0.1", port,
                                  process_request=self._process_request)
        self.port = self.server.sockets[0].getsockname()[1] if not port else port

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/epos"

    def _process_request(self, connection: ServerConnection,
                         request: HttpRequest) -> HttpResponse | None:
        self.handshakes.append(request.headers)
        return None

    async def _handle(self, connection: ServerConnection) -> None:
        self.connections.put_nowait(connection)
        await connection.wait_closed()

    async def next_connection(self) -> ServerConnection:
        async with asyncio.timeout(SAFETY):
            return await self.connections.get()


async def send_request(conn: ServerConnection, method: str, params: dict[str, Any] | None,
                       request_id: str | None = None) -> str:
    request_id = request_id or str(uuid.uuid4())
    frame: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        frame["params"] = params
    await conn.send(json.dumps(frame))
    return request_id


async def next_reply(conn: ServerConnection) -> dict[str, Any]:
    async with asyncio.timeout(SAFETY):
        reply = json.loads(await conn.recv())
    assert isinstance(reply, dict)
    return reply


async def rpc(conn: ServerConnection, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
    request_id = await send_request(conn, method, params)
    reply = await next_reply(conn)
    assert reply["id"] == request_id
    return reply


class StateLog:
    """Records state changes and lets a test wait for one."""

    def __init__(self) -> None:
        self.states: list[ConnectorState] = []
        self.changed = asyncio.Condition()

    def __call__(self, state: ConnectorState, detail: str | None) -> None:
        self.states.append(state)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def wait_for(self, predicate: Callable[[list[ConnectorState]], bool]) -> None:
        async with asyncio.timeout(SAFETY), self.changed:
            await self.changed.wait_for(lambda: predicate(self.states))


@pytest.fixture
async def platform() -> AsyncIterator[FakePlatform]:
    fake = FakePlatform()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def start_connector() -> AsyncIterator[Callable[..., tuple[Connector, StateLog]]]:
    """Builds connectors with fast backoff, runs them, and stops them all at teardown."""
    running: list[tuple[Connector, asyncio.Task[None]]] = []

    def start(handler: Any, url: str, **kwargs: Any) -> tuple[Connector, StateLog]:
        states = StateLog()
        options = {"backoff_initial": 0.01, "backoff_max": 0.05, "on_state_change": states,
                   **kwargs}
        connector = Connector(handler, url, kwargs.pop("api_key", API_KEY), "shid_1",
                              **{k: v for k, v in options.items() if k != "api_key"})
        running.append((connector, asyncio.ensure_future(connector.run())))
        return connector, states

    yield start
    for connector, task in running:
        await connector.stop()
        await task


class SlowHandler(ConformanceHandler):
    """GetOrderById echoes any id; the id ``slow`` waits until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.slow_started = asyncio.Event()

    async def get_order_by_id(self, params: m.OrderIdParams, ctx: RequestContext) -> m.Order:
        if params.order_id == "slow":
            self.slow_started.set()
            await self.release.wait()
        return m.Order(id=params.order_id, status=m.OrderStatus.NEW,
                       details=m.OrderDetails(order_type=m.OrderType.DINE_IN,
                                              dine_in=m.DineInDetails(table_id="t1")))


# -- handshake and requests -----------------------------------------------------------------

async def test_handshake_sends_the_key_as_is_and_the_ids(platform: FakePlatform,
                                                         start_connector: Any) -> None:
    start_connector(ConformanceHandler(), platform.url, reseller_id="res_1")
    await platform.next_connection()
    headers = platform.handshakes[0]
    assert headers["Authorization"] == f"Basic {API_KEY}"
    assert headers["software-house-id"] == "shid_1"
    assert headers["reseller-id"] == "res_1"


async def test_requests_are_answered_with_method_echoed(platform: FakePlatform,
                                                        start_connector: Any) -> None:
    connector, _ = start_connector(ConformanceHandler(), platform.url)
    conn = await platform.next_connection()
    reply = await rpc(conn, "GetOrderByIdV1", {"orderId": "ord_1", "headers": {}})
    assert reply["method"] == "GetOrderByIdV1"  # spec defect #21
    assert reply["result"]["id"] == "ord_1"
    areas = await rpc(conn, "ListAreasV1", None)  # params may be omitted (spec defect #26)
    assert [a["id"] for a in areas["result"]] == ["a1", "a2"]
    assert connector.state is ConnectorState.CONNECTED
    assert connector.stats.requests == 2 and connector.stats.errors == 0


# Reconnecting (after a drop, a platform down at start, refused keys) is tested in memory, through
# the connector's connect factory: test_connector_reconnect.py.

def test_masked_key_keeps_only_the_environment_and_last_four() -> None:
    assert mask_secret(API_KEY) == "sk_sandbox_…wxyz"
    assert mask_secret("sk_prod_short") == "sk_prod_…"
    assert mask_secret("whatever-secret-value") == "…alue"


# -- bad frames -----------------------------------------------------------------------------

#: (frame, id of the expected error reply or None when the frame cannot be answered)
GARBAGE: list[tuple[str | bytes, Any]] = [
    ("not json at all", None),
    ("[1, 2, 3]", None),
    ('"a string"', None),
    (b"\xff\xfe\x00binary", None),
    (json.dumps({"jsonrpc": "2.0", "method": "GetOrderByIdV1", "params": {}}), None),
    (json.dumps({"jsonrpc": "2.0", "id": None, "method": "GetOrderByIdV1"}), None),
    (json.dumps({"jsonrpc": "2.0", "id": 1.5, "method": "GetOrderByIdV1"}), None),
    (json.dumps({"jsonrpc": "2.0", "id": True, "method": "GetOrderByIdV1"}), None),
    (json.dumps({"jsonrpc": "2.0", "id": {"a": 1}, "method": "GetOrderByIdV1"}), None),
    (json.dumps({"jsonrpc": "2.0", "id": "r1", "result": {}}), None),  # stray reply
    ("x" * (2 * 1024 * 1024), None),  # above the frame limit, below the socket's hard limit
    (json.dumps({"jsonrpc": "2.0", "id": "g1"}), "g1"),  # no method
    (json.dumps({"jsonrpc": "2.0", "id": "g2", "method": "GetOrderByIdV1", "params": [1]}), "g2"),
    (json.dumps({"id": "g3", "method": "GetOrderByIdV1", "params": {}}), "g3"),  # no jsonrpc
    (json.dumps({"jsonrpc": "2.0", "id": 7, "method": "NoSuchMethodV1", "params": {}}), 7),
]


async def test_survives_garbage_frames_and_keeps_answering(platform: FakePlatform,
                                                           start_connector: Any) -> None:
    connector, _ = start_connector(ConformanceHandler(), platform.url)
    conn = await platform.next_connection()
    for frame, _ in GARBAGE:
        await conn.send(frame)
    # Invalid frames are answered (or not) as they are read, so these replies come first, in order.
    for _, expected_id in [g for g in GARBAGE if g[1] is not None]:
        reply = await next_reply(conn)
        assert reply["id"] == expected_id
        assert "result" not in reply
        assert reply["error"]["errorType"] in ("InvalidRequest", "NotFound")
    reply = await rpc(conn, "GetOrderByIdV1", {"orderId": "ord_1", "headers": {}})
    assert reply["result"]["id"] == "ord_1"
    assert connector.stats.reconnects == 0 and platform.connections.empty()
    assert connector.stats.invalid_frames == len(GARBAGE) - 1  # the unknown method is a request
    assert connector.stats.errors == 4


async def test_invalid_params_get_invalid_request_naming_the_field(
    platform: FakePlatform, start_connector: Any
) -> None:
    start_connector(ConformanceHandler(), platform.url)
    conn = await platform.next_connection()
    reply = await rpc(conn, "RecordOrderPaymentByIdV1",
                      {"orderId": "ord_1", "paymentIntentId": "pi", "headers": {}})
    assert reply["error"]["errorType"] == "InvalidRequest"
    assert "paidAmount" in reply["error"]["debugMessage"]


# -- concurrency ----------------------------------------------------------------------------

async def test_hundred_concurrent_requests_answered_by_id_while_one_is_slow(
    platform: FakePlatform, start_connector: Any
) -> None:
    handler = SlowHandler()
    start_connector(handler, platform.url, max_concurrency=8)
    conn = await platform.next_connection()
    slow_id = await send_request(conn, "GetOrderByIdV1", {"orderId": "slow", "headers": {}})
    async with asyncio.timeout(SAFETY):
        await handler.slow_started.wait()
    expected: dict[Any, str] = {}
    for n in range(100):
        request_id = await send_request(conn, "GetOrderByIdV1",
                                        {"orderId": f"ord_{n}", "headers": {}})
        expected[request_id] = f"ord_{n}"
    answered: dict[Any, str] = {}
    while len(answered) < 100:
        reply = await next_reply(conn)
        assert reply["id"] != slow_id, "the slow request cannot finish before it is released"
        answered[reply["id"]] = reply["result"]["id"]
    assert answered == expected
    handler.release.set()
    reply = await next_reply(conn)
    assert reply["id"] == slow_id and reply["result"]["id"] == "slow"


async def test_a_slow_handler_on_one_connector_does_not_block_another(
    platform: FakePlatform, start_connector: Any
) -> None:
    slow, fast = SlowHandler(), SlowHandler()
    start_connector(slow, platform.url, api_key="sk_sandbox_merchant_one_000000")
    conn_slow = await platform.next_connection()
    start_connector(fast, platform.url, api_key="sk_sandbox_merchant_two_000000")
    conn_fast = await platform.next_connection()
    slow_id = await send_request(conn_slow, "GetOrderByIdV1", {"orderId": "slow", "headers": {}})
    async with asyncio.timeout(SAFETY):
        await slow.slow_started.wait()
    reply = await rpc(conn_fast, "GetOrderByIdV1", {"orderId": "ord_1", "headers": {}})
    assert reply["result"]["id"] == "ord_1"
    assert not slow.release.is_set()
    slow.release.set()
    reply = await next_reply(conn_slow)
    assert reply["id"] == slow_id


# -- stopping -------------------------------------------------------------------------------

async def test_graceful_stop_finishes_requests_in_flight(platform: FakePlatform,
                                                         start_connector: Any) -> None:
    handler = SlowHandler()
    connector, states = start_connector(handler, platform.url, grace_period=SAFETY)
    conn = await platform.next_connection()
    slow_id = await send_request(conn, "GetOrderByIdV1", {"orderId": "slow", "headers": {}})
    async with asyncio.timeout(SAFETY):
        await handler.slow_started.wait()
    stopping = asyncio.ensure_future(connector.stop())
    await asyncio.sleep(0)  # let stop() begin: no new requests from here on
    assert not stopping.done()
    handler.release.set()
    reply = await next_reply(conn)
    assert reply["id"] == slow_id and reply["result"]["id"] == "slow"
    async with asyncio.timeout(SAFETY):
        await stopping
        await conn.wait_closed()
    assert connector.state is ConnectorState.STOPPED
    assert states.states[-1] is ConnectorState.STOPPED


async def test_stop_cancels_what_outlives_the_grace_period(platform: FakePlatform,
                                                           start_connector: Any) -> None:
    handler = SlowHandler()
    connector, _ = start_connector(handler, platform.url, grace_period=0.01)
    conn = await platform.next_connection()
    await send_request(conn, "GetOrderByIdV1", {"orderId": "slow", "headers": {}})
    async with asyncio.timeout(SAFETY):
        await handler.slow_started.wait()
        await connector.stop()
        await conn.wait_closed()
    assert connector.state is ConnectorState.STOPPED
    assert not handler.release.is_set()
