"""What the connector says is wrong, when it gives up, and how it backs off (issues 13 and 14).

Most tests hand the connector a ``connect`` factory that fails, or opens an in-memory socket that
drops, exactly as a platform would; a few use real sockets where the socket is the point (TLS
spoken to a plain server, a plain-websockets server that accepts then drops, two connectors on
one account scope against the local platform's gateway).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosedError, InvalidStatus, InvalidURI
from websockets.frames import Close
from websockets.http11 import Response

from dojo_epos.epos.connection_state import ConnectionEvent
from dojo_epos.epos.connector import Connection, Connector, ConnectorGaveUp, ConnectorState, Problem
from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
from dojo_epos.serving import start_server
from dojo_epos.settings import DEFAULT_WS_URL
from dojo_epos.testing import memory_socket_pair
from tests.conformance.handlers import ConformanceHandler
from tests.platform.conftest import SANDBOX_KEY, SOFTWARE_HOUSE

KEY = "sk_sandbox_0123456789abcdefghijklmnopqrstuvwxyz"
URL = "ws://127.0.0.1:9/epos"


@pytest.fixture
async def local_platform(tmp_path: Path) -> AsyncIterator[tuple[Platform, str]]:
    """The local platform on a loopback port: (platform, its WebSocket URL)."""
    platform = Platform(PlatformSettings(db_url=f"sqlite:///{tmp_path / 'p.sqlite3'}", ping_interval=None))
    served = await start_server(build_platform_app(platform=platform), lifespan="off")
    yield platform, served.url.replace("http://", "ws://") + "/epos"
    await served.stop()
    await platform.close()


def refusing(status: int, body: bytes = b"") -> Callable[[], Awaitable[Connection]]:
    async def connect() -> Connection:
        raise InvalidStatus(Response(status, "refused", Headers(), body))
    return connect


def raising(exc: BaseException) -> Callable[[], Awaitable[Connection]]:
    async def connect() -> Connection:
        raise exc
    return connect


def make(connect: Callable[[], Awaitable[Connection]], url: str = URL, **options: Any) -> Connector:
    settings: dict[str, Any] = {"backoff_initial": 0.001, "backoff_max": 0.002, "jitter": 0.0}
    return Connector(ConformanceHandler(), url, KEY, "shid_1", connect=connect,
                     **{**settings, **options})


async def run_until_given_up(connector: Connector) -> tuple[ConnectorGaveUp, list[ConnectionEvent]]:
    events = connector.events()
    with pytest.raises(ConnectorGaveUp) as info:
        async with asyncio.timeout(10):
            await connector.run()
    return info.value, [e async for e in events]


@pytest.mark.parametrize(("status", "body", "url", "problem", "words"), [
    (401, b'{"error": "invalid_api_key", "message": "not a Dojo API key"}', URL, Problem.KEY_REFUSED,
     "authorization refused by the platform (HTTP 401): check the API key (not a Dojo API key)"),
    (403, b"", URL, Problem.KEY_REFUSED, "authorization refused by the platform (HTTP 403)"),
    (403, b"", "ws://127.0.0.1:9/wrong", Problem.WRONG_URL,
     "no WebSocket endpoint at ws://127.0.0.1:9/wrong (HTTP 403): the WebSocket endpoint is /epos"),
    (404, b"Not Found", URL, Problem.WRONG_URL, "no WebSocket endpoint at ws://127.0.0.1:9/epos (HTTP 404)"),
    (400, b'{"error": "missing_software_house_id", "message": "software-house-id is required"}', URL,
     Problem.KEY_REFUSED, "HTTP 400): software-house-id is required; check software-house-id"),
])
async def test_a_refusal_is_named_and_stops_after_max_refusals(
    status: int, body: bytes, url: str, problem: Problem, words: str
) -> None:
    attempts = 0
    refuse = refusing(status, body)

    async def connect() -> Connection:
        nonlocal attempts
        attempts += 1
        return await refuse()

    gave_up, events = await run_until_given_up(make(connect, url, max_refusals=3))
    assert attempts == 3
    assert gave_up.problem is problem
    assert words in gave_up.message and "gave up after 3 refused attempt(s)" in gave_up.message
    failed = [e for e in events if e.state is ConnectorState.FAILED]
    assert [e.problem for e in failed] == [problem] * 3
    assert events[-1].state is ConnectorState.STOPPED
    assert KEY not in gave_up.message


@pytest.mark.parametrize(("exc", "url", "words"), [
    (ConnectionRefusedError(111, "Connection refused"), URL,
     "cannot reach ws://127.0.0.1:9/epos (ConnectionRefusedError: [Errno 111] Connection refused); "
     "is `dojo-epos platform serve` running there? For the local platform set "
     "DOJO_WS_URL=ws://127.0.0.1:8000/epos"),
    (socket.gaierror(-2, "Name or service not known"), DEFAULT_WS_URL,
     f"cannot reach {DEFAULT_WS_URL} (gaierror: [Errno -2] Name or service not known); "
     f"{DEFAULT_WS_URL} is real Dojo (the default URL); for the local platform run "
     "`dojo-epos platform serve` and set DOJO_WS_URL=ws://127.0.0.1:8000/epos"),
    (TimeoutError(), URL, "cannot reach ws://127.0.0.1:9/epos (TimeoutError)"),
])
async def test_a_platform_that_is_not_there_is_named_and_retried_without_limit(
    exc: BaseException, url: str, words: str
) -> None:
    connector = make(raising(exc), url, max_refusals=1)
    events = connector.events()
    task = asyncio.ensure_future(connector.run())
    failures: list[ConnectionEvent] = []
    async with asyncio.timeout(10):
        async for event in events:
            if event.state is ConnectorState.FAILED:
                failures.append(event)
                if len(failures) == 5:  # far past max_refusals: not a refusal
                    break
    await connector.stop()
    await task
    assert {e.problem for e in failures} == {Problem.UNREACHABLE}
    assert failures[0].detail is not None and failures[0].detail.startswith(words)


async def test_an_invalid_url_and_a_tls_failure_are_refusals() -> None:
    gave_up, _ = await run_until_given_up(make(raising(InvalidURI("http://x", "scheme isn't ws or wss")),
                                               "http://x", max_refusals=1))
    assert gave_up.problem is Problem.WRONG_URL and "http://x is not a WebSocket URL" in gave_up.message
    import ssl

    gave_up, _ = await run_until_given_up(make(raising(ssl.SSLCertVerificationError(1, "bad cert")),
                                               max_refusals=2))
    assert gave_up.problem is Problem.TLS and "TLS handshake with ws://127.0.0.1:9/epos failed" \
        in gave_up.message


@pytest.mark.socket
async def test_tls_spoken_to_the_plain_local_platform_is_a_tls_error(
    local_platform: tuple[Platform, str]
) -> None:
    url = local_platform[1].replace("ws://", "wss://")
    connector = Connector(ConformanceHandler(), url, KEY, "shid_1", backoff_initial=0.001, max_refusals=1)
    with pytest.raises(ConnectorGaveUp) as info:
        async with asyncio.timeout(10):
            await connector.run()
    assert info.value.problem is Problem.TLS, info.value.message
    assert f"TLS handshake with {url} failed" in info.value.message


# -- back-off ---------------------------------------------------------------------------------

class DroppingPlatform:
    """A connect factory whose sockets the platform closes ``hold`` seconds after the handshake."""

    def __init__(self, hold: Callable[[int], float], close: Close | None = None) -> None:
        self.hold, self.close, self.handshakes = hold, close, 0

    async def __call__(self) -> Connection:
        self.handshakes += 1
        epos_end, platform_end = memory_socket_pair()
        asyncio.get_running_loop().call_later(self.hold(self.handshakes), self._drop, epos_end,
                                              platform_end)
        return epos_end if self.close is None else _Closing(epos_end, self.close)

    @staticmethod
    def _drop(epos_end: Any, platform_end: Any) -> None:
        asyncio.ensure_future(platform_end.close())


class _Closing:
    """An in-memory socket whose close arrives with a close code, as websockets reports it."""

    def __init__(self, inner: Any, close: Close) -> None:
        self.inner, self.close_frame = inner, close

    async def send(self, message: str) -> None:
        await self.inner.send(message)

    async def recv(self) -> str | bytes:
        try:
            return await self.inner.recv()  # type: ignore[no-any-return]
        except Exception:
            raise ConnectionClosedError(self.close_frame, None) from None

    async def close(self) -> None:
        await self.inner.close()


async def backoffs(connector: Connector, count: int) -> list[float]:
    events = connector.events()
    task = asyncio.ensure_future(connector.run())
    delays: list[float] = []
    async with asyncio.timeout(20):
        async for event in events:
            if event.state is ConnectorState.BACKING_OFF:
                assert event.retry_in is not None
                delays.append(event.retry_in)
                if len(delays) == count:
                    break
    await connector.stop()
    await task
    return delays


async def test_accept_then_drop_backs_off_instead_of_reconnecting_at_once() -> None:
    """Issue 14: the back-off used to reset at every handshake, so this reconnected every 0.5 s."""
    platform = DroppingPlatform(lambda n: 0.0)
    connector = make(platform, backoff_initial=0.01, backoff_max=0.08, stable_after=10)
    assert await backoffs(connector, 6) == [0.01, 0.02, 0.04, 0.08, 0.08, 0.08]


async def test_the_back_off_resets_once_a_connection_stayed_up_for_stable_after() -> None:
    # Connections 1-3 drop at once; the 4th stays up past stable_after; the 5th drops at once.
    platform = DroppingPlatform(lambda n: 0.15 if n == 4 else 0.0)
    connector = make(platform, backoff_initial=0.01, backoff_max=1.0, stable_after=0.1)
    assert await backoffs(connector, 5) == [0.01, 0.02, 0.04, 0.01, 0.02]


async def test_replaced_socket_stops_the_connector_by_default() -> None:
    platform = DroppingPlatform(lambda n: 0.0, Close(4000, "replaced by a newer connection"))
    gave_up, events = await run_until_given_up(make(platform))
    assert platform.handshakes == 1
    assert gave_up.problem is Problem.REPLACED
    assert "replaced by a newer socket for the same account (close 4000: replaced by a newer connection)" \
        in gave_up.message
    assert [e.state for e in events][-2:] == [ConnectorState.DISCONNECTED, ConnectorState.STOPPED]


async def test_replaced_socket_can_back_off_long_instead() -> None:
    platform = DroppingPlatform(lambda n: 0.0, Close(4000, "replaced"))
    connector = make(platform, on_replaced="backoff", replaced_backoff=0.05, stable_after=10)
    assert await backoffs(connector, 2) == [0.05, 0.05]


async def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="max_refusals"):
        make(refusing(401), max_refusals=0)
    with pytest.raises(ValueError, match="on_replaced"):
        make(refusing(401), on_replaced="ignore")


# -- real sockets -----------------------------------------------------------------------------

@pytest.mark.socket
async def test_a_plain_server_that_accepts_then_drops_is_not_hammered() -> None:
    handshakes = 0

    async def handler(connection: ServerConnection) -> None:
        nonlocal handshakes
        handshakes += 1
        await connection.close(1011, "dropping you")

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        connector = Connector(ConformanceHandler(), f"ws://127.0.0.1:{port}/epos", KEY, "shid_1",
                              backoff_initial=0.05, backoff_max=5, jitter=0.0, stable_after=5)
        task = asyncio.ensure_future(connector.run())
        await asyncio.sleep(1.0)
        await connector.stop()
        await task
    # 0.05 + 0.1 + 0.2 + 0.4 = 0.75 s: five handshakes in the second, where a reset back-off made 20.
    assert 3 <= handshakes <= 6, handshakes


@pytest.mark.socket
async def test_two_connectors_on_one_scope_do_not_replace_each_other_in_a_loop(
    local_platform: tuple[Platform, str]
) -> None:
    """The newer socket replaces the older (close 4000); the older stops instead of coming back."""
    platform, ws_url = local_platform
    connectors = [Connector(ConformanceHandler(), ws_url, SANDBOX_KEY, SOFTWARE_HOUSE,
                            backoff_initial=0.01, backoff_max=0.05) for _ in range(2)]
    first = asyncio.ensure_future(connectors[0].run())
    async with asyncio.timeout(10):
        while connectors[0].state is not ConnectorState.CONNECTED:
            await asyncio.sleep(0.01)
    second = asyncio.ensure_future(connectors[1].run())
    with pytest.raises(ConnectorGaveUp) as info:
        async with asyncio.timeout(10):
            await first
    assert info.value.problem is Problem.REPLACED
    await asyncio.sleep(0.5)  # what a loop would need to show itself
    assert connectors[1].state is ConnectorState.CONNECTED
    assert [c.stats.connections for c in connectors] == [1, 1]
    assert len(platform.gateway.connections()) == 1
    await connectors[1].stop()
    await second


@pytest.mark.parametrize(("compression", "offered"), [(None, False), ("deflate", True)])
async def test_connector_offers_permessage_deflate_only_when_asked(
        compression: str | None, offered: bool) -> None:
    """Off by default (memory per socket; the spec names no extension), on with "deflate"."""
    seen: asyncio.Queue[str | None] = asyncio.Queue()

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        await seen.put(ws.request.headers.get("Sec-WebSocket-Extensions"))
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        connector = Connector(ConformanceHandler(), f"ws://127.0.0.1:{port}/epos", KEY,
                              SOFTWARE_HOUSE, ping_interval=None, compression=compression)
        task = asyncio.ensure_future(connector.run())
        header = await asyncio.wait_for(seen.get(), 10)
        await connector.stop()
        await task
    assert (header is not None and "permessage-deflate" in header) is offered


def test_connector_refuses_an_unknown_compression() -> None:
    with pytest.raises(ValueError, match="compression"):
        Connector(ConformanceHandler(), URL, KEY, SOFTWARE_HOUSE, compression="gzip")  # type: ignore[arg-type]
