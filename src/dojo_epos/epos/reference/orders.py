"""Orders in the database: writing them and keeping their amounts right (reads: .order_reads).

Every change to an order ends with :func:`refresh_amounts`, which recomputes ``totalAmount`` from the
stored lines (by :mod:`.totals`), ``paidAmount``/``tipsAmount`` from the payments that still count,
and ``payable``. So the three can never drift apart, whatever path changed the order.

``payable`` is false for Finalized, Canceled and Failed orders, for orders with nothing to pay, and for
fully paid ones (domain notes §3.3). A payment whose intent Dojo later reports Reversed, Refunded or
Canceled (HandleEvent) stops counting toward ``paidAmount``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from dojo_epos.contract import models as m
from dojo_epos.epos.reference import schema as s
from dojo_epos.epos.reference.order_reads import (
    NOT_COUNTED_INTENT_STATUSES,
    read_order,
    read_orders,
)
from dojo_epos.epos.reference.totals import compute_totals, included_tax, percentage_of

__all__ = [
    "NOT_COUNTED_INTENT_STATUSES",
    "TERMINAL_STATUSES",
    "insert_items",
    "insert_order",
    "load_order",
    "lock_order_row",
    "new_order_id",
    "orders_from_rows",
    "refresh_amounts",
]

#: Orders in these states take no more payments or edits.
TERMINAL_STATUSES = frozenset({m.OrderStatus.FINALIZED, m.OrderStatus.CANCELED, m.OrderStatus.FAILED})


def new_order_id() -> str:
    """A fresh order id (short, URL-safe, unique)."""
    return f"ord_{uuid.uuid4().hex[:16]}"


def _money(value: int, currency: str) -> m.Money:
    return m.Money(value=value, currency_code=currency)


async def lock_order_row(conn: AsyncConnection, order_id: str) -> Row[Any] | None:
    """The order's row, locked against other writers until the transaction ends.

    PostgreSQL: ``FOR UPDATE``. SQLite: the IMMEDIATE write transaction already excludes other
    writers, and SQLAlchemy leaves ``FOR UPDATE`` out there.
    """
    stmt = select(s.orders).where(s.orders.c.id == order_id).with_for_update()
    return (await conn.execute(stmt)).first()


# --- writing -----------------------------------------------------------------------------------


async def insert_items(
    conn: AsyncConnection, order_id: str, items: Sequence[m.OrderItem], first_position: int = 0
) -> None:
    """Store ``items`` (with their sub-items and modifiers) on the order."""
    for offset, item in enumerate(items):
        item_id = (await conn.execute(insert(s.items).values(
            order_id=order_id, position=first_position + offset, name=item.name, plu=item.plu,
            quantity=item.quantity, amount_per_item=item.amount_per_item.value, note=item.note,
        ).returning(s.items.c.id))).scalar_one()
        await _insert_modifiers(conn, order_id, item_id, None, item.modifiers)
        for sub_pos, sub in enumerate(item.sub_items):
            sub_id = (await conn.execute(insert(s.sub_items).values(
                order_id=order_id, item_id=item_id, position=sub_pos, name=sub.name, plu=sub.plu,
                quantity=sub.quantity, amount_per_item=sub.amount_per_item.value, note=sub.note,
            ).returning(s.sub_items.c.id))).scalar_one()
            await _insert_modifiers(conn, order_id, item_id, sub_id, sub.modifiers)


async def _insert_modifiers(
    conn: AsyncConnection, order_id: str, item_id: int, sub_id: int | None,
    modifiers: Sequence[m.Modifier],
) -> None:
    if modifiers:
        await conn.execute(insert(s.modifiers), [
            {"order_id": order_id, "item_id": item_id, "sub_item_id": sub_id, "position": pos,
             "name": mod.name, "plu": mod.plu, "quantity": mod.quantity,
             "amount_per_modifier": mod.amount_per_modifier.value}
            for pos, mod in enumerate(modifiers)
        ])


async def insert_order(
    conn: AsyncConnection,
    *,
    order_id: str,
    details: m.OrderDetails,
    currency: str,
    status: m.OrderStatus,
    items: Sequence[m.OrderItem] = (),
    discounts: Sequence[m.Discount] = (),
    tax_lines: Sequence[m.TaxLine] = (),
    service_charge: int = 0,
    taxes_included: bool = False,
    vat_percentage: int | None = None,
    service_charge_percentage: int | None = None,
    note: str | None = None,
    customer: m.Customer | None = None,
    reference: str | None = None,
    display_name: str | None = None,
    dojo_order_id: str | None = None,
    now: datetime | None = None,
) -> None:
    """Store a new order and its lines; call :func:`refresh_amounts` afterwards."""
    now = now or s.utcnow()
    dine_in = details.dine_in or m.DineInDetails()
    collection = details.collection or m.CollectionDetails()
    await conn.execute(insert(s.orders).values(
        id=order_id, dojo_order_id=dojo_order_id, status=status.value,
        order_type=details.order_type.value, table_id=dine_in.table_id,
        waiter_id=dine_in.waiter_id, party_id=dine_in.party_id,
        reservation_id=dine_in.reservation_id, ready_at=dine_in.ready_at, asap=collection.asap,
        collect_at=collection.collect_at, note=note,
        customer=customer.to_wire() if customer is not None else None, reference=reference,
        display_name=display_name, currency=currency, taxes_included=taxes_included,
        vat_percentage=vat_percentage, service_charge_percentage=service_charge_percentage,
        service_charge_amount=service_charge, total_amount=0, paid_amount=0, tips_amount=0,
        payable=False, created_at=now, updated_at=now,
    ))
    await insert_items(conn, order_id, items)
    if discounts:
        await conn.execute(insert(s.discounts), [
            {"order_id": order_id, "position": pos, "name": d.name, "affected_plu": d.affected_plu,
             "discount_reference": d.discount_reference, "code": d.code,
             "amount_total": d.amount_total.value, "amount_percentage": d.amount_percentage}
            for pos, d in enumerate(discounts)
        ])
    await _insert_tax_lines(conn, order_id, tax_lines)


async def _insert_tax_lines(
    conn: AsyncConnection, order_id: str, tax_lines: Sequence[m.TaxLine]
) -> None:
    if tax_lines:
        await conn.execute(insert(s.tax_lines), [
            {"order_id": order_id, "position": pos, "tax_id": t.id, "name": t.name,
             "affected_plu": t.affected_plu, "amount_percentage": t.amount_percentage,
             "amount_total": t.amount_total.value}
            for pos, t in enumerate(tax_lines)
        ])


async def refresh_amounts(
    conn: AsyncConnection, order_id: str, *, finalize_when_paid: bool = False
) -> None:
    """Recompute the order's stored amounts and ``payable`` from its lines and payments.

    Till orders (with stored rates) also get their VAT line and service charge recomputed.
    ``finalize_when_paid`` moves a fully paid order to Finalized (our choice for PAT payments: the
    bill is settled; an Order & Pay order stays Confirmed for the kitchen).
    """
    row = (await conn.execute(select(s.orders).where(s.orders.c.id == order_id))).one()
    order = (await orders_from_rows(conn, [row]))[0]
    currency = row.currency
    service = row.service_charge_amount
    tax_lines = order.tax_lines
    if row.vat_percentage is not None or row.service_charge_percentage is not None:
        base = compute_totals(order.items, order.discounts).total
        if row.service_charge_percentage is not None:
            service = percentage_of(max(base, 0), row.service_charge_percentage)
        if row.vat_percentage is not None:
            vat = m.TaxLine(
                id="VAT", name="VAT", amount_percentage=row.vat_percentage,
                amount_total=_money(included_tax(max(base, 0), row.vat_percentage), currency),
            )
            tax_lines = [vat]
            await conn.execute(delete(s.tax_lines).where(s.tax_lines.c.order_id == order_id))
            await _insert_tax_lines(conn, order_id, tax_lines)
    totals = compute_totals(
        order.items, order.discounts, tax_lines, service, taxes_included=row.taxes_included
    )
    counted = (
        select(
            func.coalesce(func.sum(s.payments.c.paid_amount), 0),
            func.coalesce(func.sum(s.payments.c.tips_amount), 0),
        )
        .where(s.payments.c.order_id == order_id)
        .where(
            s.payments.c.intent_status.is_(None)
            | s.payments.c.intent_status.not_in(NOT_COUNTED_INTENT_STATUSES)
        )
    )
    paid, tips = (await conn.execute(counted)).one()
    status = m.OrderStatus(row.status)
    fully_paid = totals.total > 0 and paid >= totals.total
    if fully_paid and finalize_when_paid and status not in TERMINAL_STATUSES:
        status = m.OrderStatus.FINALIZED
    payable = status not in TERMINAL_STATUSES and totals.total > 0 and paid < totals.total
    await conn.execute(update(s.orders).where(s.orders.c.id == order_id).values(
        service_charge_amount=service, total_amount=totals.total, paid_amount=int(paid),
        tips_amount=int(tips), payable=payable, status=status.value, updated_at=s.utcnow(),
    ))


# --- reading (the logic is in .order_reads; these run it on an async connection) --------------


async def load_order(conn: AsyncConnection, order_id: str) -> m.Order:
    """The order as the contract shows it; NotFound when there is no such order.

    For use inside a write transaction (the answer shows what the write just did) or a
    :meth:`Database.read`; a capability that only reads uses :meth:`Database.run_read` instead.
    """
    return await conn.run_sync(read_order, order_id)


async def orders_from_rows(conn: AsyncConnection, rows: Sequence[Row[Any]]) -> list[m.Order]:
    """Contract models for ``orders`` rows, with all their lines (see :func:`.read_orders`)."""
    return await conn.run_sync(read_orders, rows)
