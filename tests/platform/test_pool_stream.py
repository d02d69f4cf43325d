"""The platform's pooled HTTP connections answer "is the idle socket readable?" from the socket
itself (:mod:`dojo_epos.platform.pool_stream`): the same answer as anyio's stream, without the
attribute lookup per question, so a connection the EPOS closed is still never sent on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from dojo_epos.platform.egress import GuardedBackend, guarded_transport
from dojo_epos.platform.pool_stream import QuickReadableStream

pytestmark = pytest.mark.socket


async def _loopback(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


class KeepAliveServer:
    """Answers each request and keeps the connection, until told to close the idle ones."""

    def __init__(self) -> None:
        self.connections = 0
        self.writers: list[asyncio.StreamWriter] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def close_idle(self) -> None:
        for writer in self.writers:
            writer.close()
        self.writers.clear()
        await asyncio.sleep(0.05)  # the FIN reaches the client's socket


@pytest.fixture
async def server() -> AsyncIterator[tuple[KeepAliveServer, int]]:
    rig = KeepAliveServer()
    listening = await asyncio.start_server(rig.handle, "127.0.0.1", 0)
    yield rig, listening.sockets[0].getsockname()[1]
    listening.close()


async def test_readable_is_answered_from_the_socket_as_anyio_answers(server: Any) -> None:
    rig, port = server
    stream = await GuardedBackend(resolve=_loopback).connect_tcp("epos.test", port)
    assert isinstance(stream, QuickReadableStream)
    asked: list[str] = []
    inner_info = stream.inner.get_extra_info
    stream.inner.get_extra_info = lambda info: (asked.append(info), inner_info(info))[1]  # type: ignore[method-assign]
    try:
        assert stream.get_extra_info("is_readable") is False
        assert inner_info("is_readable") is False
        await rig.close_idle()
        assert stream.get_extra_info("is_readable") is True
        assert inner_info("is_readable") is True
        assert asked == []  # never through anyio's attributes
        assert stream.get_extra_info("server_addr") == ("127.0.0.1", port)  # the rest passes on
        assert asked == ["server_addr"]
    finally:
        await stream.aclose()


async def test_a_kept_alive_connection_the_epos_closed_is_not_sent_on(server: Any) -> None:
    """If the pool took the closed connection for a live one, the second call would fail with
    "Server disconnected without sending a response"."""
    rig, port = server
    async with httpx.AsyncClient(transport=guarded_transport(_loopback)) as client:
        assert (await client.get(f"http://epos.test:{port}/v1/areas")).text == "ok"
        assert (await client.get(f"http://epos.test:{port}/v1/areas")).text == "ok"
        assert rig.connections == 1  # kept alive and reused
        await rig.close_idle()
        assert (await client.get(f"http://epos.test:{port}/v1/areas")).text == "ok"
        assert rig.connections == 2
