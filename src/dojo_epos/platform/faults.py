"""Faults on demand: the model and the decisions, per account scope (issue 14, item 1).

A :class:`FaultBook` holds, per :class:`Scope`, the faults a tester asked for. Each
:class:`Fault` has a kind, optionally a capability it is limited to, its parameters (a delay or a
random delay range, a close code, an HTTP status) and how many times it fires (``times``; None: on
every matching call until cleared). Nothing is set by default, and one scope's faults never touch
another scope: every question is asked with the scope.

The transports ask the book at the point where a fault acts: :meth:`FaultBook.take_call` (or the
synchronous :meth:`FaultBook.for_call`) before a call is sent or a webhook delivered,
:meth:`FaultBook.for_handshake` (:meth:`FaultBook.take_handshake`) when a socket opens. The book
only decides (and counts down); acting on the decision is the caller's part. The invoker decides
where the call is made; when another worker holds the socket, the chosen faults travel with the
routed call (:mod:`.routing`) and that worker acts them out. This module has no HTTP or socket code.

Acted on today: every call fault on the WebSocket (by the gateway's session: delay, drop before or
after sending, never answer, deliver twice, re-send with a new id, close with a code), on REST (by
the invoker: delay, connection reset, retry after a time-out) and on webhook deliveries (by
:mod:`.payments.delivery`: delay, duplicate, drop); the fired fault's :meth:`Fault.describe` is
added to the call's ``detail`` in the call log. Refusing handshakes (the ``/epos`` endpoint answers
HTTP 401 or 503 before the upgrade) and ignoring pings (the platform's WebSocket protocol withholds
its pongs) are acted on by :mod:`.socket_faults`, which puts each firing in the call log too
(``ignore-pings`` with ``times``: that many pings go unanswered).

**Shared by every worker.** A book given a :class:`FaultBackend` (:mod:`.faultstore`: a table of
the platform's database) keeps its faults there and holds a per-process cache, reloaded when a
"faults changed" notice arrives (the container broadcasts one on the bus after every change, and
reloads after a bus outage). A call for a scope with no fault is answered from the cache alone
(:meth:`FaultBook.has`: one dict lookup, no query). A fault with ``times`` is counted down in the
database, atomically (:meth:`FaultBook.take_call`), so N firings happen N times in all, whichever
workers make the calls. The synchronous methods (:meth:`add`, :meth:`clear`, :meth:`for_call`,
:meth:`for_handshake`) act on the cache at once and write the change to the database in the
background; the ``async`` ones (:meth:`put`, :meth:`remove`, :meth:`take_call`) wait for it.

The platform API (``/epos-tester-tool/faults``), ``dojo-epos faults`` and the dashboard's Faults
page set and clear them; flows can also use ``invoker.faults`` directly.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol

from dojo_epos.contract.capabilities import UnknownCapability, lookup
from dojo_epos.platform.accounts import Scope

__all__ = ["CLOSE_CODES", "HANDSHAKE_STATUSES", "MAX_DELAY", "MAX_TIMES", "NOT_ACTED_ON", "WEBHOOK",
           "WEBHOOK_DELIVERED", "Fault",
           "FaultBackend", "FaultBook", "FaultError", "FaultKind"]

log = logging.getLogger("dojo_epos.platform.faults")

#: The ``transport`` a webhook delivery asks :meth:`FaultBook.take_call` with before an attempt
#: (delay, drop), and after a successful one (duplicate: only a delivered event is duplicated).
WEBHOOK = "webhook"
WEBHOOK_DELIVERED = "webhook-delivered"


class FaultKind(StrEnum):
    """What goes wrong."""

    DELAY = "delay"
    """The request is held for ``delay`` seconds (or a random time up to ``delay_max``)."""
    DROP_BEFORE_SEND = "drop-before-send"
    """The socket is dropped instead of sending the request."""
    DROP_AFTER_SEND = "drop-after-send"
    """The request is sent, then the socket is dropped before the answer."""
    NEVER_ANSWER = "never-answer"
    """The request is swallowed: the call ends at the time-out (Dojo's time-out path)."""
    DELIVER_TWICE = "deliver-twice"
    """The same request frame (the same JSON-RPC id) is sent twice."""
    RESEND_NEW_ID = "resend-new-id"
    """After the answer, the request is sent again with a new id (same paymentIntentId)."""
    CLOSE = "close"
    """The socket is closed with ``close_code`` (1001, 1012 or 4000)."""
    REFUSE_HANDSHAKE = "refuse-handshake"
    """The next ``times`` handshakes are refused with ``status`` (401 or 503)."""
    IGNORE_PINGS = "ignore-pings"
    """The platform stops answering the EPOS's pings."""
    REST_DELAY = "rest-delay"
    """A REST call is held for ``delay`` seconds before it is sent."""
    REST_RESET = "rest-reset"
    """A REST call fails as a connection reset."""
    REST_RETRY_AFTER_TIMEOUT = "rest-retry-after-timeout"
    """A REST call times out and is sent again."""
    WEBHOOK_DELAY = "webhook-delay"
    """A webhook delivery attempt is held for ``delay`` seconds before it is POSTed."""
    WEBHOOK_DUPLICATE = "webhook-duplicate"
    """A webhook delivered successfully is POSTed again (the same event id and body)."""
    WEBHOOK_DROP = "webhook-drop"
    """A webhook delivery attempt is lost (never reaches the receiver) and is retried by the
    documented back-off."""


#: Close codes a CLOSE fault may use: going away, service restart, replaced by a newer socket.
CLOSE_CODES = frozenset({1001, 1012, 4000})
#: Statuses a REFUSE_HANDSHAKE fault may answer with.
HANDSHAKE_STATUSES = frozenset({401, 503})
#: The longest delay a fault may add, in seconds (well past Dojo's time-out).
MAX_DELAY = 120.0
#: The most ``times`` a fault may be set to fire (it is a database integer on every engine).
MAX_TIMES = 1_000_000

_SOCKET_KINDS = frozenset({
    FaultKind.DELAY, FaultKind.DROP_BEFORE_SEND, FaultKind.DROP_AFTER_SEND, FaultKind.NEVER_ANSWER,
    FaultKind.DELIVER_TWICE, FaultKind.RESEND_NEW_ID, FaultKind.CLOSE})
_REST_KINDS = frozenset({FaultKind.REST_DELAY, FaultKind.REST_RESET,
                         FaultKind.REST_RETRY_AFTER_TIMEOUT})
_WEBHOOK_KINDS = frozenset({FaultKind.WEBHOOK_DELAY, FaultKind.WEBHOOK_DUPLICATE,
                            FaultKind.WEBHOOK_DROP})
_DELAY_KINDS = frozenset({FaultKind.DELAY, FaultKind.REST_DELAY, FaultKind.WEBHOOK_DELAY})
_KINDS_OF = {"ws": _SOCKET_KINDS, "rest": _REST_KINDS,
             WEBHOOK: frozenset({FaultKind.WEBHOOK_DELAY, FaultKind.WEBHOOK_DROP}),
             WEBHOOK_DELIVERED: frozenset({FaultKind.WEBHOOK_DUPLICATE})}
#: The JSON fields of a fault (camelCase, as the platform API takes and gives them).
_FIELDS = ("kind", "capability", "delay", "delayMax", "closeCode", "status", "times")


class FaultError(ValueError):
    """A fault that cannot be set as asked; the message says which field and why."""


@dataclass(frozen=True)
class Fault:
    """One fault of one scope (``id`` is given by the book)."""

    kind: FaultKind
    capability: str | None = None
    delay: float = 0.0
    delay_max: float | None = None
    close_code: int | None = None
    status: int | None = None
    times: int | None = None
    id: str = ""

    def describe(self) -> str:
        """A short text for the call log and the dashboard: what was injected."""
        parts = [str(self.kind)]
        if self.kind in _DELAY_KINDS:
            parts.append(f"{self.delay:g}-{self.delay_max:g} s" if self.delay_max is not None
                         else f"{self.delay:g} s")
        if self.close_code is not None:
            parts.append(f"code {self.close_code}")
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.capability:
            parts.append(f"on {self.capability}")
        return f"fault {self.id} ({' '.join(parts)})"

    def seconds(self, rng: random.Random | None = None) -> float:
        """The delay this firing adds: fixed, or uniform in [delay, delay_max]."""
        if self.delay_max is None:
            return self.delay
        return (rng or random).uniform(self.delay, self.delay_max)

    def to_wire(self) -> dict[str, Any]:
        """The fault as the platform API shows it (camelCase; ``times`` is what is left)."""
        return {"id": self.id, "kind": self.kind.value, "capability": self.capability,
                "delay": self.delay, "delayMax": self.delay_max, "closeCode": self.close_code,
                "status": self.status, "times": self.times, "description": self.describe()}

    @classmethod
    def from_wire(cls, body: Any) -> Fault:
        """A fault from the API's JSON body (not yet checked: :meth:`FaultBook.add` does that);
        FaultError naming the field for anything of the wrong type or unknown."""
        if not isinstance(body, Mapping):
            raise FaultError("body: a JSON object with kind and the fault's parameters")
        unknown = sorted(set(body) - set(_FIELDS) - {"id", "description"})
        if unknown:
            raise FaultError(f"{unknown[0]}: not a field of a fault (fields: {', '.join(_FIELDS)})")
        kind = body.get("kind")
        if not isinstance(kind, str):
            raise FaultError(f"kind: required, one of {', '.join(k.value for k in FaultKind)}")
        try:
            fault_kind = FaultKind(kind)
        except ValueError:
            raise FaultError(f"kind: {kind!r} is not one of "
                             f"{', '.join(k.value for k in FaultKind)}") from None
        capability = body.get("capability")
        if capability is not None and not isinstance(capability, str):
            raise FaultError("capability: a capability name (a string)")
        return cls(kind=fault_kind, capability=capability or None,
                   delay=_number(body, "delay") or 0.0, delay_max=_number(body, "delayMax"),
                   close_code=_integer(body, "closeCode"), status=_integer(body, "status"),
                   times=_integer(body, "times"), id=str(body.get("id") or ""))


def _number(body: Mapping[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise FaultError(f"{name}: a number of seconds")
    return float(value)


def _integer(body: Mapping[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise FaultError(f"{name}: an integer")
    return value


#: Kinds modelled here that no transport acts on yet (refused by :meth:`FaultBook.add`): none now.
NOT_ACTED_ON: frozenset[FaultKind] = frozenset()


def _checked(fault: Fault) -> Fault:
    """The fault with its capability in canonical form; FaultError for anything out of range."""
    if fault.kind in NOT_ACTED_ON:
        raise FaultError(f"kind: {fault.kind} faults are not implemented yet (no transport acts on them)")
    capability = fault.capability
    if capability is not None:
        if fault.kind in (FaultKind.REFUSE_HANDSHAKE, FaultKind.IGNORE_PINGS):
            raise FaultError(f"capability: a {fault.kind} fault concerns the socket, not a call")
        if fault.kind in _WEBHOOK_KINDS:
            raise FaultError(f"capability: a {fault.kind} fault concerns webhook deliveries, "
                             "not a call")
        try:
            capability = lookup(capability).name
        except UnknownCapability:
            raise FaultError(f"capability: {capability!r} is not a capability of the contract") from None
    if not 0 <= fault.delay <= MAX_DELAY:
        raise FaultError(f"delay: must be between 0 and {MAX_DELAY:g} seconds")
    if fault.delay_max is not None and not fault.delay <= fault.delay_max <= MAX_DELAY:
        raise FaultError(f"delayMax: must be at least delay and at most {MAX_DELAY:g} seconds")
    if fault.kind in _DELAY_KINDS and fault.delay == 0 and not fault.delay_max:
        raise FaultError("delay: a delay fault needs a delay above 0")
    if fault.kind is FaultKind.CLOSE and fault.close_code not in CLOSE_CODES:
        raise FaultError(f"closeCode: one of {sorted(CLOSE_CODES)}")
    if fault.kind is not FaultKind.CLOSE and fault.close_code is not None:
        raise FaultError("closeCode: only a close fault takes one")
    if fault.kind is FaultKind.REFUSE_HANDSHAKE and fault.status not in HANDSHAKE_STATUSES:
        raise FaultError(f"status: one of {sorted(HANDSHAKE_STATUSES)}")
    if fault.kind is not FaultKind.REFUSE_HANDSHAKE and fault.status is not None:
        raise FaultError("status: only a refuse-handshake fault takes one")
    if fault.times is not None and fault.times < 1:
        raise FaultError("times: at least 1 (leave it out for every call)")
    if fault.times is not None and fault.times > MAX_TIMES:
        raise FaultError(f"times: at most {MAX_TIMES} (leave it out for every call)")
    return replace(fault, capability=capability)




class FaultBackend(Protocol):
    """Where a shared book keeps its faults (:class:`~.faultstore.FaultStore`: the database)."""

    async def insert(self, scope: Scope, fault: Fault) -> None: ...

    async def delete(self, scope: Scope, fault_id: str | None) -> int: ...

    async def claim(self, scope: Scope, fault_id: str) -> bool:
        """Count a fault with ``times`` down by one, atomically; False when none was left."""
        ...

    async def load(self) -> dict[Scope, list[Fault]]: ...


#: Told after this book changed the shared faults (the container broadcasts it on the bus).
Notify = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class _Op:
    """A change made through a synchronous method, not yet written to the backend."""

    action: str  # "add", "clear" or "claim"
    scope: Scope
    fault: Fault | None = None
    fault_id: str | None = None


class FaultBook:
    """Every scope's faults; empty by default. ``backend``: share them (see the module's text)."""

    def __init__(self, backend: FaultBackend | None = None, notify: Notify | None = None) -> None:
        self._faults: dict[Scope, list[Fault]] = {}
        self.backend = backend
        self.notify = notify
        self._pending: list[_Op] = []
        self._writer: asyncio.Task[None] | None = None

    # -- the cache (synchronous) ----------------------------------------------------------------

    def has(self, scope: Scope) -> bool:
        """Whether ``scope`` has any fault set: the hot path's only question when it has none."""
        return scope in self._faults

    def add(self, scope: Scope, fault: Fault) -> Fault:
        """Set a fault for ``scope``; the stored fault (with its id). FaultError when invalid."""
        stored = replace(_checked(fault), id=_new_id())
        self._faults.setdefault(scope, []).append(stored)
        self._enqueue(_Op("add", scope, fault=stored))
        return stored

    def of(self, scope: Scope) -> list[Fault]:
        """The faults set for ``scope``, in the order they were set."""
        return list(self._faults.get(scope, ()))

    def clear(self, scope: Scope, fault_id: str | None = None) -> int:
        """Remove one fault of ``scope`` (or all of them); how many were removed."""
        removed = self._drop(scope, fault_id)
        self._enqueue(_Op("clear", scope, fault_id=fault_id))
        return removed

    def for_call(self, scope: Scope, capability: str, transport: str) -> list[Fault]:
        """The faults that fire on this call (``capability``: canonical name), in the order set.
        Decided from this process's cache (see :meth:`take_call` for the shared count)."""
        fired = self._take(scope, _KINDS_OF.get(transport, _REST_KINDS), capability)
        for fault in fired:
            if fault.times is not None:
                self._enqueue(_Op("claim", scope, fault_id=fault.id))
        return fired

    def for_handshake(self, scope: Scope) -> Fault | None:
        """The refusal for this handshake, if one is set (counted down)."""
        fired = self._take(scope, frozenset({FaultKind.REFUSE_HANDSHAKE}), None)
        for fault in fired:
            if fault.times is not None:
                self._enqueue(_Op("claim", scope, fault_id=fault.id))
        return fired[0] if fired else None

    def for_ping(self, scope: Scope) -> Fault | None:
        """The fault withholding the answer to this ping from the EPOS, if one is set (counted down)."""
        fired = self._take(scope, frozenset({FaultKind.IGNORE_PINGS}), None)
        for fault in fired:
            if fault.times is not None:
                self._enqueue(_Op("claim", scope, fault_id=fault.id))
        return fired[0] if fired else None

    def _drop(self, scope: Scope, fault_id: str | None) -> int:
        faults = self._faults.get(scope, [])
        kept = [f for f in faults if fault_id is not None and f.id != fault_id]
        self._set(scope, kept)
        return len(faults) - len(kept)

    def _set(self, scope: Scope, faults: list[Fault]) -> None:
        if faults:
            self._faults[scope] = faults
        else:
            self._faults.pop(scope, None)

    def _matching(self, scope: Scope, wanted: frozenset[FaultKind],
                  capability: str | None) -> list[Fault]:
        return [f for f in self._faults.get(scope, ())
                if f.kind in wanted and (f.capability is None or f.capability == capability)]

    def _count_down(self, scope: Scope, fault_ids: set[str]) -> None:
        """The cached faults ``fault_ids`` fired once: one fewer time left, gone at none."""
        kept: list[Fault] = []
        for fault in self._faults.get(scope, ()):
            if fault.id in fault_ids and fault.times is not None:
                if fault.times > 1:
                    kept.append(replace(fault, times=fault.times - 1))
            else:
                kept.append(fault)
        self._set(scope, kept)

    def _take(self, scope: Scope, wanted: frozenset[FaultKind], capability: str | None) -> list[Fault]:
        """The scope's faults of ``wanted`` kinds that match, each counted down once."""
        fired = self._matching(scope, wanted, capability)
        if fired:
            self._count_down(scope, {f.id for f in fired})
        return fired

    # -- shared through the backend (asynchronous) ----------------------------------------------

    async def put(self, scope: Scope, fault: Fault) -> Fault:
        """:meth:`add`, written to the backend (and other workers told) before it returns."""
        stored = replace(_checked(fault), id=_new_id())
        if self.backend is not None:
            await self.flush()
            await self.backend.insert(scope, stored)
        self._faults.setdefault(scope, []).append(stored)
        await self._notify()
        return stored

    async def remove(self, scope: Scope, fault_id: str | None = None) -> int:
        """:meth:`clear`, in the backend; how many faults were removed there."""
        removed = self._drop(scope, fault_id)
        if self.backend is not None:
            await self.flush()
            removed = await self.backend.delete(scope, fault_id)
            await self._notify()
        return removed

    async def listed(self, scope: Scope) -> list[Fault]:
        """:meth:`of`, read fresh from the backend (the API's and dashboard's list)."""
        if self.backend is not None:
            await self.reload()
        return self.of(scope)

    async def take_call(self, scope: Scope, capability: str | None, transport: str) -> list[Fault]:
        """The faults that fire on this call, a fault with ``times`` counted down atomically in
        the backend (it fires only if some time was left there)."""
        if self.backend is None:
            return self.for_call(scope, capability or "", transport)
        return await self._take_shared(scope, _KINDS_OF.get(transport, _REST_KINDS), capability)

    async def take_handshake(self, scope: Scope) -> Fault | None:
        """:meth:`for_handshake`, counted down atomically in the backend."""
        if self.backend is None:
            return self.for_handshake(scope)
        fired = await self._take_shared(scope, frozenset({FaultKind.REFUSE_HANDSHAKE}), None)
        return fired[0] if fired else None

    async def _take_shared(self, scope: Scope, wanted: frozenset[FaultKind],
                           capability: str | None) -> list[Fault]:
        assert self.backend is not None
        candidates = self._matching(scope, wanted, capability)
        if not candidates:
            return []
        if self._pending:
            await self.flush()  # a fault added a moment ago must be in the table to be counted
        fired: list[Fault] = []
        counted: set[str] = set()
        for fault in candidates:
            if fault.times is None:
                fired.append(fault)
                continue
            counted.add(fault.id)
            if await self.backend.claim(scope, fault.id):
                fired.append(fault)
            else:  # used up by another worker: gone from the cache too
                self._set(scope, [f for f in self._faults.get(scope, ()) if f.id != fault.id])
        if counted:
            self._count_down(scope, counted & {f.id for f in fired})
            await self._notify()
        return fired

    async def reload(self) -> None:
        """Read every scope's faults from the backend (a "faults changed" notice arrived)."""
        if self.backend is None:
            return
        # Changes made here and not yet written when the read began still count (applied again
        # if written meanwhile: an add is kept once, a clear is a clear), in the order made.
        before = list(self._pending)
        loaded = await self.backend.load()
        for op in [*before, *(op for op in self._pending if all(op is not b for b in before))]:
            faults = loaded.setdefault(op.scope, [])
            if op.action == "add" and op.fault is not None:
                if all(f.id != op.fault.id for f in faults):
                    faults.append(op.fault)
            elif op.action == "clear":
                loaded[op.scope] = [f for f in faults
                                    if op.fault_id is not None and f.id != op.fault_id]
        self._faults = {scope: faults for scope, faults in loaded.items() if faults}

    async def flush(self) -> None:
        """Wait until every change made through the synchronous methods is in the backend."""
        if self._pending and (self._writer is None or self._writer.done()):
            self._writer = asyncio.get_running_loop().create_task(self._write())
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    def _enqueue(self, op: _Op) -> None:
        if self.backend is None:
            return
        self._pending.append(op)
        if self._writer is None or self._writer.done():
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # no loop yet: written by the next flush, reload or take
            self._writer = loop.create_task(self._write(), name="fault book writer")

    async def _write(self) -> None:
        assert self.backend is not None
        wrote = False
        while self._pending:
            op = self._pending[0]
            try:
                if op.action == "add" and op.fault is not None:
                    await self.backend.insert(op.scope, op.fault)
                elif op.action == "clear":
                    await self.backend.delete(op.scope, op.fault_id)
                elif op.action == "claim" and op.fault_id is not None:
                    await self.backend.claim(op.scope, op.fault_id)
                wrote = True
            except Exception:
                log.exception("%s: could not write a fault change (%s) to the store", op.scope,
                              op.action)
            finally:
                self._pending.pop(0)
        if wrote:
            await self._notify()

    async def _notify(self) -> None:
        if self.notify is None:
            return
        try:
            await self.notify()
        except Exception:  # the bus being down never fails the change; a reload catches up
            log.warning("could not announce a fault change to the other workers", exc_info=True)


def _new_id() -> str:
    """A fault's id, unique across workers sharing one database."""
    return f"f{uuid.uuid4().hex[:10]}"
