"""Events both ways: POS events the EPOS posts to Dojo, and Dojo events delivered to the EPOS.

``POST /epos/events`` takes an ``EventRequest``: ``OrderUpdated``, ``PartyUpdated`` or
``ReservationUpdated`` with the id of what changed (domain notes §3.8). The spec does not tie the
type to the event's shape; we require the pairs and answer 400 otherwise (spec defect #37). An
accepted event is stored and the 200 answer echoes it.

``GET /epos/events`` is a **local extension** (Dojo has no such endpoint): it lists the scope's
received events, newest first, so an EPOS developer can see what the platform got.

:func:`deliver_payment_intent_event` is the other direction: it sends ``HandleEvent`` for
``payment_intent.created`` or ``payment_intent.status_updated`` to an EPOS that registered
``HandleEvent:<type>``, over whichever transport it registered it on. :class:`HandleEvents` does it
for every change of every payment intent (a channel of :class:`~dojo_epos.platform.payments.
Payments`, beside the signed webhooks, with the same event id).

The routes are in :mod:`dojo_epos.platform.http.events`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from dojo_epos.contract.capabilities import EVENT_TYPES, UnknownCapability, for_event
from dojo_epos.contract.errors import describe_validation_error
from dojo_epos.contract.models import Event, HandleEventParams, PaymentIntentEvent, RequestHeaders
from dojo_epos.contract.platform_models import EventRequest
from dojo_epos.platform.accounts import Caller, Scope
from dojo_epos.platform.errors import ApiError
from dojo_epos.platform.invoke import Invoker
from dojo_epos.platform.outcome import Failure, InvocationResult
from dojo_epos.platform.store import Store, utc_now

__all__ = ["MAX_LIST", "Events", "HandleEvents", "deliver_payment_intent_event"]

log = logging.getLogger("dojo_epos.platform.events")

#: The most events one listing returns.
MAX_LIST = 500


class Events:
    """The POS events an EPOS posts: checked, stored per scope, listed back."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def receive(self, caller: Caller, body: Any) -> dict[str, Any]:
        """Store one posted ``EventRequest``; returns the echo the 200 answer carries."""
        if not isinstance(body, dict):
            raise ApiError(400, "invalid_request", "the body must be a JSON object")
        try:
            event = EventRequest.model_validate(body)
        except ValidationError as exc:
            raise ApiError(400, "invalid_request", describe_validation_error(exc)) from None
        echo = event.to_wire()
        stored = await self.store.add_event(
            caller.scope, str(event.event_type), echo["event"], caller.reseller_id)
        log.info("%s: POS event %s %s (#%d)", caller.scope, event.event_type, echo["event"],
                 stored.id)
        return echo

    async def recent(self, scope: Scope, limit: int = 100) -> list[dict[str, Any]]:
        """The scope's received events, newest first, JSON-ready."""
        if not 1 <= limit <= MAX_LIST:
            raise ApiError(400, "invalid_request", f"limit must be between 1 and {MAX_LIST}")
        return [
            {"eventType": e.event_type, "event": e.event,
             "receivedAt": e.received_at.isoformat().replace("+00:00", "Z"),
             **({"resellerId": e.reseller_id} if e.reseller_id else {})}
            for e in await self.store.events(scope, limit)
        ]


async def deliver_payment_intent_event(
    invoker: Invoker,
    scope: Scope,
    event_type: str,
    data: PaymentIntentEvent | dict[str, Any],
    *,
    account_id: str | None = None,
    event_id: str | None = None,
    headers: RequestHeaders | None = None,
) -> InvocationResult:
    """Send one Dojo event to the scope's EPOS as ``HandleEvent:<event_type>``.

    ``data`` is the payment intent (``paymentIntentId``, ``paymentStatus``, ``captureMode``).
    The event gets a fresh ``id`` (the EPOS's de-duplication key) unless one is given; pass the
    same ``event_id`` again to re-deliver (delivery is at least once). ``account_id`` defaults to
    a name derived from the scope.
    """
    try:
        capability = for_event(event_type)
    except UnknownCapability:
        return InvocationResult(
            capability=f"HandleEvent:{event_type}", ok=False, failure=Failure.INVALID_PARAMS,
            detail=f"unknown event type {event_type!r}; expected one of {EVENT_TYPES}")
    payload = data.to_wire() if isinstance(data, BaseModel) else dict(data)
    params = {
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "accountId": account_id or f"acc_{scope.key_fingerprint}",
        "event": event_type,
        "data": payload,
        "createdAt": utc_now().isoformat().replace("+00:00", "Z"),
    }
    try:
        model = HandleEventParams.model_validate(params)
    except ValidationError as exc:
        return InvocationResult(
            capability=capability.name, ok=False, failure=Failure.INVALID_PARAMS,
            detail=f"event data: {describe_validation_error(exc)}")
    return await invoker.invoke(scope, capability.name, model, headers)


class HandleEvents:
    """Each payment-intent event as ``HandleEvent:<type>``, to an EPOS that registered that type.

    The event is the one the webhooks carry (same ``id``, ``createdAt`` and data). It goes over the
    transport the EPOS registered it on (the WebSocket when both), through the invoker, so it shows
    in the call log; the faults of the book do not apply to it (they are set for a flow's or a
    user's own calls; :func:`deliver_payment_intent_event` sends a faultable one). Sending runs in
    the background, so the call or request
    that changed the intent never waits for the EPOS; the events of one scope go one after another,
    in the order the intent changed (``created`` before ``status_updated``). A failed call is
    logged and not retried (Dojo documents no retry schedule for HandleEvent; the webhooks have one).

    Events are sent while a tester flow of the scope runs too, as Dojo would: a flow judges only
    the calls it makes itself, and a notification that fails in the middle of one (a resilience
    flow dropping the socket, say) is logged like any other.
    """

    def __init__(self, invoker: Invoker) -> None:
        self.invoker = invoker
        self._last: dict[Scope, asyncio.Task[InvocationResult]] = {}
        self._tasks: set[asyncio.Task[InvocationResult]] = set()

    async def publish_events(self, scope: Scope, events: Sequence[Event]) -> None:
        for event in events:
            await self.publish_event(scope, event)

    async def publish_event(self, scope: Scope, event: Event) -> None:
        capability = f"HandleEvent:{event.event.value}"
        if capability not in await self.invoker.registry.capability_names(scope):
            return
        previous = self._last.get(scope)
        task = asyncio.create_task(self._send(scope, capability, event, previous),
                                   name=f"{capability} {event.id}")
        self._last[scope] = task
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._done(scope, done))

    def _done(self, scope: Scope, task: asyncio.Task[InvocationResult]) -> None:
        self._tasks.discard(task)
        if self._last.get(scope) is task:
            del self._last[scope]

    async def _send(self, scope: Scope, capability: str, event: Event,
                    previous: asyncio.Task[InvocationResult] | None) -> InvocationResult:
        if previous is not None:
            await asyncio.wait([previous])  # in order; its failure is its own
        params = HandleEventParams.model_validate(event.to_wire())
        # Not faultable: a fault a flow (or a user) set is meant for their own calls, not for this
        # background notification (it would fire here instead, and the EPOS lose a call mid-way).
        outcome = await self.invoker.invoke(scope, capability, params, faultable=False)
        if not outcome.ok:
            log.warning("%s: %s %s for %s not delivered: %s", scope, capability, event.id,
                        event.data.payment_intent_id, outcome.detail)
        return outcome

    async def drain(self) -> None:
        """Wait for every event handed in so far."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Let the calls in flight end (each is bounded by the call time-out), then cancel any left.

        Cancelling a call in the middle of its database work (the registry, the call log) would
        leave a connection of the pool unclosed, so they are given the chance to finish first.
        """
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=self.invoker.call_timeout + 1.0)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
