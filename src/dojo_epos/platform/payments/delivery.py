"""Webhook delivery: each intent event POSTed, signed, to every subscription that wants it.

The body is the event in the EPOS contract's ``Event`` shape (``id``, ``accountId``, ``event``,
``data`` with ``paymentIntentId``/``paymentStatus``/``captureMode``, ``createdAt``), the same one
``HandleEvent`` carries; ``id`` is the receiver's de-duplication key (delivery is at least once).
The signature is in ``dojo-signature`` (:mod:`dojo_epos.webhooks`), made with the subscription's
active secret at the time of each attempt.

A 2xx answer counts as delivered. Anything else (a 4xx or 5xx, a redirect, a refused connection, no
answer within ``timeout``) is retried after each of :data:`RETRY_DELAYS` in turn (1, 4, 16 and 60
seconds: five attempts over about 81 s), then given up. Every attempt goes to the call log (the
dashboard's Calls page) as ``Webhook <event>`` over transport ``webhook``.

Deliveries can be faulted (:mod:`dojo_epos.platform.faults`, kinds ``webhook-*``): a delay holds an
attempt before its POST, a drop loses the attempt (nothing reaches the receiver; it is retried as a
failed one), a duplicate POSTs a delivered event once more (the same ``id``, body and signature).
Each attempt a fault touched says so in its call-log ``detail``.

Deliveries run in the background (:meth:`Deliverer.publish` returns at once), so the request that
changed the intent never waits for a receiver; :meth:`Deliverer.drain` waits for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import httpx

from dojo_epos.contract import models as m
from dojo_epos.contract import payments as p
from dojo_epos.platform.accounts import Scope
from dojo_epos.platform.egress import guarded_transport
from dojo_epos.platform.fault_book import FaultBook
from dojo_epos.platform.faults import WEBHOOK, WEBHOOK_DELIVERED, Fault, FaultKind
from dojo_epos.platform.outcome import Failure, InvocationResult
from dojo_epos.platform.store import utc_now
from dojo_epos.webhooks import SIGNATURE_HEADER, signature_header

from .subscriptions import Subscriptions, account_id

__all__ = ["RETRY_DELAYS", "Attempt", "CallLog", "Deliverer", "event_body"]

log = logging.getLogger("dojo_epos.platform.webhooks")

#: Seconds waited before each retry of a failed delivery (so at most five attempts).
RETRY_DELAYS: tuple[float, ...] = (1.0, 4.0, 16.0, 60.0)
TRANSPORT = "webhook"


class CallLog(Protocol):
    """Where attempts are recorded (the platform's :class:`~dojo_epos.platform.calllog.CallLog`)."""

    def record(self, scope: Scope, outcome: InvocationResult) -> None: ...


@dataclass(frozen=True, slots=True)
class Attempt:
    """One POST of one delivery."""

    number: int
    status: int | None
    detail: str
    #: A second POST of a delivered event, made by a webhook-duplicate fault.
    duplicate: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def event_body(scope: Scope, event_type: str, intent: p.PaymentIntent,
               event_id: str | None = None) -> m.Event:
    """The event for ``intent`` as a delivery (and HandleEvent) carries it."""
    return m.Event(
        id=event_id or f"evt_{uuid.uuid4().hex}", account_id=account_id(scope),
        event=m.EventType(event_type),
        data=m.PaymentIntentEvent(payment_intent_id=intent.id, payment_status=intent.status,
                                  capture_mode=intent.capture_mode),
        created_at=utc_now())


class Deliverer:
    """Delivers intent events to subscriptions; the :class:`~.intents.Publisher` of the platform."""

    def __init__(self, subscriptions: Subscriptions, call_log: CallLog, *,
                 retry_delays: Sequence[float] = RETRY_DELAYS, timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None,
                 faults: FaultBook | None = None) -> None:
        self.subscriptions = subscriptions
        self.faults = faults
        self.call_log = call_log
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[list[Attempt]]] = set()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            # Through the address guard, like calls to EPOSes (checked at call time: egress.py).
            self._client = httpx.AsyncClient(transport=self._transport or guarded_transport(),
                                             timeout=self.timeout, follow_redirects=False)
        return self._client

    async def publish(self, scope: Scope, event_type: str, intent: p.PaymentIntent) -> None:
        """Start delivering ``event_type`` for ``intent`` to each subscription wanting it."""
        await self.publish_all(scope, (event_type,), intent)

    async def publish_all(self, scope: Scope, event_types: Sequence[str],
                          intent: p.PaymentIntent) -> None:
        """:meth:`publish` of each event type in turn, the subscriptions read once (a payment
        recorded publishes two events, inside the call that recorded it)."""
        await self.publish_events(scope, [event_body(scope, t, intent) for t in event_types])

    async def publish_event(self, scope: Scope, event: m.Event) -> None:
        """Start delivering ``event`` to each subscription wanting its type."""
        await self.publish_events(scope, [event])

    async def publish_events(self, scope: Scope, events: Sequence[m.Event]) -> None:
        """Start delivering each of ``events`` to each subscription wanting its type (the
        subscriptions read once, in the background too: the read cost a database round trip
        inside every call that records a payment; benchmarks/bench_flows.py)."""
        task = asyncio.create_task(self._fan_out(scope, list(events)),
                                   name=f"webhooks {events[0].id}" if events else "webhooks")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fan_out(self, scope: Scope, events: list[m.Event]) -> list[Attempt]:
        """One delivery task per event and subscription wanting it, in order (:meth:`drain`
        waits for them: they are in ``_tasks`` before this one ends)."""
        try:
            subscriptions = await self.subscriptions.all_of(scope)
        except Exception:
            log.exception("%s: subscriptions unreadable; events %s not delivered", scope,
                          ", ".join(e.id for e in events))
            return []
        for event in events:
            for subscription in [s for s in subscriptions if event.event.value in s.events]:
                task = asyncio.create_task(self.deliver(scope, subscription, event),
                                           name=f"webhook {event.id} to {subscription.id}")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        return []

    async def deliver(self, scope: Scope, subscription: p.Subscription, event: m.Event, *,
                      retry: bool = True, forged: bool = False) -> list[Attempt]:
        """Deliver ``event`` to ``subscription`` (with retries unless ``retry`` is False); the
        attempts made, the last one successful unless every attempt failed.

        ``forged`` signs with a random secret instead of the subscription's (the Webhook flow's
        check that a receiver verifies ``dojo-signature``; the call log names the attempt forged,
        and no fault is taken for it).
        """
        body = json.dumps(event.to_wire(), separators=(",", ":")).encode()
        attempts: list[Attempt] = []
        delays = (0.0, *self.retry_delays) if retry else (0.0,)
        for number, delay in enumerate(delays, start=1):
            if delay:
                await asyncio.sleep(delay)
            fired = [] if forged else await self._faults(scope, WEBHOOK)
            attempt = await self._attempt(scope, subscription, event, body, number, fired,
                                          forged=forged)
            attempts.append(attempt)
            if attempt.ok:
                for fault in [] if forged else await self._faults(scope, WEBHOOK_DELIVERED):
                    attempts.append(await self._attempt(scope, subscription, event, body,
                                                        number, [fault], duplicate=True))
                break
        else:
            log.warning("%s: webhook %s to %s given up after %d attempts", scope, event.id,
                        subscription.url, len(attempts))
        return attempts

    async def _faults(self, scope: Scope, stage: str) -> list[Fault]:
        """The faults that fire at this stage of a delivery (none, at no cost, when none is set)."""
        if self.faults is None or not self.faults.has(scope):
            return []
        return await self.faults.take_call(scope, None, stage)

    async def _attempt(self, scope: Scope, subscription: p.Subscription, event: m.Event,
                       body: bytes, number: int, fired: Sequence[Fault] = (), *,
                       duplicate: bool = False, forged: bool = False) -> Attempt:
        outcome = InvocationResult(capability=f"Webhook {event.event.value}", ok=False,
                                   transport=TRANSPORT)
        started = time.perf_counter()
        dropped: Fault | None = None
        injected: list[Fault] = list(fired) if duplicate else []
        for fault in () if duplicate else fired:
            if fault.kind is FaultKind.WEBHOOK_DELAY:
                injected.append(fault)
                await asyncio.sleep(fault.seconds())
            elif fault.kind is FaultKind.WEBHOOK_DROP:
                injected.append(fault)
                dropped = fault
        secret = (secrets.token_urlsafe(32) if forged
                  else await self.subscriptions.active_secret(scope, subscription.id))
        headers = {"content-type": "application/json", "user-agent": "dojo-epos-platform",
                   "dojo-event-id": event.id}
        if secret is not None:
            headers[SIGNATURE_HEADER] = signature_header(secret, body)
        outcome.request = {"url": subscription.url, "attempt": number, "headers": headers,
                           "body": event.to_wire()}
        status: int | None = None
        which = f"attempt {number}, duplicate" if duplicate else f"attempt {number}"
        if dropped is not None:
            detail = f"delivery lost: not sent ({which})"
        else:
            try:
                response = await self._http().post(subscription.url, content=body, headers=headers)
                status = response.status_code
                outcome.reply = {"status": status, "body": response.text[:500]}
                detail = f"HTTP {status} ({which})"
            except httpx.HTTPError as exc:
                detail = f"{type(exc).__name__}: {exc} ({which})"
        if injected:  # every injected fault shows in the call log
            detail = f"{'; '.join(f.describe() for f in injected)} | {detail}"
        if forged:
            detail = f"signed with a wrong secret on purpose | {detail}"
        attempt = Attempt(number, status, detail, duplicate)
        outcome.ok = attempt.ok
        if not attempt.ok:
            outcome.failure = Failure.TRANSPORT_ERROR if status is None else Failure.EPOS_ERROR
            # A forged delivery refused with a 4xx is what the flow checks for, not a fault.
            outcome.expected = forged and status is not None and 400 <= status < 500
        outcome.detail = detail
        outcome.duration_ms = (time.perf_counter() - started) * 1000
        self.call_log.record(scope, outcome)
        return attempt

    async def drain(self) -> None:
        """Wait for every delivery started so far (retries included)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._client is not None:
            await self._client.aclose()
            self._client = None
