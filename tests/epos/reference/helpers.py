"""Small builders shared by the reference EPOS tests."""

from __future__ import annotations

import uuid

from dojo_epos.contract import models as m
from dojo_epos.epos.reference import ReferenceEpos, till
from dojo_epos.epos.reference.menu import line
from tests.epos.reference.conftest import ctx, gbp


async def open_order(epos: ReferenceEpos, table: str = "T1", waiter: str = "w_alice",
                     items: list[m.OrderItem] | None = None) -> m.Order:
    """A till order on ``table`` (default: two burgers and two lagers)."""
    return await till.open_order(epos.db, table, waiter,
                                 items or [line("MN-BURG", 2), line("DR-LAGR", 2)])


async def pay(epos: ReferenceEpos, order_id: str, value: int, *, intent: str | None = None,
              tips: int | None = None, lock_id: str | None = None,
              currency: str = "GBP") -> m.Order:
    """RecordOrderPayment through the handler."""
    return await epos.record_order_payment(m.RecordOrderPaymentParams(
        order_id=order_id, payment_intent_id=intent or f"pi_{uuid.uuid4().hex[:12]}",
        paid_amount=m.Money(value=value, currency_code=currency),
        tips_amount=gbp(tips) if tips is not None else None, lock_id=lock_id), ctx())


async def lock(epos: ReferenceEpos, order_id: str, lock_id: str, expiry) -> m.Order:
    return await epos.create_order_lock(
        m.CreateOrderLockParams(order_id=order_id, lock_id=lock_id, expiry=expiry), ctx())


async def get(epos: ReferenceEpos, order_id: str) -> m.Order:
    return await epos.get_order_by_id(m.OrderIdParams(order_id=order_id), ctx())
