"""``dojo-epos epos seed``: a believable restaurant, and optionally a million orders of history.

:func:`seed` creates the schema if needed and then, each only if missing, so that running it again
changes nothing:

- the merchant details the bill prints (The Copper Kettle, VAT included, 12.5% service);
- four waiters, three areas (main room, terrace, bar) and twelve tables;
- six open orders on tables, made through the till (real dishes, modifiers, a sharing platter with
  sub-items), one of them part-paid; a seated party and a reservation for tonight;
- with ``orders=N``: N finalized, fully paid orders of history (ids ``ord_h00000000``...), for
  benchmarks. They are bulk-inserted in chunks (executemany), each chunk one transaction, so an
  interrupted run is resumed by the next one; the count already present is skipped.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from dojo_epos.contract import models as m
from dojo_epos.epos.reference import bookings, till
from dojo_epos.epos.reference import schema as s
from dojo_epos.epos.reference.db import Database
from dojo_epos.epos.reference.menu import MENU, line
from dojo_epos.epos.reference.payments import record_payment
from dojo_epos.epos.reference.totals import compute_totals, included_tax, percentage_of

__all__ = ["HISTORY_PREFIX", "SeedReport", "seed", "seed_database", "seed_premises"]

HISTORY_PREFIX = "ord_h"
CHUNK = 5000

LOGO_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><circle cx="32" cy="32" r="30" '
    'fill="#b87333"/><text x="32" y="40" font-size="22" text-anchor="middle" fill="#fff">CK</text>'
    "</svg>"
)
WAITERS = [("w_alice", "Alice"), ("w_ben", "Ben"), ("w_chloe", "Chloe"), ("w_dev", "Dev")]
AREAS = [
    ("area_main", "Main dining room", ["w_alice", "w_ben"]),
    ("area_terrace", "Terrace", ["w_chloe"]),
    ("area_bar", "Bar", ["w_dev"]),
]
# (table id, name, area, covers, waiters)
TABLES = [
    *((f"T{n}", f"Table {n}", "area_main", 4 if n % 2 else 2, ["w_alice" if n <= 3 else "w_ben"])
      for n in range(1, 7)),
    *((f"T{n}", f"Terrace {n - 6}", "area_terrace", 6, ["w_chloe"]) for n in range(7, 10)),
    *((f"T{n}", f"Bar {n - 9}", "area_bar", 2, ["w_dev"]) for n in range(10, 13)),
]
OPEN_ORDERS: list[tuple[str, str, str, list[m.OrderItem]]] = [
    ("ord_demo_01", "T1", "w_alice", [line("STR-SOUP", 2), line("MN-BURG", 2, ["MOD-CHEESE",
     "MOD-BACON"]), line("DR-LAGR", 2)]),
    ("ord_demo_02", "T2", "w_alice", [line("MN-PIZZ", 1, ["MOD-GF"]), line("DR-WATR")]),
    ("ord_demo_03", "T4", "w_ben", [line("SH-PLAT"), line("MN-FISH", 3), line("DR-IPA", 3),
     line("SD-FRIES", 2)]),
    ("ord_demo_04", "T5", "w_ben", [line("MN-STEAK", 2, ["MOD-PEPPER"]), line("DR-RED", 2),
     line("DS-STP", 2, ["MOD-ICECR"])]),
    ("ord_demo_05", "T7", "w_chloe", [line("MN-RISO"), line("STR-CALA"), line("DR-COKE", 2)]),
    ("ord_demo_06", "T10", "w_dev", [line("DR-LAGR", 4), line("SD-FRIES")]),
]


@dataclass(frozen=True, slots=True)
class SeedReport:
    """What a seed run added (zeros on a re-run)."""

    tables: int
    open_orders: int
    history_orders: int


async def _insert_missing(conn: AsyncConnection, table: Any, rows: list[dict[str, Any]]) -> int:
    have = set((await conn.execute(select(table.c.id))).scalars().all())
    new = [r for r in rows if r["id"] not in have]
    if new:
        await conn.execute(insert(table), new)
    return len(new)


async def seed_premises(db: Database) -> int:
    """Merchant, waiters, areas and tables, each only if missing; returns the tables added."""
    async with db.write() as conn:
        await _insert_missing(conn, s.merchant, [{
            "id": 1, "name": "The Copper Kettle",
            "address_lines": ["12 Market Street", "Bristol"], "postcode": "BS1 1JQ",
            "phone": "0117 496 0123", "email": "hello@copperkettle.example",
            "tax_name": "VAT", "tax_number": "GB123456789", "logo_svg": LOGO_SVG,
            "url": "https://copperkettle.example/feedback", "currency": "GBP",
            "vat_percentage": 2000, "service_charge_percentage": 1250,
            "footer_text": "Service charge is discretionary. Thank you for visiting!",
        }])
        await _insert_missing(conn, s.waiters, [{"id": i, "name": n} for i, n in WAITERS])
        await _insert_missing(conn, s.areas, [
            {"id": i, "name": n, "position": p, "waiter_ids": w}
            for p, (i, n, w) in enumerate(AREAS)])
        added = await _insert_missing(conn, s.tables, [
            {"id": i, "name": n, "area_id": a, "max_covers": c, "position": p}
            for p, (i, n, a, c, _w) in enumerate(TABLES)])
        links = {(r.table_id, r.waiter_id) for r in await conn.execute(
            select(s.table_waiters.c.table_id, s.table_waiters.c.waiter_id))}
        new_links = [{"table_id": t, "waiter_id": w} for t, _n, _a, _c, ws in TABLES for w in ws
                     if (t, w) not in links]
        if new_links:
            await conn.execute(insert(s.table_waiters), new_links)
    return added


async def _open_orders(db: Database) -> int:
    async with db.read() as conn:
        have = set((await conn.execute(select(s.orders.c.id).where(
            s.orders.c.id.in_([o[0] for o in OPEN_ORDERS])))).scalars().all())
    added = 0
    for order_id, table_id, waiter_id, items in OPEN_ORDERS:
        if order_id not in have:
            await till.open_order(db, table_id, waiter_id, items, order_id=order_id)
            added += 1
    if "ord_demo_03" not in have:  # a table splitting the bill: one guest has paid already
        async with db.write() as conn:
            await record_payment(conn, "ord_demo_03", m.PaymentWithLockId(
                payment_intent_id="pi_seed_demo_03_a",
                paid_amount=m.Money(value=2000, currency_code="GBP")))
    async with db.write() as conn:
        now = s.utcnow().replace(minute=0, second=0, microsecond=0)
        await bookings.create_party(conn, m.CreatePartyRequest(
            dojo_party_id="seed-party-1", name="Patel", covers=4, table_ids=["T4"],
            status="Seated", start_time=now - timedelta(hours=1)))
        await bookings.create_reservation(conn, m.CreateReservationRequest(
            dojo_reservation_id="seed-res-1", name="Okafor", covers=6, table_ids=["T7", "T8"],
            start_time=now + timedelta(hours=3), end_time=now + timedelta(hours=5),
            guest_requests="Birthday: candle on the dessert"))
    return added


def _baskets(count: int, currency: str, vat: int, service: int) -> list[dict[str, Any]]:
    """Precomputed baskets (items and amounts by the till's rules) that history orders reuse."""
    rng = random.Random(42)
    plus = [p for p, e in MENU.items() if not e.parts]
    out = []
    for _ in range(count):
        items = [line(p, rng.randint(1, 3), currency=currency)
                 for p in rng.sample(plus, rng.randint(1, 4))]
        base = compute_totals(items).total
        charge = percentage_of(base, service)
        out.append({"items": items, "vat": included_tax(base, vat), "service": charge,
                    "total": base + charge})
    return out


async def _history(db: Database, wanted: int) -> int:
    async with db.read() as conn:
        have = (await conn.execute(select(func.count()).select_from(s.orders).where(
            s.orders.c.id.like(f"{HISTORY_PREFIX}%")))).scalar_one()
        currency, vat, service = await till.merchant_rates(conn)
    if have >= wanted:
        return 0
    baskets = _baskets(64, currency, vat, service)
    start = s.utcnow() - timedelta(minutes=wanted)
    final = m.OrderStatus.FINALIZED.value
    for chunk_start in range(have, wanted, CHUNK):
        orders: list[dict[str, Any]] = []
        items: list[dict[str, Any]] = []
        taxes: list[dict[str, Any]] = []
        pays: list[dict[str, Any]] = []
        for n in range(chunk_start, min(wanted, chunk_start + CHUNK)):
            oid = f"{HISTORY_PREFIX}{n:08d}"
            b = baskets[n % len(baskets)]
            table = TABLES[n % len(TABLES)]
            at = start + timedelta(minutes=n)
            orders.append({
                "id": oid, "status": final, "order_type": "DineIn", "table_id": table[0],
                "waiter_id": table[4][0], "currency": currency, "taxes_included": True,
                "vat_percentage": vat, "service_charge_percentage": service,
                "service_charge_amount": b["service"], "total_amount": b["total"],
                "paid_amount": b["total"], "tips_amount": 0, "payable": False,
                "display_name": table[1], "reference": f"H{n:08d}", "created_at": at,
                "updated_at": at,
            })
            items.extend({"order_id": oid, "position": p, "name": it.name, "plu": it.plu,
                          "quantity": it.quantity, "amount_per_item": it.amount_per_item.value}
                         for p, it in enumerate(b["items"]))
            taxes.append({"order_id": oid, "position": 0, "tax_id": "VAT", "name": "VAT",
                          "amount_percentage": vat, "amount_total": b["vat"]})
            pays.append({"order_id": oid, "payment_intent_id": f"pi_seed_h{n:08d}",
                         "paid_amount": b["total"], "tips_amount": 0, "currency": currency,
                         "source": "dojo", "intent_status": "Captured", "created_at": at})
        async with db.write() as conn:
            for table_obj, rows in ((s.orders, orders), (s.items, items), (s.tax_lines, taxes),
                                    (s.payments, pays)):
                await conn.execute(insert(table_obj), rows)
    return wanted - have


async def seed_database(db: Database, orders: int | None = None) -> SeedReport:
    """Seed an open :class:`Database` (see the module docstring)."""
    await s.create_schema(db)
    tables = await seed_premises(db)
    open_orders = await _open_orders(db)
    history = await _history(db, orders) if orders else 0
    return SeedReport(tables=tables, open_orders=open_orders, history_orders=history)


async def seed(db_url: str, orders: int | None = None) -> SeedReport:
    """Seed the database at ``db_url``; safe to run again (it only adds what is missing)."""
    db = Database(db_url)
    try:
        return await seed_database(db, orders)
    finally:
        await db.dispose()
