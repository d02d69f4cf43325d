"""Certification: every flow the registration allows, mapped to the go-live checklist."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from dojo_epos.contract import models as m
from dojo_epos.contract.errors import ErrorType

from ..engine import FlowDef, FlowRun, StepFailed
from ._common import _amount, _uid
from .bookings import BOOKINGS
from .locking import LOCK_ORDER
from .orders import GET_BILL, GET_ORDER, LIST_AREAS, SEARCH_ORDERS, SEARCH_TABLES
from .payments import ORDER_AND_PAY, PAY_AT_TABLE


async def _find_payable_order(run: FlowRun) -> tuple[str | None, str | None]:
    """An order (and its table) with an amount due, for the flows that need one."""
    async with run.step("Discover a payable order") as step:
        page: m.PagedOrdersResponse = await run.call(step, "SearchOrders", {"payableOnly": True})
        for order in page.data:
            if order.payable and _amount(order.total_amount) > _amount(order.paid_amount):
                table = order.details.dine_in.table_id if order.details.dine_in else None
                step.info(f"using order {order.id} on table {table}")
                return order.id, table
        step.info("no payable order with an amount due")
        return None, None


async def certification(run: FlowRun) -> None:
    """Every flow the registration allows, mapped to the go-live checklist, plus negatives."""
    async with run.step("Registering Capabilities: get all registered capabilities") as step:
        registered = await run.registered()
        step.check(bool(registered), "nothing is registered")
        step.info(f"registered: {', '.join(sorted(registered))}")
        pat_min = {"SearchOrders", "GetOrderById", "RecordOrderPayment"}
        if not pat_min <= registered:
            step.info(f"Pay at Table needs {', '.join(sorted(pat_min - registered))}")
    failures: list[str] = []

    async def section(title: str, needs: set[str], body: Callable[[], Awaitable[None]]) -> None:
        if not needs <= registered:
            async with run.step(f"{title}: skipped") as step:
                step.info(f"not registered: {', '.join(sorted(needs - registered))}")
            return
        run.prefix = f"{title}: "
        try:
            await body()
        except StepFailed as exc:
            failures.append(f"{title}: {exc}")
        finally:
            run.prefix = ""

    order_id: str | None = None
    table_id: str | None = None
    if "SearchOrders" in registered:
        order_id, table_id = await _find_payable_order(run)

    async def negatives() -> None:
        async with run.step("Unknown order is NotFound") as step:
            await run.call(step, "GetOrderById", {"orderId": _uid("no_such_order")},
                           expect_error=ErrorType.NOT_FOUND)
        if "SearchOrders" in registered:
            async with run.step("Bad paging is InvalidRequest") as step:
                await run.call(step, "SearchOrders", {"cursor": {"limit": 0}},
                               expect_error=ErrorType.INVALID_REQUEST)
        if "RecordOrderPayment" in registered and order_id:
            async with run.step("A malformed payment is InvalidRequest") as step:
                await run.call(step, "RecordOrderPayment", {
                    "orderId": order_id, "paymentIntentId": _uid("pi"),
                    "paidAmount": {"value": "ten", "currencyCode": "GBP"}},
                    expect_error=ErrorType.INVALID_REQUEST)

    async def with_params(flow: FlowDef, **params: Any) -> None:
        saved, saved_definition = run.params, run.definition
        run.params = {**saved, **{k: v for k, v in params.items() if v is not None}}
        run.definition = flow  # so the flow's require() checks the flow's own capabilities
        try:
            await flow.run(run)
        finally:
            run.params, run.definition = saved, saved_definition

    await section("Order detail", {"GetOrderById"}, negatives)
    if order_id:
        await section("Order detail", {"GetOrderById"}, lambda: with_params(GET_ORDER,
                                                                            orderId=order_id))
    await section("Search", {"SearchOrders"}, lambda: with_params(SEARCH_ORDERS))
    await section("Tables", {"SearchTables"}, lambda: with_params(SEARCH_TABLES))
    await section("Areas", {"ListAreas"}, lambda: with_params(LIST_AREAS))
    if order_id:
        await section("Bill", {"GetOrderBill"}, lambda: with_params(GET_BILL, orderId=order_id))
        await section("Locking", {"CreateOrderLock", "DeleteOrderLock", "ExtendOrderLock"},
                      lambda: with_params(LOCK_ORDER, orderId=order_id))
        await section("Payments", {"SearchOrders", "GetOrderById", "RecordOrderPayment"},
                      lambda: with_params(PAY_AT_TABLE, tableId=table_id, splits=2, tip=100))
    await section("Order and Pay", {"CreateOrder", "GetOrderById"},
                  lambda: with_params(ORDER_AND_PAY))
    await section("Bookings", {"CreateReservation", "CreateParty", "SearchParties"},
                  lambda: with_params(BOOKINGS))
    if failures:
        raise StepFailed(*failures)


CERTIFICATION = FlowDef(
    "Certification", (), certification,
            "Every flow the registration allows, mapped to the go-live checklist", ())
