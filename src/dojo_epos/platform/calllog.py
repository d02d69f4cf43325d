"""The call log: every invocation, kept in a bounded in-memory ring and written to the database.

The ring is current at once (the dashboard and the benchmarks read it). It keeps what the database
keeps: each call's request and reply as their (bounded) JSON text, decoded when :meth:`CallLog.
recent` reads them, and no result model (the caller has that). A reply is kept as the EPOS sent it
where it was JSON (:attr:`~.outcome.InvocationResult.reply_text`): over the WebSocket its whole
frame (``jsonrpc``, ``id`` and ``result`` or ``error``, in the EPOS's order and spelling, duplicate
keys and escapes included), over REST the status with the body verbatim. So the log shows what the
EPOS said, not our reading of it, and the reply is not encoded again (7 of the 12 µs that
recording a call cost, for the benchmarks' 1.4 KB order). Holding 500 calls' decoded replies
and result models instead, each freed when it left the ring long after it was made, cost more
CPU than the rest of an invocation together (``benchmarks/bench_ws.py``). The database copy is
written by a background task in batches: a write per call on the caller's path cost more than the
call itself. The writer waits up to :data:`LINGER` seconds for a batch to fill (one transaction
per call, at one call in flight, cost more than the call too); :meth:`CallLog.flush` cuts the wait
short, so a reader that flushes first (the dashboard's call search) sees every call. Under
overload (the writer behind by :data:`LOG_QUEUE_SIZE` entries) an entry is not persisted but
counted in :attr:`CallLog.dropped`: the log is a record, never worth slowing calls.
Neither copy ever holds a registration password or an API key, and neither holds more than
:data:`MAX_LOGGED_BYTES` of one call's request or reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections import deque
from typing import Any

from pydantic_core import to_json

from dojo_epos.platform.accounts import Scope
from dojo_epos.platform.outcome import InvocationResult
from dojo_epos.platform.store import EncodedJSON, Store

__all__ = ["IDLE", "LINGER", "LOG_QUEUE_SIZE", "MAX_LOGGED_BYTES", "CallLog", "bounded"]

log = logging.getLogger("dojo_epos.platform.invoke")

#: Call-log entries waiting to be written before new ones are dropped (and counted).
LOG_QUEUE_SIZE = 10_000
_BATCH = 200
#: Seconds the writer waits for more entries before writing a batch that is not full.
LINGER = 0.02
#: Seconds without a call after which the writer gives back the connection held for its batches
#: (:meth:`.Store.release_calls_connection`): an idle platform holds none of its database's
#: connections, and one dropped while idle (a server restart) is not the next batch's.
IDLE = 1.0


#: Most of one call's request or reply the log keeps (and the dashboard shows), as JSON text.
MAX_LOGGED_BYTES = 16 * 1024


def bounded(value: Any, limit: int = MAX_LOGGED_BYTES) -> Any:
    """``value``, or when its JSON is longer than ``limit`` a note with its size and an excerpt."""
    kept, encoded = _bounded_json(value, limit)
    return value if kept is encoded and kept is not None else kept


def _bounded_json(value: Any, limit: int = MAX_LOGGED_BYTES) -> tuple[Any, EncodedJSON | None]:
    """What the ring keeps of ``value`` and its JSON text (anything odd in it as its string form),
    or None and None for None.

    The ring keeps the text itself when it is the value's own JSON (:func:`_kept` decodes it), and
    the note about a value that is too long. One encoding serves the size check, the ring and the
    database row (see :class:`~.store.EncodedJSON`), and it is pydantic-core's (compact UTF-8,
    several times faster than ``json.dumps`` on a call's reply). A value that is not JSON at all
    (a cycle) is kept in the ring as it is when short, and stored as the note.
    """
    if value is None:
        return None, None
    try:
        raw = to_json(value, fallback=str)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
        size, short, encoded = len(text.encode("utf-8", "replace")), len(text) <= limit, False
    else:
        size, short, encoded = len(raw), len(raw) <= limit, True
        text = raw.decode("utf-8", "replace")
    if short and encoded:
        own = EncodedJSON(text)
        return own, own
    note = _too_long(text, size, limit)
    return value if short else note, EncodedJSON(json.dumps(note))


def _bounded_text(text: str, limit: int = MAX_LOGGED_BYTES) -> tuple[Any, EncodedJSON]:
    """:func:`_bounded_json` for a value given as its JSON text (a reply as it came over the wire:
    see :attr:`~.outcome.InvocationResult.reply_text`): the text itself, or the note when it is
    longer than ``limit`` bytes. Nothing is encoded again."""
    # A str of n code points is at most 4n UTF-8 bytes: only a long one is measured.
    size = len(text) if len(text) * 4 <= limit else len(text.encode("utf-8", "surrogatepass"))
    if size <= limit:
        own = EncodedJSON(text)
        return own, own
    note = _too_long(text, size, limit)
    return note, EncodedJSON(json.dumps(note))


def _too_long(text: str, size: int, limit: int) -> dict[str, Any]:
    """What is kept of a request or reply of ``size`` bytes longer than ``limit``: a note."""
    return {"truncated": True, "jsonBytes": size, "excerpt": text[: min(limit, 2000)]}


def _kept(value: Any) -> Any:
    """A request or reply as the ring kept it, decoded (see :func:`_bounded_json`)."""
    return json.loads(value) if isinstance(value, EncodedJSON) else value


class CallLog:
    """Recent calls in memory (``ring_size`` of them) and all of them in ``store``."""

    def __init__(self, store: Store, *, ring_size: int = 500,
                 queue_size: int = LOG_QUEUE_SIZE, linger: float = LINGER,
                 idle: float = IDLE) -> None:
        self.store = store
        self.queue_size = queue_size
        self.linger = linger
        self.idle = idle
        #: Set while someone waits in :meth:`flush`: the writer writes what it has at once.
        self._hurry: asyncio.Event | None = None
        self._flushing = 0
        #: (scope, the outcome without request, reply and result, the request and reply kept).
        self._ring: deque[tuple[Scope, InvocationResult, Any, Any]] = deque(maxlen=ring_size)
        self._queue: asyncio.Queue[tuple[Scope, dict[str, Any]]] | None = None
        self._writer: asyncio.Task[None] | None = None
        #: Entries not persisted because the writer fell behind (overload).
        self.dropped = 0

    def recent(self, scope: Scope | None = None, limit: int = 100) -> list[InvocationResult]:
        """The newest calls first, of one scope or of all (request and reply as logged, bounded;
        ``result`` is None: the log keeps what went over the wire)."""
        found: list[InvocationResult] = []
        for s, kept, request, reply in reversed(self._ring):
            if len(found) >= limit:
                break
            if scope is None or s == scope:
                found.append(dataclasses.replace(kept, request=_kept(request), reply=_kept(reply)))
        return found

    def record(self, scope: Scope, outcome: InvocationResult) -> None:
        """Add one call: to the ring now, to the database soon (request and reply bounded)."""
        request, request_json = _bounded_json(outcome.request)
        reply, reply_json = (_bounded_json(outcome.reply) if outcome.reply_text is None
                             else _bounded_text(outcome.reply_text))
        kept = InvocationResult(
            capability=outcome.capability, ok=outcome.ok, transport=outcome.transport,
            failure=outcome.failure, error=outcome.error, detail=outcome.detail,
            field=outcome.field, duration_ms=outcome.duration_ms, started_at=outcome.started_at,
            expected=outcome.expected)
        self._ring.append((scope, kept, request, reply))
        entry = {"capability": outcome.capability, "transport": outcome.transport,
                 "outcome": outcome.outcome, "detail": outcome.detail,
                 "request": request_json, "reply": reply_json,
                 "duration_ms": outcome.duration_ms, "started_at": outcome.started_at,
                 "expected": outcome.expected}
        if self._queue is None:
            self._queue = asyncio.Queue(maxsize=self.queue_size)
            self._hurry = asyncio.Event()
            self._writer = asyncio.create_task(self._write(self._queue, self._hurry),
                                               name="call log writer")
        try:
            self._queue.put_nowait((scope, entry))
        except asyncio.QueueFull:
            self.dropped += 1
            if self.dropped in (1, 10, 100) or self.dropped % 1000 == 0:
                log.warning("call log behind: %d entries not persisted", self.dropped)

    async def _write(self, queue: asyncio.Queue[tuple[Scope, dict[str, Any]]],
                     hurry: asyncio.Event) -> None:
        while True:
            if queue.empty():
                try:
                    first = await asyncio.wait_for(queue.get(), self.idle)
                except TimeoutError:
                    await self._rest()
                    first = await queue.get()
            else:
                first = queue.get_nowait()
            batch = [first]
            if self.linger > 0 and queue.qsize() < _BATCH - 1 and not hurry.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(hurry.wait(), self.linger)
            while not queue.empty() and len(batch) < _BATCH:
                batch.append(queue.get_nowait())
            try:
                await self.store.add_calls(batch)
            except Exception:  # the calls happened; a log write failure must not undo them
                log.exception("could not persist %d call log entries", len(batch))
            finally:
                for _ in batch:
                    queue.task_done()

    async def _rest(self) -> None:
        try:
            await self.store.release_calls_connection()
        except Exception:  # the next batch checks a connection out again
            log.exception("could not give back the call log's connection")

    async def flush(self) -> None:
        """Wait until every call recorded so far is in the database."""
        if self._queue is not None:
            await self._join()

    async def _join(self) -> None:
        queue, hurry = self._queue, self._hurry
        assert queue is not None and hurry is not None
        self._flushing += 1
        hurry.set()
        try:
            await queue.join()
        finally:
            self._flushing -= 1
            if not self._flushing:
                hurry.clear()

    async def aclose(self) -> None:
        """Write what is waiting (up to 5 s), then stop the writer."""
        if self._writer is None:
            return
        assert self._queue is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._join(), 5)
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer
        self._writer = self._queue = self._hurry = None
