"""The Dojo API an EPOS calls: payment intents, refunds, reversals, captures, webhooks (pure models).

Built to match ``dojo-api-payments-subset.openapi.json`` (version ``2026-02-27``; domain notes §9).
Request models refuse unknown fields (the document's ``additionalProperties: false``), so a typo
is a 400, not silently dropped; response models only carry the fields the document defines, and
:meth:`WireModel.to_wire` omits the ``None`` ones.

Errors: the payment-intent operations answer RFC 7807 ``ProblemDetails``; the webhook operations
answer ``ErrorResponse``. :class:`Problem` is one body valid under both (``type``, ``title``,
``status``, ``detail``, ``traceId`` and, for field errors, ``errors``).

Webhook deliveries carry the event in the shape of the EPOS contract's ``Event`` (the same body
``HandleEvent`` carries). ``PaymentIntentStatus`` and ``CaptureMode`` are the EPOS contract's own
enums (the same values in both documents), so an EPOS handles both paths with one parser.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, field_validator

from dojo_epos.contract.models import CaptureMode, PaymentIntentStatus
from dojo_epos.contract.wire import WireModel

__all__ = [
    "EVENT_MODELS",
    "Capture",
    "CaptureDetails",
    "CaptureMode",
    "CaptureStatus",
    "Card",
    "CreateCaptureRequest",
    "CreateRefundRequest",
    "Cursor",
    "Money",
    "OrderDetails",
    "PagedPaymentIntent",
    "PaymentDetails",
    "PaymentIntent",
    "PaymentIntentStatus",
    "Problem",
    "Refund",
    "Reversal",
    "SearchPaymentIntentRequest",
    "SecretsResponse",
    "Subscription",
    "SubscriptionRequest",
    "SubscriptionSecret",
    "SubscriptionUpdateRequest",
    "WebhookEvents",
    "check_webhook_url",
]

#: The events the platform fires, by model (``GET /webhooks/events``).
EVENT_MODELS: dict[str, tuple[str, ...]] = {
    "PaymentIntent": ("payment_intent.created", "payment_intent.status_updated"),
}

_Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]


class _Request(WireModel):
    """A request body: unknown fields refused, as the document's schemas say."""

    model_config = ConfigDict(extra="forbid")


class CaptureStatus(StrEnum):
    CREATED = "Created"
    SUCCESSFUL = "Successful"
    DECLINED = "Declined"
    FAILED = "Failed"


class Money(WireModel):
    value: _Int64
    currency_code: str = Field(min_length=1, max_length=10)


class OrderDetails(WireModel):
    id: str | None = None
    external_id: str | None = None


class Card(WireModel):
    card_number: str | None = None
    card_name: str | None = None
    expiry_date: str | None = None
    card_type: str | None = None
    card_funding_type: str | None = None
    entry_mode: str | None = None
    verification_method: str | None = None


class PaymentDetails(WireModel):
    transaction_id: str | None = None
    transaction_date_time: str | None = None
    message: str | None = None
    auth_code: str | None = None
    card: Card | None = None


class CaptureDetails(WireModel):
    id: str | None = None
    amount: int
    tips_amount: int | None = None
    status: CaptureStatus
    created_at: datetime


class PaymentIntent(WireModel):
    """The fields of the document's ``PaymentIntent`` the local platform fills."""

    id: str
    capture_mode: CaptureMode = CaptureMode.AUTO
    card_holder_not_present: bool = False
    status: PaymentIntentStatus
    payment_methods: list[str] | None = None
    payment_details: PaymentDetails | None = None
    amount: Money
    tips_amount: Money | None = None
    requested_amount: Money | None = None
    total_amount: Money
    refunded_amount: int = 0
    created_at: datetime
    updated_at: datetime
    reference: str | None = None
    metadata: dict[str, str] | None = None
    order_details: OrderDetails | None = None
    captures: list[CaptureDetails] | None = None


class PagedPaymentIntent(WireModel):
    data: list[PaymentIntent]
    before: str | None = None
    after: str | None = None


class Cursor(_Request):
    limit: int = Field(default=50, ge=1, le=100)
    before: str | None = None
    after: str | None = None


class SearchPaymentIntentRequest(_Request):
    statuses: list[PaymentIntentStatus] | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    cursor: Cursor | None = None


class CreateRefundRequest(_Request):
    amount: _Int64
    previous_transaction_id: str | None = Field(default=None, max_length=100)
    refund_reason: str | None = Field(default=None, max_length=1024)
    notes: str | None = Field(default=None, max_length=4096)


class Refund(WireModel):
    payment_intent_id: str
    refund_id: str
    refund_reason: str | None = None
    notes: str | None = None


class Reversal(WireModel):
    message: str
    reversal_id: str


class CreateCaptureRequest(_Request):
    amount: _Int64
    tips_amount: _Int64 | None = None


class Capture(WireModel):
    message: str
    capture_id: str


class Problem(WireModel):
    """An error body valid as the document's ``ProblemDetails`` and as its ``ErrorResponse``."""

    type: str
    title: str
    status: int
    detail: str | None = None
    trace_id: str | None = None
    errors: dict[str, list[str]] | None = None


# -- webhooks -------------------------------------------------------------------------------------

# The document's pattern for subscription URLs (any https URL).
_HTTPS = re.compile(r"^https://*.+")
_LOOPBACK = re.compile(r"^http://(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])(:\d{1,5})?(/.*)?$")


def check_webhook_url(url: str) -> str:
    """``url`` if it may receive webhooks, else ValueError.

    The document allows ``https://`` URLs only. The local platform also accepts plain ``http://``
    to a loopback host (127.0.0.0/8, ``localhost``, ``[::1]``): a local extension, so a receiver
    under development needs no certificate. Dojo itself refuses such URLs.
    """
    if len(url) > 2048:
        raise ValueError("url is longer than 2048 characters")
    if _HTTPS.match(url) or _LOOPBACK.match(url):
        return url
    raise ValueError("url must be an https:// URL (http:// only to a loopback host, locally)")


class WebhookEvents(WireModel):
    model: str
    events: list[str]


class SubscriptionSecret(WireModel):
    id: str
    value: str
    created_at: datetime
    is_active: bool


class Subscription(WireModel):
    id: str
    account_id: str | None = None
    events: list[str]
    url: str
    secrets: list[SubscriptionSecret]
    created_at: datetime
    updated_at: datetime


class SubscriptionRequest(_Request):
    events: list[str] = Field(min_length=1, max_length=20)
    url: str = Field(min_length=1)

    _url = field_validator("url")(check_webhook_url)


class SubscriptionUpdateRequest(_Request):
    events: list[str] | None = Field(default=None, min_length=1, max_length=20)
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else check_webhook_url(value)


class SecretsResponse(WireModel):
    id: str
    secrets: list[SubscriptionSecret]
