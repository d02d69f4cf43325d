"""EPOSes with broken socket manners, written with plain ``websockets`` (no dojo-epos EPOS code).

Each :class:`SocketStranger` connects to the platform's ``/epos`` with the handshake headers, answers
every JSON-RPC request with a NotFound EPOSError (the socket flows make no calls), and reconnects
after a close or a refused handshake the way its :class:`Manners` say:

* ``NEVER_RECONNECTS``: one socket; when it closes, the EPOS is gone.
* ``TIGHT_LOOP``: reconnects at once after any close or refusal: no back-off at all.
* ``IGNORES_PINGS``: websockets' automatic pong is switched off (every other manner is good).
* ``NEVER_PINGS``: answers pings but never sends one (``ping_interval=None``).
* ``STEADY``: reconnects after a fixed half-second, never longer (not hammering, not backing off).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from enum import StrEnum
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.frames import Opcode

from tests.platform.conftest import SANDBOX_KEY, SOFTWARE_HOUSE


class Manners(StrEnum):
    NEVER_RECONNECTS = "never-reconnects"
    TIGHT_LOOP = "tight-loop"
    IGNORES_PINGS = "ignores-pings"
    NEVER_PINGS = "never-pings"
    STEADY = "steady"


class SocketStranger:
    """A plain-websockets EPOS with the given manners; ``start()`` returns once it is connected."""

    def __init__(self, url: str, manners: Manners) -> None:
        self.url, self.manners = url, manners
        self.connections = 0
        self.attempts = 0
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    async def start(self) -> SocketStranger:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._connected.wait(), 5)
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        headers = {"Authorization": f"Basic {SANDBOX_KEY}", "software-house-id": SOFTWARE_HOUSE}
        ping_interval = None if self.manners is Manners.NEVER_PINGS else 0.1
        while True:
            self.attempts += 1
            try:
                async with connect(self.url, additional_headers=headers,
                                   ping_interval=ping_interval, ping_timeout=5) as ws:
                    self.connections += 1
                    self._connected.set()
                    if self.manners is Manners.IGNORES_PINGS:
                        _withhold_pongs(ws)
                    await self._answer(ws)
            except InvalidStatus:
                pass  # refused: what happens next is the manners' business
            except (ConnectionClosed, OSError):
                pass
            if self.manners is Manners.NEVER_RECONNECTS:
                return
            if self.manners is Manners.TIGHT_LOOP:
                await asyncio.sleep(0)  # straight back
            else:
                await asyncio.sleep(0.5)

    async def _answer(self, ws: ClientConnection) -> None:
        async for frame in ws:
            message: dict[str, Any] = json.loads(frame)
            if "method" in message and "id" in message:
                await ws.send(json.dumps({
                    "jsonrpc": "2.0", "id": message["id"], "method": message["method"],
                    "error": {"errorType": "NotFound", "debugMessage": "nothing here"}}))


def _withhold_pongs(ws: ClientConnection) -> None:
    """Switch off websockets' automatic answer to a ping (the only pongs it sends)."""
    send_frame = ws.protocol.send_frame

    def gated(frame: Any) -> None:
        if frame.opcode is not Opcode.PONG:
            send_frame(frame)

    ws.protocol.send_frame = gated  # type: ignore[method-assign]
