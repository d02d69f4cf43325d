"""The WebSocket transport: the EPOS dials Dojo and answers JSON-RPC requests on that socket.

A thin loop around :class:`~dojo_epos.contract.jsonrpc.Peer` (which owns all framing): connect,
read frames, run each request through :func:`~dojo_epos.epos.handler.call_handler` in its own task
(bounded by a semaphore, so one slow request never stalls the others and answers go out by id, in
any order), write the replies. Around it: reconnect forever with capped exponential backoff and
jitter, a clear report when the platform refuses the API key (the go-live checklist's first
scenario), and a graceful stop. The connection comes from a factory, so tests and
:mod:`dojo_epos.testing` can hand it an in-memory socket instead of a real one.

The API key is sent as is (``Authorization: Basic <key>``) and never logged: logs show
:func:`mask_secret` of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from dojo_epos.contract.capabilities import UnknownCapability, by_rpc_method
from dojo_epos.contract.errors import EposError, ErrorType, new_trace_id
from dojo_epos.contract.jsonrpc import DEFAULT_MAX_FRAME_BYTES, InvalidFrame, Peer, Request
from dojo_epos.epos.handler import EposHandler, call_handler_json
from dojo_epos.settings import mask_secret

__all__ = [
    "AUTH_REFUSED",
    "Connection",
    "ConnectionFactory",
    "Connector",
    "ConnectorState",
    "ConnectorStats",
    "mask_secret",
]

log = logging.getLogger("dojo_epos.epos.connector")

#: What the connector reports when the handshake is refused for the key (HTTP 401 or 403).
AUTH_REFUSED = "authorization refused by the platform (HTTP {status}): check the API key"


class Connection(Protocol):
    """What the connector needs from a socket: websockets' ClientConnection fits, and so does
    :class:`dojo_epos.testing.MemoryWebSocket`. ``recv`` raises ``ConnectionClosed`` once closed."""

    async def send(self, message: str) -> None: ...

    async def recv(self) -> str | bytes: ...

    async def close(self) -> None: ...


#: Opens one connection (the handshake included); raising means the attempt failed.
ConnectionFactory = Callable[[], Awaitable[Connection]]


class ConnectorState(StrEnum):
    """Where the connector is; each change is logged once and passed to ``on_state_change``."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    BACKING_OFF = "backing off"
    STOPPED = "stopped"


@dataclass
class ConnectorStats:
    """Counters since the connector was created."""

    requests: int = 0
    """Requests received (valid frames with a method)."""
    errors: int = 0
    """Error replies sent, including unknown methods and invalid frames that could be answered."""
    reconnects: int = 0
    """Connection attempts after the first one."""
    invalid_frames: int = 0
    """Frames that were not usable requests (answered when they had an id, else only logged)."""


class Connector:
    """One EPOS's socket to Dojo, for one merchant API key. Run many in one process if needed.

    ``await connector.run()`` keeps the socket up until ``await connector.stop()``.
    """

    def __init__(
        self,
        handler: EposHandler,
        url: str,
        api_key: str,
        software_house_id: str,
        reseller_id: str | None = None,
        *,
        max_concurrency: int = 32,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        jitter: float = 0.2,
        ping_interval: float | None = 20,
        ping_timeout: float | None = 20,
        open_timeout: float | None = 10,
        grace_period: float = 10,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        connect: ConnectionFactory | None = None,
        on_state_change: Callable[[ConnectorState, str | None], None] | None = None,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.handler = handler
        self.url = url
        self.max_concurrency = max_concurrency
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.jitter = jitter
        self.grace_period = grace_period
        self.max_frame_bytes = max_frame_bytes
        self.on_state_change = on_state_change
        self.stats = ConnectorStats()
        self.state = ConnectorState.DISCONNECTED
        #: Why the last connection attempt failed or the socket dropped (never contains the key).
        self.last_error: str | None = None
        self.key_hint = mask_secret(api_key)
        headers = {"Authorization": f"Basic {api_key}", "software-house-id": software_house_id}
        if reseller_id:
            headers["reseller-id"] = reseller_id

        async def default_connect() -> Connection:
            return await ws_connect(
                url,
                additional_headers=headers,
                ping_interval=ping_interval,
                ping_timeout=ping_timeout,
                open_timeout=open_timeout,
                # websockets closes the socket on a frame above max_size; keep that far above our
                # own limit so a merely oversized frame gets a logged refusal, not a reconnect.
                max_size=max_frame_bytes * 16,
            )

        self._connect: ConnectionFactory = connect or default_connect
        self._stop = asyncio.Event()
        self._done = asyncio.Event()
        self._running = False

    # -- lifecycle --------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, serve, and reconnect after any drop, until :meth:`stop`."""
        if self._running:
            raise RuntimeError("this connector is already running")
        self._running = True
        self._done.clear()
        attempt = 0
        try:
            while not self._stop.is_set():
                self._set_state(ConnectorState.CONNECTING,
                                f"{self.url} with key {self.key_hint}")
                conn = await self._open()
                if conn is not None:
                    attempt = 0
                    self.last_error = None
                    self._set_state(ConnectorState.CONNECTED, self.url)
                    reason = await self._serve(conn)
                    self._set_state(ConnectorState.DISCONNECTED, reason)
                if self._stop.is_set():
                    break
                delay = self._backoff(attempt)
                attempt += 1
                self._set_state(ConnectorState.BACKING_OFF, f"retrying in {delay:.1f}s")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
                if not self._stop.is_set():
                    self.stats.reconnects += 1
        finally:
            self._running = False
            self._set_state(ConnectorState.STOPPED, None)
            self._done.set()

    async def stop(self) -> None:
        """Stop taking requests, let those in flight finish (within the grace period), close."""
        self._stop.set()
        if self._running:
            await self._done.wait()
        else:
            self._set_state(ConnectorState.STOPPED, None)

    def _backoff(self, attempt: int) -> float:
        base = min(self.backoff_max, self.backoff_initial * (2**attempt))
        spread = base * self.jitter
        return float(max(0.0, min(self.backoff_max, base + random.uniform(-spread, spread))))

    def _set_state(self, state: ConnectorState, detail: str | None) -> None:
        if state == self.state:
            return
        self.state = state
        if detail:
            log.info("connector %s: %s (%s)", self.key_hint, state.value, detail)
        else:
            log.info("connector %s: %s", self.key_hint, state.value)
        if self.on_state_change is not None:
            try:
                self.on_state_change(state, detail)
            except Exception:
                log.exception("on_state_change callback failed")

    def _failed(self, reason: str) -> None:
        # A long outage repeats the same failure every few seconds: say it once.
        if reason != self.last_error:
            log.warning("connector %s: %s", self.key_hint, reason)
        self.last_error = reason

    async def _open(self) -> Connection | None:
        """One connection attempt; None when it failed or :meth:`stop` came first."""
        attempt = asyncio.ensure_future(self._connect())
        stopped = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({attempt, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if not attempt.done():
            attempt.cancel()
            with contextlib.suppress(BaseException):
                await attempt
            return None
        try:
            conn = attempt.result()
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403):
                self._failed(AUTH_REFUSED.format(status=status))
            else:
                self._failed(f"handshake refused by the platform (HTTP {status})")
            return None
        except Exception as exc:  # any failure to connect is retried, whatever its type
            self._failed(f"cannot connect to {self.url}: {type(exc).__name__}: {exc}")
            return None
        if self._stop.is_set():
            await _close_quietly(conn)
            return None
        return conn

    # -- one connection ---------------------------------------------------------------------

    async def _serve(self, conn: Connection) -> str:
        """Answer requests on ``conn`` until it closes or :meth:`stop`; returns why it ended."""
        session = _Session(self, conn)
        reader = asyncio.ensure_future(session.read_loop())
        stopped = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({reader, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if not reader.done():
            # stop(): take no new requests, give those in flight the grace period, then close.
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            await session.drain(self.grace_period)
            await _close_quietly(conn)
            return "stopped"
        reason = reader.result()
        await session.drain(0)
        await _close_quietly(conn)
        self._failed(reason)
        return reason


class _Session:
    """State of one connection: its peer, its in-flight tasks and the lock that orders writes."""

    def __init__(self, connector: Connector, conn: Connection) -> None:
        self.connector = connector
        self.conn = conn
        self.peer = Peer(max_frame_bytes=connector.max_frame_bytes)
        self.slots = asyncio.Semaphore(connector.max_concurrency)
        self.tasks: set[asyncio.Task[None]] = set()
        self.write_lock = asyncio.Lock()

    async def read_loop(self) -> str:
        stats = self.connector.stats
        while True:
            try:
                frame = await self.conn.recv()
            except ConnectionClosed as exc:
                return f"socket closed ({exc})"
            except Exception as exc:  # a broken transport is a drop, not a crash
                return f"socket failed: {type(exc).__name__}: {exc}"
            self.peer.receive_text(frame)
            for event in self.peer.events_received():
                if isinstance(event, Request):
                    stats.requests += 1
                    await self.start(event)
                elif isinstance(event, InvalidFrame):
                    stats.invalid_frames += 1
                    if self.peer.reply_invalid(event):
                        stats.errors += 1
                        log.info("invalid frame answered (id %r): %s", event.id, event.reason)
                    else:
                        log.warning("invalid frame ignored: %s", event.reason)
                else:  # the EPOS sends no requests, so a reply can only be stray
                    stats.invalid_frames += 1
                    log.warning("unexpected reply frame (id %r) ignored", event.id)
            await self.flush()

    async def start(self, request: Request) -> None:
        try:
            capability = by_rpc_method(request.method)
        except UnknownCapability:
            self.connector.stats.errors += 1
            self.peer.send_error(request.id, request.method, EposError(
                ErrorType.NOT_FOUND, f"unknown method {request.method}", new_trace_id()))
            return
        # Waiting for a slot here is the backpressure: at the limit, the next frame waits unread.
        await self.slots.acquire()
        task = asyncio.ensure_future(self.answer(request, capability))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def answer(self, request: Request, capability: Any) -> None:
        trace_id = new_trace_id()
        try:
            result = await call_handler_json(self.connector.handler, capability, request.params,
                                             transport="ws", trace_id=trace_id)
        except EposError as exc:
            exc.trace_id = exc.trace_id or trace_id
            self.connector.stats.errors += 1
            self.peer.send_error(request.id, request.method, exc)
        except Exception:  # call_handler raises EposError only; belt and braces
            log.exception("request %r failed (trace %s)", request.id, trace_id)
            self.connector.stats.errors += 1
            self.peer.send_error(request.id, request.method, EposError.unexpected(trace_id))
        else:
            self.peer.send_result_json(request.id, request.method, result)
        finally:
            self.slots.release()
        await self.flush()

    async def flush(self) -> None:
        async with self.write_lock:
            for text in self.peer.data_to_send():
                try:
                    await self.conn.send(text)
                except Exception as exc:  # the reader sees the close and ends the session
                    log.debug("reply not sent, socket gone: %s", exc)
                    return

    async def drain(self, grace_period: float) -> None:
        """Wait up to ``grace_period`` for in-flight requests; cancel what remains."""
        pending = set(self.tasks)
        if pending and grace_period > 0:
            _, pending = await asyncio.wait(pending, timeout=grace_period)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("%d request(s) cancelled unanswered at disconnect", len(pending))
            await asyncio.gather(*pending, return_exceptions=True)


async def _close_quietly(conn: Connection) -> None:
    with contextlib.suppress(Exception):
        await conn.close()
