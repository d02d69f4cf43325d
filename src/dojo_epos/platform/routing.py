"""Which worker holds a scope's socket: the seam between the invoker and the local gateway.

One worker (process) holds each scope's EPOS socket. :class:`Router` makes that invisible to the
invoker: :meth:`Router.call` sends on the local socket when this worker holds it, and otherwise
asks the bus, where the holder serves one subject per scope (``dojo-epos.scope.<token>``) and makes
the call on *its* local socket, so recording and time-outs stay where the socket is. The faults the
invoker chose for the call (counted down in the shared book where the call was made) travel with
the routed request and are acted out by the holder on its socket.

* "no responders" on the subject is :class:`~.gateway.NotConnected`, as for a scope with no socket;
* the call's own time-out is applied by the holder (its reply says TIMED_OUT); the bus waits a
  margin longer, and a holder that sends nothing in that time has died: the call fails as
  :class:`~.gateway.ConnectionLost`;
* a bus that is down fails the call at once with :class:`~.bus.BusUnavailable`, unless the socket
  is local, which needs no bus.
* the reply comes back as the EPOS's own frame, read again here (:func:`~dojo_epos.contract.
  jsonrpc.reply_event`), so the call log of the worker that made the call keeps it as the EPOS
  sent it.

Other parts of the platform can serve a subject of their own for each scope held here
(:meth:`Router.serve_held`): the tester starts a flow on the worker holding the socket that way, so
every call of the flow is made on the local socket.

A newer socket for a scope *claims* it (``dojo-epos.claim.<token>``): the worker holding an older
one closes it with 4000, as the gateway does within one process. The dashboard's socket list is a
scatter-gather on ``dojo-epos.sockets``, answered by every worker.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from dojo_epos.contract.errors import EposError
from dojo_epos.contract.jsonrpc import ErrorReply, Result, loads_strict, reply_event
from dojo_epos.platform.accounts import Scope
from dojo_epos.platform.bus import Bus, BusTimeout, BusUnavailable, NoResponders, Subscription, subject_token
from dojo_epos.platform.faults import Fault
from dojo_epos.platform.gateway import (
    CLOSE_REPLACED,
    CallTimedOut,
    ConnectionLost,
    Counters,
    EposSession,
    Gateway,
    NotConnected,
)

__all__ = ["HeldHandler", "Router", "held_subject", "new_worker_id", "scope_subject"]

log = logging.getLogger("dojo_epos.platform.routing")

SOCKETS_SUBJECT = "sockets"
#: Seconds the bus waits past a call's own time-out before taking the holder for dead.
REPLY_MARGIN = 1.0
#: Seconds the dashboard waits for every worker's socket list.
GATHER_WINDOW = 0.15


def new_worker_id() -> str:
    """A worker's name in logs and on the dashboard: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def scope_subject(scope: Scope) -> str:
    return f"scope.{subject_token(str(scope))}"


def _claim_subject(scope: Scope) -> str:
    return f"claim.{subject_token(str(scope))}"


def held_subject(prefix: str, scope: Scope) -> str:
    """The subject a :meth:`Router.serve_held` handler answers on for ``scope``."""
    return f"{prefix}.{subject_token(str(scope))}"


#: A handler of :meth:`Router.serve_held`: the scope and the request's payload -> the answer.
HeldHandler = Callable[[Scope, bytes], Awaitable[bytes]]


@dataclass
class _Held:
    """The bus subscriptions of a scope whose socket this worker holds."""

    subscriptions: list[Subscription] = field(default_factory=list)
    #: Held while subscribing: a second socket for the scope, attached while the first one's
    #: subscriptions are still being made, must not make a second set (two responders in one
    #: worker would each send the call on the one socket: the EPOS would get every call twice).
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Router:
    """Routes calls to the worker holding the socket; keeps this worker's sockets on the bus."""

    def __init__(self, gateway: Gateway, bus: Bus, *, worker_id: str | None = None,
                 local_first: bool = True) -> None:
        self.gateway = gateway
        self.bus = bus
        self.worker_id = worker_id or new_worker_id()
        #: Tests turn this off so that even local sockets are reached through the bus.
        self.local_first = local_first
        self._held: dict[Scope, _Held] = {}
        self._subscriptions: list[Subscription] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._held_handlers: dict[str, HeldHandler] = {}
        self._started = False
        gateway.on_attach = self._attached
        gateway.on_detach = self._detached
        bus.on_reconnect.append(self._resubscribe)

    async def start(self) -> None:
        """Join the bus (done by the platform's start, else on the first call or socket)."""
        if self._started:
            return
        self._started = True
        try:
            await self.bus.start()
            self._subscriptions.append(await self.bus.serve(SOCKETS_SUBJECT, self._answer_sockets))
        except BaseException:
            self._started = False
            raise

    def serve_held(self, prefix: str, handler: HeldHandler) -> None:
        """Answer requests on ``<prefix>.<scope token>`` for every scope whose socket this worker
        holds, for as long as it holds it (set before any socket is taken)."""
        self._held_handlers[prefix] = handler

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for held in self._held.values():
            self._subscriptions.extend(held.subscriptions)
        self._held.clear()
        for sub in self._subscriptions:
            await sub.stop()
        self._subscriptions.clear()
        self._started = False

    # -- calls --------------------------------------------------------------------------------

    def holds(self, scope: Scope) -> bool:
        """Whether this worker holds a live socket for the scope."""
        conn = self.gateway.connection(scope)
        return conn is not None and not conn.closed

    def serving(self, scope: Scope) -> bool:
        """Whether this worker holds the scope's socket *and* answers for it on the bus: false
        for the moment between a socket's attach and its subscriptions (a call or flow started
        through another worker then finds no responder), and while the bus is down."""
        held = self._held.get(scope)
        return self.holds(scope) and held is not None and bool(held.subscriptions)

    async def connected(self, scope: Scope) -> bool:
        """Whether any worker holds a socket for the scope (a ping over the bus if not this one)."""
        if self.holds(scope):
            return True
        try:
            if not self._started:
                await self.start()
            await self.bus.request(scope_subject(scope), b'{"ping":true}', REPLY_MARGIN)
        except (NoResponders, BusTimeout, BusUnavailable):
            return False
        return True

    async def call(self, scope: Scope, method: str, params: dict[str, Any] | None,
                   timeout: float | None = None, faults: Sequence[Fault] = ()) -> Result | ErrorReply:
        """Call ``method`` on the scope's socket, wherever it is (NotConnected if nowhere).

        ``faults`` are acted out on the socket, by whichever worker holds it.
        """
        limit = self.gateway.call_timeout if timeout is None else timeout
        if self.local_first and self.holds(scope):
            return await self.gateway.call(scope, method, params, limit, faults)
        if not self._started:
            try:
                await self.start()
            except BusUnavailable as exc:
                raise ConnectionLost(str(exc)) from exc
        request: dict[str, Any] = {"method": method, "params": params, "timeout": limit}
        if faults:
            request["faults"] = [f.to_wire() for f in faults]
        payload = json.dumps(request, separators=(",", ":")).encode()
        try:
            raw = await self.bus.request(scope_subject(scope), payload, limit + REPLY_MARGIN)
        except NoResponders:
            raise NotConnected(f"no EPOS socket is connected for {scope}") from None
        except BusTimeout:
            raise ConnectionLost("the worker holding the socket stopped answering "
                                 "(it may have stopped)") from None
        except BusUnavailable as exc:
            raise ConnectionLost(str(exc)) from exc
        return _decode_reply(raw, method, limit)

    async def _serve_call(self, scope: Scope, payload: bytes) -> bytes:
        """The holder's side: make the call on the local socket, answer with its outcome."""
        try:
            request = json.loads(payload)
            if request.get("ping"):
                return _encode({"pong": self.holds(scope)})
            method, params = str(request["method"]), request.get("params")
            timeout = float(request.get("timeout") or self.gateway.call_timeout)
            faults = [Fault.from_wire(f) for f in request.get("faults") or ()]
        except (ValueError, KeyError, TypeError, AttributeError):  # FaultError is a ValueError
            return _encode({"failure": "lost", "detail": "unreadable routed request"})
        try:
            reply = await self.gateway.call(scope, method, params, timeout, faults)
        except NotConnected as exc:
            return _encode({"failure": "not_connected", "detail": str(exc)})
        except CallTimedOut as exc:
            return _encode({"failure": "timed_out", "id": exc.request_id, "timeout": exc.timeout})
        except ConnectionLost as exc:
            return _encode({"failure": "lost", "detail": str(exc)})
        if reply.frame is not None:  # the EPOS's own frame: read again, as it was, by the caller
            return _encode({"id": reply.id, "frame": reply.frame})
        if isinstance(reply, Result):
            return _encode({"id": reply.id, "result": reply.result})
        return _encode({"id": reply.id, "error": reply.error.to_wire()})

    # -- holding sockets ----------------------------------------------------------------------

    async def _attached(self, conn: EposSession) -> None:
        scope = conn.scope
        if not self._started:
            try:
                await self.start()
            except BusUnavailable:
                log.warning("%s: the bus is unavailable; this socket is reachable from this worker "
                            "only", scope)
        held = self._held.setdefault(scope, _Held())
        await self._subscribe(scope, held)
        claim = {"worker": self.worker_id, "at": conn.connected_at.timestamp()}
        try:
            await self.bus.publish(_claim_subject(scope), _encode(claim))
        except BusUnavailable:
            log.warning("%s: could not announce the new socket (the bus is down)", scope)

    async def _subscribe(self, scope: Scope, held: _Held) -> None:
        async with held.lock:
            await self._subscribe_once(scope, held)

    async def _subscribe_once(self, scope: Scope, held: _Held) -> None:
        if held.subscriptions:
            return

        async def serve(payload: bytes) -> bytes:
            return await self._serve_call(scope, payload)

        async def claimed(payload: bytes) -> None:
            await self._claimed(scope, payload)

        try:
            held.subscriptions.append(await self.bus.serve(scope_subject(scope), serve))
            held.subscriptions.append(await self.bus.subscribe(_claim_subject(scope), claimed))
            for prefix, handler in self._held_handlers.items():
                held.subscriptions.append(
                    await self.bus.serve(held_subject(prefix, scope), _bound(handler, scope)))
        except BusUnavailable:
            for sub in held.subscriptions:
                await sub.stop()
            held.subscriptions.clear()
            log.warning("%s: the bus is down; this socket is reachable from this worker only "
                        "until it returns", scope)

    async def _resubscribe(self) -> None:
        """The bus is back: put the sockets taken during its outage on it."""
        await self.start()  # a no-op unless joining failed before
        for scope, held in list(self._held.items()):
            await self._subscribe(scope, held)

    async def _claimed(self, scope: Scope, payload: bytes) -> None:
        """Another worker took a newer socket for the scope: close ours as replaced."""
        try:
            claim = json.loads(payload)
            worker, at = str(claim["worker"]), float(claim["at"])
        except (ValueError, KeyError, TypeError):
            return
        conn = self.gateway.connection(scope)
        if worker == self.worker_id or conn is None:
            return
        if (conn.connected_at.timestamp(), self.worker_id) > (at, worker):
            return  # ours is the newer one (both connected at once): the other worker closes its
        log.info("%s: a newer socket on worker %s replaces the one from %s", scope, worker,
                 conn.client)
        await conn.close(CLOSE_REPLACED, "replaced by a newer connection")

    def _detached(self, conn: EposSession) -> None:
        if self.gateway.connection(conn.scope) is not None:
            return  # replaced by a newer socket here: this worker still holds the scope
        held = self._held.pop(conn.scope, None)
        if held is None:
            return
        task = asyncio.get_running_loop().create_task(self._release(held))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _release(self, held: _Held) -> None:
        for sub in held.subscriptions:
            await sub.stop()

    # -- every worker's sockets ---------------------------------------------------------------

    async def _answer_sockets(self, payload: bytes) -> bytes:
        stats = self.gateway.stats()
        stats["worker"] = self.worker_id
        for info in stats["sockets"]:
            info["worker"] = self.worker_id
        return _encode(stats)

    async def stats(self) -> dict[str, Any]:
        """Every worker's counters and live sockets, JSON-ready (the gateway's shape, summed, with
        ``workers`` and each socket's ``worker``). With the bus down: this worker's alone, and
        ``partial`` says so."""
        try:
            replies = await self.bus.gather(SOCKETS_SUBJECT, b"{}", GATHER_WINDOW)
            partial = False
        except BusUnavailable:
            replies, partial = [], True
        found = [json.loads(r) for r in replies]
        if not any(s.get("worker") == self.worker_id for s in found):
            found.append(json.loads(await self._answer_sockets(b"{}")))
        totals = Counters()
        for stats in found:
            for name, value in stats.get("totals", {}).items():
                if hasattr(totals, name):
                    setattr(totals, name, getattr(totals, name) + int(value))
        sockets = [s for stats in found for s in stats.get("sockets", [])]
        return {
            "connected": len(sockets),
            "accepted": sum(int(s.get("accepted", 0)) for s in found),
            "refused": sum(int(s.get("refused", 0)) for s in found),
            "totals": asdict(totals),
            "sockets": sorted(sockets, key=lambda s: str(s.get("connectedAt"))),
            "workers": sorted(str(s.get("worker")) for s in found),
            "partial": partial,
        }


def _bound(handler: HeldHandler, scope: Scope) -> Callable[[bytes], Awaitable[bytes]]:
    async def serve(payload: bytes) -> bytes:
        return await handler(scope, payload)
    return serve


def _encode(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def _decode_reply(raw: bytes, method: str, timeout: float) -> Result | ErrorReply:
    try:
        reply = json.loads(raw)
    except ValueError:
        raise ConnectionLost("the worker holding the socket sent an unreadable answer") from None
    failure = reply.get("failure")
    if failure == "not_connected":
        raise NotConnected(str(reply.get("detail")))
    if failure == "timed_out":
        raise CallTimedOut(str(reply.get("id")), float(reply.get("timeout") or timeout))
    if failure is not None:
        raise ConnectionLost(str(reply.get("detail")))
    frame = reply.get("frame")
    if isinstance(frame, str):
        try:
            message = loads_strict(frame)
        except (ValueError, RecursionError):
            raise ConnectionLost("the worker holding the socket sent an unreadable frame") from None
        if isinstance(message, dict) and ("result" in message or "error" in message):
            return reply_event(message, reply.get("id"), method, frame)
        raise ConnectionLost("the worker holding the socket sent a frame that is not a reply")
    if "error" in reply:
        return ErrorReply(reply.get("id"), method, EposError.from_wire(reply["error"]))
    return Result(reply.get("id"), method, reply.get("result"))
