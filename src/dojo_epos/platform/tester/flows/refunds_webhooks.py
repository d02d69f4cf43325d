"""The flows of what an EPOS calls on Dojo: "Refund" and "Webhook" (local extensions of the tool).

**Refund**: take a card payment the way the terminal does (lock, RecordOrderPayment with Pay at
Table's headers, unlock), read its payment intent (order in ``orderDetails.externalId``, waiter in
``metadata.waiterId``, amount), refund part of it, retry the refund under the same
``IdempotencyKey`` (the same refund comes back), try to refund more than is left (refused), and
check the EPOS's view: the order still lists the payment once (a Dojo refund does not call the
EPOS; the till learns of it from the webhook or its own refund).

**Webhook**: take a payment (or, with no order left to pay, use the newest card payment taken, as
Refund does), subscribe the EPOS's webhook URL (the ``url`` parameter) to
``payment_intent.status_updated``, deliver the event and deliver it again under the same id (as
an at-least-once delivery can), check both were acknowledged with a 2xx, check a delivery signed
with a wrong secret is refused (a receiver must verify ``dojo-signature``; any non-2xx answer is a
refusal), and check the EPOS recorded the payment once. The receiver verifies with its
subscription's secret, so subscribe the URL first (``dojo-epos webhooks subscribe``); a
subscription the flow has to make for the run (deleted at its end) has a secret the receiver can
only read from ``GET /webhooks/{id}/secrets``.
"""

from __future__ import annotations

import uuid
from typing import Any

from dojo_epos.contract import models as m
from dojo_epos.contract.tester_models import Param

from ..engine import FlowDef, FlowRun, StepFailed

__all__ = ["PAYMENT_FLOWS", "REFUND", "WEBHOOK", "url_problem"]

NEEDS = ("SearchOrders", "GetOrderById", "RecordOrderPayment")
TERMINAL = {"dojoRequestingProduct": "PayAtTable", "deviceId": "tm_tester",
            "deviceType": "Dojo Terminal", "waiterId": "tester"}


def _uid(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def _value(money: m.Money | None) -> int:
    return money.value if money is not None else 0


def _payments_of(run: FlowRun) -> Any:
    if run.payments is None:
        raise StepFailed("this tester runs without the payments service (payment intents)")
    return run.payments


async def _take_payment(run: FlowRun, amount_wanted: int, *, or_none: bool = False
                        ) -> tuple[m.Order, str, int] | None:
    """Pay part of a payable order as the terminal does; the order after, the intent id, amount.

    With ``or_none``, None when no order has anything due (rather than failing the step).
    """
    registered = await run.registered()
    async with run.step("Find a payable order") as step:
        page: m.PagedOrdersResponse = await run.call(step, "SearchOrders", {"payableOnly": True},
                                                     headers=TERMINAL)
        due = {o.id: _value(o.total_amount) - _value(o.paid_amount) for o in page.data}
        chosen = next((o for o in page.data if o.payable is not False and due[o.id] > 1), None)
        if chosen is None and or_none:
            step.info("no payable order with at least 0.02 due")
            return None
        step.check(chosen is not None, "no payable order with at least 0.02 due")
        assert chosen is not None
        step.info(f"using order {chosen.id}, {due[chosen.id]} due")
    amount = min(amount_wanted, due[chosen.id])
    intent_id = _uid("pi_tester")
    lock_id = _uid("lock_tester")
    locking = {"CreateOrderLock", "DeleteOrderLock"} <= registered
    async with run.step(f"Take a card payment of {amount} through the terminal path") as step:
        if locking:
            await run.call(step, "CreateOrderLock", {"orderId": chosen.id, "lockId": lock_id,
                                                      "expiry": _in_minutes(5)}, headers=TERMINAL)
        params: dict[str, Any] = {
            "orderId": chosen.id, "paymentIntentId": intent_id,
            "paidAmount": {"value": amount, "currencyCode": _currency(chosen)}}
        if locking:
            params["lockId"] = lock_id
        try:
            after: m.Order = await run.call(step, "RecordOrderPayment", params, headers=TERMINAL)
        finally:
            if locking:
                await run.call(step, "DeleteOrderLock", {"orderId": chosen.id, "lockId": lock_id},
                               headers=TERMINAL)
        step.check(sum(1 for p in after.payments if p.payment_intent_id == intent_id) == 1,
                   f"the order does not list payment {intent_id} once")
    return after, intent_id, amount


def _currency(order: m.Order) -> str:
    return order.total_amount.currency_code if order.total_amount else "GBP"


def _in_minutes(minutes: int) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


async def _check_listed_once(run: FlowRun, order_id: str, intent_id: str, paid: int) -> None:
    async with run.step(f"Check the EPOS's view of order {order_id}") as step:
        order: m.Order = await run.call(step, "GetOrderById", {"orderId": order_id})
        listed = [p for p in order.payments if p.payment_intent_id == intent_id]
        step.check(len(listed) == 1, f"payment {intent_id} is listed {len(listed)} times")
        step.check(_value(order.paid_amount) == paid,
                   f"paidAmount is {_value(order.paid_amount)}, expected {paid}")
        step.info(f"payment {intent_id} listed once; paidAmount {paid}")


async def _latest_payment(run: FlowRun) -> tuple[m.Order, str, int]:
    """The newest card payment taken on this account (Certification's Payments section took it)."""
    async with run.step("No order is payable: pick the latest card payment taken") as step:
        intent = await _payments_of(run).latest_captured()
        step.check(intent is not None and intent.order_details is not None
                   and intent.order_details.external_id is not None,
                   "no payable order, and no captured card payment of an order to refund")
        assert intent is not None and intent.order_details and intent.order_details.external_id
        order: m.Order = await run.call(step, "GetOrderById",
                                        {"orderId": intent.order_details.external_id})
        step.info(f"using payment {intent.id} of order {order.id}")
    return order, intent.id, intent.amount.value


async def refund_flow(run: FlowRun) -> None:
    await run.require(*NEEDS)
    payments = _payments_of(run)
    taken = await _take_payment(run, 1000, or_none=True)
    order, intent_id, amount = taken if taken is not None else await _latest_payment(run)
    async with run.step(f"Read payment intent {intent_id}") as step:
        intent = await payments.intent(intent_id)
        step.check(intent.status.value == "Captured", f"status is {intent.status.value}")
        step.check(intent.order_details is not None and intent.order_details.external_id == order.id,
                   "orderDetails.externalId is not the order")
        step.check(intent.amount.value == amount, f"amount is {intent.amount.value}, not {amount}")
        if taken is not None:
            step.check((intent.metadata or {}).get("waiterId") == "tester",
                       "metadata.waiterId missing")
        step.info(f"intent {intent.id}: {intent.status.value}, {intent.total_amount.value} "
                  f"{intent.total_amount.currency_code}, order {order.id}")
    part = max(1, amount // 2)
    key = _uid("refund")
    async with run.step(f"Refund {part} of it") as step:
        refund = await payments.refund(intent_id, part, key)
        after = await payments.intent(intent_id)
        step.check(after.refunded_amount == part, f"refundedAmount is {after.refunded_amount}")
        step.info(f"refund {refund.refund_id}; refundedAmount {after.refunded_amount}, "
                  f"status {after.status.value}")
    async with run.step("Retry the refund with the same IdempotencyKey") as step:
        again = await payments.refund(intent_id, part, key)
        step.check(again.refund_id == refund.refund_id, "a second refund was made")
        step.check((await payments.intent(intent_id)).refunded_amount == part, "refunded twice")
    async with run.step("Refund more than is left") as step:
        from dojo_epos.platform.payments import PaymentProblem

        try:
            await payments.refund(intent_id, amount - part + 1, _uid("refund"))
        except PaymentProblem as exc:
            step.check(exc.status == 400, f"refused with {exc.status}, expected 400")
            step.info(f"refused: {exc.detail}")
        else:
            raise StepFailed("a refund beyond the captured amount was accepted")
    await _check_listed_once(run, order.id, intent_id, _value(order.paid_amount))


async def webhook_flow(run: FlowRun) -> None:
    await run.require(*NEEDS)
    payments = _payments_of(run)
    url = str(run.param("url", ""))
    problem = url_problem(url)
    if problem:
        async with run.step("Check the url parameter"):
            raise StepFailed(problem)
    taken = await _take_payment(run, 500, or_none=True)
    order, intent_id, _ = taken if taken is not None else await _latest_payment(run)
    event = "payment_intent.status_updated"
    async with run.step(f"Subscribe {url} to {event}") as step:
        try:
            subscription, made = await payments.subscription_for(url, event)
        except Exception as exc:  # a PaymentProblem: the URL is refused
            raise StepFailed(f"cannot subscribe {url}: {getattr(exc, 'detail', exc)}") from None
        step.info(f"subscription {subscription.id} ({'made for this run' if made else 'existing'})")
        if made:
            step.info("the receiver can verify these deliveries only with this subscription's "
                      "secret (GET /webhooks/{id}/secrets); subscribe the URL before the run to "
                      "keep one")
    try:
        intent = await payments.intent(intent_id)
        async with run.step("Deliver the event, then deliver it again under the same id") as step:
            event_id, attempts = await payments.deliver_twice(subscription, event, intent)
            for number, attempt in enumerate(attempts, start=1):
                step.info(f"delivery {number} of {event_id}: {attempt.detail}")
            step.check(all(a.ok for a in attempts) and len(attempts) == 2,
                       "the EPOS did not acknowledge both deliveries with a 2xx")
        async with run.step("A delivery signed with a wrong secret is refused") as step:
            forged_id, forged = await payments.deliver_forged(subscription, event, intent)
            step.info(f"delivery of {forged_id}: {forged.detail}")
            step.check(forged.status is not None and not forged.ok,
                       "the EPOS acknowledged a delivery whose dojo-signature does not verify; "
                       "verify it over the raw body (dojo_epos.webhooks.verify_signature) and "
                       "answer 4xx"
                       if forged.ok else "the EPOS did not answer the delivery")
        await _check_listed_once(run, order.id, intent_id, _value(order.paid_amount))
    finally:
        if made:
            await payments.unsubscribe(subscription.id)


def url_problem(url: str) -> str | None:
    """What is wrong with a webhook receiver URL (``url: ...``), or None."""
    from dojo_epos.contract.payments import check_webhook_url

    try:
        check_webhook_url(url)
    except ValueError as exc:
        return f"url: {exc}"
    return None


REFUND = FlowDef("Refund", (), refund_flow,
                 "Take a payment, read its intent, refund part (idempotently), check the EPOS", NEEDS)
WEBHOOK = FlowDef("Webhook", (Param(name="url", type="string", required=True,
                                    description="The EPOS's webhook URL (https; http to loopback "
                                                "locally)"),),
                  webhook_flow, "Subscribe the EPOS, deliver an event twice, check it is recorded once",
                  NEEDS)
PAYMENT_FLOWS: tuple[FlowDef, ...] = (REFUND, WEBHOOK)
