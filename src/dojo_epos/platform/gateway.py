"""The WebSocket gateway at ``/epos``: where an EPOS connects, and how Dojo calls it back.

The EPOS opens the socket (handshake headers ``Authorization: Basic <key>``, ``software-house-id``,
optional ``reseller-id``; domain notes §3.10) and then *answers* JSON-RPC requests the platform sends.
A refused handshake gets a real HTTP 401 or 400 before the upgrade (the ASGI WebSocket denial
response), so a client sees the status instead of a socket that opens and dies.

Handshakes are rate-limited per API key (a token bucket; past it, HTTP 429 before the upgrade).
One live socket per :class:`Scope`: a newer connection replaces the older one, which is closed with
code :data:`CLOSE_REPLACED` and a reason. Requests carry unique ids (the shared sans-I/O
:class:`~dojo_epos.contract.jsonrpc.Peer` makes them) and replies are matched to waiting calls by id.
Each call has a time-out; after it the id is forgotten, and a reply that comes later is counted as
*late*. Replies to ids never sent, malformed frames and requests from the EPOS (the platform serves
none) are logged and counted, never fatal. Keepalive pings are the server's job: uvicorn sends
WebSocket pings every ``ping_interval`` seconds (see :func:`dojo_epos.platform.app.serve_platform`);
where the server offers it, a session's :class:`Keepalive` pings the EPOS on demand and times the
pong, counts the EPOS's own pings, and can withhold the answers (:mod:`dojo_epos.keepalive`).

Every handshake of an authenticated scope is noted (:meth:`Gateway.note_handshake`: when, and
accepted or refused with which status), so the tester's socket flows can measure how an EPOS
reconnects and backs off.

This module is the service: it knows sockets only as :class:`TextSocket` (send a text frame,
close). The ASGI endpoint that authenticates, accepts and reads frames is
:mod:`dojo_epos.platform.http.socket`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol

from dojo_epos.contract.close_codes import CLOSE_GOING_AWAY, CLOSE_REPLACED
from dojo_epos.contract.errors import EposError, ErrorType, new_trace_id
from dojo_epos.contract.jsonrpc import ErrorReply, InvalidFrame, Peer, Request, Result
from dojo_epos.platform.accounts import Caller, Scope
from dojo_epos.platform.faults import Fault, FaultKind
from dojo_epos.platform.store import utc_now

__all__ = [
    "CLOSE_REPLACED",
    "CLOSE_SHUTDOWN",
    "CallTimedOut",
    "ConnectionLost",
    "Counters",
    "EposSession",
    "Gateway",
    "Handshake",
    "Keepalive",
    "NotConnected",
    "TextSocket",
]

log = logging.getLogger("dojo_epos.platform.gateway")

#: Close code sent to every socket when the platform shuts down (RFC 6455 "going away").
CLOSE_SHUTDOWN = CLOSE_GOING_AWAY

_UNKNOWN_REPLY = "reply to an unknown or expired request id"
_EXPIRED_MEMORY = 1000  # timed-out ids remembered per socket, to tell late replies from strays
_HANDSHAKE_MEMORY = 200  # handshakes remembered per scope
_HANDSHAKE_SCOPES = 10_000  # scopes whose handshakes are remembered


class NotConnected(Exception):
    """No live socket for the scope."""


class ConnectionLost(Exception):
    """The socket closed (or was replaced) before the reply came."""


class CallTimedOut(Exception):
    """No reply within the time-out; the request id is forgotten."""

    def __init__(self, request_id: str, timeout: float) -> None:
        super().__init__(f"no reply to {request_id} within {timeout:g} s")
        self.request_id = request_id
        self.timeout = timeout


class Keepalive(Protocol):
    """A socket's pings, where the server offers them (:class:`dojo_epos.keepalive.SocketKeepalive`)."""

    pings_received: int
    last_ping_at: float | None

    def answer_pings_when(self, answer: Callable[[], bool]) -> None: ...

    async def ping(self, timeout: float) -> float:
        """The round trip of one ping, in seconds (TimeoutError, ConnectionError)."""
        ...


@dataclass(frozen=True, slots=True)
class Handshake:
    """One handshake of a scope: when (``time.monotonic()``) and how it ended."""

    at: float
    accepted: bool
    status: int = 101


class TextSocket(Protocol):
    """What the gateway needs of an accepted socket (the HTTP layer adapts Starlette's)."""

    async def send_text(self, text: str) -> None: ...

    async def close(self, code: int, reason: str) -> None:
        """Close the socket if it is still open; never raises."""
        ...


@dataclass(slots=True)
class Counters:
    """What happened on a socket (or, summed, on all of them), for the dashboard."""

    requests_sent: int = 0
    results: int = 0
    error_replies: int = 0
    timeouts: int = 0
    late_replies: int = 0
    unknown_replies: int = 0
    malformed_frames: int = 0
    requests_from_epos: int = 0


class EposSession:
    """One EPOS's accepted socket: its scope, its peer, the calls waiting on it, its counters.

    (Not :class:`dojo_epos.epos.connector.Connection`, which is the EPOS side's socket.)"""

    def __init__(self, gateway: Gateway, websocket: TextSocket, scope: Scope,
                 reseller_id: str | None, client: str = "",
                 keepalive: Keepalive | None = None) -> None:
        self.gateway = gateway
        #: Pings on demand (None when the server does not offer them).
        self.keepalive = keepalive
        self.websocket = websocket
        self.scope = scope
        self.reseller_id = reseller_id
        self.connected_at: datetime = utc_now()
        self.client = client
        self.counters = Counters()
        self.peer = Peer()
        self.closed = False
        self._pending: dict[str, asyncio.Future[Result | ErrorReply]] = {}
        # Made on the first time-out: an empty deque is a 64-slot block, and most sockets never
        # see a time-out (10,000 sockets: benchmarks/bench_sockets.py).
        self._expired: deque[str] | None = None
        self._send_lock = asyncio.Lock()

    def _count(self, name: str) -> None:
        setattr(self.counters, name, getattr(self.counters, name) + 1)
        setattr(self.gateway.totals, name, getattr(self.gateway.totals, name) + 1)

    def info(self) -> dict[str, Any]:
        """A JSON-ready description for the dashboard (no secrets: the scope holds a hash)."""
        return {
            "environment": self.scope.environment.value,
            "keyFingerprint": self.scope.key_fingerprint,
            "softwareHouseId": self.scope.software_house_id,
            "resellerId": self.reseller_id,
            "client": self.client,
            "connectedAt": self.connected_at.isoformat(),
            "pending": len(self._pending),
            "counters": asdict(self.counters),
        }

    async def _flush(self) -> None:
        async with self._send_lock:
            for text in self.peer.data_to_send():
                await self.websocket.send_text(text)

    async def call(self, method: str, params: dict[str, Any] | None,
                   timeout: float, faults: Sequence[Fault] = ()) -> Result | ErrorReply:
        """Send one request and wait for its reply (or raise CallTimedOut / ConnectionLost).

        ``faults`` (from the scope's :class:`~.fault_book.FaultBook`) are acted out on this call.
        """
        if self.closed:
            raise ConnectionLost("the socket is closed")
        kinds: dict[FaultKind, Fault] = {}
        if faults:
            kinds = {f.kind: f for f in faults}
            for fault in faults:
                if fault.kind is FaultKind.DELAY:
                    await asyncio.sleep(fault.seconds())
            for kind in (FaultKind.DROP_BEFORE_SEND, FaultKind.CLOSE):
                if kind in kinds:
                    fault = kinds[kind]
                    await self.close(fault.close_code or 1011, "fault injected")
                    raise ConnectionLost(f"{fault.describe()}: the socket was closed before sending")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result | ErrorReply] = loop.create_future()
        async with self._send_lock:
            request_id = self.peer.send_request(method, params)
            self._pending[request_id] = future
            self.counters.requests_sent += 1
            self.gateway.totals.requests_sent += 1
            try:
                texts = self.peer.data_to_send()
                if kinds:
                    if FaultKind.NEVER_ANSWER in kinds:
                        texts = []  # swallowed: the call runs into its time-out
                    elif FaultKind.DELIVER_TWICE in kinds:
                        texts = [*texts, *texts]  # the same frame, the same id, twice
                for text in texts:
                    await self.websocket.send_text(text)
            except Exception as exc:  # any send failure means the socket is gone
                self._pending.pop(request_id, None)
                self.peer.forget(request_id)
                raise ConnectionLost(f"sending failed: {type(exc).__name__}") from None
        if FaultKind.DROP_AFTER_SEND in kinds:
            await self.close(1011, "fault injected")
        # A timer on the future itself rather than asyncio.wait_for, which wraps every call in a
        # waiter future and callbacks of its own (4% of the platform's time at 32 calls in flight).
        timer = loop.call_later(timeout, _expire, future)
        try:
            reply = await future
            if FaultKind.RESEND_NEW_ID in kinds:  # as after a lost reply: a new id, the same params
                with contextlib.suppress(ConnectionLost, CallTimedOut):
                    await self.call(method, params, timeout)
            return reply
        except _Expired:
            self._count("timeouts")
            if self._expired is None:
                self._expired = deque(maxlen=_EXPIRED_MEMORY)
            self._expired.append(request_id)
            raise CallTimedOut(request_id, timeout) from None
        finally:
            timer.cancel()
            if self._pending.pop(request_id, None) is not None:
                self.peer.forget(request_id)

    async def handle_frame(self, data: str | bytes) -> None:
        """Feed one incoming frame; answer what must be answered, count the rest."""
        peer = self.peer
        peer.receive_text(data)
        for event in peer.events_received():
            if isinstance(event, Result):
                self.counters.results += 1
                self.gateway.totals.results += 1
                self._settle(event)
            elif isinstance(event, ErrorReply):
                self._count("error_replies")
                self._settle(event)
            elif isinstance(event, Request):
                self._count("requests_from_epos")
                log.warning("%s: the EPOS sent a request (%s); the platform serves no methods",
                            self.scope, event.method)
                peer.send_error(event.id, event.method, EposError(
                    ErrorType.NOT_FOUND, "the platform serves no JSON-RPC methods",
                    new_trace_id()))
            else:
                self._invalid(event, data)
        if peer.has_data_to_send():
            await self._flush()

    def _settle(self, reply: Result | ErrorReply) -> None:
        future = self._pending.pop(str(reply.id), None)
        if future is not None and not future.done():
            future.set_result(reply)

    def _invalid(self, frame: InvalidFrame, data: str | bytes) -> None:
        if frame.reason.startswith(_UNKNOWN_REPLY):
            reply_id = _id_of(data)
            if reply_id is not None and self._expired is not None and reply_id in self._expired:
                self._count("late_replies")
                log.warning("%s: late reply to %s (after its time-out)", self.scope, reply_id)
            else:
                self._count("unknown_replies")
                log.warning("%s: reply to an id never sent: %s", self.scope, reply_id)
            return
        self._count("malformed_frames")
        log.warning("%s: malformed frame (%s): %r", self.scope, frame.reason, frame.excerpt[:120])
        self.peer.reply_invalid(frame)

    def fail_pending(self, reason: str) -> None:
        self.closed = True
        for request_id, future in list(self._pending.items()):
            if not future.done():
                future.set_exception(ConnectionLost(reason))
            self.peer.forget(request_id)
        self._pending.clear()

    async def close(self, code: int, reason: str) -> None:
        self.fail_pending(reason)
        await self.websocket.close(code, reason)


class _Expired(Exception):
    """A call's timer ran out before its reply came (turned into :class:`CallTimedOut`)."""


def _expire(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.set_exception(_Expired())


def _id_of(data: str | bytes) -> str | None:
    try:
        value = json.loads(data).get("id")
    except (ValueError, AttributeError, RecursionError):
        return None
    return str(value) if value is not None else None


class Gateway:
    """Accepts EPOS sockets and sends them calls; one live socket per scope."""

    def __init__(self, call_timeout: float = 10.0, *,
                 handshakes_per_second: float = 5.0, handshake_burst: int = 20) -> None:
        self.call_timeout = call_timeout
        # Handshakes per API key: two connectors on one key evicting each other (newer replaces
        # older) or a reconnect loop without backoff would otherwise spin as fast as the network
        # allows. A token bucket: ``handshake_burst`` at once, then ``handshakes_per_second``.
        self.handshakes_per_second = handshakes_per_second
        self.handshake_burst = handshake_burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self.totals = Counters()
        self.accepted = 0
        self.refused = 0
        self._live: dict[Scope, EposSession] = {}
        self._handshakes: dict[Scope, list[Handshake]] = {}
        #: Told of every socket attached and detached (the router puts them on the bus).
        self.on_attach: Callable[[EposSession], Awaitable[None]] | None = None
        self.on_detach: Callable[[EposSession], None] | None = None

    def connection(self, scope: Scope) -> EposSession | None:
        return self._live.get(scope)

    def connections(self) -> list[EposSession]:
        return list(self._live.values())

    def stats(self) -> dict[str, Any]:
        """Counters and live sockets, JSON-ready, for the dashboard."""
        return {
            "connected": len(self._live),
            "accepted": self.accepted,
            "refused": self.refused,
            "totals": asdict(self.totals),
            "sockets": [c.info() for c in self._live.values()],
        }

    async def call(self, scope: Scope, method: str, params: dict[str, Any] | None,
                   timeout: float | None = None, faults: Sequence[Fault] = ()) -> Result | ErrorReply:
        """Call ``method`` on the scope's live socket (NotConnected if there is none)."""
        conn = self._live.get(scope)
        if conn is None or conn.closed:
            raise NotConnected(f"no EPOS socket is connected for {scope}")
        return await conn.call(method, params, self.call_timeout if timeout is None else timeout,
                               faults)

    def note_handshake(self, scope: Scope, status: int) -> None:
        """Note a handshake of ``scope``: accepted (101) or refused with ``status``."""
        seen = self._handshakes.get(scope)
        if seen is None:
            if len(self._handshakes) >= _HANDSHAKE_SCOPES:
                self._handshakes.pop(next(iter(self._handshakes)))  # the longest-known scope
            # A list, trimmed below, not a deque(maxlen): an empty deque is a 760-byte block,
            # and every scope with a socket has one (10,000 sockets: benchmarks/bench_sockets.py).
            seen = self._handshakes[scope] = []
        seen.append(Handshake(time.monotonic(), status == 101, status))
        if len(seen) > _HANDSHAKE_MEMORY:
            del seen[: len(seen) - _HANDSHAKE_MEMORY]

    def handshakes(self, scope: Scope, since: float = 0.0) -> list[Handshake]:
        """The scope's handshakes noted at or after ``since`` (``time.monotonic()``), oldest first."""
        return [h for h in self._handshakes.get(scope, ()) if h.at >= since]

    async def attach(self, websocket: TextSocket, caller: Caller, client: str = "",
                     keepalive: Keepalive | None = None) -> EposSession:
        """Make an accepted socket the scope's live one; an older one is closed as replaced."""
        self.accepted += 1
        conn = EposSession(self, websocket, caller.scope, caller.reseller_id, client, keepalive)
        previous = self._live.get(caller.scope)
        self._live[caller.scope] = conn
        log.info("%s: EPOS connected from %s", caller.scope, conn.client)
        if previous is not None:
            log.info("%s: a newer socket replaces the one from %s", caller.scope, previous.client)
            await previous.close(CLOSE_REPLACED, "replaced by a newer connection")
        if self.on_attach is not None:
            await self.on_attach(conn)
        return conn

    def detach(self, conn: EposSession) -> None:
        """The socket of ``conn`` closed: fail its waiting calls and forget it."""
        conn.fail_pending("the socket closed")
        if self._live.get(conn.scope) is conn:
            del self._live[conn.scope]
        log.info("%s: EPOS socket from %s closed", conn.scope, conn.client)
        if self.on_detach is not None:
            self.on_detach(conn)

    def refuse(self) -> None:
        """Count a handshake refused before it reached the gateway (bad key, headers)."""
        self.refused += 1

    def admit(self, key_fingerprint: str) -> bool:
        """Whether a handshake for this key may proceed (False counts it as refused)."""
        if self._admit(key_fingerprint):
            return True
        self.refused += 1
        return False

    def _admit(self, key_fingerprint: str) -> bool:
        """Take one handshake token for the key; False when its bucket is empty."""
        now = time.monotonic()
        if len(self._buckets) > 10_000:  # forget keys idle long enough to have a full bucket
            idle = self.handshake_burst / max(self.handshakes_per_second, 1e-9)
            self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < idle}
        tokens, last = self._buckets.get(key_fingerprint, (float(self.handshake_burst), now))
        tokens = min(float(self.handshake_burst),
                     tokens + (now - last) * self.handshakes_per_second)
        if tokens < 1.0:
            self._buckets[key_fingerprint] = (tokens, now)
            return False
        self._buckets[key_fingerprint] = (tokens - 1.0, now)
        return True

    async def close_all(self) -> None:
        for conn in list(self._live.values()):
            await conn.close(CLOSE_SHUTDOWN, "the platform is shutting down")
