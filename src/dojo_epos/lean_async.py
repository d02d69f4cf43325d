"""asyncio's Event and Queue, without what a socket held for ever and never used.

``asyncio.Event`` and ``asyncio.Queue`` allocate their deques up front: an Event one (760 bytes),
a Queue four (its items, its getters, its putters and the Event behind ``join()``: 3 KiB). A
socket keeps them as long as it lives, so 10,000 sockets paid about 37 MiB for queues that hold
one message at a time and events nobody waits on (``sockets.gateway.*`` in benchmarks/README.md,
tracemalloc by traceback). :class:`Signal` and :class:`LeanQueue` do the same jobs with no
container until one is needed.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Generic, TypeVar

__all__ = ["LeanQueue", "Signal"]

T = TypeVar("T")


class Signal:
    """The part of :class:`asyncio.Event` a socket uses, lighter: no waiter set until something
    waits, and :meth:`waiter` hands out a bare future where waiting on an Event needs a task of
    its own."""

    __slots__ = ("_is_set", "_waiters")

    def __init__(self) -> None:
        self._is_set = False
        self._waiters: set[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._is_set

    def set(self) -> None:
        if self._is_set:
            return
        self._is_set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._is_set = False

    def waiter(self) -> asyncio.Future[None]:
        """A future done once the signal is set (cancel it to stop waiting)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._is_set:
            waiter.set_result(None)
            return waiter
        if self._waiters is None:
            self._waiters = set()
        self._waiters.add(waiter)
        waiter.add_done_callback(self._forget)
        return waiter

    def _forget(self, waiter: asyncio.Future[None]) -> None:
        if self._waiters is not None:
            self._waiters.discard(waiter)

    async def wait(self) -> bool:
        """Like :meth:`asyncio.Event.wait`: return (True) once the signal is set."""
        if not self._is_set:
            await self.waiter()
        return True


class LeanQueue(Generic[T]):
    """An unbounded FIFO with :class:`asyncio.Queue`'s ``put_nowait``, ``get``, ``get_nowait``,
    ``empty`` and ``qsize`` (no ``join``, no bound): a list for the items and a getter list made
    on the first wait. Getters are served in order, and a getter cancelled after being woken
    passes the wake-up on, as asyncio's does."""

    __slots__ = ("_getters", "_items")

    def __init__(self) -> None:
        self._items: list[T] = []
        self._getters: list[asyncio.Future[None]] | None = None

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items

    def put_nowait(self, item: T) -> None:
        self._items.append(item)
        self._wake_next()

    def get_nowait(self) -> T:
        if not self._items:
            raise asyncio.QueueEmpty
        return self._items.pop(0)

    async def get(self) -> T:
        while not self._items:
            getter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            if self._getters is None:
                self._getters = []
            self._getters.append(getter)
            try:
                await getter
            except BaseException:
                getter.cancel()
                with contextlib.suppress(ValueError):
                    self._getters.remove(getter)
                if self._items and not getter.cancelled():
                    self._wake_next()  # it was woken, then cancelled: the next getter's turn
                raise
        return self._items.pop(0)

    def _wake_next(self) -> None:
        getters = self._getters
        while getters:
            getter = getters.pop(0)
            if not getter.done():
                getter.set_result(None)
                return
