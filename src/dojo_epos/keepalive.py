"""The WebSocket protocol our servers give uvicorn: keepalive pings the app can steer and time.

ASGI has no message for WebSocket pings: the server answers a client's pings and sends its own
(``ws_ping_interval``), and the app sees neither. The local platform needs both, per socket: a tester
flow pings the EPOS and times the pong (the Keepalive flow), counts the pings the EPOS sends, and an
``ignore-pings`` fault stops the platform answering them. :class:`KeepaliveProtocol` is uvicorn's own
websockets (sans-I/O) protocol with those three additions (and a denial response counted as the end
of the handshake, which uvicorn's logs as an error otherwise), offered to the app as an ASGI extension:
``scope["extensions"][KEEPALIVE_EXTENSION]`` is a :class:`SocketKeepalive`. Under a server without
it (another ASGI server, or uvicorn told another ``ws=``) the extension is absent and the app says
what it cannot do instead of pretending.

It is also where a socket's costs are cut (issue 17): its receive queue and writable flag are
:mod:`dojo_epos.lean_async`'s (no deques until used), it stops reading at ``READ_HIGH_WATER``
unread messages rather than after each one, and its transport writes what one turn of the loop
sent with one system call (:mod:`dojo_epos.write_batch`).

Every way the platform is served uses it: :func:`dojo_epos.platform.app.uvicorn_config` (``platform
serve``, each ``--workers`` worker) and :func:`dojo_epos.serving.start_server` (the demo, tests) set
``ws=WS_PROTOCOL``. uvicorn's keepalive (``ws_ping_interval``/``ws_ping_timeout``) is kept as is.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol

from dojo_epos.lean_async import LeanQueue, Signal
from dojo_epos.write_batch import CoalescingTransport

__all__ = ["KEEPALIVE_EXTENSION", "WS_PROTOCOL", "KeepaliveProtocol", "SocketKeepalive"]

#: The ASGI scope extension naming a socket's :class:`SocketKeepalive`.
KEEPALIVE_EXTENSION = "dojo_epos.keepalive"
#: Messages a socket may hold unread by the app before it stops reading (uvicorn's own: one).
READ_HIGH_WATER = 8


class _PongGate(ServerProtocol):
    """websockets' server protocol, whose automatic pongs can be withheld (``answer`` says no)."""

    answer: Callable[[], bool] | None = None

    def send_frame(self, frame: Frame) -> None:
        # The only pongs this protocol sends are the automatic answers to the client's pings
        # (uvicorn never sends a pong of its own), so gating PONG here gates exactly those.
        if frame.opcode is Opcode.PONG and self.answer is not None and not self.answer():
            return
        super().send_frame(frame)


class SocketKeepalive:
    """One socket's keepalive, as the app sees it: ping and time, count pings, withhold pongs."""

    __slots__ = ("_protocol", "last_ping_at", "pings_received")

    def __init__(self, protocol: KeepaliveProtocol) -> None:
        self._protocol = protocol
        #: Pings received from the client so far.
        self.pings_received = 0
        #: When the last one came (``time.monotonic()``), None before the first.
        self.last_ping_at: float | None = None

    def answer_pings_when(self, answer: Callable[[], bool]) -> None:
        """Ask ``answer()`` at each ping from the client; a pong is sent only when it says True."""
        gate = self._protocol.conn
        assert isinstance(gate, _PongGate)
        gate.answer = answer

    async def ping(self, timeout: float) -> float:
        """Send a ping and wait for its pong: the round trip in seconds.

        TimeoutError when no pong comes within ``timeout``; ConnectionError when the socket is
        not open or closes meanwhile."""
        return await self._protocol.ping_client(timeout)


class KeepaliveProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets protocol plus :class:`SocketKeepalive` (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The ServerProtocol uvicorn built, with every setting it chose, made a _PongGate in place
        # (a subclass adding one method and no state), rather than rebuilt from copied arguments.
        self.conn.__class__ = _PongGate
        # uvicorn's asyncio.Queue and asyncio.Event hold five deques (3.7 KiB) for as long as the
        # socket lives; these do the same jobs with no container until one is needed
        # (:mod:`dojo_epos.lean_async`). Nothing has used them yet: uvicorn fills the queue on
        # the handshake, after this.
        self.queue = LeanQueue()  # type: ignore[assignment]
        self.writable = Signal()  # type: ignore[assignment]
        self.writable.set()
        self.keepalive = SocketKeepalive(self)
        self._pings: dict[bytes, tuple[asyncio.Future[float], float]] = {}

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        # Frames sent in the same turn of the loop go out in one write (dojo_epos.write_batch).
        self.transport = CoalescingTransport(transport, self.loop)  # type: ignore[assignment]

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope: Any = getattr(self, "scope", None)  # absent when the upgrade itself was refused
        if scope is not None:
            # The app's task is created above but runs only after this returns, so it finds it.
            scope["extensions"][KEEPALIVE_EXTENSION] = self.keepalive

    def send_receive_event_to_app(self) -> None:
        # uvicorn stops reading after every message and starts again once the app took it: two
        # epoll_ctl calls a frame (6% of the platform's time at 32 calls in flight, py-spy).
        # Stop at READ_HIGH_WATER unread messages instead; receive() starts again once the app
        # has taken them all, as before.
        paused = self.read_paused
        self.read_paused = True  # uvicorn's method pauses only when not paused already
        try:
            super().send_receive_event_to_app()
        finally:
            self.read_paused = paused
        if not paused and self.queue.qsize() >= READ_HIGH_WATER:
            self.read_paused = True
            self.transport.pause_reading()

    def handle_ping(self) -> None:
        self.keepalive.pings_received += 1
        self.keepalive.last_ping_at = time.monotonic()
        super().handle_ping()  # writes the pong, unless the gate withheld it

    def handle_pong(self, event: Frame) -> None:
        waiter = self._pings.pop(bytes(event.data), None)
        if waiter is None:
            super().handle_pong(event)  # uvicorn's own keepalive ping
            return
        future, sent = waiter
        if not future.done():
            future.set_result(self.loop.time() - sent)

    def connection_lost(self, exc: Exception | None) -> None:
        for future, _sent in self._pings.values():
            if not future.done():
                future.set_exception(ConnectionError("the socket closed before the pong"))
        self._pings.clear()
        super().connection_lost(exc)

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.http.response.body" and not message.get("more_body"):
            # uvicorn's protocol does not count a denial response as the end of the handshake, and
            # logs "ASGI callable returned without completing handshake" at ERROR for every one.
            self.handshake_complete = True

    async def ping_client(self, timeout: float) -> float:
        if self.conn.state is not State.OPEN or self.transport is None or self.transport.is_closing():
            raise ConnectionError("the socket is not open")
        payload = os.urandom(8)
        future: asyncio.Future[float] = self.loop.create_future()
        self._pings[payload] = (future, self.loop.time())
        self.conn.send_ping(payload)
        self.transport.write(b"".join(self.conn.data_to_send()))
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self._pings.pop(payload, None)


#: The ``ws`` protocol class to give uvicorn.
WS_PROTOCOL = KeepaliveProtocol
