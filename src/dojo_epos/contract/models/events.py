"""Dojo events delivered to the EPOS through HandleEvent."""

from __future__ import annotations

from dojo_epos.contract.models.enums import CaptureMode, EventType, PaymentIntentStatus
from dojo_epos.contract.models.scalars import DojoId, Instant
from dojo_epos.contract.wire import WireModel

__all__ = [
    "Event",
    "PaymentIntentEvent",
]


class PaymentIntentEvent(WireModel):
    """The payment intent an event is about."""

    payment_intent_id: DojoId
    payment_status: PaymentIntentStatus
    capture_mode: CaptureMode


class Event(WireModel):
    """A Dojo event; ``id`` is the de-duplication key (delivery is at least once)."""

    id: DojoId
    account_id: DojoId
    event: EventType
    data: PaymentIntentEvent
    created_at: Instant
