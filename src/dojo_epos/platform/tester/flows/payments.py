"""The payment flows: Pay at Table (a waiter settles a table) and Order and Pay."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dojo_epos.contract import models as m

from ..engine import FlowDef, FlowRun
from ._common import _amount, _as_int, _check_order_amounts, _expiry, _iso, _money, _p, _uid


def _split(amount: int, parts: int) -> list[int]:
    """Split ``amount`` into ``parts`` whole shares that add up exactly (first ones larger)."""
    base, extra = divmod(amount, parts)
    return [base + (1 if i < extra else 0) for i in range(parts) if base + (1 if i < extra else 0)]


async def pay_at_table(run: FlowRun) -> None:
    table_id, waiter_id = run.param("tableId"), run.param("waiterId")
    splits = _as_int(run, "splits", 2, minimum=1)
    tip = _as_int(run, "tip", 0)
    await run.require()
    registered = await run.registered()
    locking = {"CreateOrderLock", "DeleteOrderLock"} <= registered
    dine_in = {k: v for k, v in (("tableId", table_id), ("waiterId", waiter_id)) if v}

    async with run.step(f"Search payable orders {dine_in or '(all)'}") as step:
        body: dict[str, Any] = {"payableOnly": True}
        if dine_in:
            body["dineIn"] = dine_in
        page: m.PagedOrdersResponse = await run.call(step, "SearchOrders", body)
        candidates = [o for o in page.data
                      if o.payable and _amount(o.total_amount) > _amount(o.paid_amount)]
        step.check(bool(candidates), "no payable order with an amount due was found")
        order = candidates[0]
        step.info(f"paying order {order.id} ({order.display_name or ''})")

    lock_id = _uid("lock") if locking else None
    async with run.step("Lock the order" if locking else "Fetch the order") as step:
        if locking:
            order = await run.call(step, "CreateOrderLock", {
                "orderId": order.id, "lockId": lock_id, "expiry": _expiry(300)})
        else:
            order = await run.call(step, "GetOrderById", {"orderId": order.id})
        step.check(order.payable is True, f"order {order.id} is no longer payable")
    try:
        if "GetOrderBill" in registered:
            async with run.step("Fetch the bill") as step:
                bill: m.OrderBill = await run.call(step, "GetOrderBill", {"orderId": order.id})
                step.check(bill.order.id == order.id, "the bill is for another order")
        await _pay_in_parts(run, order, splits, tip, lock_id)
    finally:
        if locking:
            async with run.step("Unlock the order") as step:
                await run.call(step, "DeleteOrderLock", {"orderId": order.id, "lockId": lock_id})
    async with run.step("Check the order is settled") as step:
        final: m.Order = await run.call(step, "GetOrderById", {"orderId": order.id})
        step.check(_amount(final.paid_amount) == _amount(final.total_amount),
                   f"paidAmount {_amount(final.paid_amount)} != totalAmount "
                   f"{_amount(final.total_amount)}")
        step.check(final.payable is not True, "the fully paid order is still payable")
        _check_order_amounts(step, final)


async def _pay_in_parts(run: FlowRun, order: m.Order, splits: int, tip: int,
                        lock_id: str | None) -> None:
    assert order.total_amount is not None
    currency = order.total_amount.currency_code
    due = order.total_amount.value - _amount(order.paid_amount)
    parts = _split(due, splits)
    paid, tips = _amount(order.paid_amount), _amount(order.tips_amount)
    payments: list[dict[str, Any]] = []
    for n, part in enumerate(parts, start=1):
        async with run.step(f"Record payment {n} of {len(parts)}: {part} + tip {tip}") as step:
            params: dict[str, Any] = {
                "orderId": order.id,
                "paymentIntentId": _uid("pi"),
                "paidAmount": _money(part, currency),
            }
            if tip:
                params["tipsAmount"] = _money(tip, currency)
            if lock_id:
                params["lockId"] = lock_id
            payments.append(params)
            after: m.Order = await run.call(step, "RecordOrderPayment", params)
            paid, tips = paid + part, tips + tip
            step.check(_amount(after.paid_amount) == paid,
                       f"paidAmount is {_amount(after.paid_amount)}, expected {paid}")
            if tip:
                step.check(_amount(after.tips_amount) == tips,
                           f"tipsAmount is {_amount(after.tips_amount)}, expected {tips} "
                           "(tips must be kept out of paidAmount)")
            if n < len(parts):
                step.check(after.payable is True,
                           f"payable is {after.payable} with {due - paid} still due")
            else:
                step.check(after.payable is not True, "the fully paid order is still payable")
    if payments:
        async with run.step("Retry the last payment with the same paymentIntentId") as step:
            again: m.Order = await run.call(step, "RecordOrderPayment", payments[-1])
            step.check(_amount(again.paid_amount) == paid,
                       f"the retried payment was counted twice: paidAmount "
                       f"{_amount(again.paid_amount)}, expected {paid}")


# -- Order and Pay --------------------------------------------------------------------------------


async def order_and_pay(run: FlowRun) -> None:
    await run.require()
    registered = await run.registered()
    currency = str(run.param("currency", "GBP"))
    pi = _uid("pi")
    items = [
        {"name": "Margherita", "plu": "PIZ-01", "quantity": 1,
         "amountPerItem": _money(1150, currency)},
        {"name": "Lemonade", "plu": "DRK-07", "quantity": 2,
         "amountPerItem": _money(350, currency)},
    ]
    total = 1150 + 2 * 350
    async with run.step("Create an order carrying its payment") as step:
        created: m.Order = await run.call(step, "CreateOrder", {
            "items": items,
            "totalAmount": _money(total, currency),
            "dojoOrderId": _uid("dojo_order"),
            "payments": [{"paymentIntentId": pi, "paidAmount": _money(total, currency)}],
            "details": {"orderType": "Collection", "collection": {"asap": True}},
            "displayName": "Order & Pay test",
        })
        step.check(any(p.payment_intent_id == pi for p in created.payments),
                   f"the created order does not list payment {pi}")
        step.check(_amount(created.paid_amount) == total,
                   f"paidAmount is {_amount(created.paid_amount)}, expected {total}")
    for event_type, status in (("payment_intent.created", "Authorized"),
                               ("payment_intent.status_updated", "Captured")):
        async with run.step(f"Deliver {event_type} ({status})") as step:
            if f"HandleEvent:{event_type}" not in registered:
                step.info(f"HandleEvent:{event_type} is not registered; skipped")
                continue
            await run.call(step, f"HandleEvent:{event_type}", {
                "id": _uid("evt"), "accountId": "acc_tester", "event": event_type,
                "createdAt": _iso(datetime.now(UTC)),
                "data": {"paymentIntentId": pi, "paymentStatus": status, "captureMode": "Auto"},
            })
    async with run.step(f"Read order {created.id} back") as step:
        again: m.Order = await run.call(step, "GetOrderById", {"orderId": created.id})
        step.check(again.id == created.id, "read back another order")
        step.check(_amount(again.paid_amount) == total, "the payment was not kept")


PAY_AT_TABLE = FlowDef(
    "Pay at Table", (
        _p("tableId", "string", "Table whose order to pay (else any payable order)"),
        _p("waiterId", "string", "Waiter id the terminal sends"),
        _p("splits", "integer", "Number of equal parts to pay in", default="2"),
        _p("tip", "integer", "Tip per payment, in minor units", default="0"),
    ), pay_at_table, "A waiter settles a table on a card terminal",
        ("SearchOrders", "GetOrderById", "RecordOrderPayment"))

ORDER_AND_PAY = FlowDef(
    "Order and Pay", (_p("currency", "string", "Currency of the order", default="GBP"),),
            order_and_pay, "A customer orders and pays on their phone",
            ("CreateOrder", "GetOrderById"))
