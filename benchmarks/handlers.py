"""The in-memory EPOS the benchmarks use to take the database out of a measurement.

:class:`FixedOrderHandler` answers GetOrderById and SearchOrders with one fixed order (an order the
reference EPOS really returned, so its size is realistic) and does nothing else; whatever time a
call through it costs is the transport's, the framework's and the contract layer's, not the
database's.
"""

from __future__ import annotations

from dojo_epos.contract import models as m
from dojo_epos.epos.handler import EposHandler, RequestContext
from dojo_epos.epos.reference import open_reference

__all__ = ["FixedOrderHandler", "load_order"]


class FixedOrderHandler(EposHandler):
    """GetOrderById and SearchOrders, answered from memory with the same order every time."""

    def __init__(self, order: m.Order) -> None:
        self.order = order

    async def get_order_by_id(self, params: m.OrderIdParams, ctx: RequestContext) -> m.Order:
        return self.order

    async def search_orders(
        self, params: m.SearchOrdersParams, ctx: RequestContext
    ) -> m.PagedOrdersResponse:
        return m.PagedOrdersResponse(data=[self.order])


async def load_order(db_url: str, order_id: str) -> m.Order:
    """One order as the reference EPOS on ``db_url`` returns it."""
    epos = await open_reference(db_url)
    try:
        return await epos.get_order_by_id(
            m.OrderIdParams(order_id=order_id), RequestContext("GetOrderById", "local"))
    finally:
        await epos.aclose()
