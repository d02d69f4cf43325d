"""The in-memory EPOS the benchmarks use to take the database out of a measurement.

:class:`FixedOrderHandler` answers GetOrderById and SearchOrders with one fixed order (an order the
reference EPOS really returned, so its size is realistic) and does nothing else; whatever time a
call through it costs is the transport's, the framework's and the contract layer's, not the
database's.
"""

from __future__ import annotations

from dojo_epos.contract import models as m
from dojo_epos.contract.errors import EposError
from dojo_epos.epos.handler import EposHandler, RequestContext
from dojo_epos.epos.reference import open_reference

__all__ = ["FixedOrderHandler", "TableOrdersHandler", "load_order"]


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


class TableOrdersHandler(EposHandler):
    """Pay at Table's capabilities in memory: one open order per table, with real lock and payment
    semantics (a lock held by another is refused, a payment beyond what is due is refused, a
    retried paymentIntentId is counted once and the same id with another amount is refused). What
    a flow through it costs is the platform's and the transport's, not a database's.

    With ``reopen``, a table whose order is settled gets a new order at once (the next party sits
    down), so a table can be paid at again and again while only one order per table is payable.
    """

    def __init__(self, *, reopen: bool = False) -> None:
        self.reopen = reopen
        self.orders: dict[str, m.Order] = {}
        self.by_table: dict[str, str] = {}  # table -> its open order
        self.locks: dict[str, str] = {}
        self.opened = 0

    def open(self, table_id: str, total: int = 2980) -> m.Order:
        """Open an order of ``total`` (minor units, GBP) on ``table_id``."""
        self.opened += 1
        order_id = f"ord_{table_id}_{self.opened}"
        order = m.Order(
            id=order_id, status=m.OrderStatus.CONFIRMED, items=[m.OrderItem(
                name="Burger", plu="MN-BURG", quantity=2, amount_per_item=_gbp(total // 2))],
            total_amount=_gbp(total), paid_amount=_gbp(0), tips_amount=_gbp(0), payable=True,
            details=m.OrderDetails(order_type=m.OrderType.DINE_IN,
                                   dine_in=m.DineInDetails(table_id=table_id)),
            display_name=f"Table {table_id}")
        self.orders[order_id] = order
        self.by_table[table_id] = order_id
        return order

    def _not_locked_by_another(self, order_id: str, lock_id: str | None) -> None:
        held = self.locks.get(order_id)
        if held is not None and held != lock_id:
            raise EposError.conflict(f"order {order_id} is locked by {held}")

    def _order(self, order_id: str) -> m.Order:
        try:
            return self.orders[order_id]
        except KeyError:
            raise EposError.not_found(f"no order {order_id}") from None

    async def search_orders(
        self, params: m.SearchOrdersParams, ctx: RequestContext
    ) -> m.PagedOrdersResponse:
        table = params.dine_in.table_id if params.dine_in is not None else None
        if table is not None:
            found = [self.orders[self.by_table[table]]] if table in self.by_table else []
        else:
            found = [self.orders[o] for o in self.by_table.values()]
            if not params.payable_only:
                found = list(self.orders.values())
        if params.payable_only:
            found = [o for o in found if o.payable]
        limit = params.cursor.effective_limit if params.cursor else m.Cursor().effective_limit
        return m.PagedOrdersResponse(data=found[:limit])

    async def get_order_by_id(self, params: m.OrderIdParams, ctx: RequestContext) -> m.Order:
        return self._order(params.order_id)

    async def get_order_bill(self, params: m.OrderIdParams, ctx: RequestContext) -> m.OrderBill:
        order = self._order(params.order_id)
        name = m.MerchantNameLine(merchant_name=m.BillMerchantName(name="Bench Kitchen"))
        return m.OrderBill(header=m.BillSection(lines=[name]), order=order,
                           footer=m.BillSection(lines=[]))

    async def create_order_lock(
        self, params: m.CreateOrderLockParams, ctx: RequestContext
    ) -> m.Order:
        order = self._order(params.order_id)
        self._not_locked_by_another(order.id, params.lock_id)
        self.locks[order.id] = params.lock_id
        return order

    async def delete_order_lock(
        self, params: m.DeleteOrderLockParams, ctx: RequestContext
    ) -> m.Order:
        order = self._order(params.order_id)
        if self.locks.get(order.id) == params.lock_id:
            del self.locks[order.id]
        return order

    async def extend_order_lock(
        self, params: m.ExtendOrderLockParams, ctx: RequestContext
    ) -> m.EmptyResult:
        order = self._order(params.order_id)
        held = self.locks.get(order.id)
        if held is None:
            raise EposError.not_found(f"no lock {params.lock_id} on order {order.id}")
        if held != params.lock_id:
            raise EposError.conflict(f"order {order.id} is locked by {held}")
        return m.EmptyResult()

    async def record_order_payment(
        self, params: m.RecordOrderPaymentParams, ctx: RequestContext
    ) -> m.Order:
        order = self._order(params.order_id)
        self._not_locked_by_another(order.id, params.lock_id)
        for known in order.payments:
            if known.payment_intent_id == params.payment_intent_id:
                if known.paid_amount != params.paid_amount or known.tips_amount != params.tips_amount:
                    raise EposError.conflict(
                        f"paymentIntentId {params.payment_intent_id} was recorded with another amount")
                return order  # a retry: counted once
        paid = _value(order.paid_amount) + params.paid_amount.value
        total = _value(order.total_amount)
        if paid > total:
            raise EposError.conflict(f"payment exceeds the {total - _value(order.paid_amount)} due")
        payment = m.Payment(payment_intent_id=params.payment_intent_id,
                            paid_amount=params.paid_amount, tips_amount=params.tips_amount)
        order = order.model_copy(update={
            "payments": [*order.payments, payment], "paid_amount": _gbp(paid),
            "tips_amount": _gbp(_value(order.tips_amount) + _value(params.tips_amount)),
            "payable": paid < total})
        self.orders[order.id] = order
        if self.reopen and not order.payable:
            table = order.details.dine_in.table_id if order.details.dine_in else None
            if table is not None and self.by_table.get(table) == order.id:
                self.open(table, total)
        return order


def _gbp(value: int) -> m.Money:
    return m.Money(value=value, currency_code="GBP")


def _value(money: m.Money | None) -> int:
    return money.value if money is not None else 0
