"""Faults on demand: the model and the decisions, per account scope (issue 14, item 1).

A :class:`FaultBook` holds, per :class:`Scope`, the faults a tester asked for. Each
:class:`Fault` has a kind, optionally a capability it is limited to, its parameters (a delay or a
random delay range, a close code, an HTTP status) and how many times it fires (``times``; None: on
every matching call until cleared). Nothing is set by default, and one scope's faults never touch
another scope: every question is asked with the scope.

The transports ask the book at the point where a fault acts: :meth:`FaultBook.for_call` before a
call is sent, :meth:`FaultBook.for_handshake` when a socket opens. The book only decides (and
counts down); acting on the decision is the caller's part. This module has no HTTP or socket code.

Acted on today: every call fault on the WebSocket (by the gateway's session: delay, drop before or
after sending, never answer, deliver twice, re-send with a new id, close with a code) and on REST
(by the invoker: delay, connection reset, retry after a time-out); the invoker adds each fired
fault's :meth:`Fault.describe` to the call's ``detail`` in the call log. Refusing handshakes (the
``/epos`` endpoint answers HTTP 401 or 503 before the upgrade) and ignoring pings (the platform's
WebSocket protocol withholds its pongs) are acted on by :mod:`.socket_faults`, which puts each
firing in the call log too (``ignore-pings`` with ``times``: that many pings go unanswered). There is no
platform API, CLI or dashboard page for faults yet: they are set through ``invoker.faults``.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, replace
from enum import StrEnum

from dojo_epos.contract.capabilities import UnknownCapability, lookup
from dojo_epos.platform.accounts import Scope

__all__ = ["CLOSE_CODES", "HANDSHAKE_STATUSES", "MAX_DELAY", "NOT_ACTED_ON", "Fault", "FaultBook",
           "FaultError", "FaultKind"]


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


#: Close codes a CLOSE fault may use: going away, service restart, replaced by a newer socket.
CLOSE_CODES = frozenset({1001, 1012, 4000})
#: Statuses a REFUSE_HANDSHAKE fault may answer with.
HANDSHAKE_STATUSES = frozenset({401, 503})
#: The longest delay a fault may add, in seconds (well past Dojo's time-out).
MAX_DELAY = 120.0

_SOCKET_KINDS = frozenset({
    FaultKind.DELAY, FaultKind.DROP_BEFORE_SEND, FaultKind.DROP_AFTER_SEND, FaultKind.NEVER_ANSWER,
    FaultKind.DELIVER_TWICE, FaultKind.RESEND_NEW_ID, FaultKind.CLOSE})
_REST_KINDS = frozenset({FaultKind.REST_DELAY, FaultKind.REST_RESET,
                         FaultKind.REST_RETRY_AFTER_TIMEOUT})


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
        if self.kind in (FaultKind.DELAY, FaultKind.REST_DELAY):
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
        try:
            capability = lookup(capability).name
        except UnknownCapability:
            raise FaultError(f"capability: {capability!r} is not a capability of the contract") from None
    if not 0 <= fault.delay <= MAX_DELAY:
        raise FaultError(f"delay: must be between 0 and {MAX_DELAY:g} seconds")
    if fault.delay_max is not None and not fault.delay <= fault.delay_max <= MAX_DELAY:
        raise FaultError(f"delayMax: must be at least delay and at most {MAX_DELAY:g} seconds")
    if fault.kind in (FaultKind.DELAY, FaultKind.REST_DELAY) and fault.delay == 0 and not fault.delay_max:
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
    return replace(fault, capability=capability)


class FaultBook:
    """Every scope's faults; empty by default."""

    def __init__(self) -> None:
        self._faults: dict[Scope, list[Fault]] = {}
        self._ids = itertools.count(1)

    def add(self, scope: Scope, fault: Fault) -> Fault:
        """Set a fault for ``scope``; the stored fault (with its id). FaultError when invalid."""
        stored = replace(_checked(fault), id=f"f{next(self._ids)}")
        self._faults.setdefault(scope, []).append(stored)
        return stored

    def of(self, scope: Scope) -> list[Fault]:
        """The faults set for ``scope``, in the order they were set."""
        return list(self._faults.get(scope, ()))

    def clear(self, scope: Scope, fault_id: str | None = None) -> int:
        """Remove one fault of ``scope`` (or all of them); how many were removed."""
        faults = self._faults.get(scope, [])
        kept = [f for f in faults if fault_id is not None and f.id != fault_id]
        removed = len(faults) - len(kept)
        if kept:
            self._faults[scope] = kept
        else:
            self._faults.pop(scope, None)
        return removed

    def _take(self, scope: Scope, wanted: frozenset[FaultKind], capability: str | None) -> list[Fault]:
        """The scope's faults of ``wanted`` kinds that match, each counted down once."""
        faults = self._faults.get(scope)
        if not faults:
            return []
        fired: list[Fault] = []
        kept: list[Fault] = []
        for fault in faults:
            matches = fault.kind in wanted and (fault.capability is None or fault.capability == capability)
            if matches:
                fired.append(fault)
                if fault.times is not None and fault.times > 1:
                    kept.append(replace(fault, times=fault.times - 1))
                elif fault.times is None:
                    kept.append(fault)
            else:
                kept.append(fault)
        if kept:
            self._faults[scope] = kept
        else:
            self._faults.pop(scope, None)
        return fired

    def for_call(self, scope: Scope, capability: str, transport: str) -> list[Fault]:
        """The faults that fire on this call (``capability``: canonical name), in the order set."""
        return self._take(scope, _SOCKET_KINDS if transport == "ws" else _REST_KINDS, capability)

    def for_handshake(self, scope: Scope) -> Fault | None:
        """The refusal for this handshake, if one is set (counted down)."""
        fired = self._take(scope, frozenset({FaultKind.REFUSE_HANDSHAKE}), None)
        return fired[0] if fired else None

    def for_ping(self, scope: Scope) -> Fault | None:
        """The fault withholding the answer to this ping from the EPOS, if one is set (counted down)."""
        fired = self._take(scope, frozenset({FaultKind.IGNORE_PINGS}), None)
        return fired[0] if fired else None
