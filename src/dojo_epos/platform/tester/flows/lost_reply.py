"""The Lost reply flow: a payment whose answer never reached Dojo is sent again (issue 14).

Over the **WebSocket**: RecordOrderPayment is sent and the platform drops the socket before the
answer (fault ``drop-after-send``), as a network failure does. Dojo cannot tell whether the EPOS
recorded it, so once the EPOS is back (it must reconnect within ``reconnectWithin`` seconds) the same
payment is sent again with the same paymentIntentId. The EPOS must have recorded it exactly once,
whatever it did with the first frame, and answer the re-send as it would have answered the first;
a second re-send gets the same answer, and GetOrderById counts the amount once.

Over **REST** there is no socket to lose: a lost reply is a time-out, after which Dojo sends the same
request again (fault ``rest-retry-after-timeout``: the first answer is thrown away). The same checks
follow. The step lines give the times (to the reconnect, and from the drop to the first good answer).
"""

from __future__ import annotations

import time

from dojo_epos.contract import models as m
from dojo_epos.platform.faults import Fault, FaultKind
from dojo_epos.platform.outcome import Failure

from ..engine import FlowDef, FlowRun
from ._common import _p
from ._resilient import (
    PAYMENT_CAPABILITIES,
    check_transport,
    faults_of,
    injected,
    raw_call,
    seconds_check,
    take_payable_order,
)

__all__ = ["LOST_REPLY"]

DEFAULT_RECONNECT_WITHIN = 10.0


async def lost_reply(run: FlowRun) -> None:
    within = float(run.param("reconnectWithin", DEFAULT_RECONNECT_WITHIN))  # checked: check_params
    await run.require()
    transport = await check_transport(run)
    faults = faults_of(run)
    tab = await take_payable_order(run)
    params = tab.payment(tab.part())
    intent = params["paymentIntentId"]
    if transport == "ws":
        name = "Record a payment; the socket is dropped before the answer"
        async with run.step(name) as step:
            async with injected(run, step, Fault(FaultKind.DROP_AFTER_SEND,
                                                 capability="RecordOrderPayment", times=1)) as fault:
                outcome = await raw_call(run, step, "RecordOrderPayment", params)
                fired = not faults.pending(fault)
            dropped_at = time.perf_counter()
            step.check(fired, "the fault did not fire; nothing was tested")
            step.check(outcome.failure is Failure.TRANSPORT_ERROR,
                       f"expected the call to be cut by the drop, got {outcome.summary()}")
            step.info("Dojo got no answer: it cannot tell whether the payment was recorded")
        async with run.step(f"The EPOS reconnects within {within:g} s") as step:
            back = await faults.wait_connected(within)
            step.check(back is not None,
                       f"no socket for this account within {within:g} s of the drop: the EPOS did "
                       "not reconnect, so Dojo could not send the payment again")
            step.info(f"reconnected {time.perf_counter() - dropped_at:.3f} s after the drop")
        async with run.step("Re-send the payment with the same paymentIntentId: recorded once") \
                as step:
            answer: m.Order = await run.call(step, "RecordOrderPayment", params)
            tab.recorded(params)
            tab.check(step, answer, [intent], "the answer to the re-send")
            step.info(f"first good answer {time.perf_counter() - dropped_at:.3f} s after the drop")
    else:
        name = "Record a payment; Dojo times out and sends it again (the first answer is lost)"
        async with run.step(name) as step:
            step.info("over REST a lost reply is a time-out: Dojo sends the same request again")
            async with injected(run, step, Fault(FaultKind.REST_RETRY_AFTER_TIMEOUT,
                                                 capability="RecordOrderPayment", times=1)) as fault:
                answer = await run.call(step, "RecordOrderPayment", params)
                step.check(not faults.pending(fault), "the fault did not fire; nothing was tested")
            tab.recorded(params)
            tab.check(step, answer, [intent], "the answer to the re-send")
    async with run.step("Re-send it once more: the same answer") as step:
        again: m.Order = await run.call(step, "RecordOrderPayment", params)
        tab.check(step, again, [intent], "the answer to the second re-send")
        step.check(again.payments == answer.payments,
                   "the second re-send lists other payments than the first re-send")
    async with run.step("GetOrderById counts the payment once") as step:
        order: m.Order = await run.call(step, "GetOrderById", {"orderId": tab.order_id})
        tab.check(step, order, [intent], "GetOrderById")


LOST_REPLY = FlowDef(
    "Lost reply", (
        _p("reconnectWithin", "number",
           "Seconds the EPOS has to reconnect after the drop (WebSocket)",
           default=f"{DEFAULT_RECONNECT_WITHIN:g}"),
    ), lost_reply,
    "A payment whose answer was lost is sent again: recorded once, the same answer",
    PAYMENT_CAPABILITIES, check_params=seconds_check("reconnectWithin"))
