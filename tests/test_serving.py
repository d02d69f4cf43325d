"""Servers started through dojo_epos.serving: a WebSocket upgrade with very many headers is
answered 431 at once instead of holding the socket (issue 18 item 8)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from dojo_epos.keepalive import KEEPALIVE_EXTENSION, WS_PROTOCOL, SocketKeepalive
from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
from dojo_epos.platform.app import uvicorn_config
from dojo_epos.serving import HTTP_PROTOCOL, MAX_UPGRADE_HEADERS, Served, start_server


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    platform = Platform(PlatformSettings(db_url=f"sqlite:///{tmp_path / 'p.sqlite3'}",
                                         ping_interval=None))
    await platform.start()
    server = await start_server(build_platform_app(platform=platform), "127.0.0.1", 0,
                                lifespan="off")
    yield server
    await server.stop()
    await platform.close()


async def _upgrade(port: int, extra_headers: int) -> tuple[bytes, float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    extra = "".join(f"X-Pad-{i}: v\r\n" for i in range(extra_headers))
    writer.write((f"GET /epos HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  f"Sec-WebSocket-Version: 13\r\nAuthorization: Basic sk_sandbox_serving0123456789\r\n"
                  f"software-house-id: h\r\n{extra}\r\n").encode())
    started = time.monotonic()
    try:
        answer = await asyncio.wait_for(reader.read(400), 5)
    finally:
        writer.close()
    return answer, time.monotonic() - started


@pytest.mark.socket
@pytest.mark.parametrize("extra_headers", [MAX_UPGRADE_HEADERS, 128, 500])
async def test_an_upgrade_with_too_many_headers_is_answered_431_at_once(
    served: Served, extra_headers: int
) -> None:
    answer, took = await _upgrade(served.port, extra_headers)
    assert answer.startswith(b"HTTP/1.1 431 "), answer
    assert b"request_header_fields_too_large" in answer and took < 2


@pytest.mark.socket
async def test_an_ordinary_upgrade_still_switches_protocols(served: Served) -> None:
    answer, _ = await _upgrade(served.port, 20)
    assert answer.startswith(b"HTTP/1.1 101 "), answer


def test_the_platform_server_uses_the_bounded_protocol_and_the_keepalive_one() -> None:
    """``platform serve`` (and each ``--workers`` worker) gets both protocols from here."""
    config = uvicorn_config(object(), "127.0.0.1", 0, PlatformSettings())  # type: ignore[arg-type]
    assert config.http is HTTP_PROTOCOL and config.ws is WS_PROTOCOL


async def test_every_server_started_here_offers_the_keepalive_extension() -> None:
    """The demo's and the tests' servers hand the app a SocketKeepalive in the scope."""
    seen: list[object] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            seen.append(scope["extensions"].get(KEEPALIVE_EXTENSION))
            await send({"type": "websocket.close", "code": 1000})

    server = await start_server(app, lifespan="off")
    try:
        with contextlib.suppress(Exception):
            async with connect(f"ws://127.0.0.1:{server.port}/"):
                pass
    finally:
        await server.stop()
    [keepalive] = seen
    assert isinstance(keepalive, SocketKeepalive)
