"""The order flows: fetch, search, tables, areas, bills and cancellation."""

from __future__ import annotations

from typing import Any

from dojo_epos.contract import models as m
from dojo_epos.contract.errors import EposError, ErrorType

from ..engine import FlowDef, FlowRun
from ._common import (
    _amount,
    _as_bool,
    _as_int,
    _check_order_amounts,
    _negative_cursor_checks,
    _p,
    _page_through,
)


async def get_order(run: FlowRun) -> None:
    order_id = str(run.param("orderId"))
    await run.require(label="GetOrder")
    async with run.step(f"Call GetOrder with orderId {order_id}") as step:
        order: m.Order = await run.call(step, "GetOrderById", {"orderId": order_id})
        step.check(order.id == order_id, f"asked for order {order_id}, got order {order.id}")
    async with run.step("Check the order's amounts are consistent") as step:
        _check_order_amounts(step, order)



async def search_orders(run: FlowRun) -> None:
    table_id, waiter_id = run.param("tableId"), run.param("waiterId")
    payable_only = _as_bool(run.param("payableOnly"), True)
    limit = _as_int(run, "pageSize", 10, minimum=1)
    await run.require()
    body: dict[str, Any] = {"payableOnly": payable_only}
    dine_in = {k: v for k, v in (("tableId", table_id), ("waiterId", waiter_id)) if v}
    if dine_in:
        body["dineIn"] = dine_in
    async with run.step(f"Search orders {body} and page through them") as step:
        orders: list[m.Order] = await _page_through(run, step, "SearchOrders", body, limit)
        step.info(f"{len(orders)} orders found")
    async with run.step(f"Check paging by {limit} lists the same orders as pages of 100") as step:
        whole: list[m.Order] = await _page_through(run, step, "SearchOrders", body, 100)
        paged, single = [o.id for o in orders], [o.id for o in whole]
        skipped = [i for i in single if i not in set(paged)]
        extra = [i for i in paged if i not in set(single)]
        step.check(not skipped, f"following the cursors skipped {', '.join(skipped)} "
                                f"(listed in pages of 100, never reached page by page)")
        step.check(not extra, f"paging listed {', '.join(extra)}, which pages of 100 do not")
    async with run.step("Check every order matches the filters") as step:
        for order in orders:
            if payable_only:
                step.check(order.payable is True, f"order {order.id} is not payable")
            dine = order.details.dine_in
            if table_id:
                step.check(dine is not None and dine.table_id == table_id,
                           f"order {order.id} is not on table {table_id}")
            if waiter_id:
                step.check(dine is not None and dine.waiter_id == waiter_id,
                           f"order {order.id} is not waiter {waiter_id}'s")
    await _negative_cursor_checks(run, "SearchOrders")


async def search_tables(run: FlowRun) -> None:
    area_id = run.param("areaId")
    await run.require()
    body = {"areaId": area_id} if area_id else {}
    async with run.step("Search tables and page through them") as step:
        tables: list[m.Table] = await _page_through(run, step, "SearchTables", body, 10)
        step.info(f"{len(tables)} tables found")
        for table in tables:
            if area_id:
                step.check(table.area_id == area_id, f"table {table.id} is not in area {area_id}")
    await _negative_cursor_checks(run, "SearchTables")


async def list_areas(run: FlowRun) -> None:
    await run.require()
    async with run.step("Call ListAreas") as step:
        areas: m.AreaList = await run.call(step, "ListAreas", {})
        ids = [a.id for a in areas.root]
        step.check(len(ids) == len(set(ids)), "area ids are not unique")
        step.info(f"{len(ids)} areas")


async def get_bill(run: FlowRun) -> None:
    order_id = str(run.param("orderId"))
    await run.require()
    async with run.step(f"Call GetOrderBill with orderId {order_id}") as step:
        bill: m.OrderBill = await run.call(step, "GetOrderBill", {"orderId": order_id})
        step.check(bill.order.id == order_id, f"the bill is for order {bill.order.id}")
        step.info(f"{len(bill.header.lines)} header lines, {len(bill.footer.lines)} footer lines")
    async with run.step("Check the bill's order amounts") as step:
        _check_order_amounts(step, bill.order)
        if "GetOrderById" in await run.registered():
            order: m.Order = await run.call(step, "GetOrderById", {"orderId": order_id})
            for label, on_bill, on_order in (
                    ("totalAmount", bill.order.total_amount, order.total_amount),
                    ("paidAmount", bill.order.paid_amount, order.paid_amount)):
                step.check(_amount(on_bill) == _amount(on_order),
                           f"the bill says {label} {_amount(on_bill)}, GetOrderById says "
                           f"{_amount(on_order)}: the bill does not add up to the order")


async def cancel_order(run: FlowRun) -> None:
    order_id = str(run.param("orderId"))
    await run.require()
    async with run.step(f"Cancel order {order_id}") as step:
        order = await run.call(step, "CancelOrderById", {"orderId": order_id},
                               allow_error=ErrorType.CONFLICT)
        if isinstance(order, EposError):
            step.info(f"the EPOS refused cleanly with Conflict: {order.debug_message}")
            return
        step.check(order.id == order_id, f"cancelled order {order.id}, not {order_id}")
        step.check(order.status is m.OrderStatus.CANCELED,
                   f"status is {order.status.value}, not Canceled")
        step.check(order.payable is not True, "a cancelled order is still payable")


GET_ORDER = FlowDef(
    "Get Order", (_p("orderId", "string", "The EPOS order id to fetch", required=True),),
            get_order, "Fetch one order and check it", ("GetOrderById",))

SEARCH_ORDERS = FlowDef(
    "Search Orders", (
        _p("tableId", "string", "Only orders on this table"),
        _p("waiterId", "string", "Only this waiter's orders"),
        _p("payableOnly", "boolean", "Only payable orders (what Pay at Table asks)", default="true"),
        _p("pageSize", "integer", "Page size used to walk the cursors", default="10"),
    ), search_orders, "Page through SearchOrders and check the filters", ("SearchOrders",))

SEARCH_TABLES = FlowDef(
    "Search Tables", (_p("areaId", "string", "Only tables in this area"),),
            search_tables, "Page through SearchTables", ("SearchTables",))

LIST_AREAS = FlowDef(
    "List Areas", (), list_areas, "List the areas", ("ListAreas",))

GET_BILL = FlowDef(
    "Get Bill", (_p("orderId", "string", "The order to print", required=True),),
            get_bill, "Fetch a printable bill", ("GetOrderBill",))

CANCEL_ORDER = FlowDef(
    "Cancel Order", (_p("orderId", "string", "The order to cancel", required=True),),
            cancel_order, "Cancel an order", ("CancelOrderById",))
