"""The Pay at Table flow: a waiter settles a table on a card terminal (domain notes §2.1, §3.2).

Besides the happy path (search payable, lock or fetch, bill, pay in parts with tips, unlock), every
step checks what a terminal relies on and a careless EPOS gets wrong: an overpayment is refused; a
known paymentIntentId with another amount is refused; a retried payment is counted once; what
GetOrderById reports reflects every recorded payment; a settled order is no longer listed by
SearchOrders with ``payableOnly``. Each failure says what was expected and what came back.
"""

from __future__ import annotations

from typing import Any

from dojo_epos.contract import models as m
from dojo_epos.contract.errors import ErrorType

from ..engine import FlowDef, FlowRun, StepHandle
from ._common import OrderAmounts, _amount, _as_int, _check_order_amounts, _expiry, _money, _p, _uid

#: What an EPOS may answer when it refuses a payment it must not take (domain notes §3.2 [rec]).
REFUSALS = (ErrorType.CONFLICT, ErrorType.INVALID_REQUEST)


def _split(amount: int, parts: int) -> list[int]:
    """Split ``amount`` into ``parts`` whole shares that add up exactly (first ones larger)."""
    base, extra = divmod(amount, parts)
    return [base + (1 if i < extra else 0) for i in range(parts) if base + (1 if i < extra else 0)]


class _Ledger(OrderAmounts):
    """What the flow has recorded so far: the amounts the EPOS must report."""

    def __init__(self, order: m.Order, lock_id: str | None) -> None:
        super().__init__(order)
        self.lock_id = lock_id
        self.intents: list[dict[str, Any]] = []

    def payment(self, amount: int, tip: int = 0, intent: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"orderId": self.order_id, "paymentIntentId": intent or _uid("pi"),
                                  "paidAmount": _money(amount, self.currency)}
        if tip:
            params["tipsAmount"] = _money(tip, self.currency)
        if self.lock_id:
            params["lockId"] = self.lock_id
        return params


async def _check_reads_back(run: FlowRun, step: StepHandle, ledger: _Ledger) -> m.Order:
    """GetOrderById must report the payments recorded so far (paidAmount, tipsAmount, payable)."""
    order: m.Order = await run.call(step, "GetOrderById", {"orderId": ledger.order_id})
    step.check(_amount(order.paid_amount) == ledger.paid,
               f"GetOrderById reports paidAmount {_amount(order.paid_amount)}; expected {ledger.paid} "
               "after the payments recorded")
    step.check(_amount(order.tips_amount) == ledger.tips,
               f"GetOrderById reports tipsAmount {_amount(order.tips_amount)}; expected {ledger.tips}")
    step.check(_amount(order.total_amount) == ledger.total,
               f"GetOrderById reports totalAmount {_amount(order.total_amount)}; it was {ledger.total} "
               "before the payments")
    if ledger.due > 0:
        step.check(order.payable is True, f"payable is {order.payable} with {ledger.due} still due")
    else:
        step.check(order.payable is not True, "the fully paid order is still payable")
    return order


async def _refused(run: FlowRun, step: StepHandle, ledger: _Ledger, params: dict[str, Any],
                   why: str) -> None:
    """The EPOS must refuse ``params`` (Conflict or InvalidRequest) and record nothing."""
    await run.call(step, "RecordOrderPayment", params, expect_error=REFUSALS)
    step.info(f"refused as expected: {why}")
    await _check_reads_back(run, step, ledger)


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
        step.check(order.total_amount is not None, f"order {order.id} has no totalAmount")
    ledger = _Ledger(order, lock_id)
    try:
        if "GetOrderBill" in registered:
            async with run.step("Fetch the bill") as step:
                bill: m.OrderBill = await run.call(step, "GetOrderBill", {"orderId": order.id})
                step.check(bill.order.id == order.id, "the bill is for another order")
        async with run.step("An overpayment is refused") as step:
            await _refused(run, step, ledger, ledger.payment(ledger.due + 1),
                           f"{ledger.due + 1} offered with {ledger.due} due")
        await _pay_in_parts(run, ledger, splits, tip)
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
    async with run.step("A settled order is not listed by SearchOrders with payableOnly") as step:
        listed = await run.call(step, "SearchOrders", {"payableOnly": True, "cursor": {"limit": 100}})
        step.check(all(o.id != order.id for o in listed.data),
                   f"order {order.id} is fully paid but SearchOrders with payableOnly still lists it "
                   "(a terminal would offer it for payment again)")


async def _pay_in_parts(run: FlowRun, ledger: _Ledger, splits: int, tip: int) -> None:
    due = ledger.due
    parts = _split(due, splits)
    for n, part in enumerate(parts, start=1):
        async with run.step(f"Record payment {n} of {len(parts)}: {part} + tip {tip}") as step:
            params = ledger.payment(part, tip)
            ledger.intents.append(params)
            after: m.Order = await run.call(step, "RecordOrderPayment", params)
            ledger.paid, ledger.tips = ledger.paid + part, ledger.tips + tip
            step.check(_amount(after.paid_amount) == ledger.paid,
                       f"paidAmount is {_amount(after.paid_amount)}, expected {ledger.paid}")
            if tip:
                step.check(_amount(after.tips_amount) == ledger.tips,
                           f"tipsAmount is {_amount(after.tips_amount)}, expected {ledger.tips} "
                           "(tips must be kept out of paidAmount)")
            if n < len(parts):
                step.check(after.payable is True,
                           f"payable is {after.payable} with {due - ledger.paid} still due")
            else:
                step.check(after.payable is not True, "the fully paid order is still payable")
        async with run.step(f"GetOrderById reflects payment {n}") as step:
            await _check_reads_back(run, step, ledger)
        if n == 1 and ledger.due > 0:
            async with run.step("Retry payment 1 with the same paymentIntentId (counted once)") as step:
                again: m.Order = await run.call(step, "RecordOrderPayment", params)
                step.check(_amount(again.paid_amount) == ledger.paid,
                           f"the retried payment was counted twice: paidAmount "
                           f"{_amount(again.paid_amount)}, expected {ledger.paid}")
                await _check_reads_back(run, step, ledger)
            async with run.step("A known paymentIntentId with another amount is refused") as step:
                first = params["paidAmount"]["value"]
                other = first - 1 if first > 1 else first + 1
                await _refused(run, step, ledger,
                               ledger.payment(other, tip, intent=params["paymentIntentId"]),
                               f"paymentIntentId {params['paymentIntentId']} was recorded with {first}, "
                               f"then offered with {other}")
    if ledger.intents:
        async with run.step("Retry the last payment with the same paymentIntentId") as step:
            last: m.Order = await run.call(step, "RecordOrderPayment", ledger.intents[-1])
            step.check(_amount(last.paid_amount) == ledger.paid,
                       f"the retried payment was counted twice: paidAmount "
                       f"{_amount(last.paid_amount)}, expected {ledger.paid}")
            await _check_reads_back(run, step, ledger)


PAY_AT_TABLE = FlowDef(
    "Pay at Table", (
        _p("tableId", "string", "Table whose order to pay (else any payable order)"),
        _p("waiterId", "string", "Waiter id the terminal sends"),
        _p("splits", "integer", "Number of equal parts to pay in", default="2"),
        _p("tip", "integer", "Tip per payment, in minor units", default="0"),
    ), pay_at_table, "A waiter settles a table on a card terminal",
    ("SearchOrders", "GetOrderById", "RecordOrderPayment"))
