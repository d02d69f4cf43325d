"""Faults on demand: the model and the decisions, per account scope (issue 14, item 1).

A :class:`~.fault_book.FaultBook` holds, per :class:`Scope`, the faults a tester asked for. Each
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

import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from dojo_epos.contract.capabilities import UnknownCapability, lookup

__all__ = ["CLOSE_CODES", "HANDSHAKE_STATUSES", "MAX_DELAY", "MAX_TIMES", "NOT_ACTED_ON", "WEBHOOK",
           "WEBHOOK_DELIVERED", "Fault", "FaultError", "FaultKind", "checked", "kinds_for"]


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


def checked(fault: Fault) -> Fault:
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


def kinds_for(transport: str) -> frozenset[FaultKind]:
    """The kinds a call over ``transport`` ("ws", "rest", or a webhook stage) can fire."""
    return _KINDS_OF.get(transport, _REST_KINDS)
