"""The WebSocket transport: the EPOS dials Dojo and answers JSON-RPC requests on that socket.

A thin loop around :class:`~dojo_epos.contract.jsonrpc.Peer` (which owns all framing): connect,
read frames, run each request through :func:`~dojo_epos.epos.handler.call_handler` in its own task
(bounded by a semaphore, so one slow request never stalls the others and answers go out by id, in
any order), write the replies. Around it: reconnect with capped exponential backoff and jitter (the
backoff resets only once a connection has stayed up ``stable_after`` seconds, so a platform that
accepts and drops is not hammered), a clear report of what is wrong (wrong URL or path, refused
key, platform not there, TLS: :func:`~dojo_epos.epos.connection_state.classify_failure`), a bound
on refusals, a socket replaced by a newer one (close code 4000) that stops or backs off long, typed
state events (:meth:`Connector.events`, ``on_event``), and a graceful stop. The connection comes
from a factory, so tests and :mod:`dojo_epos.testing` can hand it an in-memory socket.

The API key is sent as is (``Authorization: Basic <key>``) and never logged: logs show
:func:`mask_secret` of it.

Compression. The connector does not offer permessage-deflate (RFC 7692) unless built with
``compression="deflate"``. Dojo's AsyncAPI document says nothing about WebSocket extensions, so
nothing says its gateway accepts deflate; a client that does not offer it works with any server,
and a server that does accept it gains nothing we can rely on. The costs are certain: each
compressed socket keeps a zlib compressor and decompressor for its whole life (about 57 KiB a
socket idle measured with it against about 22 KiB without, so 10,000 sockets would need about
600 MiB instead of under 300: ``memory.*`` in benchmarks/README.md), and every frame is deflated
and inflated on the event loop. What it would save is bandwidth: an order is about 1.3 KB of
JSON, which deflate takes to about 0.5 KB on its own and to a few dozen bytes when the same order
was sent just before (the context is kept between frames). An EPOS on a metered or slow link with
few sockets can turn it on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal

from websockets.asyncio.client import connect as ws_connect

from dojo_epos.contract.jsonrpc import DEFAULT_MAX_FRAME_BYTES
from dojo_epos.epos.batching import BatchingConnection
from dojo_epos.epos.connection_state import (
    AUTH_REFUSED,
    ConnectionEvent,
    ConnectorGaveUp,
    ConnectorState,
    EventStream,
    Problem,
    classify_failure,
)
from dojo_epos.epos.handler import EposHandler
from dojo_epos.epos.session import Connection, ConnectorStats, Session, close_quietly
from dojo_epos.lean_async import Signal
from dojo_epos.settings import mask_secret

__all__ = [
    "AUTH_REFUSED",
    "Connection",
    "ConnectionEvent",
    "ConnectionFactory",
    "Connector",
    "ConnectorGaveUp",
    "ConnectorState",
    "ConnectorStats",
    "Problem",
    "mask_secret",
]

log = logging.getLogger("dojo_epos.epos.connector")


#: Opens one connection (the handshake included); raising means the attempt failed.
ConnectionFactory = Callable[[], Awaitable[Connection]]


class Connector:
    """One EPOS's socket to Dojo, for one merchant API key. Run many in one process if needed.

    ``await connector.run()`` keeps the socket up until ``await connector.stop()``; it raises
    :class:`ConnectorGaveUp` when it stops by itself: ``max_refusals`` refusals in a row (a refused
    key, a wrong URL, a TLS failure; ``None`` retries for ever), or a socket replaced by a newer one
    for the same scope when ``on_replaced="stop"`` (with ``"backoff"`` it waits ``replaced_backoff``
    seconds and comes back). ``compression="deflate"`` offers permessage-deflate (off by
    default: see the module notes).
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
        stable_after: float = 10.0,
        max_refusals: int | None = 5,
        on_replaced: Literal["stop", "backoff"] = "stop",
        replaced_backoff: float = 300.0,
        ping_interval: float | None = 20,
        ping_timeout: float | None = 20,
        open_timeout: float | None = 10,
        grace_period: float = 10,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        compression: Literal["deflate"] | None = None,
        connect: ConnectionFactory | None = None,
        on_state_change: Callable[[ConnectorState, str | None], None] | None = None,
        on_event: Callable[[ConnectionEvent], None] | None = None,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if max_refusals is not None and max_refusals < 1:
            raise ValueError("max_refusals must be at least 1 (or None: retry for ever)")
        if on_replaced not in ("stop", "backoff"):
            raise ValueError(f"on_replaced must be 'stop' or 'backoff', not {on_replaced!r}")
        if compression not in ("deflate", None):
            raise ValueError(f"compression must be 'deflate' or None, not {compression!r}")
        self.handler = handler
        self.url = url
        self.max_concurrency = max_concurrency
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.jitter = jitter
        #: A connection must stay up this long (seconds) before the backoff starts again from the start.
        self.stable_after = stable_after
        self.max_refusals = max_refusals
        self.on_replaced = on_replaced
        self.replaced_backoff = replaced_backoff
        self.grace_period = grace_period
        self.max_frame_bytes = max_frame_bytes
        self.on_state_change = on_state_change
        self.on_event = on_event
        self.stats = ConnectorStats()
        self.state = ConnectorState.DISCONNECTED
        #: Why the last connection attempt failed or the socket dropped (never contains the key).
        self.last_error: str | None = None
        #: The problem behind :attr:`last_error`.
        self.last_problem: Problem | None = None
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
                # No permessage-deflate unless asked for: see the module notes.
                compression=compression,
                # Replies ready together go out in one write (epos/batching.py).
                create_connection=BatchingConnection,
            )

        self._connect: ConnectionFactory = connect or default_connect
        self._stop = Signal()
        self._done = Signal()
        self._running = False
        self._events = EventStream()
        self._attempt = 0
        self._last_warning: str | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def events(self) -> AsyncIterator[ConnectionEvent]:
        """Every state event from now on, as an async iterator that ends after STOPPED."""
        return self._events.subscribe()

    async def run(self) -> None:
        """Connect, serve, and reconnect after any drop, until :meth:`stop` (or giving up)."""
        if self._running:
            raise RuntimeError("this connector is already running")
        self._running = True
        self._done.clear()
        self._attempt = 0
        refusals = 0
        try:
            while not self._stop.is_set():
                self._emit(ConnectorState.CONNECTING)
                conn = await self._open()
                delay: float | None = None
                if conn is not None:
                    refusals = 0
                    self.stats.connections += 1
                    self.last_error, self.last_problem = None, None
                    self._emit(ConnectorState.CONNECTED)
                    opened = time.monotonic()
                    problem, reason = await self._serve(conn)
                    if time.monotonic() - opened >= self.stable_after:
                        self._attempt = 0  # it stayed up: start the backoff afresh
                    self._emit(ConnectorState.DISCONNECTED, reason, problem)
                    if problem is Problem.REPLACED:
                        if self.on_replaced == "stop":
                            raise ConnectorGaveUp(problem, reason)
                        delay = self.replaced_backoff
                elif self.last_problem is not None and self.last_problem.is_refusal:
                    refusals += 1
                    if self.max_refusals is not None and refusals >= self.max_refusals:
                        raise ConnectorGaveUp(self.last_problem, (
                            f"gave up after {refusals} refused attempt(s): {self.last_error}"))
                if self._stop.is_set():
                    break
                if delay is None:
                    delay = self._backoff(self._attempt)
                self._attempt += 1
                self._emit(ConnectorState.BACKING_OFF, retry_in=delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
                if not self._stop.is_set():
                    self.stats.reconnects += 1
        except ConnectorGaveUp as exc:
            log.error("connector %s gave up: %s", self.key_hint, exc.message)
            raise
        finally:
            self._running = False
            self._emit(ConnectorState.STOPPED)
            self._done.set()

    async def stop(self) -> None:
        """Stop taking requests, let those in flight finish (within the grace period), close."""
        self._stop.set()
        if self._running:
            await self._done.wait()
        elif self.state is not ConnectorState.STOPPED:
            self._emit(ConnectorState.STOPPED)

    def _backoff(self, attempt: int) -> float:
        base = min(self.backoff_max, self.backoff_initial * (2**attempt))
        spread = base * self.jitter
        return float(max(0.0, min(self.backoff_max, base + random.uniform(-spread, spread))))

    def _emit(self, state: ConnectorState, detail: str | None = None, problem: Problem | None = None,
              retry_in: float | None = None) -> None:
        if state is ConnectorState.STOPPED and self.state is ConnectorState.STOPPED:
            return
        self.state = state
        event = ConnectionEvent(state, self.url, detail, problem, retry_in, self._attempt)
        level = logging.INFO
        if state is ConnectorState.FAILED:
            # A long outage repeats the same failure every few seconds: warn once.
            level = logging.INFO if detail == self._last_warning else logging.WARNING
            self._last_warning = detail
        elif state is ConnectorState.CONNECTED:
            self._last_warning = None
        log.log(level, "connector %s (key %s)", event, self.key_hint)
        self._events.publish(event)
        try:
            if self.on_event is not None:
                self.on_event(event)
            if self.on_state_change is not None:
                self.on_state_change(state, detail)
        except Exception:
            log.exception("connector event callback failed")

    def _failed(self, problem: Problem, reason: str) -> None:
        self.last_error, self.last_problem = reason, problem
        self._emit(ConnectorState.FAILED, reason, problem)

    async def _open(self) -> Connection | None:
        """One connection attempt; None when it failed or :meth:`stop` came first."""
        attempt = asyncio.ensure_future(self._connect())
        stopped = self._stop.waiter()
        try:
            pending: set[asyncio.Future[Any]] = {attempt, stopped}
            await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if not attempt.done():
            attempt.cancel()
            with contextlib.suppress(BaseException):
                await attempt
            return None
        try:
            conn = attempt.result()
        except Exception as exc:  # any failure to connect is classified, then retried or given up
            self._failed(*classify_failure(exc, self.url))
            return None
        if self._stop.is_set():
            await close_quietly(conn)
            return None
        return conn

    # -- one connection ---------------------------------------------------------------------

    async def _serve(self, conn: Connection) -> tuple[Problem | None, str]:
        """Answer requests on ``conn`` until it closes or :meth:`stop`; returns why it ended."""
        session = Session(self.handler, self.stats, conn, max_concurrency=self.max_concurrency,
                          max_frame_bytes=self.max_frame_bytes)
        reader = asyncio.ensure_future(session.read_loop())
        stopped = self._stop.waiter()
        try:
            pending: set[asyncio.Future[Any]] = {reader, stopped}
            await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if not reader.done():
            # stop(): take no new requests, give those in flight the grace period, then close.
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            await session.drain(self.grace_period)
            await close_quietly(conn)
            return None, "stopped"
        problem, reason = reader.result()
        await session.drain(0)
        await close_quietly(conn)
        self.last_error, self.last_problem = reason, problem
        return problem, reason
