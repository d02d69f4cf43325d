"""PaymentRecorder: the intents of the payments an EPOS accepted, read from each paying capability."""

from __future__ import annotations

from typing import Any

from dojo_epos.contract import models as m
from dojo_epos.contract.wire import dump
from dojo_epos.platform.outcome import InvocationResult
from dojo_epos.platform.payments.recorder import PaymentRecorder
from tests.contract.models.factories import create_order_request, gbp, headers, order
from tests.platform.conftest import scope_of


class Intents:
    """Collects what the recorder would write (PaymentIntents.record_later's seam)."""

    def __init__(self) -> None:
        self.recorded: list[dict[str, Any]] = []

    def record_later(self, scope: Any, rows: list[dict[str, Any]]) -> None:
        self.recorded.extend(rows)


def recorder() -> tuple[PaymentRecorder, Intents]:
    intents = Intents()
    return PaymentRecorder(intents), intents  # type: ignore[arg-type]  # the seam it uses


def wire_of(params: m.WsParams) -> dict[str, Any]:
    wire: dict[str, Any] = dump(params, "ws")
    return wire


async def test_record_order_payment_gives_the_intent_of_its_one_payment() -> None:
    record, intents = recorder()
    params = m.RecordOrderPaymentParams(
        order_id="ord_1", payment_intent_id="pi_9", paid_amount=gbp(1500), tips_amount=gbp(150),
        headers=headers())
    await record(scope_of(), InvocationResult("RecordOrderPayment", ok=True), wire_of(params))
    assert intents.recorded == [{
        "intent_id": "pi_9", "order_id": "ord_1", "amount": 1500, "tips": 150, "currency": "GBP",
        "waiter_id": "42", "product": "Order&Pay"}]


async def test_create_order_gives_an_intent_per_payment_under_the_order_the_epos_made() -> None:
    record, intents = recorder()
    params = m.CreateOrderParams.model_validate(
        {**create_order_request().to_wire("ws"), "headers": headers().to_wire("ws")})
    created = order()
    outcome = InvocationResult("CreateOrder", ok=True, result=created)
    await record(scope_of(), outcome, wire_of(params))
    assert [(r["intent_id"], r["order_id"], r["amount"], r["tips"]) for r in intents.recorded] == [
        ("pi_1", created.id, 1000, 100)]


async def test_reads_bad_params_and_a_create_order_without_an_order_give_no_intent() -> None:
    record, intents = recorder()
    await record(scope_of(), InvocationResult("GetOrderById", ok=True), {"orderId": "ord_1"})
    await record(scope_of(), InvocationResult("RecordOrderPayment", ok=True),
                 {"orderId": "ord_1", "paidAmount": "lots", "headers": {}})
    await record(scope_of(), InvocationResult("CreateOrder", ok=True, result=None),
                 wire_of(m.CreateOrderParams.model_validate(
                     {**create_order_request().to_wire("ws"), "headers": {}})))
    await record(scope_of(), InvocationResult("NoSuchCapability", ok=True), {})
    assert intents.recorded == []
