"""The read path: one snapshot per read, few statements, the same answer on every route."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import Engine, event, inspect, select, text, update

from dojo_epos.contract import models as m
from dojo_epos.epos.reference import open_reference
from dojo_epos.epos.reference import schema as s
from dojo_epos.epos.reference.bill import build_bill
from dojo_epos.epos.reference.db import Database
from dojo_epos.epos.reference.order_reads import read_order
from dojo_epos.epos.reference.orders import load_order
from dojo_epos.epos.reference.search import read_orders_page, search_orders
from dojo_epos.epos.reference.seed import seed_premises
from tests.epos.reference.conftest import ctx, gbp
from tests.epos.reference.helpers import get, open_order, pay
from tests.epos.reference.test_orders import burger, create, payment
from tests.epos.reference.test_orders import event as payment_event


def _read_engine(epos: Any) -> Engine:
    """The engine capability reads run on: the SQLite reader, else the async engine's."""
    db: Database = epos.db
    return db.sync_reader if db.sync_reader is not None else db.engine.sync_engine


@contextmanager
def selects(epos: Any) -> Iterator[list[str]]:
    """The SELECT statements capability reads run inside the block: on the read engine, and on
    the event loop's SQLite connection (:mod:`.loop_reads`) where there is one."""
    seen: list[str] = []
    engine = _read_engine(epos)
    loop_reader = epos.db.loop_reader

    def trace(statement: str) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        trace(statement)

    event.listen(engine, "before_cursor_execute", note)
    if loop_reader is not None:
        loop_reader.connection().set_trace_callback(trace)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)
        if loop_reader is not None:
            loop_reader.connection().set_trace_callback(None)


async def _rich_order(epos: Any) -> m.Order:
    """An order with every kind of line, including a payment that no longer counts."""
    vat = [m.TaxLine(id="V", name="VAT", affected_plu="B1", amount_percentage=2000,
                     amount_total=gbp(500))]
    disc = [m.Discount(name="Happy hour", affected_plu="B1", code="HH", discount_reference="r1",
                       amount_total=gbp(20), amount_percentage=None)]
    order = await epos.create_order(create(
        4510, [payment("pi_1", 1000, tips=50), payment("pi_2", 500)], tax_lines=vat,
        discounts=disc, items=[burger(), burger(1)]), ctx())
    await epos.handle_event(payment_event("ev1", "pi_2", m.PaymentIntentStatus.REVERSED), ctx())
    return order


async def test_every_read_route_gives_the_same_order(epos):
    """GetOrderById, the async loader, run_read and a search page agree, line for line."""
    order = await _rich_order(epos)
    via_handler = await get(epos, order.id)
    async with epos.db.read() as conn:
        via_async = await load_order(conn, order.id)
        page_async = await search_orders(conn, m.SearchOrdersRequest())
    via_run_read = await epos.db.run_read(lambda c: read_order(c, order.id))
    page_sync = await epos.db.run_read(lambda c: read_orders_page(c, m.SearchOrdersRequest()))
    assert via_handler == via_async == via_run_read == page_sync.data[0] == page_async.data[0]
    assert [p.payment_intent_id for p in via_handler.payments] == ["pi_1"]
    assert via_handler.discounts[0].discount_reference == "r1"
    assert via_handler.tax_lines[0].id == "V" and via_handler.items == [burger(), burger(1)]


def _models_missing_fields(model: BaseModel, where: str = "order") -> list[str]:
    """Each model in ``model``'s tree (a customer excepted: its fields are the stored JSON's)
    whose fields were not all given when it was built."""
    found = []
    missing = set(type(model).model_fields) - model.model_fields_set
    if missing:
        found.append(f"{where}: {sorted(missing)}")
    for name in type(model).model_fields:
        value = getattr(model, name)
        for index, child in enumerate(value if isinstance(value, list) else [value]):
            if isinstance(child, BaseModel) and not isinstance(child, m.Customer):
                found += _models_missing_fields(child, f"{where}.{name}[{index}]")
    return found


async def test_an_order_read_gives_every_field_of_every_model(epos):
    """The builder validates one dict of field names, and a key the models do not know would be
    dropped silently (``extra="ignore"``): every field of every model must come from the row."""
    rich = await _rich_order(epos)
    dine_in = await open_order(epos)
    await pay(epos, dine_in.id, 500, tips=50)
    for order_id in (rich.id, dine_in.id):
        order = await epos.db.run_read(lambda c, order_id=order_id: read_order(c, order_id))
        assert _models_missing_fields(order) == []
    assert order.details.dine_in is not None and order.payments[0].tips_amount == gbp(50)


async def test_bill_through_handler_matches_a_direct_build(epos):
    """GetOrderBill (cached order on SQLite) equals a bill built straight from the database."""
    order = await _rich_order(epos)
    for _ in range(2):  # the second time from the cache, where there is one
        bill = await epos.get_order_bill(m.OrderIdParams(order_id=order.id), ctx())
        assert bill == await epos.db.run_read(lambda c: build_bill(c, order.id))


async def test_get_order_costs_at_most_two_selects(epos):
    """One GetOrderById runs the order row and one query for all its lines, nothing more."""
    order = await _rich_order(epos)
    epos.order_cache = None  # count the database path itself
    with selects(epos) as seen:
        await get(epos, order.id)
    assert len(seen) == 2


async def test_a_search_page_costs_two_selects_whatever_its_size(epos):
    """A page of many orders is the page query plus one query for all their lines."""
    for n in range(12):
        await open_order(epos, table=f"T{n % 3 + 1}")
    with selects(epos) as seen:
        page = await epos.search_orders(m.SearchOrdersParams(), ctx())
    assert len(page.data) == 12 and all(o.items for o in page.data)
    assert len(seen) == 2


async def test_reads_see_a_commit_from_another_connection_at_once(db_url):
    """A write committed through a different engine shows in the very next read (cache or not)."""
    epos = await open_reference(db_url)
    other = Database(db_url)
    try:
        await seed_premises(epos.db)
        order = await open_order(epos)
        for _ in range(3):
            assert (await get(epos, order.id)).note is None
        async with other.write() as conn:
            await conn.execute(update(s.orders).where(s.orders.c.id == order.id)
                               .values(note="from elsewhere"))
        assert (await get(epos, order.id)).note == "from elsewhere"
        paid = await pay(epos, order.id, 100)  # a write of our own, then the read
        assert await get(epos, order.id) == paid
    finally:
        await other.dispose()
        await epos.aclose()


async def test_cached_orders_are_served_until_any_commit(epos):
    """Repeat reads hit the cache; any commit, even to another order, makes the next read miss."""
    cache = epos.order_cache
    if cache is None:
        pytest.skip("the order cache is SQLite-only (PRAGMA data_version)")
    one, two = await open_order(epos), await open_order(epos, table="T2")
    await get(epos, one.id)
    hits = cache.hits
    with selects(epos) as seen:
        first = await get(epos, one.id)
    assert cache.hits == hits + 1 and seen == []
    first.note = "changed by a caller"  # must not leak into the cache
    assert (await get(epos, one.id)).note is None
    await pay(epos, two.id, 100)
    misses = cache.misses
    await get(epos, one.id)
    assert cache.misses == misses + 1


async def test_order_cache_is_bounded_and_refuses_a_late_check(epos):
    """The cache keeps at most ``size`` orders and must start its transaction's snapshot."""
    cache = epos.order_cache
    if cache is None:
        pytest.skip("the order cache is SQLite-only (PRAGMA data_version)")
    cache.size = 2
    orders = [await open_order(epos, table=f"T{n + 1}") for n in range(4)]
    for order in orders:
        await get(epos, order.id)
    assert len(cache) == 2

    def late(conn: Any) -> m.Order:
        conn.execute(select(1))
        return cache.read_order(conn, orders[0].id)

    with pytest.raises(RuntimeError, match="first read"):
        await epos.db.run_read(late)


async def test_sqlite_reader_cannot_write(tmp_path):
    """The SQLite read engine is read-only: a write through it is refused by SQLite."""
    db = Database(f"sqlite:///{tmp_path / 'r.db'}")
    try:
        async with db.write() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))

        def write(conn: Any) -> None:
            conn.execute(text("INSERT INTO t VALUES (1)"))

        with pytest.raises(Exception, match="readonly|read-only"):
            await db.run_read(write)
    finally:
        await db.dispose()


async def test_version_one_database_gains_the_table_seq_index(tmp_path):
    """Opening a schema-1 database adds ix_orders_table_seq and records the new version."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    epos = await open_reference(url)
    async with epos.db.write() as conn:
        await conn.execute(text("DROP INDEX ix_orders_table_seq"))
        await conn.execute(text("UPDATE schema_version SET version = 1"))
    await epos.aclose()
    epos = await open_reference(url)
    try:
        async with epos.db.read() as conn:
            names = await conn.run_sync(
                lambda c: {i["name"] for i in inspect(c).get_indexes("orders")})
            version = (await conn.execute(select(s.schema_version.c.version))).scalar_one()
        assert "ix_orders_table_seq" in names and version == s.SCHEMA_VERSION
    finally:
        await epos.aclose()


async def test_a_cache_hit_needs_no_thread_hop_and_a_foreign_commit_ends_it(epos):
    """try_hit answers from the event loop; a commit by another process's connection (plain
    sqlite3 here) is seen by the very next GetOrderById."""
    import sqlite3

    cache = epos.order_cache
    if cache is None:
        pytest.skip("the order cache is SQLite-only (PRAGMA data_version)")
    order = await open_order(epos)
    await get(epos, order.id)
    assert cache.try_hit(order.id) == await get(epos, order.id)
    other = sqlite3.connect(epos.db.url.database, isolation_level=None)
    try:
        other.execute("UPDATE orders SET note = 'from the till' WHERE id = ?", (order.id,))
    finally:
        other.close()
    assert cache.try_hit(order.id) is None
    assert (await get(epos, order.id)).note == "from the till"


async def test_a_cached_orders_json_is_written_once_and_never_outlives_a_commit(epos, monkeypatch):
    """The transports' answer (call_handler_json) from a shared hit is the JSON written for that
    very model; a commit makes a new model, and so new JSON, at once."""
    from dojo_epos.contract.capabilities import lookup
    from dojo_epos.epos.handler import call_handler_json

    cache = epos.order_cache
    if cache is None:
        pytest.skip("the order cache is SQLite-only (PRAGMA data_version)")
    order = await open_order(epos)
    written: list[str] = []
    dump = m.Order.model_dump_json

    def counting(self: m.Order, **kwargs: Any) -> str:
        written.append(self.id)
        return dump(self, **kwargs)

    monkeypatch.setattr(m.Order, "model_dump_json", counting)

    async def answer(transport: Any = "rest") -> str:
        return await call_handler_json(epos, lookup("GetOrderById"),
                                       {"orderId": order.id, "headers": {}}, transport=transport)

    first = await answer()
    assert await answer() == first and await answer() == first
    assert len(written) == 1
    ws = await answer("ws")  # kept per transport
    assert await answer("ws") == ws and len(written) == 2
    # An in-process caller gets a copy: encoding it is not served from the cache.
    copy = await get(epos, order.id)
    assert epos.encode_result(copy, "rest") == first and len(written) == 3
    await pay(epos, order.id, 100)
    after = await answer()
    assert after != first and '"value":100' in after.replace(" ", "")
    assert m.Order.model_validate_json(after) == await get(epos, order.id)
