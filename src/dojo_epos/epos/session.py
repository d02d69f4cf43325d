"""One open socket of the connector: read frames, answer each request in its own task, write replies.

The connector (:mod:`dojo_epos.epos.connector`) owns the lifecycle (dial, back off, give up, stop);
a :class:`Session` owns one connection: its JSON-RPC peer, its in-flight tasks (bounded by a
semaphore, so one slow request never stalls the others, and answers go out by id, in any order)
and the lock that orders writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from websockets.exceptions import ConnectionClosed

from dojo_epos.contract.capabilities import UnknownCapability, by_rpc_method
from dojo_epos.contract.errors import EposError, ErrorType, new_trace_id
from dojo_epos.contract.jsonrpc import InvalidFrame, Peer, Request
from dojo_epos.epos.batching import BatchingConnection
from dojo_epos.epos.connection_state import CLOSE_REPLACED, Problem
from dojo_epos.epos.handler import EposHandler, call_handler_json

__all__ = ["Connection", "ConnectorStats", "Session", "close_quietly"]

log = logging.getLogger("dojo_epos.epos.connector")

#: Requests the read loop starts before it yields to their answers. Reading every frame that
#: arrived before answering any made both ends take turns: the gateway sent 32 requests in one
#: write, the connector answered all 32 in one write, and each side idled while the other worked
#: (0.6 and 0.4 of a core, 3,200 calls/s at 32 in flight). Yielding every 16 lets replies leave
#: while later requests are still unread: both ends stay busy (7,500 calls/s; WebSocket benchmark).
READ_BURST = 16


class Connection(Protocol):
    """What the connector needs from a socket: websockets' ClientConnection fits, and so does
    :class:`dojo_epos.testing.MemoryWebSocket`. ``recv`` raises ``ConnectionClosed`` once closed."""

    async def send(self, message: str) -> None: ...

    async def recv(self) -> str | bytes: ...

    async def close(self) -> None: ...



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
    connections: int = 0
    """Handshakes that succeeded."""


class Session:
    """State of one connection: its peer, its in-flight tasks and the lock that orders writes."""

    def __init__(self, handler: EposHandler, stats: ConnectorStats, conn: Connection, *,
                 max_concurrency: int, max_frame_bytes: int) -> None:
        self.handler = handler
        self.stats = stats
        self.conn = conn
        self.peer = Peer(max_frame_bytes=max_frame_bytes)
        self.slots = asyncio.Semaphore(max_concurrency)
        self.tasks: set[asyncio.Task[None]] = set()
        self.write_lock = asyncio.Lock()
        #: An answer is waiting a turn of the loop to write its reply with the others ready.
        self.flush_waiting = False

    async def read_loop(self) -> tuple[Problem, str]:
        stats = self.stats
        started = 0
        while True:
            if started >= READ_BURST:
                # Let the answers started so far run and write their replies before reading on,
                # so the gateway works on those while this side answers the rest.
                started = 0
                await asyncio.sleep(0)
            try:
                frame = await self.conn.recv()
            except ConnectionClosed as exc:
                if exc.rcvd is not None and exc.rcvd.code == CLOSE_REPLACED:
                    return Problem.REPLACED, (f"replaced by a newer socket for the same account "
                                              f"(close {CLOSE_REPLACED}: {exc.rcvd.reason or 'no reason'})")
                return Problem.DROPPED, f"socket closed ({exc})"
            except Exception as exc:  # a broken transport is a drop, not a crash
                return Problem.DROPPED, f"socket failed: {type(exc).__name__}: {exc}"
            self.peer.receive_text(frame)
            for event in self.peer.events_received():
                if isinstance(event, Request):
                    stats.requests += 1
                    started += 1
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
            if self.peer.has_data_to_send():  # an error answered here; results go from answer()
                await self.flush()

    async def start(self, request: Request) -> None:
        try:
            capability = by_rpc_method(request.method)
        except UnknownCapability:
            self.stats.errors += 1
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
            result = await call_handler_json(self.handler, capability, request.params,
                                             transport="ws", trace_id=trace_id)
        except EposError as exc:
            exc.trace_id = exc.trace_id or trace_id
            self.stats.errors += 1
            self.peer.send_error(request.id, request.method, exc)
        except Exception:  # call_handler raises EposError only; belt and braces
            log.exception("request %r failed (trace %s)", request.id, trace_id)
            self.stats.errors += 1
            self.peer.send_error(request.id, request.method, EposError.unexpected(trace_id))
        else:
            self.peer.send_result_json(request.id, request.method, result)
        finally:
            self.slots.release()
        if self.flush_waiting:
            return  # the answer waiting below writes this reply with its own
        if len(self.tasks) > 1:
            # Other answers may be ready in this turn of the loop: let them queue theirs, then
            # write them all at once (one system call for the lot: see epos/batching.py).
            self.flush_waiting = True
            try:
                await asyncio.sleep(0)
            finally:
                self.flush_waiting = False
        await self.flush()

    async def flush(self) -> None:
        async with self.write_lock:
            texts = self.peer.data_to_send()
            try:
                if len(texts) > 1 and isinstance(self.conn, BatchingConnection):
                    await self.conn.send_texts(texts)
                    return
                for text in texts:
                    await self.conn.send(text)
            except Exception as exc:  # the reader sees the close and ends the session
                log.debug("reply not sent, socket gone: %s", exc)

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


async def close_quietly(conn: Connection) -> None:
    with contextlib.suppress(Exception):
        await conn.close()
