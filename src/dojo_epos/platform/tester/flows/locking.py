"""The locking flow: lock, conflict, extend, unlock, lock again (domain notes §3.1).

The flow needs CreateOrderLock and DeleteOrderLock (what Dojo needs to lock at all); ExtendOrderLock is
exercised when registered. While the order is locked, a payment without the holder's lockId or with
another lockId must be refused with Conflict when RecordOrderPayment is registered: that is the point
of the lock (a lock not enforced lets a till and a terminal both take the same order's money).
"""

from __future__ import annotations

from dojo_epos.contract import models as m
from dojo_epos.contract.errors import ErrorType

from ..engine import FlowDef, FlowRun, StepFailed
from ._common import _expiry, _money, _p, _uid


async def lock_order(run: FlowRun) -> None:
    order_id = str(run.param("orderId"))
    await run.require()
    first, second = _uid("lock"), _uid("lock")
    async with run.step(f"Lock order {order_id}") as step:
        order: m.Order = await run.call(step, "CreateOrderLock",
                                        {"orderId": order_id, "lockId": first,
                                         "expiry": _expiry(120)})
        step.check(order.id == order_id, f"the lock returned order {order.id}")
    try:
        registered = await run.registered()
        async with run.step("Lock it again with the same lockId (harmless)") as step:
            await run.call(step, "CreateOrderLock",
                           {"orderId": order_id, "lockId": first, "expiry": _expiry(120)})
        async with run.step("A second lockId is refused with Conflict") as step:
            await run.call(step, "CreateOrderLock",
                           {"orderId": order_id, "lockId": second, "expiry": _expiry(120)},
                           expect_error=ErrorType.CONFLICT)
        if "GetOrderById" in registered:
            async with run.step("Read the order while it is locked") as step:
                await run.call(step, "GetOrderById", {"orderId": order_id})
        if "RecordOrderPayment" in registered:
            currency = order.total_amount.currency_code if order.total_amount else "GBP"
            for label, lock in (("without a lockId", None), ("with another lockId", second)):
                async with run.step(f"A payment {label} is refused while the order is locked") as step:
                    payment = {"orderId": order_id, "paymentIntentId": _uid("pi"),
                               "paidAmount": _money(1, currency)}
                    if lock:
                        payment["lockId"] = lock
                    await run.call(step, "RecordOrderPayment", payment, expect_error=ErrorType.CONFLICT)
                    step.info(f"the lock {first} is enforced")
        if "ExtendOrderLock" in registered:
            async with run.step("Extend the lock") as step:
                await run.call(step, "ExtendOrderLock",
                               {"orderId": order_id, "lockId": first, "expiry": _expiry(300)})
    except StepFailed:
        async with run.step("Release the locks after the failure") as step:
            step.info("clean-up only, so the next section finds the order unlocked")
            for lock in (first, second):
                await run.invoker.call("DeleteOrderLock", {"orderId": order_id, "lockId": lock})
        raise
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
    lock_order, "Lock, conflict, a lock enforced against payments, extend, unlock, lock again",
    ("CreateOrderLock", "DeleteOrderLock"))

#: Registering any of these makes the locking flow mandatory (domain notes §2.1).
LOCK_CAPABILITIES = ("CreateOrderLock", "DeleteOrderLock", "ExtendOrderLock")
