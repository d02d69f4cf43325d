"""The connector reconnects: after a drop, when the platform is down at start, after refusals.

In memory, through the connector's ``connect`` factory: each handshake gives the test the
platform's end of an in-memory socket (or raises what ``websockets`` raises for a platform that is
not there or refuses), so no port is involved and nothing waits on the clock beyond the tiny
back-off. The real-socket connector tests are in ``test_connector.py``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus
from websockets.http11 import Response

from dojo_epos.epos.connector import AUTH_REFUSED, Connection, Connector, ConnectorState, mask_secret
from dojo_epos.testing import MemoryWebSocket, memory_socket_pair
from tests.conformance.handlers import ConformanceHandler

API_KEY = "sk_sandbox_0123456789abcdefghijklmnopqrstuvwxyz"
URL = "ws://127.0.0.1:9/epos"
SAFETY = 20  # seconds; only to turn a hang into a failure


class MemoryPlatform:
    """A ``connect`` factory: each handshake fails with ``fail_with`` or opens an in-memory socket
    whose platform end the test takes with :meth:`next_connection`."""

    def __init__(self) -> None:
        self.fail_with: BaseException | None = None
        self.attempts = 0
        self._ends: asyncio.Queue[MemoryWebSocket] = asyncio.Queue()

    async def __call__(self) -> Connection:
        self.attempts += 1
        if self.fail_with is not None:
            raise self.fail_with
        epos_end, platform_end = memory_socket_pair()
        self._ends.put_nowait(platform_end)
        return epos_end

    async def next_connection(self) -> MemoryWebSocket:
        async with asyncio.timeout(SAFETY):
            return await self._ends.get()


async def get_order(conn: MemoryWebSocket, order_id: str = "ord_1") -> dict[str, Any]:
    """One GetOrderByIdV1 request from the platform's end, and its reply."""
    await conn.send(json.dumps({"jsonrpc": "2.0", "id": "r1", "method": "GetOrderByIdV1",
                                "params": {"orderId": order_id, "headers": {}}}))
    async with asyncio.timeout(SAFETY):
        reply = json.loads(await conn.recv())
    assert reply["id"] == "r1", reply
    return reply  # type: ignore[no-any-return]


class StateLog:
    """Records state changes and lets a test wait for one."""

    def __init__(self) -> None:
        self.states: list[ConnectorState] = []
        self.changed = asyncio.Event()

    def __call__(self, state: ConnectorState, detail: str | None) -> None:
        self.states.append(state)
        self.changed.set()

    async def wait_for(self, predicate: Callable[[list[ConnectorState]], bool]) -> None:
        async with asyncio.timeout(SAFETY):
            while not predicate(self.states):
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
async def running() -> AsyncIterator[Callable[..., tuple[Connector, StateLog, MemoryPlatform]]]:
    """Starts connectors on a MemoryPlatform with a tiny back-off; stops them at teardown."""
    started: list[tuple[Connector, asyncio.Task[None]]] = []

    def start(**options: Any) -> tuple[Connector, StateLog, MemoryPlatform]:
        platform, states = MemoryPlatform(), StateLog()
        connector = Connector(ConformanceHandler(), URL, API_KEY, "shid_1", connect=platform,
                              on_state_change=states, backoff_initial=0.001, backoff_max=0.005,
                              jitter=0.0, **options)
        started.append((connector, asyncio.ensure_future(connector.run())))
        return connector, states, platform

    yield start
    for connector, task in started:
        await connector.stop()
        await task


async def test_reconnects_after_the_platform_drops_the_socket(running: Any) -> None:
    connector, states, platform = running()
    first = await platform.next_connection()
    assert (await get_order(first))["result"]["id"] == "ord_1"
    await first.close()
    second = await platform.next_connection()
    assert (await get_order(second, "ord_2"))["result"]["id"] == "ord_2"
    assert platform.attempts == 2 and connector.stats.reconnects >= 1
    assert ConnectorState.DISCONNECTED in states.states
    assert ConnectorState.BACKING_OFF in states.states


async def test_reconnects_when_the_platform_is_down_at_start(running: Any) -> None:
    connector, states, platform = running()
    platform.fail_with = ConnectionRefusedError(111, "Connection refused")
    await states.wait_for(lambda s: s.count(ConnectorState.BACKING_OFF) >= 2)
    assert connector.last_error and f"cannot reach {URL}" in connector.last_error
    assert connector.state is not ConnectorState.CONNECTED
    platform.fail_with = None
    conn = await platform.next_connection()
    assert (await get_order(conn))["result"]["id"] == "ord_1"
    assert connector.last_error is None


async def test_a_refused_key_is_reported_once_and_retried_until_accepted(
    running: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The go-live checklist's first scenario: an invalid key is reported clearly, and the
    connector keeps trying (max_refusals=None) until the platform accepts it."""
    with caplog.at_level(logging.INFO, logger="dojo_epos"):
        connector, states, platform = running(max_refusals=None)
        platform.fail_with = InvalidStatus(Response(401, "Unauthorized", Headers(), b""))
        await states.wait_for(lambda s: s.count(ConnectorState.BACKING_OFF) >= 3)
        assert connector.last_error == AUTH_REFUSED.format(status=401)
        assert connector.state is not ConnectorState.CONNECTED
        platform.fail_with = None
        await platform.next_connection()
        await states.wait_for(lambda s: s[-1] is ConnectorState.CONNECTED)
    assert platform.attempts >= 4
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("authorization refused by the platform (HTTP 401)" in w for w in warnings) == 1
    assert API_KEY not in caplog.text
    assert mask_secret(API_KEY) in caplog.text
