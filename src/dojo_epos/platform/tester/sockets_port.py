"""What the socket flows (Reconnect, Keepalive, Replaced socket) do to an EPOS's socket.

:class:`FlowSockets` is the run's handle on the gateway for its scope: whether the EPOS socket is
here, drop it, ping it, refuse its next handshakes (through the scope's fault book, so each refusal
is in the call log), read the handshakes noted since a moment, and stand in as a second socket for
the scope (:meth:`FlowSockets.replace`: the gateway closes the EPOS's socket with 4000 exactly as
when a second EPOS connects). Times are ``time.monotonic()`` seconds.

The socket must be held by this worker: with ``--workers`` the socket of a scope lives on one
worker and its handshakes land on any; :meth:`FlowSockets.where` says so, and the flows fail their
first step naming it instead of measuring half of what happens.
"""

from __future__ import annotations

import asyncio
import time

from dojo_epos.platform.accounts import Caller, Scope
from dojo_epos.platform.faults import Fault, FaultKind
from dojo_epos.platform.gateway import EposSession, Handshake
from dojo_epos.platform.invoke import Invoker

__all__ = ["FlowSockets", "StandIn"]

_POLL = 0.01  # seconds between looks at the gateway while waiting


class StandIn:
    """The second socket of :meth:`FlowSockets.replace`: takes nothing, sends nowhere."""

    closed_with: int | None = None

    async def send_text(self, text: str) -> None:
        raise ConnectionError("the tester's stand-in socket carries no calls")

    async def close(self, code: int, reason: str) -> None:
        self.closed_with = code


class FlowSockets:
    """One run's handle on its scope's socket (see the module docstring)."""

    def __init__(self, invoker: Invoker, scope: Scope) -> None:
        self.invoker = invoker
        self.gateway = invoker.router.gateway
        self.scope = scope
        self._stand_ins: list[EposSession] = []
        self._refusals: list[Fault] = []

    def session(self) -> EposSession | None:
        """The EPOS's live socket on this worker (never a stand-in), if any."""
        conn = self.gateway.connection(self.scope)
        if conn is None or conn.closed or isinstance(conn.websocket, StandIn):
            return None
        return conn

    async def where(self) -> str | None:
        """None when the EPOS socket is here; otherwise why a socket flow cannot run."""
        if self.session() is not None:
            return None
        if await self.invoker.router.connected(self.scope):
            return ("the EPOS socket is held by another platform worker; socket flows measure "
                    "the socket where it is, so run the platform with one worker for them")
        return "no EPOS socket is connected for this account scope: connect the EPOS first"

    async def drop(self, code: int, reason: str) -> float:
        """Close the EPOS's socket with ``code``; when it was closed."""
        conn = self.session()
        if conn is None:
            raise ConnectionError("no EPOS socket to drop")
        await conn.close(code, reason)
        return time.monotonic()

    async def wait_for_socket(self, since: float, timeout: float) -> EposSession | None:
        """The EPOS socket accepted at or after ``since`` (waiting up to ``timeout``), or None."""
        deadline = time.monotonic() + timeout
        while True:
            conn = self.session()
            if conn is not None and any(h.accepted for h in self.handshakes(since)):
                return conn
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(_POLL)

    async def wait_for_close(self, conn: EposSession, timeout: float) -> bool:
        """Whether ``conn`` is closed within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not conn.closed:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(_POLL)
        return True

    def handshakes(self, since: float) -> list[Handshake]:
        return self.gateway.handshakes(self.scope, since)

    def refuse(self, times: int, status: int) -> Fault:
        """Refuse the scope's next ``times`` handshakes with ``status``."""
        fault = self.invoker.faults.add(
            self.scope, Fault(FaultKind.REFUSE_HANDSHAKE, status=status, times=times))
        self._refusals.append(fault)
        return fault

    async def replace(self, reseller_id: str | None) -> EposSession:
        """Attach a stand-in second socket for the scope: the EPOS's socket is closed with 4000."""
        conn = await self.gateway.attach(StandIn(), Caller(self.scope, reseller_id),
                                         "the tester (a second socket for this scope)")
        self._stand_ins.append(conn)
        return conn

    def clean_up(self) -> None:
        """Remove what this run set: refusals not used up, stand-in sockets."""
        for fault in self._refusals:
            self.invoker.faults.clear(self.scope, fault.id)
        self._refusals.clear()
        for conn in self._stand_ins:
            self.gateway.detach(conn)
        self._stand_ins.clear()
