"""The platform lets an idle connection to an EPOS go before the EPOS's server does.

The EPOS here is a plain asyncio HTTP/1.1 server that keeps connections alive but, like a server
whose idle timeout has just fired, closes without answering a request that arrives on a connection
idle for longer than ``SERVER_IDLE`` seconds (what the platform sees when its call crosses the
server's close). With httpx's default expiry (5 s) the second call below reuses the connection and
fails with "Server disconnected"; with :data:`IDLE_EXPIRY` it opens a new one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from dojo_epos.platform.egress import IDLE_EXPIRY, guarded_transport

SERVER_IDLE = IDLE_EXPIRY + 0.3  # gunicorn's default is 2 s; uvicorn's and Node's 5 s

pytestmark = pytest.mark.socket


@pytest.fixture
async def closing_server() -> AsyncIterator[tuple[int, list[int]]]:
    connections: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        idle_since = time.monotonic()
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                if time.monotonic() - idle_since > SERVER_IDLE:
                    return  # the idle timeout won the race: closed, nothing answered
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                await writer.drain()
                idle_since = time.monotonic()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1], connections
    server.close()
    await server.wait_closed()


async def test_a_call_after_an_idle_spell_opens_a_new_connection(
        closing_server: tuple[int, list[int]]) -> None:
    port, connections = closing_server
    async with httpx.AsyncClient(transport=guarded_transport()) as client:
        first = await client.get(f"http://127.0.0.1:{port}/v1/areas")
        again = await client.get(f"http://127.0.0.1:{port}/v1/areas")  # reused: not idle yet
        await asyncio.sleep(SERVER_IDLE + 0.1)
        late = await client.get(f"http://127.0.0.1:{port}/v1/areas")
    assert [first.text, again.text, late.text] == ["ok", "ok", "ok"]
    assert len(connections) == 2  # kept alive while busy, let go once idle


def test_the_expiry_is_below_every_common_servers_idle_timeout() -> None:
    assert IDLE_EXPIRY < 2.0  # gunicorn, the shortest of the common defaults
