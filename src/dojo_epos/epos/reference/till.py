"""What the restaurant's own staff do at the till: open an order on a table, add and void items,
close the order. Exposed as plain async functions (the ``dojo-epos epos till`` commands call them).

Every till change is refused with Conflict while Dojo holds a live lock on the order (domain notes
§3.1): the lock is Dojo's promise to the card terminal that the bill it is paying will not change.
Changes to finalized, canceled or failed orders are refused too, and so is voiding below what has
already been paid.

Till orders price like a UK restaurant: menu prices include VAT, and a discretionary service charge
on dine-in orders, both at the merchant's rates (:mod:`.totals` has the arithmetic; every change
recomputes them).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from dojo_epos.contract import models as m
from dojo_epos.contract.errors import EposError
from dojo_epos.epos.reference import schema as s
from dojo_epos.epos.reference.db import Database
from dojo_epos.epos.reference.intake import validate_lines
from dojo_epos.epos.reference.locks import describe, live_lock
from dojo_epos.epos.reference.orders import (
    TERMINAL_STATUSES,
    insert_items,
    insert_order,
    load_order,
    lock_order_row,
    new_order_id,
    orders_from_rows,
    refresh_amounts,
)
from dojo_epos.epos.reference.payments import store_payment

__all__ = [
    "DEFAULT_RATES",
    "add_item",
    "add_items",
    "close_order",
    "connect",
    "list_orders",
    "merchant_rates",
    "open_order",
    "void_item",
]

#: (currency, VAT x100, service charge x100) when the database has no merchant row yet.
DEFAULT_RATES = ("GBP", 2000, 1250)


async def connect(db_url: str) -> Database:
    """A :class:`Database` on ``db_url`` with the schema in place (dispose it when done)."""
    db = Database(db_url)
    await s.create_schema(db)
    return db


async def merchant_rates(conn: AsyncConnection) -> tuple[str, int, int]:
    row = (await conn.execute(select(
        s.merchant.c.currency, s.merchant.c.vat_percentage, s.merchant.c.service_charge_percentage,
    ).where(s.merchant.c.id == 1))).first()
    return (row.currency, row.vat_percentage, row.service_charge_percentage) if row else DEFAULT_RATES


async def _editable(conn: AsyncConnection, order_id: str) -> None:
    row = await lock_order_row(conn, order_id)
    if row is None:
        raise EposError.not_found(f"no order {order_id!r}")
    if m.OrderStatus(row.status) in TERMINAL_STATUSES:
        raise EposError.conflict(f"order {order_id!r} is {row.status}; the till cannot change it")
    lock = await live_lock(conn, order_id)
    if lock is not None:
        raise EposError.conflict(
            f"order {order_id!r} is being paid through Dojo ({describe(lock)}); try again later")


def _check_currency(items: Sequence[m.OrderItem], currency: str) -> None:
    validate_lines(list(items))
    for item in items:
        if item.amount_per_item.currency_code != currency:
            raise EposError.invalid_request(f"{item.name} is not priced in {currency}")


async def open_order(
    db: Database, table_id: str, waiter_id: str | None, items: Sequence[m.OrderItem] = (), *,
    note: str | None = None, order_id: str | None = None, party_id: str | None = None,
) -> m.Order:
    """Open a dine-in order on ``table_id`` (NotFound for an unknown table)."""
    async with db.write() as conn:
        table = (await conn.execute(select(s.tables).where(s.tables.c.id == table_id))).first()
        if table is None:
            raise EposError.not_found(f"no table {table_id!r}")
        currency, vat, service = await merchant_rates(conn)
        _check_currency(items, currency)
        order_id = order_id or new_order_id()
        await insert_order(
            conn, order_id=order_id, currency=currency, status=m.OrderStatus.CONFIRMED,
            details=m.OrderDetails(order_type=m.OrderType.DINE_IN, dine_in=m.DineInDetails(
                table_id=table_id, waiter_id=waiter_id, party_id=party_id)),
            items=items, taxes_included=True, vat_percentage=vat,
            service_charge_percentage=service, note=note, display_name=table.name,
            reference=order_id.removeprefix("ord_")[:8].upper(),
        )
        await refresh_amounts(conn, order_id)
        return await load_order(conn, order_id)


async def add_items(db: Database, order_id: str, items: Sequence[m.OrderItem]) -> m.Order:
    """Add lines to an open order; Conflict while Dojo holds its lock."""
    async with db.write() as conn:
        await _editable(conn, order_id)
        currency = (await conn.execute(
            select(s.orders.c.currency).where(s.orders.c.id == order_id))).scalar_one()
        _check_currency(items, currency)
        last = (await conn.execute(select(func.max(s.items.c.position))
                                   .where(s.items.c.order_id == order_id))).scalar()
        await insert_items(conn, order_id, items, first_position=(last or 0) + 1)
        await refresh_amounts(conn, order_id)
        return await load_order(conn, order_id)


async def add_item(db: Database, order_id: str, item: m.OrderItem) -> m.Order:
    """Add one line (see :func:`add_items`)."""
    return await add_items(db, order_id, [item])


async def void_item(db: Database, order_id: str, index: int) -> m.Order:
    """Remove the line at ``index`` (0-based, as GetOrderById lists them).

    Conflict while locked, or when the order would then total less than is already paid.
    """
    async with db.write() as conn:
        await _editable(conn, order_id)
        ids = (await conn.execute(select(s.items.c.id).where(s.items.c.order_id == order_id)
                                  .order_by(s.items.c.position, s.items.c.id))).scalars().all()
        if not 0 <= index < len(ids):
            raise EposError.not_found(f"order {order_id!r} has no item {index}")
        item_id = ids[index]
        await conn.execute(delete(s.modifiers).where(s.modifiers.c.item_id == item_id))
        await conn.execute(delete(s.sub_items).where(s.sub_items.c.item_id == item_id))
        await conn.execute(delete(s.items).where(s.items.c.id == item_id))
        await refresh_amounts(conn, order_id)
        row = (await conn.execute(select(s.orders).where(s.orders.c.id == order_id))).one()
        if row.paid_amount > row.total_amount:
            raise EposError.conflict(  # raising rolls the void back
                f"voiding item {index} would leave order {order_id!r} below what is paid")
        return await load_order(conn, order_id)


async def close_order(db: Database, order_id: str, *, settle_cash: bool = False) -> m.Order:
    """Finalize the order once it is paid; ``settle_cash`` first takes what is due in cash.

    Conflict while Dojo holds the lock, or when money is still due and ``settle_cash`` is false.
    """
    async with db.write() as conn:
        await _editable(conn, order_id)
        row = (await conn.execute(select(s.orders).where(s.orders.c.id == order_id))).one()
        due = row.total_amount - row.paid_amount
        if due > 0:
            if not settle_cash:
                raise EposError.conflict(f"order {order_id!r} still has {due} due")
            cash = m.Payment(payment_intent_id=f"till_cash_{uuid.uuid4().hex[:16]}",
                             paid_amount=m.Money(value=due, currency_code=row.currency))
            await store_payment(conn, order_id, cash, row.currency, source="till")
            await refresh_amounts(conn, order_id)
        await conn.execute(update(s.orders).where(s.orders.c.id == order_id).values(
            status=m.OrderStatus.FINALIZED.value, payable=False, updated_at=s.utcnow()))
        return await load_order(conn, order_id)


async def list_orders(
    db: Database, *, table_id: str | None = None, waiter_id: str | None = None,
    area_id: str | None = None, open_only: bool = True, limit: int = 50,
) -> list[m.Order]:
    """The newest orders (up to ``limit``) matching the filters; by default only unfinished ones."""
    o = s.orders.c
    query = select(s.orders)
    if table_id is not None:
        query = query.where(o.table_id == table_id)
    if waiter_id is not None:
        query = query.where(o.waiter_id == waiter_id)
    if area_id is not None:
        query = query.where(o.table_id.in_(select(s.tables.c.id).where(s.tables.c.area_id == area_id)))
    if open_only:
        query = query.where(o.status.not_in([st.value for st in TERMINAL_STATUSES]))
    async with db.read() as conn:
        rows = (await conn.execute(query.order_by(o.seq.desc()).limit(limit))).all()
        return await orders_from_rows(conn, rows)
