"""Code as an EPOS engineer writes it; mypy --strict checks it (tests/typing/test_mypy.py).

Not collected by pytest: the point is the types, checked with ``assert_type``.
"""

from __future__ import annotations

from typing import assert_type

from pydantic import BaseModel

from dojo_epos import EposError, EposHandler, EposTestClient, RequestContext, models


class MyEpos(EposHandler):
    async def get_order_by_id(self, params: models.OrderIdParams, ctx: RequestContext) -> models.Order:
        if params.order_id != "ord_1":
            raise EposError.not_found(f"no order {params.order_id}")
        return models.Order(id="ord_1", status=models.OrderStatus.ACCEPTED,
                            details=models.OrderDetails(order_type=models.OrderType.COLLECTION,
                                                        collection=models.CollectionDetails()),
                            payable=True)


async def check() -> None:
    async with EposTestClient(MyEpos(), transport="ws") as client:
        order = await client.get_order_by_id(order_id="ord_1")
        assert_type(order, models.Order)
        assert_type(order.total_amount, models.Money | None)
        assert_type(await client.list_areas(), models.AreaList)
        assert_type(await client.search_orders(), models.PagedOrdersResponse)
        assert_type(await client.record_order_payment(models.RecordOrderPaymentParams.model_validate({})),
                    models.Order)
        assert_type(await client.call("GetOrderById", {"orderId": "ord_1"}), BaseModel)
