"""Every flow against the reference EPOS, over REST and over WS; and against broken EPOSes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from dojo_epos.contract import models as m
from dojo_epos.contract.errors import EposError
from dojo_epos.contract.tester_models import FlowResult, Status
from dojo_epos.epos.handler import EposHandler, RequestContext
from dojo_epos.epos.reference import ReferenceEpos
from dojo_epos.platform.tester.engine import transport_of

from .conftest import RigFactory

FLOW_PARAMS: dict[str, dict[str, Any]] = {
    "Get Order": {"orderId": "ord_demo_01"},
    "Search Orders": {"payableOnly": "true", "pageSize": "2"},
    "Search Tables": {"areaId": "area_main"},
    "List Areas": {},
    "Get Bill": {"orderId": "ord_demo_02"},
    "Cancel Order": {"orderId": "ord_demo_06"},
    "Lock Order": {"orderId": "ord_demo_03"},
    "Pay at Table": {"tableId": "T4", "splits": "3", "tip": "150"},
    "Order and Pay": {},
    "Bookings": {"tableId": "T7"},
    "Certification": {},
}


def _explain(result: FlowResult) -> str:
    return "\n".join(f"{s.status.value:11} {s.name}: {' | '.join(s.additional_information)}"
                     for s in result.steps)


def _failed_step(result: FlowResult) -> str:
    failed = [s for s in result.steps if s.status is not Status.SUCCESS]
    assert failed, "no step failed"
    return failed[0].name


@pytest.mark.parametrize("flow", sorted(FLOW_PARAMS))
async def test_every_flow_succeeds_against_the_reference_epos(
    flow: str, make_rig: RigFactory, reference: ReferenceEpos
) -> None:
    rig = await make_rig(reference)
    result = await rig.run(flow, **FLOW_PARAMS[flow])
    assert result.status is Status.SUCCESS, _explain(result)
    assert result.flow_name == f"{flow} through EPOS Data API"
    assert result.finished_at is not None
    assert all(s.status is Status.SUCCESS and s.finished_at for s in result.steps)


async def test_pay_at_table_settles_the_order_in_the_epos(
    make_rig: RigFactory, reference: ReferenceEpos
) -> None:
    """After the flow, the EPOS's own record is settled, and the retry was counted once."""
    rig = await make_rig(reference)
    ctx = RequestContext(capability="GetOrderById", transport="local")
    params = m.OrderIdParams(order_id="ord_demo_03")  # the only payable order on T4
    before = await reference.get_order_by_id(params, ctx)
    result = await rig.run("Pay at Table", tableId="T4", splits="2", tip="100")
    assert result.status is Status.SUCCESS, _explain(result)
    order = await reference.get_order_by_id(params, ctx)
    assert order.paid_amount == order.total_amount
    assert order.payable is False
    assert len(order.payments) == len(before.payments) + 2
    tips_before = before.tips_amount.value if before.tips_amount else 0
    assert order.tips_amount is not None and order.tips_amount.value == tips_before + 200


# -- broken EPOSes: each fails at the step that catches it --------------------------------------


class WrongPaidAmount(ReferenceEpos):
    """Reports a paidAmount that is not the sum of its payments."""

    async def get_order_by_id(self, params: m.OrderIdParams, ctx: RequestContext) -> m.Order:
        order = await super().get_order_by_id(params, ctx)
        currency = order.total_amount.currency_code if order.total_amount else "GBP"
        order.paid_amount = m.Money(value=(order.paid_amount.value if order.paid_amount else 0) + 1,
                                    currency_code=currency)
        return order


class DoubleCountsRetries(ReferenceEpos):
    """Treats a retried paymentIntentId as a new payment."""

    async def record_order_payment(
        self, params: m.RecordOrderPaymentParams, ctx: RequestContext
    ) -> m.Order:
        seen: set[str] = self.__dict__.setdefault("seen", set())
        intent = params.payment_intent_id
        if intent in seen:
            params = params.model_copy(update={"payment_intent_id": f"{intent}-again"})
        seen.add(intent)
        return await super().record_order_payment(params, ctx)


class LockNotEnforced(ReferenceEpos):
    """Answers every lock request with the order, even while another lockId holds it."""

    async def create_order_lock(
        self, params: m.CreateOrderLockParams, ctx: RequestContext
    ) -> m.Order:
        try:
            return await super().create_order_lock(params, ctx)
        except EposError:
            return await super().get_order_by_id(m.OrderIdParams(order_id=params.order_id), ctx)


class SlowEpos(ReferenceEpos):
    """Never answers GetOrderById within the platform's call time-out."""

    async def get_order_by_id(self, params: m.OrderIdParams, ctx: RequestContext) -> m.Order:
        await asyncio.sleep(30)
        raise AssertionError("unreachable in the test")


class NoGetOrder(ReferenceEpos):
    """Offers everything but GetOrderById (the base class's method means "not offered")."""

    get_order_by_id = EposHandler.get_order_by_id


def _drop_status(reply: Any) -> Any:
    """Corrupts an Order on the wire: ``status`` is required by the schema."""
    if isinstance(reply, dict) and "status" in reply and "details" in reply:
        reply = {k: v for k, v in reply.items() if k != "status"}
    return reply


async def _reference_like(cls: type[ReferenceEpos], reference: ReferenceEpos) -> ReferenceEpos:
    return cls(reference.db)


@pytest.mark.parametrize(
    ("handler_cls", "flow", "params", "step_words", "status"),
    [
        (WrongPaidAmount, "Get Order", {"orderId": "ord_demo_01"},
         "amounts are consistent", Status.FAILURE),
        (DoubleCountsRetries, "Pay at Table", {"tableId": "T4", "splits": "2"},
         "Retry payment 1", Status.FAILURE),
        (LockNotEnforced, "Lock Order", {"orderId": "ord_demo_03"},
         "second lockId is refused", Status.FAILURE),
        (NoGetOrder, "Get Order", {"orderId": "ord_demo_01"},
         "Check whether GetOrder has been registered", Status.FAILURE),
    ],
    ids=["wrong-total", "double-counted-retry", "lock-not-enforced", "missing-capability"],
)
async def test_broken_epos_fails_at_the_right_step(
    handler_cls: type[ReferenceEpos], flow: str, params: dict[str, str], step_words: str,
    status: Status, make_rig: RigFactory, reference: ReferenceEpos,
) -> None:
    rig = await make_rig(await _reference_like(handler_cls, reference))
    result = await rig.run(flow, **params)
    assert result.status is status, _explain(result)
    assert step_words in _failed_step(result), _explain(result)


async def test_missing_capability_fails_with_dojos_own_words(
    make_rig: RigFactory, reference: ReferenceEpos
) -> None:
    """The two sentences of Dojo's tool, verbatim, naming GetOrder (domain notes §5)."""
    rig = await make_rig(await _reference_like(NoGetOrder, reference))
    result = await rig.run("Get Order", orderId="ord_demo_01")
    assert result.status is Status.FAILURE
    assert len(result.steps) == 1
    assert result.steps[0].name == "Check whether GetOrder has been registered"
    assert result.steps[0].additional_information == [
        "GetOrder method not found",
        "Please register the GetOrder method on an EPOS Data API adapter",
        f"transport: {rig.transport} (the default: "
        + ("only REST is registered)" if rig.transport == "rest" else "the EPOS socket is connected)"),
    ]
    assert transport_of(result) == rig.transport


async def test_a_schema_violation_fails_the_step_naming_the_field(
    make_rig: RigFactory, reference: ReferenceEpos
) -> None:
    rig = await make_rig(reference, corrupt=_drop_status)
    result = await rig.run("Get Order", orderId="ord_demo_01")
    assert result.status is Status.FAILURE, _explain(result)
    failed = next(s for s in result.steps if s.status is Status.FAILURE)
    assert failed.name.startswith("Call GetOrder")
    assert any("SchemaViolation" in line and "status" in line
               for line in failed.additional_information), _explain(result)


async def test_a_silent_epos_times_out_within_the_call_timeout(
    make_rig: RigFactory, reference: ReferenceEpos
) -> None:
    """A flow never hangs: the call time-out ends the step, and the flow, as TIMED_OUT."""
    rig = await make_rig(await _reference_like(SlowEpos, reference), call_timeout=0.5)
    result = await rig.run("Get Order", orderId="ord_demo_01")
    assert result.status is Status.TIMED_OUT, _explain(result)
    last = result.steps[-1]
    assert last.status is Status.TIMED_OUT
    # Ended by the call time-out (0.5 s), not by the flow's overall limit or the EPOS's sleep.
    assert any("GetOrderById timed out" in line for line in last.additional_information)
