"""Reads on the event loop (SQLite file): same answers as the thread, committed writes seen at once,
never a wait (a busy database falls back to the thread)."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from sqlalchemy import update

from dojo_epos.contract import models as m
from dojo_epos.epos.handler import RequestContext
from dojo_epos.epos.reference import open_reference
from dojo_epos.epos.reference import schema as s
from dojo_epos.epos.reference.db import Database
from dojo_epos.epos.reference.loop_reads import LoopConnection, LoopReadBusy
from dojo_epos.epos.reference.order_reads import read_order
from dojo_epos.epos.reference.search import read_orders_page
from dojo_epos.epos.reference.seed import seed_premises
from tests.epos.reference.conftest import ctx
from tests.epos.reference.helpers import get, lock, open_order, pay
from tests.epos.reference.test_reads import _rich_order


def _search(table: str) -> m.SearchOrdersParams:
    return m.SearchOrdersParams.model_validate({"dineIn": {"tableId": table},
                                                "payableOnly": True})


async def test_loop_reads_equal_thread_reads(epos):
    """An order and a search page read on the loop equal the thread's, line for line."""
    order = await _rich_order(epos)
    for n in range(5):
        await open_order(epos, table=f"T{n % 2 + 1}")
    seen: list[type] = []

    def on_loop(conn: Any) -> Any:
        seen.append(type(conn))
        return read_order(conn, order.id), read_orders_page(conn, m.SearchOrdersRequest())

    loop_order, loop_page = await epos.db.run_loop_read(on_loop)
    thread_order, thread_page = await epos.db.run_read(
        lambda c: (read_order(c, order.id), read_orders_page(c, m.SearchOrdersRequest())))
    assert loop_order == thread_order and loop_page == thread_page
    assert loop_order.model_dump_json() == thread_order.model_dump_json()
    assert len(loop_page.data) == 6
    on_sqlite_file = epos.db.loop_reader is not None
    assert (seen == [LoopConnection]) == on_sqlite_file
    assert on_sqlite_file == (epos.db.dialect == "sqlite")


async def test_loop_pages_follow_cursors_like_thread_pages(epos):
    """Keyset paging on the loop: the same pages and tokens, both directions."""
    for _ in range(7):
        await open_order(epos, table="T1")
    req = m.SearchOrdersRequest.model_validate({"cursor": {"limit": 3}})
    pages = []
    while True:
        page = await epos.db.run_loop_read(lambda c, r=req: read_orders_page(c, r))
        assert page == await epos.db.run_read(lambda c, r=req: read_orders_page(c, r))
        pages.append(page)
        if page.after is None:
            break
        req = m.SearchOrdersRequest.model_validate({"cursor": {"limit": 3, "after": page.after}})
    assert [len(p.data) for p in pages] == [3, 3, 1]
    back = m.SearchOrdersRequest.model_validate({"cursor": {"limit": 3,
                                                            "before": pages[-1].before}})
    assert (await epos.db.run_loop_read(lambda c: read_orders_page(c, back))).data == \
        pages[1].data


@pytest.mark.parametrize("cached", [True, False], ids=["cache", "no-cache"])
async def test_loop_reads_see_every_commit_at_once(db_url, cached):
    """After a payment, a lock, or a commit by another connection, the very next GetOrderById
    and SearchOrders show it."""
    epos = await open_reference(db_url, order_cache=cached)
    other = Database(db_url)
    try:
        await seed_premises(epos.db)
        order = await open_order(epos, table="T3")
        for _ in range(2):
            assert (await get(epos, order.id)).paid_amount.value == 0
            assert [o.id for o in (await epos.search_orders(_search("T3"), ctx())).data] == \
                [order.id]
        paid = await pay(epos, order.id, 100)
        assert await get(epos, order.id) == paid
        assert (await epos.search_orders(_search("T3"), ctx())).data == [paid]
        await lock(epos, order.id, "lock-1", paid.created_at.replace(year=2099))
        async with other.write() as conn:
            await conn.execute(update(s.orders).where(s.orders.c.id == order.id)
                               .values(note="from elsewhere"))
        assert (await get(epos, order.id)).note == "from elsewhere"
        assert (await epos.search_orders(_search("T3"), ctx())).data[0].note == "from elsewhere"
        rest = await pay(epos, order.id, paid.total_amount.value - 100, lock_id="lock-1")
        assert rest.payable is False
        assert (await epos.search_orders(_search("T3"), ctx())).data == []
        assert await get(epos, order.id) == rest
    finally:
        await other.dispose()
        await epos.aclose()


async def test_a_busy_database_falls_back_to_the_read_thread(epos, monkeypatch):
    """When SQLite would make the loop wait, the read runs on the thread and answers the same."""
    reader = epos.db.loop_reader
    if reader is None:
        pytest.skip("the loop reader is for SQLite files")
    order = await open_order(epos)
    expected = await get(epos, order.id)

    def busy(work: Any) -> Any:
        raise LoopReadBusy("database is locked")

    monkeypatch.setattr(reader, "run", busy)
    epos.order_cache = None
    assert await get(epos, order.id) == expected


async def test_loop_reader_is_read_only_and_never_waits(epos):
    """The loop's connection refuses writes; SQLite's "locked" becomes LoopReadBusy, other errors
    stay what they are."""
    reader = epos.db.loop_reader
    if reader is None:
        pytest.skip("the loop reader is for SQLite files")
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.connection().execute("DELETE FROM orders")

    class Driver:
        def __init__(self, message: str) -> None:
            self.message = message

        def execute(self, *_args: Any) -> Any:
            raise sqlite3.OperationalError(self.message)

    with pytest.raises(LoopReadBusy):
        LoopConnection(Driver("database is locked"), {}).execute(s.orders.select())  # type: ignore[arg-type]
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        LoopConnection(Driver("no such table: orders"), {}).execute(s.orders.select())  # type: ignore[arg-type]
    assert reader.run(lambda c: c.execute(s.orders.select()).all()) == []


async def test_a_search_through_the_handler_runs_on_the_loop(epos, monkeypatch):
    """SearchOrders never needs the read thread on a SQLite file."""
    if epos.db.loop_reader is None:
        pytest.skip("the loop reader is for SQLite files")
    order = await open_order(epos, table="T2")

    async def no_thread(work: Any) -> Any:
        raise AssertionError("read on the thread")

    monkeypatch.setattr(epos.db, "run_read", no_thread)
    assert [o.id for o in (await epos.search_orders(_search("T2"), ctx())).data] == [order.id]
    epos.order_cache = None
    assert (await get(epos, order.id)).id == order.id


async def test_transports_share_the_cached_order_and_local_callers_get_copies(epos):
    """Over REST/WS the answer is serialized and dropped, so a hit may be the cached model
    itself; an in-process caller gets a copy it may change."""
    cache = epos.order_cache
    if cache is None:
        pytest.skip("the order cache is SQLite-only (PRAGMA data_version)")
    order = await open_order(epos)
    rest = RequestContext("GetOrderById", "rest")
    params = m.OrderIdParams(order_id=order.id)
    first = await epos.get_order_by_id(params, rest)
    assert await epos.get_order_by_id(params, rest) is first
    mine = await get(epos, order.id)
    assert mine == first and mine is not first and mine.items[0] is not first.items[0]
    mine.items[0].amount_per_item.value = 1
    assert (await epos.get_order_by_id(params, rest)) == order
