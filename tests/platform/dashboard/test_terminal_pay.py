"""Pay at Table on the virtual terminal, in process, against the seeded reference EPOS."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from dojo_epos.contract import models as m
from dojo_epos.epos.handler import RequestContext
from dojo_epos.epos.reference import ReferenceEpos, till
from dojo_epos.epos.reference.menu import line
from dojo_epos.epos.reference.orders import load_order
from dojo_epos.epos.reference.payments import record_payment
from dojo_epos.platform.store import CallRow
from tests.platform.conftest import scope_of

from .conftest import Rig


async def stored(epos: ReferenceEpos, order_id: str) -> m.Order:
    async with epos.db.read() as conn:
        return await load_order(conn, order_id)


async def bill_form(rig: Rig, order_id: str, table: str = "") -> dict[str, str]:
    """The hidden fields of the payment screen, as the browser would send them back."""
    page = await rig.page("/dashboard/terminal", order=order_id, table=table)
    assert page.status_code == 200
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text))
    assert {"order", "due", "nonce"} <= set(fields)
    return fields


async def pay(rig: Rig, fields: dict[str, str], **choices: str) -> str:
    response = await rig.http.post("/dashboard/terminal/pay", params={"scope": rig.token},
                                   data={**fields, **choices})
    assert response.status_code == 303
    page = await rig.http.get(response.headers["location"])
    assert page.status_code == 200
    return page.text


def capabilities_called(calls: list[CallRow]) -> list[str]:
    """The terminal's calls, oldest first (the store gives the newest first).

    The HandleEvent calls each payment's intent sends the EPOS (it registered them) are the
    platform's own, running in the background: left out here, counted where a test wants them.
    """
    return [c.capability for c in reversed(calls) if not c.capability.startswith("HandleEvent:")]


async def test_paying_in_two_parts_with_a_tip_settles_the_order(rig: Rig) -> None:
    await rig.register()
    before = await stored(rig.epos, "ord_demo_01")
    assert before.total_amount is not None
    fields = await bill_form(rig, "ord_demo_01", "T1")
    assert int(fields["due"]) == before.total_amount.value
    receipt = await pay(rig, fields, mode="equal", parts="2", tip="1.50")
    assert "Paid in full — thank you" in receipt
    after = await stored(rig.epos, "ord_demo_01")
    assert after.paid_amount == after.total_amount
    assert after.payable is False
    assert after.tips_amount is not None and after.tips_amount.value == 300
    assert len(after.payments) == 2
    assert len({p.payment_intent_id for p in after.payments}) == 2
    await rig.platform.payments.drain()
    calls = await rig.calls(30)
    called = capabilities_called(calls)
    assert called[-4:] == ["CreateOrderLock", "RecordOrderPayment", "RecordOrderPayment",
                           "DeleteOrderLock"]
    # Each payment's intent told the EPOS it was created and is Captured, as Dojo does (§3.7).
    events = [c.capability for c in calls if c.capability.startswith("HandleEvent:")]
    assert sorted(events) == ["HandleEvent:payment_intent.created"] * 2 + [
        "HandleEvent:payment_intent.status_updated"] * 2


async def test_submitting_the_same_payment_screen_twice_pays_once(rig: Rig) -> None:
    await rig.register()
    fields = await bill_form(rig, "ord_demo_02", "T2")
    first = await pay(rig, fields, mode="custom", custom="5.00")
    assert "Payment approved" in first
    again = await pay(rig, fields, mode="custom", custom="5.00")
    order = await stored(rig.epos, "ord_demo_02")
    assert order.paid_amount is not None and order.paid_amount.value == 500
    assert len(order.payments) == 1
    assert "Order changed at the till" in again  # the bill it was sent from is out of date


async def test_an_order_locked_at_another_terminal_is_not_paid(rig: Rig) -> None:
    await rig.register()
    expiry = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    held = await rig.platform.invoke(scope_of(), "CreateOrderLock", {
        "orderId": "ord_demo_04", "lockId": "lock_other_terminal", "expiry": expiry})
    assert held.ok
    fields = await bill_form(rig, "ord_demo_04", "T5")
    receipt = await pay(rig, fields, mode="full")
    assert "Order in use at another terminal — try again" in receipt
    assert "role=\"alert\"" in receipt
    order = await stored(rig.epos, "ord_demo_04")
    assert order.payments == []


async def test_an_order_changed_at_the_till_is_not_paid_from_the_old_bill(rig: Rig) -> None:
    await rig.register()
    fields = await bill_form(rig, "ord_demo_05", "T7")
    await till.add_item(rig.epos.db, "ord_demo_05", line("DR-COKE"))
    receipt = await pay(rig, fields, mode="full")
    assert "Order changed at the till — check the bill and try again" in receipt
    assert (await stored(rig.epos, "ord_demo_05")).payments == []
    called = capabilities_called(await rig.calls(20))
    assert called[-2:] == ["CreateOrderLock", "DeleteOrderLock"]  # the lock is given back


class RacingEpos(ReferenceEpos):
    """A till takes cash for most of the bill just before the card payment lands."""

    async def record_order_payment(self, params: m.RecordOrderPaymentParams,
                                   ctx: RequestContext) -> m.Order:
        async with self.db.write() as conn:
            await record_payment(conn, params.order_id, m.PaymentWithLockId(
                payment_intent_id="pi_till_cash", lock_id=params.lock_id,
                paid_amount=m.Money(value=params.paid_amount.value - 100,
                                    currency_code=params.paid_amount.currency_code)))
        return await super().record_order_payment(params, ctx)


async def test_an_over_payment_the_till_refuses_is_shown_as_declined(rig: Rig) -> None:
    await rig.register()
    fields = await bill_form(rig, "ord_demo_06", "T10")
    rig.epos.__class__ = RacingEpos  # from now on the till races the terminal
    receipt = await pay(rig, fields, mode="full")
    assert "Payment declined by the till — the card payment will be reversed" in receipt
    order = await stored(rig.epos, "ord_demo_06")
    assert [p.payment_intent_id for p in order.payments] == ["pi_till_cash"]
    assert re.search(r'id="remaining">£1\.00<', receipt)


async def test_a_custom_amount_above_the_balance_is_refused_on_the_terminal(rig: Rig) -> None:
    await rig.register()
    fields = await bill_form(rig, "ord_demo_02", "T2")
    too_much = f"{int(fields['due']) / 100 + 1:.2f}"
    receipt = await pay(rig, fields, mode="custom", custom=too_much)
    assert "Amount is more than the balance due" in receipt
    calls = capabilities_called(await rig.calls(50))
    assert "RecordOrderPayment" not in calls


async def test_a_typing_mistake_goes_back_to_the_bill_with_the_reason(rig: Rig) -> None:
    await rig.register()
    fields = await bill_form(rig, "ord_demo_02", "T2")
    response = await rig.http.post("/dashboard/terminal/pay", params={"scope": rig.token},
                                   data={**fields, "mode": "custom", "custom": "12.345"})
    assert response.status_code == 303
    page = await rig.http.get(response.headers["location"])
    assert "has more than two decimal places" in page.text
    assert 'name="nonce"' in page.text


async def test_without_optional_capabilities_the_terminal_uses_the_minimum(rig: Rig) -> None:
    """No SearchTables, GetOrderBill or locks: tables come from orders, the bill is the order."""
    await rig.register(without=("SearchTables", "GetOrderBill", "CreateOrderLock",
                                "DeleteOrderLock", "ExtendOrderLock"))
    tables = (await rig.page("/dashboard/terminal")).text
    for table in ("T1", "T2", "T4", "T5", "T7", "T10"):
        assert f"table={table}\"" in tables
    assert "table=T3\"" not in tables  # no payable order there
    fields = await bill_form(rig, "ord_demo_03", "T4")
    receipt = await pay(rig, fields, mode="equal", parts="3")
    assert "Paid in full" in receipt
    called = capabilities_called(await rig.calls(20))
    assert called[-5:] == ["GetOrderById", "GetOrderById", "RecordOrderPayment",
                           "RecordOrderPayment", "RecordOrderPayment"]
    settled = await stored(rig.epos, "ord_demo_03")
    assert settled.paid_amount == settled.total_amount and settled.payable is False


async def test_a_table_lists_its_payable_orders_with_terminal_labels(rig: Rig) -> None:
    await rig.register()
    await till.open_order(rig.epos.db, "T1", "w_alice", [line("DR-WATR")], order_id="ord_t1_b")
    page = (await rig.page("/dashboard/terminal", table="T1")).text
    assert re.findall(r'<span class="label">([^<]*)</span>', page) == ["Table 1 - 1",
                                                                      "Table 1 - 2"]
    assert "ord_demo_02" not in page
