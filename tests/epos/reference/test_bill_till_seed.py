"""Bills, till actions and seeding on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from dojo_epos.contract import models as m
from dojo_epos.contract.errors import EposError, ErrorType
from dojo_epos.epos.reference import schema as s
from dojo_epos.epos.reference import till
from dojo_epos.epos.reference.bill import format_money
from dojo_epos.epos.reference.menu import line
from dojo_epos.epos.reference.seed import OPEN_ORDERS, TABLES, seed
from tests.epos.reference.conftest import ctx
from tests.epos.reference.helpers import get, open_order, pay


async def test_bill_frames_the_order_with_merchant_details(epos):
    """Header: logo, name, address, phone, tax number; footer: the URL with QR, and no amounts
    (the terminal prints them from the order; repeating them would show each total twice)."""
    order = await open_order(epos)
    await pay(epos, order.id, 1000)
    bill = await epos.get_order_bill(m.OrderIdParams(order_id=order.id), ctx())
    kinds = [ln.line_type for ln in bill.header.lines]
    for kind in ("Logo", "MerchantName", "MerchantAddress", "MerchantPhoneNumber", "TaxNumber"):
        assert kind in kinds
    assert bill.order == await get(epos, order.id)
    texts = [ln.text.value for ln in bill.footer.lines if ln.line_type == "Text"]
    assert texts and not any("£" in text for text in texts)
    url = next(ln.url for ln in bill.footer.lines if ln.line_type == "URL")
    assert url.show_qr is True and url.url.startswith("https://")
    assert "showQR" in url.to_wire("ws") and "showQr" in url.to_wire("rest")  # spec defect #13


def test_format_money():
    """Minor units print as major.minor with the currency's symbol."""
    assert format_money(m.Money(value=1234, currency_code="GBP")) == "£12.34"
    assert format_money(m.Money(value=-5, currency_code="EUR")) == "-€0.05"
    assert format_money(m.Money(value=100, currency_code="USD")) == "1.00 USD"


async def test_till_prices_include_vat_and_service_charge(epos):
    """A till order: VAT included at 20%, 12.5% service added, totals consistent."""
    order = await till.open_order(epos.db, "T1", "w_alice", [line("MN-BURG", 2, ["MOD-CHEESE"])])
    base = 2 * (1650 + 150)
    assert order.service_charge_amount.value == 450  # 12.5% of 3600
    assert order.total_amount.value == base + 450
    assert order.tax_lines[0].amount_total.value == 600  # 3600 * 20/120
    assert order.display_name == "Table 1" and order.payable is True


async def test_till_add_void_close(epos):
    """Add and void change the total; close needs the bill paid or settled in cash."""
    order = await open_order(epos)
    added = await till.add_item(epos.db, order.id, line("DS-STP"))
    assert added.total_amount.value > order.total_amount.value
    voided = await till.void_item(epos.db, order.id, len(added.items) - 1)
    assert voided.items == order.items and voided.total_amount == order.total_amount
    with pytest.raises(EposError) as err:
        await till.close_order(epos.db, order.id)
    assert err.value.error_type is ErrorType.CONFLICT
    closed = await till.close_order(epos.db, order.id, settle_cash=True)
    assert closed.status is m.OrderStatus.FINALIZED and closed.paid_amount == closed.total_amount
    assert await till.list_orders(epos.db) == []
    assert [o.id for o in await till.list_orders(epos.db, open_only=False)] == [order.id]


async def test_till_refuses_void_below_paid_and_unknown_things(epos):
    """Voiding under what is paid is Conflict; unknown table or item is NotFound."""
    order = await open_order(epos)
    await pay(epos, order.id, order.total_amount.value - 1)
    with pytest.raises(EposError) as err:
        await till.void_item(epos.db, order.id, 0)
    assert err.value.error_type is ErrorType.CONFLICT
    assert (await get(epos, order.id)).items == order.items
    for coro in (till.open_order(epos.db, "T99", None), till.void_item(epos.db, order.id, 7)):
        with pytest.raises(EposError) as err:
            await coro
        assert err.value.error_type is ErrorType.NOT_FOUND


async def test_till_list_orders_filters(epos):
    """list_orders narrows by table, waiter and area."""
    a = await open_order(epos, "T1", "w_alice")
    b = await open_order(epos, "T7", "w_chloe")
    assert [o.id for o in await till.list_orders(epos.db, table_id="T7")] == [b.id]
    assert [o.id for o in await till.list_orders(epos.db, waiter_id="w_alice")] == [a.id]
    assert [o.id for o in await till.list_orders(epos.db, area_id="area_main")] == [a.id]


async def _counts(db) -> dict[str, int]:
    async with db.read() as conn:
        return {t.name: (await conn.execute(select(func.count()).select_from(t))).scalar_one()
                for t in (s.tables, s.orders, s.items, s.payments, s.parties, s.reservations)}


async def test_seed_builds_a_restaurant_and_reruns_change_nothing(db_url):
    """Seed twice: the same twelve tables, six open orders, one party and one reservation."""
    first = await seed(db_url)
    assert (first.tables, first.open_orders, first.history_orders) == (len(TABLES), 6, 0)
    epos = await till_db(db_url)
    try:
        before = await _counts(epos)
        again = await seed(db_url)
        assert (again.tables, again.open_orders) == (0, 0)
        assert await _counts(epos) == before
        assert before["tables"] == 12 and before["parties"] == 1 and before["reservations"] == 1
        open_ids = [o.id for o in await till.list_orders(epos)]
        assert sorted(open_ids) == sorted(o[0] for o in OPEN_ORDERS)
    finally:
        await epos.dispose()


async def test_bulk_seed_loads_history_and_resumes(db_url):
    """--orders 2000 adds 2000 finalized, paid orders; asking for more adds only the rest."""
    assert (await seed(db_url, orders=1500)).history_orders == 1500
    assert (await seed(db_url, orders=2000)).history_orders == 500
    assert (await seed(db_url, orders=2000)).history_orders == 0
    db = await till_db(db_url)
    try:
        async with db.read() as conn:
            rows = (await conn.execute(select(s.orders).where(s.orders.c.id.like("ord_h%")))).all()
            paid = (await conn.execute(select(func.sum(s.payments.c.paid_amount)).where(
                s.payments.c.payment_intent_id.like("pi_seed_h%")))).scalar_one()
        assert len(rows) == 2000 and len({r.id for r in rows}) == 2000
        assert all(r.paid_amount == r.total_amount and not r.payable for r in rows)
        assert paid == sum(r.total_amount for r in rows)
    finally:
        await db.dispose()


async def till_db(db_url):
    return await till.connect(db_url)
