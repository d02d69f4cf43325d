"""What the resilience flows use of the fault book and the gateway, bound to the run's scope.

A resilience flow sets a fault for its own scope only, for one call or for its own duration, and
clears what it set when it ends (:meth:`FlowFaults.clear`), whatever happens. It also asks whether
the EPOS's socket is back after a drop (on any worker: :meth:`~.routing.Router.connected`) and
reads Dojo's per-call time-out (the platform's ``call_timeout``), which the Slow network flow
measures answers against.
"""

from __future__ import annotations

import asyncio
import time

from dojo_epos.platform.accounts import Scope
from dojo_epos.platform.fault_book import FaultBook
from dojo_epos.platform.faults import Fault
from dojo_epos.platform.routing import Router

__all__ = ["FlowFaults"]

#: How often :meth:`FlowFaults.wait_connected` looks at the socket (seconds).
POLL = 0.01


class FlowFaults:
    """The run's scope on the fault book, and its EPOS socket."""

    def __init__(self, book: FaultBook, router: Router, scope: Scope, call_timeout: float) -> None:
        self.book = book
        self.router = router
        self.scope = scope
        self.call_timeout = call_timeout
        """Dojo's per-call time-out as this platform applies it (seconds)."""

    async def add(self, fault: Fault) -> Fault:
        """Set ``fault`` for the run's scope, shared with every worker before it returns; the
        stored fault (with its id)."""
        return await self.book.put(self.scope, fault)

    async def clear(self, fault: Fault) -> None:
        """Remove ``fault`` if it is still set (a fault with ``times`` goes once it has fired)."""
        await self.book.remove(self.scope, fault.id)

    def pending(self, fault: Fault) -> bool:
        """Whether ``fault`` is still set (with ``times=1``: it has not fired yet)."""
        return any(f.id == fault.id for f in self.book.of(self.scope))

    async def connected(self) -> bool:
        """Whether a socket of the scope is connected, on any worker."""
        return await self.router.connected(self.scope)

    async def wait_connected(self, within: float) -> float | None:
        """Seconds until a socket of the scope is connected (0 when it already is), or None when
        none is within ``within`` seconds."""
        started = time.perf_counter()
        deadline = started + within
        while True:
            if await self.connected():
                return time.perf_counter() - started
            if time.perf_counter() >= deadline:
                return None
            await asyncio.sleep(POLL)
