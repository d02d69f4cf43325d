"""Hypothesis-made JSON-RPC frames thrown at the connector (in-memory pair, the reference EPOS on
SQLite behind it) and at the gateway (a real loopback socket).

For every frame: the socket survives (a probe round trip follows every frame, and the connector
never reconnects / the gateway keeps the same connection), a frame the contract says must be
answered is answered once, under its id, in the contract's shape, and the database is unchanged
unless the frame was a valid request that succeeded.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect

from dojo_epos.epos.connector import Connector, ConnectorState
from dojo_epos.epos.reference import ReferenceEpos, open_reference
from dojo_epos.epos.reference.seed import seed_database
from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
from dojo_epos.platform.schema import metadata as platform_metadata
from dojo_epos.testing import MemoryWebSocket, memory_socket_pair
from tests.reliability.conftest import LoopServer
from tests.reliability.figures import FIGURES
from tests.reliability.frames import answerable_id, check_reply_shape, frames
from tests.reliability.rigs import API_KEY, scope_for
from tests.reliability.state import fingerprint

QUICK = settings(max_examples=150, deadline=None, database=None,
                 suppress_health_check=list(HealthCheck))
DEEP = settings(QUICK, max_examples=1500)
WAIT = 10.0


def _decode(text: Any) -> dict[str, Any]:
    """What came back must be a text frame holding a JSON object that can go on a real wire."""
    assert isinstance(text, str), f"binary reply {text!r:.80}"
    text.encode("utf-8")  # a lone surrogate here could never be sent on a real socket
    reply = json.loads(text)
    assert isinstance(reply, dict), text
    return reply


class ConnectorHarness:
    """A connector serving the reference EPOS, its socket's other end held by the test."""

    def __init__(self) -> None:
        self.epos: ReferenceEpos | None = None
        self.connector: Connector | None = None
        self.runner: asyncio.Task[None] | None = None
        self.platform_end: MemoryWebSocket | None = None
        self.connects = 0

    async def start(self, folder: Any) -> None:
        self.epos = await open_reference(f"sqlite:///{folder / 'frames.sqlite3'}")
        await seed_database(self.epos.db)

        async def connect() -> MemoryWebSocket:
            epos_end, self.platform_end = memory_socket_pair()
            self.connects += 1
            return epos_end

        self.connector = Connector(self.epos, "memory://fuzz", API_KEY, "fuzz-house",
                                   connect=connect, backoff_initial=0.01, grace_period=0.5)
        self.runner = asyncio.create_task(self.connector.run())
        async with asyncio.timeout(WAIT):
            while self.connector.state is not ConnectorState.CONNECTED:
                await asyncio.sleep(0.001)

    async def state(self) -> str:
        assert self.epos is not None
        async with self.epos.db.engine.connect() as conn:
            return await fingerprint(conn)

    async def recv(self) -> dict[str, Any]:
        assert self.platform_end is not None
        async with asyncio.timeout(WAIT):
            return _decode(await self.platform_end.recv())

    async def exchange(self, frame: str | bytes) -> None:
        assert self.platform_end is not None
        before = await self.state()
        expected = answerable_id(frame)
        probe = f"probe-{uuid.uuid4()}"
        await self.platform_end.send(frame)
        await self.platform_end.send(json.dumps(
            {"jsonrpc": "2.0", "id": probe, "method": "ListAreasV1", "params": {"headers": {}}}))
        wanted = {probe} | ({expected} if expected is not None else set())
        got: dict[Any, dict[str, Any]] = {}
        while wanted - set(got):
            reply = await self.recv()
            assert reply.get("id") in wanted and reply["id"] not in got, \
                f"unexpected or repeated reply {reply!r:.300} to {frame!r:.200}"
            got[reply["id"]] = reply
        check_reply_shape(got[probe], probe)
        assert "result" in got[probe], got[probe]
        if expected is not None:
            check_reply_shape(got[expected], expected)
        succeeded = expected is not None and "result" in got[expected]
        if not succeeded:
            assert await self.state() == before, f"state changed by a refused frame {frame!r:.200}"
        assert self.connects == 1, "the connector reconnected: a frame broke its socket"

    async def stop(self) -> None:
        if self.connector is not None:
            await self.connector.stop()
        if self.runner is not None:
            await self.runner
        if self.epos is not None:
            await self.epos.aclose()


class GatewayHarness:
    """The platform on a real port, and a plain websockets client playing the EPOS."""

    def __init__(self) -> None:
        self.platform: Platform | None = None
        self.server: LoopServer | None = None
        self.socket: ClientConnection | None = None
        self.connection: Any = None
        self.scope = scope_for("fuzz-house")

    async def start(self, folder: Any) -> None:
        self.platform = Platform(PlatformSettings(
            db_url=f"sqlite:///{folder / 'platform.sqlite3'}", call_timeout=WAIT,
            ping_interval=None))
        await self.platform.start()
        self.server = await LoopServer(build_platform_app(platform=self.platform)).start()
        self.socket = await ws_connect(self.server.ws_url, additional_headers={
            "Authorization": f"Basic {API_KEY}", "software-house-id": "fuzz-house"},
            max_size=None)
        async with asyncio.timeout(WAIT):
            while self.platform.gateway.connection(self.scope) is None:
                await asyncio.sleep(0.001)
        self.connection = self.platform.gateway.connection(self.scope)

    async def state(self) -> str:
        assert self.platform is not None
        async with self.platform.store.engine.connect() as conn:
            return await fingerprint(conn, platform_metadata)

    async def recv(self) -> dict[str, Any]:
        assert self.socket is not None
        async with asyncio.timeout(WAIT):
            return _decode(await self.socket.recv())

    async def exchange(self, frame: str | bytes) -> None:
        assert self.socket is not None and self.platform is not None
        before = await self.state()
        expected = answerable_id(frame)
        await self.socket.send(frame)
        if expected is not None:
            reply = await self.recv()
            check_reply_shape(reply, expected)
            assert "error" in reply, reply  # the platform serves no methods
        # The probe: the platform calls the EPOS over the same socket, and gets its answer.
        call = asyncio.create_task(self.platform.gateway.call(self.scope, "ListAreasV1", None))
        request = await self.recv()
        assert request.get("method") == "ListAreasV1" and "result" not in request, \
            f"unexpected frame {request!r:.300} after {frame!r:.200}"
        await self.socket.send(json.dumps({"jsonrpc": "2.0", "id": request["id"],
                                           "method": "ListAreasV1", "result": []}))
        async with asyncio.timeout(WAIT):
            answer = await call
        assert getattr(answer, "result", None) == []
        assert self.platform.gateway.connection(self.scope) is self.connection, \
            "the gateway lost the socket"
        assert await self.state() == before

    async def stop(self) -> None:
        if self.socket is not None:
            await self.socket.close()
        if self.server is not None:
            await self.server.stop()
        if self.platform is not None:
            await self.platform.close()


@pytest.fixture(scope="module")
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as loop_runner:
        yield loop_runner


@pytest.fixture(scope="module")
def connector_side(runner: asyncio.Runner,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectorHarness]:
    harness = ConnectorHarness()
    runner.run(harness.start(tmp_path_factory.mktemp("connector-frames")))
    yield harness
    runner.run(harness.stop())


@pytest.fixture(scope="module")
def gateway_side(runner: asyncio.Runner,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHarness]:
    harness = GatewayHarness()
    runner.run(harness.start(tmp_path_factory.mktemp("gateway-frames")))
    yield harness
    runner.run(harness.stop())


def _count(frame: str | bytes) -> None:
    FIGURES.requests_tried += 1
    expected = answerable_id(frame)
    if expected is None or not isinstance(frame, str) or '"method": "' not in frame:
        FIGURES.bad_inputs_tried += 1


@QUICK
@given(frame=frames)
def test_connector_answers_or_drops_every_frame_and_keeps_its_socket(
        runner: asyncio.Runner, connector_side: ConnectorHarness, frame: str | bytes) -> None:
    """Any frame: answered in shape when it has a usable id, the socket stays, nothing changes."""
    _count(frame)
    runner.run(connector_side.exchange(frame))


@pytest.mark.socket
@QUICK
@given(frame=frames)
def test_gateway_answers_or_drops_every_frame_and_keeps_the_socket(
        runner: asyncio.Runner, gateway_side: GatewayHarness, frame: str | bytes) -> None:
    """Any frame from an EPOS: answered in shape when it has a usable id, the socket stays."""
    _count(frame)
    runner.run(gateway_side.exchange(frame))


@pytest.mark.slow
@DEEP
@given(frame=frames)
def test_connector_survives_many_more_frames(
        runner: asyncio.Runner, connector_side: ConnectorHarness, frame: str | bytes) -> None:
    """The same property, ten times the examples."""
    _count(frame)
    runner.run(connector_side.exchange(frame))


@pytest.mark.slow
@pytest.mark.socket
@DEEP
@given(frame=frames)
def test_gateway_survives_many_more_frames(
        runner: asyncio.Runner, gateway_side: GatewayHarness, frame: str | bytes) -> None:
    """The same property, ten times the examples."""
    _count(frame)
    runner.run(gateway_side.exchange(frame))
