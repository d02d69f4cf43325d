"""The connector's websockets connection writes several replies with one system call."""

from __future__ import annotations

import asyncio
from typing import Any

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from dojo_epos.epos.batching import BatchingConnection


async def test_send_texts_sends_each_message_in_order_with_one_write() -> None:
    received: list[str] = []
    got_all = asyncio.Event()

    async def handle(ws: ServerConnection) -> None:
        async for message in ws:
            received.append(str(message))
            if len(received) == 4:
                got_all.set()

    async with serve(handle, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}",
                           create_connection=BatchingConnection) as ws:
            assert isinstance(ws, BatchingConnection)
            writes: list[Any] = []
            write = ws.transport.write

            def counting(data: Any) -> None:
                writes.append(data)
                write(data)

            ws.transport.write = counting  # type: ignore[method-assign]
            await ws.send_texts(["one", "two", "thré"])
            assert len(writes) == 1
            await ws.send("four")  # one message: websockets' own path
            await asyncio.wait_for(got_all.wait(), 5)
    assert received == ["one", "two", "thré", "four"]
