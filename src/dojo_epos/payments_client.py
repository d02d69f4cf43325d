"""The client's payment-intent and webhook calls (mixed into :class:`dojo_epos.client.Client` and
:class:`~dojo_epos.client.AsyncClient`).

The same base URL rules as the rest of the client: ``https://api.dojo.tech`` with real keys, or the
local platform's URL. A refund takes an ``IdempotencyKey``: pass your own to make a retry safe (the
same key returns the first refund); by default a fresh one is made for each call::

    with Client(key, house, base_url="http://127.0.0.1:8000") as client:
        intent = client.get_payment_intent("pi_...")
        refund = client.refund_payment_intent(intent.id, 500, idempotency_key="till-7-refund-1")
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, TypeAdapter

from dojo_epos.clientcall import Call
from dojo_epos.contract import payments as p
from dojo_epos.contract.models import PaymentIntentStatus

__all__ = ["AsyncPaymentsMixin", "PaymentCalls", "PaymentsMixin"]

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

_SUBSCRIPTIONS = TypeAdapter(list[p.Subscription])
_EVENTS = TypeAdapter(list[p.WebhookEvents])


def _body(model: BaseModel) -> Any:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def _none(body: Any) -> None:
    return None


class PaymentCalls:
    """The calls, described once for both clients."""

    @staticmethod
    def get(intent_id: str) -> Call[p.PaymentIntent]:
        return Call("GET", f"/payment-intents/{intent_id}", p.PaymentIntent.model_validate)

    @staticmethod
    def search(statuses: Sequence[PaymentIntentStatus | str] = (), limit: int = 50,
               after: str | None = None, before: str | None = None) -> Call[p.PagedPaymentIntent]:
        request = p.SearchPaymentIntentRequest(
            statuses=[PaymentIntentStatus(s) for s in statuses] or None,
            cursor=p.Cursor(limit=limit, after=after, before=before))
        return Call("POST", "/payment-intents/search", p.PagedPaymentIntent.model_validate,
                    json=_body(request))

    @staticmethod
    def refund(intent_id: str, amount: int, idempotency_key: str | None, reason: str | None,
               notes: str | None) -> Call[p.Refund]:
        request = p.CreateRefundRequest(amount=amount, refund_reason=reason, notes=notes)
        return Call("POST", f"/payment-intents/{intent_id}/refunds", p.Refund.model_validate,
                    json=_body(request),
                    headers={"IdempotencyKey": idempotency_key or str(uuid.uuid4())})

    @staticmethod
    def get_refund(refund_id: str) -> Call[p.Refund]:
        return Call("GET", f"/payment-intents/refunds/{refund_id}", p.Refund.model_validate)

    @staticmethod
    def reverse(intent_id: str, idempotency_key: str | None) -> Call[p.Reversal]:
        headers = {"IdempotencyKey": idempotency_key} if idempotency_key else None
        return Call("POST", f"/payment-intents/{intent_id}/reversal", p.Reversal.model_validate,
                    headers=headers)

    @staticmethod
    def capture(intent_id: str, amount: int, tips: int | None,
                idempotency_key: str | None) -> Call[p.Capture]:
        headers = {"IdempotencyKey": idempotency_key} if idempotency_key else None
        return Call("POST", f"/payment-intents/{intent_id}/captures", p.Capture.model_validate,
                    json=_body(p.CreateCaptureRequest(amount=amount, tips_amount=tips)), headers=headers)

    @staticmethod
    def events() -> Call[list[p.WebhookEvents]]:
        return Call("GET", "/webhooks/events", _EVENTS.validate_python)

    @staticmethod
    def subscriptions() -> Call[list[p.Subscription]]:
        return Call("GET", "/webhooks", _SUBSCRIPTIONS.validate_python)

    @staticmethod
    def subscribe(url: str, events: Sequence[str]) -> Call[p.Subscription]:
        # Not built through SubscriptionRequest: the server is the judge of the URL (Dojo wants
        # https; the local platform also takes http to a loopback host).
        return Call("POST", "/webhooks", p.Subscription.model_validate,
                    json={"events": list(events), "url": url})

    @staticmethod
    def update_subscription(subscription_id: str, url: str | None,
                            events: Sequence[str] | None) -> Call[p.Subscription]:
        body: dict[str, Any] = {}
        if url is not None:
            body["url"] = url
        if events is not None:
            body["events"] = list(events)
        return Call("PATCH", f"/webhooks/{subscription_id}", p.Subscription.model_validate, json=body)

    @staticmethod
    def unsubscribe(subscription_id: str) -> Call[None]:
        return Call("DELETE", f"/webhooks/{subscription_id}", _none)

    @staticmethod
    def secrets(subscription_id: str) -> Call[p.SecretsResponse]:
        return Call("GET", f"/webhooks/{subscription_id}/secrets", p.SecretsResponse.model_validate)

    @staticmethod
    def new_secret(subscription_id: str) -> Call[p.SecretsResponse]:
        return Call("POST", f"/webhooks/{subscription_id}/secrets", p.SecretsResponse.model_validate)

    @staticmethod
    def activate_secret(subscription_id: str, secret_id: str) -> Call[None]:
        return Call("PUT", f"/webhooks/{subscription_id}/secrets/{secret_id}/activate", _none)

    @staticmethod
    def delete_secret(subscription_id: str, secret_id: str) -> Call[None]:
        return Call("DELETE", f"/webhooks/{subscription_id}/secrets/{secret_id}", _none)


class _Sends(Protocol):
    def _send(self, call: Call[T]) -> T: ...


class _SendsAsync(Protocol):
    async def _send(self, call: Call[T]) -> T: ...


class PaymentsMixin:
    """Blocking payment-intent and webhook calls."""

    def get_payment_intent(self: _Sends, intent_id: str) -> p.PaymentIntent:
        return self._send(PaymentCalls.get(intent_id))

    def search_payment_intents(self: _Sends, statuses: Sequence[PaymentIntentStatus | str] = (),
                               limit: int = 50, after: str | None = None,
                               before: str | None = None) -> p.PagedPaymentIntent:
        return self._send(PaymentCalls.search(statuses, limit, after, before))

    def refund_payment_intent(self: _Sends, intent_id: str, amount: int, *,
                              idempotency_key: str | None = None, reason: str | None = None,
                              notes: str | None = None) -> p.Refund:
        return self._send(PaymentCalls.refund(intent_id, amount, idempotency_key, reason, notes))

    def get_refund(self: _Sends, refund_id: str) -> p.Refund:
        return self._send(PaymentCalls.get_refund(refund_id))

    def reverse_payment_intent(self: _Sends, intent_id: str, *,
                               idempotency_key: str | None = None) -> p.Reversal:
        return self._send(PaymentCalls.reverse(intent_id, idempotency_key))

    def capture_payment_intent(self: _Sends, intent_id: str, amount: int, *, tips: int | None = None,
                               idempotency_key: str | None = None) -> p.Capture:
        return self._send(PaymentCalls.capture(intent_id, amount, tips, idempotency_key))

    def webhook_events(self: _Sends) -> list[p.WebhookEvents]:
        return self._send(PaymentCalls.events())

    def webhook_subscriptions(self: _Sends) -> list[p.Subscription]:
        return self._send(PaymentCalls.subscriptions())

    def subscribe_webhook(self: _Sends, url: str, events: Sequence[str]) -> p.Subscription:
        return self._send(PaymentCalls.subscribe(url, events))

    def update_webhook(self: _Sends, subscription_id: str, *, url: str | None = None,
                       events: Sequence[str] | None = None) -> p.Subscription:
        return self._send(PaymentCalls.update_subscription(subscription_id, url, events))

    def delete_webhook(self: _Sends, subscription_id: str) -> None:
        self._send(PaymentCalls.unsubscribe(subscription_id))

    def webhook_secrets(self: _Sends, subscription_id: str) -> p.SecretsResponse:
        return self._send(PaymentCalls.secrets(subscription_id))

    def new_webhook_secret(self: _Sends, subscription_id: str) -> p.SecretsResponse:
        return self._send(PaymentCalls.new_secret(subscription_id))

    def activate_webhook_secret(self: _Sends, subscription_id: str, secret_id: str) -> None:
        self._send(PaymentCalls.activate_secret(subscription_id, secret_id))

    def delete_webhook_secret(self: _Sends, subscription_id: str, secret_id: str) -> None:
        self._send(PaymentCalls.delete_secret(subscription_id, secret_id))


class AsyncPaymentsMixin:
    """Async payment-intent and webhook calls (the same as :class:`PaymentsMixin`)."""

    async def get_payment_intent(self: _SendsAsync, intent_id: str) -> p.PaymentIntent:
        return await self._send(PaymentCalls.get(intent_id))

    async def search_payment_intents(self: _SendsAsync,
                                     statuses: Sequence[PaymentIntentStatus | str] = (),
                                     limit: int = 50, after: str | None = None,
                                     before: str | None = None) -> p.PagedPaymentIntent:
        return await self._send(PaymentCalls.search(statuses, limit, after, before))

    async def refund_payment_intent(self: _SendsAsync, intent_id: str, amount: int, *,
                                    idempotency_key: str | None = None, reason: str | None = None,
                                    notes: str | None = None) -> p.Refund:
        return await self._send(PaymentCalls.refund(intent_id, amount, idempotency_key, reason, notes))

    async def get_refund(self: _SendsAsync, refund_id: str) -> p.Refund:
        return await self._send(PaymentCalls.get_refund(refund_id))

    async def reverse_payment_intent(self: _SendsAsync, intent_id: str, *,
                                     idempotency_key: str | None = None) -> p.Reversal:
        return await self._send(PaymentCalls.reverse(intent_id, idempotency_key))

    async def capture_payment_intent(self: _SendsAsync, intent_id: str, amount: int, *,
                                     tips: int | None = None,
                                     idempotency_key: str | None = None) -> p.Capture:
        return await self._send(PaymentCalls.capture(intent_id, amount, tips, idempotency_key))

    async def webhook_events(self: _SendsAsync) -> list[p.WebhookEvents]:
        return await self._send(PaymentCalls.events())

    async def webhook_subscriptions(self: _SendsAsync) -> list[p.Subscription]:
        return await self._send(PaymentCalls.subscriptions())

    async def subscribe_webhook(self: _SendsAsync, url: str, events: Sequence[str]) -> p.Subscription:
        return await self._send(PaymentCalls.subscribe(url, events))

    async def update_webhook(self: _SendsAsync, subscription_id: str, *, url: str | None = None,
                             events: Sequence[str] | None = None) -> p.Subscription:
        return await self._send(PaymentCalls.update_subscription(subscription_id, url, events))

    async def delete_webhook(self: _SendsAsync, subscription_id: str) -> None:
        await self._send(PaymentCalls.unsubscribe(subscription_id))

    async def webhook_secrets(self: _SendsAsync, subscription_id: str) -> p.SecretsResponse:
        return await self._send(PaymentCalls.secrets(subscription_id))

    async def new_webhook_secret(self: _SendsAsync, subscription_id: str) -> p.SecretsResponse:
        return await self._send(PaymentCalls.new_secret(subscription_id))

    async def activate_webhook_secret(self: _SendsAsync, subscription_id: str, secret_id: str) -> None:
        await self._send(PaymentCalls.activate_secret(subscription_id, secret_id))

    async def delete_webhook_secret(self: _SendsAsync, subscription_id: str, secret_id: str) -> None:
        await self._send(PaymentCalls.delete_secret(subscription_id, secret_id))
