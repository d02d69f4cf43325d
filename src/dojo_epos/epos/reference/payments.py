"""Recording payments (domain notes §3.2) and payment-intent events (§3.7).

Any error from RecordOrderPayment makes Dojo reverse the card payment, so this refuses only what must
be refused, and checks in this order, inside one write transaction with the order row locked:

1. unknown order: NotFound;
2. a paymentIntentId already stored: same order and same amounts means a retry, answered with the
   order (counted once); anything else about it is Conflict;
3. the lock: a live lock under another lockId, or no lockId while a lock is live, is Conflict; a
   stale lockId while no lock is live is accepted (the card is already charged);
4. the order: not payable (finalized, canceled, failed, fully paid), a currency other than the
   order's, or more than the amount still due: Conflict.

Malformed amounts (negative, or nothing at all) are InvalidRequest. The UNIQUE constraint on
``payments.payment_intent_id`` is the backstop for two different orders paid with one intent at once:
the loser's insert fails and :func:`record_payment`'s caller retries, finding the stored payment.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from dojo_epos.contract import models as m
from dojo_epos.contract.errors import EposError
from dojo_epos.epos.reference import schema as s
from dojo_epos.epos.reference.locks import describe, live_lock
from dojo_epos.epos.reference.orders import (
    NOT_COUNTED_INTENT_STATUSES,
    lock_order_row,
    refresh_amounts,
)

__all__ = ["check_amounts", "handle_payment_event", "record_payment", "store_payment"]


def check_amounts(paid: m.Money, tips: m.Money | None) -> None:
    """InvalidRequest for amounts no payment can have."""
    if paid.value < 0 or (tips is not None and tips.value < 0):
        raise EposError.invalid_request("paidAmount and tipsAmount must not be negative")
    if paid.value == 0 and (tips is None or tips.value == 0):
        raise EposError.invalid_request("a payment must carry a paidAmount or a tipsAmount")
    if tips is not None and tips.currency_code != paid.currency_code:
        raise EposError.invalid_request("tipsAmount must be in the currency of paidAmount")


async def store_payment(
    conn: AsyncConnection, order_id: str, payment: m.Payment, currency: str, *,
    lock_id: str | None = None, source: str = "dojo",
) -> None:
    """Insert one payment row (no checks; callers check first)."""
    await conn.execute(insert(s.payments).values(
        order_id=order_id, payment_intent_id=payment.payment_intent_id,
        paid_amount=payment.paid_amount.value,
        tips_amount=payment.tips_amount.value if payment.tips_amount is not None else 0,
        currency=currency, lock_id=lock_id, source=source, created_at=s.utcnow(),
    ))


def _same_amounts(row: Any, params: m.PaymentWithLockId) -> bool:
    tips = params.tips_amount.value if params.tips_amount is not None else 0
    return bool(
        row.paid_amount == params.paid_amount.value
        and row.tips_amount == tips
        and row.currency == params.paid_amount.currency_code
    )


async def record_payment(conn: AsyncConnection, order_id: str, params: m.PaymentWithLockId) -> None:
    """Record one payment against the order, or raise the error that makes Dojo reverse it."""
    check_amounts(params.paid_amount, params.tips_amount)
    order = await lock_order_row(conn, order_id)
    if order is None:
        raise EposError.not_found(f"no order {order_id!r}")
    intent = params.payment_intent_id
    stored = (await conn.execute(
        select(s.payments).where(s.payments.c.payment_intent_id == intent)
    )).first()
    if stored is not None:
        if stored.order_id != order_id:
            raise EposError.conflict(f"payment intent {intent!r} is recorded on another order")
        if not _same_amounts(stored, params):
            raise EposError.conflict(
                f"payment intent {intent!r} was recorded with different amounts "
                f"(paid {stored.paid_amount}, tips {stored.tips_amount} {stored.currency})"
            )
        return  # a retry: already counted once
    lock = await live_lock(conn, order_id)
    if lock is not None and params.lock_id != lock.lock_id:
        given = "no lockId" if params.lock_id is None else f"lockId {params.lock_id!r}"
        raise EposError.conflict(
            f"payment with {given}, but order {order_id!r} is held by {describe(lock)}"
        )
    if not order.payable:
        raise EposError.conflict(f"order {order_id!r} is not payable (status {order.status}, "
                                 f"paid {order.paid_amount} of {order.total_amount})")
    if params.paid_amount.currency_code != order.currency:
        raise EposError.conflict(
            f"payment in {params.paid_amount.currency_code}, order {order_id!r} is in "
            f"{order.currency}"
        )
    due = order.total_amount - order.paid_amount
    if params.paid_amount.value > due:
        raise EposError.conflict(
            f"paidAmount {params.paid_amount.value} is more than the {due} still due on "
            f"order {order_id!r}"
        )
    tips = params.tips_amount.value if params.tips_amount is not None else 0
    if order.tips_amount + tips > m.INT64_MAX:  # each tip fits 64 bits; their sum is stored too
        raise EposError.invalid_request(
            f"tipsAmount: order {order_id!r} already has {order.tips_amount} in tips; adding "
            f"{tips} exceeds a 64-bit integer")
    payment = m.Payment(payment_intent_id=intent, paid_amount=params.paid_amount,
                        tips_amount=params.tips_amount)
    await store_payment(conn, order_id, payment, order.currency, lock_id=params.lock_id)
    await refresh_amounts(conn, order_id, finalize_when_paid=True)


async def handle_payment_event(conn: AsyncConnection, event: m.Event) -> bool:
    """Apply a payment-intent event once; False when its id was already processed.

    The intent's status is stored on the payment it concerns (if we have one); a payment whose
    intent was reversed, refunded or canceled stops counting toward its order's ``paidAmount``.
    """
    seen = (await conn.execute(
        select(s.processed_events.c.id).where(s.processed_events.c.id == event.id)
    )).first()
    if seen is not None:
        return False
    await conn.execute(insert(s.processed_events).values(
        id=event.id, event_type=event.event.value,
        payment_intent_id=event.data.payment_intent_id, received_at=s.utcnow(),
    ))
    payment = (await conn.execute(
        select(s.payments).where(s.payments.c.payment_intent_id == event.data.payment_intent_id)
    )).first()
    if payment is None:
        return True  # an intent we never saw a payment for (e.g. a deposit): nothing to update
    await lock_order_row(conn, payment.order_id)
    status = event.data.payment_status.value
    if event.event is m.EventType.PAYMENT_INTENT_CREATED and payment.intent_status is not None:
        return True  # a late "created" must not overwrite a newer status
    await conn.execute(update(s.payments).where(s.payments.c.id == payment.id)
                       .values(intent_status=status))
    if (status in NOT_COUNTED_INTENT_STATUSES) != (
        payment.intent_status in NOT_COUNTED_INTENT_STATUSES
    ):
        await refresh_amounts(conn, payment.order_id)
    return True
