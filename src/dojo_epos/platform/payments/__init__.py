"""The Dojo API side an EPOS calls: payment intents, refunds, reversals, captures, signed webhooks.

:class:`Payments` holds the parts: :mod:`.intents` (the intents and their state rules, in
:mod:`.rules`), :mod:`.subscriptions` (webhook subscriptions and secrets), :mod:`.delivery`
(signed deliveries with retries) and :mod:`.fanout` (each intent event to the webhooks and to every
other channel added, such as HandleEvent: :meth:`Payments.add_channel`). The routes are in
:mod:`dojo_epos.platform.http.payments`.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from dojo_epos.platform.fault_book import FaultBook
from dojo_epos.platform.store import Store

from .delivery import RETRY_DELAYS, CallLog, Deliverer
from .fanout import EventSink, Fanout
from .intents import DAY, PaymentIntents
from .rules import PaymentProblem
from .store import PaymentStore
from .subscriptions import Subscriptions

__all__ = ["DAY", "RETRY_DELAYS", "EventSink", "PaymentProblem", "Payments"]


class Payments:
    """Intents, subscriptions and deliveries of one platform, on its store's database."""

    def __init__(self, store: Store, call_log: CallLog, *, settle_after: float = DAY,
                 retry_delays: Sequence[float] = RETRY_DELAYS,
                 http_transport: httpx.AsyncBaseTransport | None = None,
                 faults: FaultBook | None = None) -> None:
        self.store = PaymentStore(store)
        self.subscriptions = Subscriptions(self.store)
        self.deliverer = Deliverer(self.subscriptions, call_log, retry_delays=retry_delays,
                                   transport=http_transport, faults=faults)
        self.fanout = Fanout(self.deliverer)
        self.intents = PaymentIntents(self.store, self.fanout, settle_after=settle_after)

    def add_channel(self, sink: EventSink) -> None:
        """Send every intent event to ``sink`` too (beside the webhooks, with the same event id)."""
        self.fanout.add(sink)

    async def drain(self) -> None:
        """Wait for every intent handed in so far to be recorded, and every event sent so far,
        on every channel (webhook retries included)."""
        await self.intents.drain()
        await self.fanout.drain()

    async def start(self) -> None:
        await self.store.start()

    async def close(self) -> None:
        await self.intents.drain()  # the payments taken are recorded before the store closes
        await self.deliverer.close()
