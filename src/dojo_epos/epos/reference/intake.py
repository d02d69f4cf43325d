"""Orders placed and cancelled by Dojo (Order & Pay): CreateOrder and CancelOrderById.

CreateOrder stores the order with its payments, which count toward ``paidAmount`` at once (the
customer paid or pre-authorised before Dojo sent the order). Dojo's ``totalAmount`` must reconcile
with the lines by the rule in :mod:`.totals`: first with tax lines added on top, else with taxes
included in the prices; the order remembers which, so later reads compute the same total. A request
whose lines cannot give its total, mixes currencies, or pays more than the total is InvalidRequest.
A CreateOrder repeated with a ``dojoOrderId`` already stored returns that order (Dojo retries).
The new order is Confirmed; fully paid, it is not payable.

CancelOrderById: an order that has counted payments or is Finalized is Conflict (refund first); a
canceled order stays canceled (a repeat answers the order). Cancelling also drops its lock.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from dojo_epos.contract import models as m
from dojo_epos.contract.errors import EposError
from dojo_epos.epos.reference import schema as s
from dojo_epos.epos.reference.orders import (
    insert_order,
    load_order,
    lock_order_row,
    new_order_id,
    refresh_amounts,
)
from dojo_epos.epos.reference.payments import check_amounts, store_payment
from dojo_epos.epos.reference.totals import compute_totals

__all__ = ["cancel_order", "create_order", "validate_lines"]


def _moneys(req: m.CreateOrderRequest) -> Iterator[tuple[str, m.Money]]:
    for i, item in enumerate(req.items):
        yield f"items[{i}].amountPerItem", item.amount_per_item
        for j, mod in enumerate(item.modifiers):
            yield f"items[{i}].modifiers[{j}]", mod.amount_per_modifier
        for j, sub in enumerate(item.sub_items):
            yield f"items[{i}].subItems[{j}]", sub.amount_per_item
            for k, mod in enumerate(sub.modifiers):
                yield f"items[{i}].subItems[{j}].modifiers[{k}]", mod.amount_per_modifier
    for i, d in enumerate(req.discounts):
        yield f"discounts[{i}]", d.amount_total
    for i, t in enumerate(req.tax_lines):
        yield f"taxLines[{i}]", t.amount_total
    if req.service_charge_amount is not None:
        yield "serviceChargeAmount", req.service_charge_amount


def validate_lines(items: list[m.OrderItem]) -> None:
    """InvalidRequest for quantities no till would accept (negative, or a zero-quantity item)."""
    for i, item in enumerate(items):
        if item.quantity < 1:
            raise EposError.invalid_request(f"items[{i}].quantity must be at least 1")
        parts = [*item.modifiers, *(mod for sub in item.sub_items for mod in sub.modifiers)]
        if any(p.quantity < 0 for p in parts) or any(sub.quantity < 0 for sub in item.sub_items):
            raise EposError.invalid_request(f"items[{i}] has a negative quantity")


def _check(req: m.CreateOrderRequest) -> tuple[str, bool]:
    currency = req.total_amount.currency_code
    if currency not in m.SUPPORTED_CURRENCIES:
        raise EposError.invalid_request(f"currency {currency} is not accepted")
    for where, money in _moneys(req):
        if money.currency_code != currency:
            raise EposError.invalid_request(f"{where} is in {money.currency_code}, not {currency}")
        if money.value < 0:
            raise EposError.invalid_request(f"{where} must not be negative")
    validate_lines(req.items)
    service = req.service_charge_amount.value if req.service_charge_amount else 0
    for included in (False, True):
        totals = compute_totals(req.items, req.discounts, req.tax_lines, service,
                                taxes_included=included)
        if totals.total == req.total_amount.value:
            break
    else:
        raise EposError.invalid_request(
            f"totalAmount {req.total_amount.value} does not match the order's lines "
            f"({compute_totals(req.items, req.discounts, req.tax_lines, service).total} with taxes "
            f"added, {totals.total} with taxes included)"
        )
    paid = 0
    for i, payment in enumerate(req.payments):
        check_amounts(payment.paid_amount, payment.tips_amount)
        if payment.paid_amount.currency_code != currency:
            raise EposError.invalid_request(f"payments[{i}] is not in {currency}")
        paid += payment.paid_amount.value
    if paid > req.total_amount.value:
        raise EposError.invalid_request(f"payments add up to {paid}, more than the total")
    if len({p.payment_intent_id for p in req.payments}) != len(req.payments):
        raise EposError.invalid_request("payments repeat a paymentIntentId")
    return currency, included


async def create_order(conn: AsyncConnection, req: m.CreateOrderRequest) -> m.Order:
    """Store Dojo's order and its payments; a repeated ``dojoOrderId`` returns the stored order."""
    existing = (await conn.execute(
        select(s.orders.c.id).where(s.orders.c.dojo_order_id == req.dojo_order_id)
    )).scalar_one_or_none()
    if existing is not None:
        return await load_order(conn, existing)
    currency, taxes_included = _check(req)
    intents = [p.payment_intent_id for p in req.payments]
    if intents:
        taken = (await conn.execute(select(s.payments.c.payment_intent_id)
                                    .where(s.payments.c.payment_intent_id.in_(intents)))).first()
        if taken is not None:
            raise EposError.conflict(f"payment intent {taken[0]!r} is recorded on another order")
    order_id = new_order_id()
    await insert_order(
        conn, order_id=order_id, details=req.details, currency=currency,
        status=m.OrderStatus.CONFIRMED, items=req.items, discounts=req.discounts,
        tax_lines=req.tax_lines,
        service_charge=req.service_charge_amount.value if req.service_charge_amount else 0,
        taxes_included=taxes_included, note=req.note, customer=req.customer,
        reference=req.reference, display_name=req.display_name, dojo_order_id=req.dojo_order_id,
    )
    for payment in req.payments:
        await store_payment(conn, order_id, payment, currency)
    await refresh_amounts(conn, order_id)
    return await load_order(conn, order_id)


async def cancel_order(conn: AsyncConnection, order_id: str) -> m.Order:
    """Cancel the order, or Conflict when it is paid or finalized."""
    row = await lock_order_row(conn, order_id)
    if row is None:
        raise EposError.not_found(f"no order {order_id!r}")
    if row.status != m.OrderStatus.CANCELED.value:
        if row.status == m.OrderStatus.FINALIZED.value:
            raise EposError.conflict(f"order {order_id!r} is finalized and cannot be canceled")
        if row.paid_amount > 0:
            raise EposError.conflict(
                f"order {order_id!r} has {row.paid_amount} paid; refund it before canceling")
        await conn.execute(update(s.orders).where(s.orders.c.id == order_id).values(
            status=m.OrderStatus.CANCELED.value, payable=False, updated_at=s.utcnow()))
        await conn.execute(delete(s.order_locks).where(s.order_locks.c.order_id == order_id))
    return await load_order(conn, order_id)
