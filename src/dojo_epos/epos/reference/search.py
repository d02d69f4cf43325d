"""SearchOrders, SearchTables and ListAreas: filters over indexed columns, keyset pages.

Orders page in creation order (``orders.seq``), tables in floor-plan order (``position``, ``id``).
Every SearchOrders filter has an index that ends in ``seq`` (see :mod:`.schema`), so a page costs the
same at the millionth order as at the first.

Filters (all optional, combined with AND):

- SearchOrders: ``dineIn.tableId``, ``dineIn.waiterId``, ``dineIn.partyId``,
  ``dineIn.reservationId``, ``payableOnly``; plus ``area_id`` from Python (the orders on that area's
  tables), which the contract does not carry but the till uses.
- SearchTables: ``areaId``, ``waiterId`` (a table lists its waiters; so may its area).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncConnection

from dojo_epos.contract import models as m
from dojo_epos.epos.reference import schema as s
from dojo_epos.epos.reference.cursors import PagedQuery, fetch_page
from dojo_epos.epos.reference.order_reads import ReadConnection, read_orders

__all__ = ["list_areas", "read_orders_page", "search_orders", "search_tables"]


async def search_orders(
    conn: AsyncConnection, req: m.SearchOrdersRequest, *, area_id: str | None = None
) -> m.PagedOrdersResponse:
    """:func:`read_orders_page` on an async connection."""
    return await conn.run_sync(lambda c: read_orders_page(c, req, area_id=area_id))


#: The SearchOrders filters on ``orders`` columns, in the order the shape key lists them.
_DINE_IN_FILTERS = ("table_id", "waiter_id", "party_id", "reservation_id")
#: One :class:`PagedQuery` per filter shape (which filters are set), built on first use: at most
#: 2**6 shapes, each a few statements.
_ORDER_QUERIES: dict[tuple[bool, ...], PagedQuery] = {}


def _orders_query(shape: tuple[bool, ...]) -> PagedQuery:
    """The SearchOrders query for ``shape``: (each dine-in filter, payable only, area) is set."""
    query = _ORDER_QUERIES.get(shape)
    if query is not None:
        return query
    o = s.orders.c
    select_ = select(s.orders)
    for name, wanted in zip(_DINE_IN_FILTERS, shape, strict=False):
        if wanted:
            select_ = select_.where(o[name] == bindparam(f"f_{name}"))
    if shape[4]:
        select_ = select_.where(o.payable.is_(True))
    if shape[5]:
        select_ = select_.where(o.table_id.in_(
            select(s.tables.c.id).where(s.tables.c.area_id == bindparam("f_area_id"))))
    query = _ORDER_QUERIES.setdefault(shape, PagedQuery(select_, [o.seq], "orders"))
    return query


def read_orders_page(
    conn: ReadConnection, req: m.SearchOrdersRequest, *, area_id: str | None = None
) -> m.PagedOrdersResponse:
    """A page of orders matching ``req``'s filters (two statements: the page, its lines)."""
    dine_in = req.dine_in
    params: dict[str, Any] = {}
    if dine_in is not None:
        for name in _DINE_IN_FILTERS:
            value = getattr(dine_in, name)
            if value is not None:
                params[f"f_{name}"] = value
    if area_id is not None:
        params["f_area_id"] = area_id
    shape = (*(f"f_{name}" in params for name in _DINE_IN_FILTERS), bool(req.payable_only),
             area_id is not None)
    page = _orders_query(shape).fetch(conn, req.cursor, params)
    return m.PagedOrdersResponse(
        data=read_orders(conn, page.rows), before=page.before, after=page.after)


def search_tables(conn: Connection, req: m.SearchTablesRequest) -> m.PagedTablesResponse:
    """A page of tables in an area and/or served by a waiter."""
    t = s.tables.c
    query = select(s.tables)
    if req.area_id is not None:
        query = query.where(t.area_id == req.area_id)
    if req.waiter_id is not None:
        query = query.where(exists().where(
            (s.table_waiters.c.table_id == t.id) & (s.table_waiters.c.waiter_id == req.waiter_id)))
    page = fetch_page(conn, query, [t.position, t.id], "tables", req.cursor)
    ids = [row.id for row in page.rows]
    waiters: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        links = conn.execute(
            select(s.table_waiters).where(s.table_waiters.c.table_id.in_(ids))
            .order_by(s.table_waiters.c.waiter_id))
        for link in links:
            waiters[link.table_id].append(link.waiter_id)
    data = [
        m.Table(id=row.id, name=row.name, max_covers=row.max_covers, area_id=row.area_id,
                waiter_ids=waiters[row.id])
        for row in page.rows
    ]
    return m.PagedTablesResponse(data=data, before=page.before, after=page.after)


def list_areas(conn: Connection) -> m.AreaList:
    """Every area, in floor-plan order."""
    rows = conn.execute(select(s.areas).order_by(s.areas.c.position, s.areas.c.id))
    return m.AreaList([
        m.Area(id=row.id, name=row.name, waiter_ids=list(row.waiter_ids or [])) for row in rows
    ])


