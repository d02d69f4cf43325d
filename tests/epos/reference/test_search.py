"""SearchOrders, SearchTables, ListAreas: filters and keyset paging on both databases."""

from __future__ import annotations

import pytest

from dojo_epos.contract import models as m
from dojo_epos.contract.errors import EposError, ErrorType
from dojo_epos.epos.reference.seed import AREAS, TABLES
from tests.epos.reference.conftest import ctx
from tests.epos.reference.helpers import open_order, pay


async def all_pages(search, params_cls, backwards=False, **filters):
    """Walk every page (forwards, or backwards from the last page) and return the ids in order."""
    seen, cursor = [], None
    while True:
        page = await search(params_cls(cursor=cursor or m.Cursor(limit=3), **filters), ctx())
        seen.append([x.id for x in page.data])
        if page.after is None:
            break
        cursor = m.Cursor(limit=3, after=page.after)
    forwards = [i for chunk in seen for i in chunk]
    if not backwards:
        return forwards
    back, before = [], page.before
    back.insert(0, [x.id for x in page.data])
    while before is not None:
        page = await search(params_cls(cursor=m.Cursor(limit=3, before=before), **filters), ctx())
        back.insert(0, [x.id for x in page.data])
        before = page.before
    return [i for chunk in back for i in chunk]


async def test_orders_page_forwards_and_backwards_exactly_once(epos):
    """Every order appears once across pages, in creation order, walked either way."""
    ids = [(await open_order(epos, f"T{1 + n % 12}")).id for n in range(11)]
    assert await all_pages(epos.search_orders, m.SearchOrdersParams) == ids
    assert await all_pages(epos.search_orders, m.SearchOrdersParams, backwards=True) == ids


async def test_first_page_has_no_before_and_last_page_no_after(epos):
    """after only when more follows; before only when not on the first page."""
    for _ in range(4):
        await open_order(epos)
    first = await epos.search_orders(m.SearchOrdersParams(cursor=m.Cursor(limit=2)), ctx())
    assert first.before is None and first.after is not None
    second = await epos.search_orders(
        m.SearchOrdersParams(cursor=m.Cursor(limit=2, after=first.after)), ctx())
    assert second.before is not None and second.after is None
    everything = await epos.search_orders(m.SearchOrdersParams(), ctx())
    assert len(everything.data) == 4 and everything.after is None and everything.before is None


async def test_default_limit_is_50(epos):
    """Without cursor.limit a page holds DEFAULT_LIMIT orders."""
    for n in range(m.DEFAULT_LIMIT + 1):
        await open_order(epos, f"T{1 + n % 12}", items=[])
    page = await epos.search_orders(m.SearchOrdersParams(), ctx())
    assert len(page.data) == m.DEFAULT_LIMIT and page.after is not None


async def test_order_filters(epos):
    """tableId, waiterId, partyId, payableOnly, and area (till) each narrow the result."""
    a = await open_order(epos, "T1", "w_alice")
    b = await open_order(epos, "T4", "w_ben")
    c = await open_order(epos, "T10", "w_dev")
    await pay(epos, c.id, c.total_amount.value)  # settled: no longer payable
    from dojo_epos.epos.reference import till
    d = await till.open_order(epos.db, "T2", "w_alice", [], party_id="pty_x")

    async def ids(**kw):
        return [o.id for o in (await epos.search_orders(m.SearchOrdersParams(**kw), ctx())).data]

    assert await ids(dine_in=m.SearchDineInDetails(table_id="T4")) == [b.id]
    assert await ids(dine_in=m.SearchDineInDetails(waiter_id="w_alice")) == [a.id, d.id]
    assert await ids(dine_in=m.SearchDineInDetails(party_id="pty_x")) == [d.id]
    assert await ids(dine_in=m.SearchDineInDetails(reservation_id="nope")) == []
    assert await ids(payable_only=True) == [a.id, b.id]  # d has nothing to pay, c is paid
    assert await ids(payable_only=False) == [a.id, b.id, c.id, d.id]
    assert await ids(payable_only=True, dine_in=m.SearchDineInDetails(table_id="T10")) == []
    from dojo_epos.epos.reference.search import search_orders
    async with epos.db.read() as conn:
        page = await search_orders(conn, m.SearchOrdersRequest(), area_id="area_bar")
    assert [o.id for o in page.data] == [c.id]


@pytest.mark.parametrize("token", ["garbage!", "eyJ4IjoxfQ", "WyJ0YWJsZXMiLCJUMSIsMV0"])
async def test_foreign_or_malformed_cursor_is_invalid_request(epos, token):
    """A token we did not issue for this search is InvalidRequest."""
    with pytest.raises(EposError) as err:
        await epos.search_orders(m.SearchOrdersParams(cursor=m.Cursor(after=token)), ctx())
    assert err.value.error_type is ErrorType.INVALID_REQUEST


async def test_tables_filters_and_paging(epos):
    """SearchTables pages all twelve tables once; areaId and waiterId filter."""
    ids = await all_pages(epos.search_tables, m.SearchTablesParams)
    assert ids == [t[0] for t in TABLES]
    assert await all_pages(epos.search_tables, m.SearchTablesParams, backwards=True) == ids
    terrace = await epos.search_tables(m.SearchTablesParams(area_id="area_terrace"), ctx())
    assert [t.id for t in terrace.data] == ["T7", "T8", "T9"]
    assert all(t.area_id == "area_terrace" and t.waiter_ids == ["w_chloe"] for t in terrace.data)
    ben = await epos.search_tables(m.SearchTablesParams(waiter_id="w_ben"), ctx())
    assert [t.id for t in ben.data] == ["T4", "T5", "T6"]


async def test_list_areas(epos):
    """ListAreas returns every area with its waiters, in floor order."""
    areas = await epos.list_areas(m.ListAreasParams(), ctx())
    assert [(a.id, a.name, a.waiter_ids) for a in areas.root] == [tuple(x) for x in AREAS]
