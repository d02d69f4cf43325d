"""A small in-memory EPOS: two tables, their orders, and card payments recorded against them.

Enough for Dojo's Pay at Table (SearchOrders, GetOrderById, RecordOrderPayment) and Get Order
flows, plus ListAreas. Serve it, connect it and register it by import string::

    dojo-epos epos serve --handler myepos:MyEpos --username dojo  # password: EPOS_PASSWORD
    dojo-epos epos connect --handler myepos:MyEpos --url ws://127.0.0.1:8000/epos
    dojo-epos register ws --handler myepos:MyEpos
"""

from __future__ import annotations

from dojo_epos import EposError, EposHandler, RequestContext, models


def gbp(pence: int) -> models.Money:
    return models.Money(value=pence, currency_code="GBP")


def dine_in_order(order_id: str, table_id: str, total: int) -> models.Order:
    """The smallest valid Order, plus what Pay at Table needs: a table, a total, payable."""
    return models.Order(
        id=order_id,
        status=models.OrderStatus.ACCEPTED,
        details=models.OrderDetails(order_type=models.OrderType.DINE_IN,
                                    dine_in=models.DineInDetails(table_id=table_id)),
        total_amount=gbp(total),
        paid_amount=gbp(0),
        payable=True,
    )


class MyEpos(EposHandler):
    """Orders live in a dict; a payment is recorded once per paymentIntentId."""

    def __init__(self) -> None:
        self.orders = {o.id: o for o in (dine_in_order("ord_1", "T1", 2450),
                                         dine_in_order("ord_2", "T2", 1800))}

    def _order(self, order_id: str) -> models.Order:
        order = self.orders.get(order_id)
        if order is None:
            raise EposError.not_found(f"no order {order_id}")
        return order

    async def get_order_by_id(self, params: models.OrderIdParams, ctx: RequestContext) -> models.Order:
        return self._order(params.order_id)

    async def search_orders(self, params: models.SearchOrdersParams,
                            ctx: RequestContext) -> models.PagedOrdersResponse:
        table_id = params.dine_in.table_id if params.dine_in else None
        found = [o for o in self.orders.values()
                 if (not params.payable_only or o.payable)
                 and (table_id is None or (o.details.dine_in and o.details.dine_in.table_id == table_id))]
        return models.PagedOrdersResponse(data=found)

    async def record_order_payment(self, params: models.RecordOrderPaymentParams,
                                   ctx: RequestContext) -> models.Order:
        order = self._order(params.order_id)
        known = next((p for p in order.payments if p.payment_intent_id == params.payment_intent_id), None)
        if known is not None:
            if (known.paid_amount, known.tips_amount) != (params.paid_amount, params.tips_amount):
                # the same payment intent with other amounts is not a retry: refuse, so Dojo reverses
                raise EposError.conflict(f"payment {params.payment_intent_id} has other amounts")
            return order  # a retry of a payment already recorded: the same answer, counted once
        total = order.total_amount.value if order.total_amount else 0
        paid = (order.paid_amount.value if order.paid_amount else 0) + params.paid_amount.value
        if paid > total:
            raise EposError.invalid_request(f"payment of {params.paid_amount.value} exceeds what is due")
        payment = models.Payment(payment_intent_id=params.payment_intent_id,
                                 paid_amount=params.paid_amount, tips_amount=params.tips_amount)
        payments = [*order.payments, payment]
        tips = sum(p.tips_amount.value for p in payments if p.tips_amount)
        order = order.model_copy(update={"payments": payments, "paid_amount": gbp(paid),
                                         "tips_amount": gbp(tips), "payable": paid < total})
        self.orders[order.id] = order
        return order

    async def list_areas(self, params: models.ListAreasParams, ctx: RequestContext) -> models.AreaList:
        return models.AreaList([models.Area(id="main", name="Main room")])
