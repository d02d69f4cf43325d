"""The locking flow: lock, conflict, extend, unlock, lock again (domain notes §3.1)."""

from __future__ import annotations

from dojo_epos.contract import models as m
from dojo_epos.contract.errors import ErrorType

from ..engine import FlowDef, FlowRun
from ._common import _expiry, _p, _uid


async def lock_order(run: FlowRun) -> None:
    order_id = str(run.param("orderId"))
    await run.require()
    first, second = _uid("lock"), _uid("lock")
    async with run.step(f"Lock order {order_id}") as step:
        order: m.Order = await run.call(step, "CreateOrderLock",
                                        {"orderId": order_id, "lockId": first,
                                         "expiry": _expiry(120)})
        step.check(order.id == order_id, f"the lock returned order {order.id}")
    async with run.step("Lock it again with the same lockId (harmless)") as step:
        await run.call(step, "CreateOrderLock",
                       {"orderId": order_id, "lockId": first, "expiry": _expiry(120)})
    async with run.step("A second lockId is refused with Conflict") as step:
        await run.call(step, "CreateOrderLock",
                       {"orderId": order_id, "lockId": second, "expiry": _expiry(120)},
                       expect_error=ErrorType.CONFLICT)
    async with run.step("Read the order while it is locked") as step:
        if "GetOrderById" in await run.registered():
            await run.call(step, "GetOrderById", {"orderId": order_id})
        else:
            step.info("GetOrderById is not registered; skipped")
    async with run.step("Extend the lock") as step:
        await run.call(step, "ExtendOrderLock",
                       {"orderId": order_id, "lockId": first, "expiry": _expiry(300)})
    async with run.step("Unlock") as step:
        await run.call(step, "DeleteOrderLock", {"orderId": order_id, "lockId": first})
    async with run.step("Unlock again (idempotent)") as step:
        await run.call(step, "DeleteOrderLock", {"orderId": order_id, "lockId": first})
    async with run.step("Lock again with the second lockId, then unlock") as step:
        await run.call(step, "CreateOrderLock",
                       {"orderId": order_id, "lockId": second, "expiry": _expiry(120)})
        await run.call(step, "DeleteOrderLock", {"orderId": order_id, "lockId": second})


LOCK_ORDER = FlowDef(
    "Lock Order", (_p("orderId", "string", "The order to lock", required=True),),
            lock_order, "Lock, conflict, extend, unlock, lock again",
            ("CreateOrderLock", "DeleteOrderLock", "ExtendOrderLock"))
