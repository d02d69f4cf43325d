"""One event per change of a payment intent, handed to every channel that carries it to the EPOS.

Dojo tells an EPOS of an intent's change two ways (domain notes §3.7, §9): a signed webhook to each
subscription wanting the event (:class:`~.delivery.Deliverer`), and ``HandleEvent:<type>`` when the
EPOS registered it (:class:`~dojo_epos.platform.events.HandleEvents`). :class:`Fanout` builds the
event once, so both carry the **same** ``id``: an EPOS receiving both de-duplicates by it, as §3.7
asks. The channels run in the background; :meth:`Fanout.drain` waits for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from dojo_epos.contract import models as m
from dojo_epos.contract import payments as p
from dojo_epos.platform.accounts import Scope

from .delivery import event_body

__all__ = ["EventSink", "Fanout"]


class EventSink(Protocol):
    """A channel of intent events to the EPOS (it returns at once; the sending is its own)."""

    async def publish_events(self, scope: Scope, events: Sequence[m.Event]) -> None: ...

    async def drain(self) -> None: ...


class Fanout:
    """The :class:`~.intents.Publisher` of the platform: each event to every sink, in order added."""

    def __init__(self, *sinks: EventSink) -> None:
        self.sinks: list[EventSink] = list(sinks)

    def add(self, sink: EventSink) -> None:
        self.sinks.append(sink)

    async def publish(self, scope: Scope, event_type: str, intent: p.PaymentIntent) -> None:
        await self.publish_all(scope, (event_type,), intent)

    async def publish_all(self, scope: Scope, event_types: Sequence[str],
                          intent: p.PaymentIntent) -> None:
        """One event of each type for ``intent``, in that order, to every sink."""
        events = [event_body(scope, event_type, intent) for event_type in event_types]
        for sink in self.sinks:
            await sink.publish_events(scope, events)

    async def drain(self) -> None:
        """Wait until every sink has sent what it was given so far."""
        for sink in self.sinks:
            await sink.drain()
