"""Faults that act on the socket itself, not on a call: refused handshakes and unanswered pings.

The ``/epos`` endpoint asks :meth:`SocketFaults.refusal` after it has authenticated a handshake (a
fault belongs to an account scope, so the scope must be known first) and answers a refusal with its
HTTP status before the upgrade. The platform's WebSocket protocol asks :meth:`SocketFaults.answer_ping`
at each ping from the EPOS (see :mod:`dojo_epos.keepalive`). Both questions go to the scope's
:class:`~.fault_book.FaultBook` (``invoker.faults``), and every fault that fires is put in the call log
(capability ``WebSocket handshake`` or ``WebSocket ping``, transport ``ws``, the fault described
in ``detail``), as call faults are.
"""

from __future__ import annotations

import logging

from dojo_epos.platform.accounts import Scope
from dojo_epos.platform.faults import Fault
from dojo_epos.platform.invoke import Invoker
from dojo_epos.platform.outcome import Failure, InvocationResult

__all__ = ["HANDSHAKE", "PING", "SocketFaults"]

log = logging.getLogger("dojo_epos.platform.faults")

#: The call-log "capability" of a refused handshake and of an unanswered ping.
HANDSHAKE, PING = "WebSocket handshake", "WebSocket ping"


class SocketFaults:
    """The socket-level questions to the fault book, each firing logged."""

    def __init__(self, invoker: Invoker) -> None:
        self.invoker = invoker

    async def refusal(self, scope: Scope) -> Fault | None:
        """The fault refusing this handshake of ``scope`` (its ``status``: 401 or 503), or None;
        counted down atomically in the shared book, so ``times`` holds across workers."""
        fault = await self.invoker.faults.take_handshake(scope)
        if fault is not None:
            self._record(scope, HANDSHAKE, fault, f"handshake refused with HTTP {fault.status}")
        return fault

    def answer_ping(self, scope: Scope) -> bool:
        """Whether to answer this ping from the EPOS of ``scope`` (False: an ignore-pings fault).

        Synchronous (the WebSocket protocol asks as the ping arrives): decided from this worker's
        copy of the book, the count-down written to the shared book in the background."""
        fault = self.invoker.faults.for_ping(scope)
        if fault is None:
            return True
        self._record(scope, PING, fault, "the EPOS's ping was not answered")
        return False

    def _record(self, scope: Scope, what: str, fault: Fault, detail: str) -> None:
        log.info("%s: %s: %s", scope, fault.describe(), detail)
        self.invoker.calls.record(scope, InvocationResult(
            capability=what, ok=False, transport="ws", failure=Failure.TRANSPORT_ERROR,
            detail=f"{fault.describe()} | {detail}"))
