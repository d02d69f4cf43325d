"""The in-process bus: the embedded default, one process and no broker.

Routing is a dictionary lookup; responders are called directly. Several platforms in one process
(tests: two "workers") share one :class:`MemoryBus` and behave as they would on NATS.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from typing import Generic, TypeVar

from dojo_epos.platform.bus.base import (
    Broadcast,
    Bus,
    BusTimeout,
    NoResponders,
    Responder,
    Subscription,
)

__all__ = ["MemoryBus"]

log = logging.getLogger("dojo_epos.platform.bus")

T = TypeVar("T")


class _Table(Generic[T]):
    """Subject -> subscribers, in subscription order."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[int, T]] = {}
        self._ids = itertools.count()

    def add(self, subject: str, item: T) -> Subscription:
        key = next(self._ids)
        self.entries.setdefault(subject, {})[key] = item
        return _MemorySubscription(self, subject, key)

    def of(self, subject: str) -> list[T]:
        return list(self.entries.get(subject, {}).values())

    def remove(self, subject: str, key: int) -> None:
        found = self.entries.get(subject)
        if found is not None:
            found.pop(key, None)
            if not found:
                del self.entries[subject]


class _MemorySubscription(Subscription, Generic[T]):
    def __init__(self, table: _Table[T], subject: str, key: int) -> None:
        self._table, self._subject, self._key = table, subject, key

    async def stop(self) -> None:
        self._table.remove(self._subject, self._key)


class MemoryBus(Bus):
    """Subjects in dictionaries; a request goes to the newest responder of its subject."""

    name = "memory"

    def __init__(self) -> None:
        super().__init__()
        self._responders: _Table[Responder] = _Table()
        self._listeners: _Table[Broadcast] = _Table()

    @property
    def connected(self) -> bool:
        return True

    async def serve(self, subject: str, responder: Responder) -> Subscription:
        return self._responders.add(subject, responder)

    async def subscribe(self, subject: str, handler: Broadcast) -> Subscription:
        return self._listeners.add(subject, handler)

    async def request(self, subject: str, payload: bytes, timeout: float) -> bytes:
        responders = self._responders.of(subject)
        if not responders:
            raise NoResponders(subject)
        try:
            return await asyncio.wait_for(responders[-1](payload), timeout)
        except TimeoutError:
            raise BusTimeout(f"no reply on {subject} within {timeout:g} s") from None

    async def publish(self, subject: str, payload: bytes) -> None:
        for handler in self._listeners.of(subject):
            try:
                await handler(payload)
            except Exception:  # one listener's failure is not the publisher's
                log.exception("broadcast handler on %s failed", subject)

    async def gather(self, subject: str, payload: bytes, window: float) -> list[bytes]:
        replies: list[bytes] = []
        for responder in self._responders.of(subject):
            with contextlib.suppress(Exception):
                replies.append(await asyncio.wait_for(responder(payload), window))
        return replies
