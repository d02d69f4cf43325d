"""The Slow network flow: answers still come within Dojo's time-out when the network adds a delay.

The platform holds each checked request for ``delay`` seconds before sending it (fault ``delay`` on
the WebSocket, ``rest-delay`` over REST), as a slow or distant network does. Dojo's clock runs from
the moment it sends, so what the EPOS takes plus the delay must stay within Dojo's per-call time-out
(the platform's ``call_timeout``); past it Dojo would have given up, and for a payment reversed it.
The flow reads an order and records a part of it that way, then checks the payment is counted once.
A step past the time-out ends TIMED_OUT, naming the time taken, the delay and the time-out.
"""

from __future__ import annotations

from typing import Any

from dojo_epos.contract import models as m
from dojo_epos.platform.faults import MAX_DELAY, Fault, FaultKind
from dojo_epos.platform.outcome import Failure

from ..engine import FlowDef, FlowRun, StepFailed, StepHandle, StepTimedOut
from ._common import _p
from ._resilient import (
    PAYMENT_CAPABILITIES,
    check_transport,
    faults_of,
    injected,
    judged,
    raw_call,
    seconds_check,
    take_payable_order,
)

__all__ = ["SLOW_NETWORK"]

DEFAULT_DELAY = 1.0


async def _slow_call(run: FlowRun, step: StepHandle, transport: str, delay: float,
                     capability: str, params: dict[str, Any]) -> Any:
    kind = FaultKind.DELAY if transport == "ws" else FaultKind.REST_DELAY
    faults = faults_of(run)
    async with injected(run, step, Fault(kind, capability=capability, delay=delay, times=1)) \
            as fault:
        outcome = await raw_call(run, step, capability, params)
        fired = not faults.pending(fault)
    limit = faults.call_timeout
    step.check(fired, "the delay was not applied; nothing was tested")
    took = outcome.duration_ms / 1000
    reversed_ = " and reversed the payment" if capability == "RecordOrderPayment" else ""
    if outcome.failure is Failure.TIMED_OUT:
        raise StepTimedOut(f"{capability}: no answer in {took:.2f} s with {delay:g} s of network "
                           f"delay (Dojo's time-out is {limit:g} s; it would have given up"
                           f"{reversed_})")
    if took > limit:
        raise StepTimedOut(f"{capability} answered in {took:.2f} s with {delay:g} s of network "
                           f"delay: past Dojo's time-out of {limit:g} s (Dojo would have given up"
                           f"{reversed_})")
    result = judged(step, capability, outcome)
    step.info(f"answered in {took:.2f} s with {delay:g} s of network delay, within Dojo's "
              f"time-out of {limit:g} s")
    return result


async def slow_network(run: FlowRun) -> None:
    delay = float(run.param("delay", DEFAULT_DELAY))  # a number of seconds: check_params
    await run.require()
    transport = await check_transport(run)
    limit = faults_of(run).call_timeout
    if delay >= limit:
        async with run.step("Check the delay is below Dojo's time-out"):
            raise StepFailed(f"parameter delay ({delay:g} s) must be below Dojo's time-out "
                             f"({limit:g} s): no answer could come in time")
    tab = await take_payable_order(run)
    async with run.step(f"Read the order over a slow network (+{delay:g} s)") as step:
        order: m.Order = await _slow_call(run, step, transport, delay, "GetOrderById",
                                          {"orderId": tab.order_id})
        tab.check(step, order, [], "GetOrderById")
    params = tab.payment(tab.part())
    async with run.step(f"Record a payment over a slow network (+{delay:g} s)") as step:
        answer: m.Order = await _slow_call(run, step, transport, delay, "RecordOrderPayment",
                                           params)
        tab.recorded(params)
        tab.check(step, answer, [params["paymentIntentId"]], "the answer")
    async with run.step("GetOrderById counts the payment once") as step:
        again: m.Order = await run.call(step, "GetOrderById", {"orderId": tab.order_id})
        tab.check(step, again, [params["paymentIntentId"]], "GetOrderById")


SLOW_NETWORK = FlowDef(
    "Slow network", (
        _p("delay", "number", "Seconds the network adds to each checked request",
           default=f"{DEFAULT_DELAY:g}"),
    ), slow_network,
    "Answers within Dojo's time-out when the network adds a delay",
    PAYMENT_CAPABILITIES, check_params=seconds_check("delay", high=MAX_DELAY))
