"""The fault book: every scope's faults, in a per-process cache, optionally shared by every worker.

The model (:class:`~.faults.Fault`, its kinds and their validation) is in :mod:`.faults`; this module
holds and counts faults down. How it is shared between workers is in :mod:`.faults`' text.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Protocol

from dojo_epos.platform.accounts import Scope
from dojo_epos.platform.faults import Fault, FaultKind, checked, kinds_for

__all__ = ["FaultBackend", "FaultBook", "Notify"]

log = logging.getLogger("dojo_epos.platform.faults")


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
        stored = replace(checked(fault), id=_new_id())
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
        fired = self._take(scope, kinds_for(transport), capability)
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
        stored = replace(checked(fault), id=_new_id())
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
        return await self._take_shared(scope, kinds_for(transport), capability)

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
