"""The Duplicate delivery flow: one payment reaches the EPOS twice (issue 14; WebSocket only).

Two ways a payment arrives twice over the socket, one payment each:

* the same frame, the same JSON-RPC id, delivered twice (fault ``deliver-twice``), as a network or
  a proxy that repeats a frame does; the EPOS answers both, and Dojo keeps the first answer;
* the same payment sent again under a new id after the EPOS answered (fault ``resend-new-id``), as
  Dojo does when it did not see the answer in time.

Each time the EPOS must record the payment once: its answer and GetOrderById count it once, and list
its paymentIntentId once. Over REST a request is not delivered twice by the network, and Dojo's
re-send after a time-out is what the Lost reply flow checks there, so this flow fails at its transport
check on a REST run, saying so, rather than pretend.
"""

from __future__ import annotations

import asyncio

from dojo_epos.contract import models as m
from dojo_epos.platform.faults import Fault, FaultKind

from ..engine import FlowDef, FlowRun, StepHandle
from ._resilient import PAYMENT_CAPABILITIES, Tab, check_transport, faults_of, injected, take_payable_order

__all__ = ["DUPLICATE_DELIVERY"]

#: How long the flow lets a second delivery land before reading the order back (seconds): the
#: EPOS got both frames before the read, but may answer them concurrently.
SETTLE = 0.1


async def _twice(run: FlowRun, step: StepHandle, tab: Tab, kind: FaultKind,
                 intents: list[str]) -> None:
    params = tab.payment(tab.part())
    intents.append(params["paymentIntentId"])
    faults = faults_of(run)
    async with injected(run, step, Fault(kind, capability="RecordOrderPayment", times=1)) as fault:
        answer: m.Order = await run.call(step, "RecordOrderPayment", params)
        step.check(not faults.pending(fault),
                   "the fault did not fire; nothing was tested")
    tab.recorded(params)
    tab.check(step, answer, intents, "the answer")
    await asyncio.sleep(SETTLE)
    order: m.Order = await run.call(step, "GetOrderById", {"orderId": tab.order_id})
    tab.check(step, order, intents, "GetOrderById")


async def duplicate_delivery(run: FlowRun) -> None:
    await run.require()
    await check_transport(run, "over REST a request is not delivered twice by the network, and "
                          "Dojo's re-send after a time-out is checked by the Lost reply flow")
    tab = await take_payable_order(run)
    intents: list[str] = []
    async with run.step("The same frame delivered twice (the same JSON-RPC id): recorded once") \
            as step:
        await _twice(run, step, tab, FaultKind.DELIVER_TWICE, intents)
    async with run.step("The payment re-sent under a new id (the same paymentIntentId): "
                        "recorded once") as step:
        await _twice(run, step, tab, FaultKind.RESEND_NEW_ID, intents)


DUPLICATE_DELIVERY = FlowDef(
    "Duplicate delivery", (), duplicate_delivery,
    "A payment delivered twice (the same id, then a new id) is recorded once",
    PAYMENT_CAPABILITIES, transports=("ws",))
