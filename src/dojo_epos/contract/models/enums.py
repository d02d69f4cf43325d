"""The contract's enumerations."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CaptureMode",
    "EPOSErrorType",
    "EventType",
    "OrderStatus",
    "OrderType",
    "PaymentIntentStatus",
]


class OrderStatus(StrEnum):
    """Lifecycle state of an order on the EPOS."""

    NEW = "New"
    SUBMITTED = "Submitted"
    CONFIRMED = "Confirmed"
    ACCEPTED = "Accepted"
    PREPARING = "Preparing"
    PREPARED = "Prepared"
    READY = "Ready"
    FINALIZED = "Finalized"
    CANCELED = "Canceled"
    FAILED = "Failed"


class OrderType(StrEnum):
    """Eat in at a table, or collect."""

    DINE_IN = "DineIn"
    COLLECTION = "Collection"


class EPOSErrorType(StrEnum):
    """The four error kinds an EPOS may answer with."""

    NOT_FOUND = "NotFound"
    UNEXPECTED_ERROR = "UnexpectedError"
    INVALID_REQUEST = "InvalidRequest"
    CONFLICT = "Conflict"


class PaymentIntentStatus(StrEnum):
    """Status of a Dojo payment intent."""

    CREATED = "Created"
    AUTHORIZED = "Authorized"
    CAPTURED = "Captured"
    REVERSED = "Reversed"
    REFUNDED = "Refunded"
    CANCELED = "Canceled"


class CaptureMode(StrEnum):
    """Whether a payment intent is captured automatically or on request."""

    AUTO = "Auto"
    MANUAL = "Manual"


class EventType(StrEnum):
    """Dojo events delivered to the EPOS through HandleEvent."""

    PAYMENT_INTENT_CREATED = "payment_intent.created"
    PAYMENT_INTENT_STATUS_UPDATED = "payment_intent.status_updated"
