"""Reading orders as contract models: two statements, however many orders.

The functions here are synchronous and take a SQLAlchemy :class:`~sqlalchemy.Connection`, so one
body serves every caller:

- capabilities that only read run them through :meth:`Database.run_read` (on a SQLite file: the
  whole read on a worker thread with the sync driver; on PostgreSQL: ``AsyncConnection.run_sync``);
- writes that answer with the order run them inside their own transaction with ``run_sync`` (see
  :func:`.orders.load_order`), so the order they return is the one they just wrote.

We chose this over a sans-I/O "plan" (a generator yielding statements to a driver): SQLAlchemy's
``run_sync`` already is that bridge for async connections, so the reads stay plain straight-line code
with ordinary exceptions, and there is no second protocol to keep in step with SQLAlchemy's.

An order is its ``orders`` row plus six kinds of child line (items, sub-items, modifiers, discounts,
tax lines, payments). The children of any number of orders come back in ONE statement: a UNION ALL
of the six tables onto one shared row shape (:data:`_SHAPE` says which column carries what), each
branch an index lookup on ``order_id``. So GetOrderById is two statements, and so is a
SearchOrders page of fifty orders (the page, then its children).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    CompoundSelect,
    Connection,
    Integer,
    Select,
    String,
    Table,
    Text,
    bindparam,
    cast,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeEngine

from dojo_epos.contract import models as m
from dojo_epos.contract.errors import EposError
from dojo_epos.epos.reference import schema as s
from dojo_epos.epos.reference.loop_reads import LoopConnection

__all__ = ["NOT_COUNTED_INTENT_STATUSES", "ReadConnection", "read_order", "read_orders"]

#: Payment-intent states after which a payment no longer counts toward ``paidAmount``.
NOT_COUNTED_INTENT_STATUSES = frozenset({"Reversed", "Refunded", "Canceled"})

# The shared row shape of the children query: name -> (type, {kind: source column}). A kind with
# no entry gets a typed NULL (PostgreSQL wants every UNION branch's column types to agree).
#   i = items, u = sub-items, o = modifiers, d = discounts, t = tax lines, p = payments
_SHAPE: dict[str, tuple[TypeEngine[Any], dict[str, str]]] = {
    "position": (Integer(), {k: "position" for k in "iuodt"}),
    "item_id": (BigInteger(), {"u": "item_id", "o": "item_id"}),
    "sub_item_id": (BigInteger(), {"o": "sub_item_id"}),
    "name": (String(), {k: "name" for k in "iuodt"}),
    # an item's PLU, or the PLU a discount or tax line applies to
    "plu": (String(), {"i": "plu", "u": "plu", "o": "plu", "d": "affected_plu",
                       "t": "affected_plu"}),
    "quantity": (Integer(), {"i": "quantity", "u": "quantity", "o": "quantity"}),
    # the line's main amount: per item, per modifier, the discount/tax total, or what was paid
    "amount": (BigInteger(), {"i": "amount_per_item", "u": "amount_per_item",
                              "o": "amount_per_modifier", "d": "amount_total", "t": "amount_total",
                              "p": "paid_amount"}),
    "tips": (BigInteger(), {"p": "tips_amount"}),
    "note": (Text(), {"i": "note", "u": "note"}),
    # the line's own reference: discount reference, tax id, payment intent id
    "ref": (String(), {"d": "discount_reference", "t": "tax_id", "p": "payment_intent_id"}),
    # a discount's code, or a payment intent's last status
    "code": (String(), {"d": "code", "p": "intent_status"}),
    "percentage": (Integer(), {"d": "amount_percentage", "t": "amount_percentage"}),
}
#: What the read functions read through: SQLAlchemy's connection, or the loop's on SQLite.
ReadConnection = Connection | LoopConnection
#: One order's child lines by kind.
_Lines = dict[str, list[Any]]

_TABLES: dict[str, Table] = {
    "i": s.items, "u": s.sub_items, "o": s.modifiers, "d": s.discounts, "t": s.tax_lines,
    "p": s.payments,
}


def _children_query(match: Callable[[Table], ColumnElement[bool]]) -> CompoundSelect[Any]:
    def branch(kind: str, table: Table) -> Select[Any]:
        cols: list[ColumnElement[Any]] = [
            literal_column(f"'{kind}'", String()).label("kind"),
            table.c.order_id.label("order_id"),
            table.c.id.label("id"),
        ]
        for name, (type_, sources) in _SHAPE.items():
            source = sources.get(kind)
            cols.append((table.c[source] if source else cast(null(), type_)).label(name))
        return select(*cols).where(match(table))

    # Ordered by id, so each kind's lines come back in insertion order (payments keep it).
    return union_all(*(branch(k, t) for k, t in _TABLES.items())).order_by("id")


# Built once: building (and cache-keying) these per call cost far more than running them.
_ORDER = select(s.orders).where(s.orders.c.id == bindparam("order_id"))
_CHILDREN_OF_ONE = _children_query(lambda t: t.c.order_id == bindparam("order_id"))
_CHILDREN_OF_MANY = _children_query(
    lambda t: t.c.order_id.in_(bindparam("order_ids", expanding=True)))


def read_order(conn: ReadConnection, order_id: str) -> m.Order:
    """The order as the contract shows it; NotFound when there is no such order."""
    row = conn.execute(_ORDER, {"order_id": order_id}).first()
    if row is None:
        raise EposError.not_found(f"no order {order_id!r}")
    return read_orders(conn, [row])[0]


def read_orders(conn: ReadConnection, rows: Sequence[Any]) -> list[m.Order]:
    """Contract models for ``orders`` rows, with all their lines from one more statement."""
    if not rows:
        return []
    lines: dict[str, _Lines] = defaultdict(lambda: defaultdict(list))
    if len(rows) == 1:
        found = conn.execute(_CHILDREN_OF_ONE, {"order_id": rows[0].id})
    else:
        found = conn.execute(_CHILDREN_OF_MANY, {"order_ids": [row.id for row in rows]})
    for line in found:
        lines[line.order_id][line.kind].append(line)
    return [_order_model(row, lines[row.id]) for row in rows]


def _money(value: int, currency: str) -> dict[str, Any]:
    return {"value": value, "currency_code": currency}


def _by_position(rows: list[Any]) -> list[Any]:
    return sorted(rows, key=lambda r: r.position)


def _order_model(row: Any, lines: _Lines) -> m.Order:
    """The order from its row and lines: any rows with attribute access (SQLAlchemy's, or
    :mod:`.loop_reads`' on SQLite).

    The whole order is written as one dict of field names and validated once: pydantic-core
    builds the fifteen-odd nested models in one call, where a constructor call per model cost a
    third more (63 against 48 us for the benchmarks' order; skipping validation altogether, with
    models constructed from the trusted rows, measured no faster than that). Every field is
    given, ``None`` included: a key the models do not know would be dropped silently (their
    ``extra`` is ``ignore``), and the tests check that each model has all its fields set.
    """
    cur = row.currency

    def mods(rows: list[Any]) -> list[dict[str, Any]]:
        return [{"name": r.name, "quantity": r.quantity, "plu": r.plu,
                 "amount_per_modifier": _money(r.amount, cur)}
                for r in _by_position(rows)]

    item_mods: dict[int, list[Any]] = defaultdict(list)
    sub_mods: dict[int, list[Any]] = defaultdict(list)
    for r in lines["o"]:
        (sub_mods[r.sub_item_id] if r.sub_item_id is not None else item_mods[r.item_id]).append(r)
    subs_of: dict[int, list[Any]] = defaultdict(list)
    for r in _by_position(lines["u"]):
        subs_of[r.item_id].append(r)
    items = [
        {"name": r.name, "plu": r.plu, "quantity": r.quantity, "note": r.note,
         "amount_per_item": _money(r.amount, cur), "modifiers": mods(item_mods[r.id]),
         "sub_items": [
             {"name": sr.name, "plu": sr.plu, "quantity": sr.quantity, "note": sr.note,
              "amount_per_item": _money(sr.amount, cur), "modifiers": mods(sub_mods[sr.id])}
             for sr in subs_of.get(r.id, [])
         ]}
        for r in _by_position(lines["i"])
    ]
    details: dict[str, Any]
    if row.order_type == m.OrderType.DINE_IN.value:
        details = {"order_type": row.order_type, "collection": None, "dine_in": {
            "table_id": row.table_id, "waiter_id": row.waiter_id, "party_id": row.party_id,
            "reservation_id": row.reservation_id, "ready_at": row.ready_at}}
    else:
        details = {"order_type": m.OrderType.COLLECTION.value, "dine_in": None, "collection": {
            "asap": row.asap, "collect_at": row.collect_at}}
    return m.Order.model_validate({
        "id": row.id, "status": row.status, "details": details, "items": items,
        "note": row.note, "customer": row.customer or None,
        "discounts": [
            {"name": d.name, "affected_plu": d.plu, "code": d.code, "discount_reference": d.ref,
             "amount_total": _money(d.amount, cur), "amount_percentage": d.percentage}
            for d in _by_position(lines["d"])
        ],
        "tax_lines": [
            {"id": t.ref, "name": t.name, "affected_plu": t.plu, "amount_percentage": t.percentage,
             "amount_total": _money(t.amount, cur)}
            for t in _by_position(lines["t"])
        ],
        "payments": [
            {"payment_intent_id": p.ref, "paid_amount": _money(p.amount, cur),
             "tips_amount": _money(p.tips, cur) if p.tips else None}
            for p in lines["p"] if p.code not in NOT_COUNTED_INTENT_STATUSES
        ],
        "created_at": row.created_at, "updated_at": row.updated_at,
        "total_amount": _money(row.total_amount, cur), "paid_amount": _money(row.paid_amount, cur),
        "tips_amount": _money(row.tips_amount, cur),
        "service_charge_amount": _money(row.service_charge_amount, cur),
        "payable": row.payable, "reference": row.reference, "display_name": row.display_name,
    })
