"""What the call-level resilience flows share: a payable order, faults set for one step, and the
checks that a payment was counted once.

Each flow takes a payable order the way the payment flows do (SearchOrders with ``payableOnly``,
then GetOrderById for its current amounts), records a *part* of what is due, so the order stays
consistent and usually still payable for the next flow, and checks the EPOS's own account of it
afterwards (GetOrderById: ``paidAmount`` and the ``payments`` of the paymentIntentId).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from dojo_epos.contract import models as m
from dojo_epos.platform.faults import Fault
from dojo_epos.platform.outcome import Failure, InvocationResult

from ..engine import FlowRun, StepFailed, StepHandle, StepTimedOut, _short
from ..faults_port import FlowFaults
from ._common import OrderAmounts, _amount, _check_order_amounts, _money, _uid

__all__ = ["PAYMENT_CAPABILITIES", "Tab", "check_transport", "faults_of", "injected", "judged",
           "raw_call", "seconds_check", "take_payable_order"]

#: What every call-level resilience flow needs: find an order, read it, pay it.
PAYMENT_CAPABILITIES = ("SearchOrders", "GetOrderById", "RecordOrderPayment")


class Tab(OrderAmounts):
    """The order a flow pays a part of, and what the EPOS must report for it."""

    def part(self) -> int:
        """A fifth of what is due (at least 1): the order stays payable for the next payment."""
        return max(1, self.due // 5)

    def payment(self, amount: int, tip: int = 0) -> dict[str, Any]:
        params: dict[str, Any] = {"orderId": self.order_id, "paymentIntentId": _uid("pi"),
                                  "paidAmount": _money(amount, self.currency)}
        if tip:
            params["tipsAmount"] = _money(tip, self.currency)
        return params

    def recorded(self, params: Mapping[str, Any]) -> None:
        """Count ``params`` as recorded once."""
        self.paid += int(params["paidAmount"]["value"])
        self.tips += int(params.get("tipsAmount", {}).get("value", 0))

    def check(self, step: StepHandle, order: m.Order, intents: list[str], what: str) -> None:
        """``order`` (an answer or a read back) reports every payment of the tab once."""
        step.check(order.id == self.order_id, f"{what} is about order {order.id}, not {self.order_id}")
        paid = _amount(order.paid_amount)
        step.check(paid == self.paid,
                   f"{what} reports paidAmount {paid}; expected {self.paid} (each payment counted "
                   f"once){' - counted twice' if paid > self.paid else ''}")
        step.check(_amount(order.tips_amount) == self.tips,
                   f"{what} reports tipsAmount {_amount(order.tips_amount)}; expected {self.tips}")
        for intent in intents:
            listed = sum(1 for p in order.payments if p.payment_intent_id == intent)
            step.check(listed == 1, f"{what} lists payment {intent} {listed} times; expected once")
        _check_order_amounts(step, order)


def seconds_check(*names: str, low: float = 0.0,
                  high: float = 300.0) -> Callable[[Mapping[str, Any]], str | None]:
    """A ``check_params`` for parameters that are seconds: above ``low``, at most ``high``."""
    def check(params: Mapping[str, Any]) -> str | None:
        for name in names:
            raw = params.get(name)
            if raw in (None, ""):
                continue
            try:
                value = float(raw)
            except (TypeError, ValueError):
                return f"parameter {name} must be a number of seconds, not {raw!r}"
            if not low < value <= high:
                return f"parameter {name} must be above {low:g} and at most {high:g} seconds"
        return None
    return check


def faults_of(run: FlowRun) -> FlowFaults:
    """The run's fault port; a failed step naming the problem when the tester has none."""
    if run.faults is None:
        raise StepFailed("this tester cannot inject faults (no fault book): resilience flows "
                         "run on the local platform only")
    return run.faults


_NAMES = {"ws": "the WebSocket", "rest": "REST"}


async def check_transport(run: FlowRun, why: str = "") -> str:
    """The run's transport; a failed step saying so when the flow does not apply over it (``why``
    tells what the flow needs of the transport, and where to look instead)."""
    transport = (await run.invoker.transport())[0]
    wanted = run.definition.transports
    if transport not in wanted:
        async with run.step(f"Check the run is over {' or '.join(_NAMES[t] for t in wanted)}"):
            raise StepFailed(f"{run.definition.name} does not apply over {_NAMES[transport]}: {why}")
    return transport


async def take_payable_order(run: FlowRun) -> Tab:
    """Two steps: find a payable order with an amount due, then read its current amounts."""
    async with run.step("Search payable orders") as step:
        page: m.PagedOrdersResponse = await run.call(step, "SearchOrders", {"payableOnly": True})
        candidates = [o for o in page.data
                      if o.payable and _amount(o.total_amount) > _amount(o.paid_amount)]
        step.check(bool(candidates), "no payable order with an amount due was found (SearchOrders "
                   "with payableOnly); open one on the EPOS and run the flow again")
        found = candidates[0]
        step.info(f"paying a part of order {found.id} ({found.display_name or ''})")
    async with run.step("Fetch the order") as step:
        order: m.Order = await run.call(step, "GetOrderById", {"orderId": found.id})
        step.check(order.payable is True, f"order {order.id} is no longer payable")
        step.check(order.total_amount is not None, f"order {order.id} has no totalAmount")
        tab = Tab(order)
        step.check(tab.due > 0, f"order {order.id} has nothing left to pay")
        return tab


@asynccontextmanager
async def injected(run: FlowRun, step: StepHandle, fault: Fault) -> AsyncIterator[Fault]:
    """``fault`` set for the run's scope within the block, cleared after it whatever happens."""
    port = faults_of(run)
    stored = await port.add(fault)
    step.info(f"injected {stored.describe()}")
    try:
        yield stored
    finally:
        await port.clear(stored)


async def raw_call(run: FlowRun, step: StepHandle, capability: str,
                   params: Mapping[str, Any]) -> InvocationResult:
    """A call whose failure is what the step looks at (a dropped socket), reported but not judged."""
    outcome = await run.invoker.call(capability, params)
    step.info(f"sent {capability} {_short(outcome.request if outcome.request else params)}")
    if outcome.ok:
        step.info(f"got {_short(outcome.result)} in {outcome.duration_ms:.0f} ms")
    else:
        step.info(f"got {outcome.failure}: {outcome.detail} after {outcome.duration_ms:.0f} ms")
    return outcome


def judged(step: StepHandle, capability: str, outcome: InvocationResult) -> Any:
    """The result of a call made with :func:`raw_call`, judged as :meth:`FlowRun.call` judges."""
    if outcome.failure is Failure.TIMED_OUT:
        raise StepTimedOut(f"{capability} timed out: {outcome.detail}")
    if outcome.error is not None:
        raise StepFailed(f"{capability} answered {_short(outcome.error.to_wire())}")
    if not outcome.ok:
        raise StepFailed(f"{capability} failed ({outcome.failure}): {outcome.detail}")
    return outcome.result
