"""A Pay at Table payment on the virtual terminal, then a till refund through the SDK client.

The terminal pays through the dashboard's pages (as a waiter's taps do) against the seeded reference
EPOS; the intent it creates is then read, refunded in part (twice under one key), searched, and
reversing it is refused because it was partly refunded.
"""

from __future__ import annotations

import pytest

from dojo_epos.client import PlatformApiError
from tests.platform.dashboard.conftest import Rig
from tests.platform.dashboard.test_terminal_pay import bill_form, pay, stored


async def test_a_till_refunds_part_of_a_pay_at_table_payment(rig: Rig) -> None:
    await rig.register()
    fields = await bill_form(rig, "ord_demo_01", "T1")
    receipt = await pay(rig, {**fields, "waiter": "w_anna"}, mode="custom", custom="10.00", tip="1.50")
    assert "Payment approved" in receipt
    order = await stored(rig.epos, "ord_demo_01")
    (payment,) = order.payments
    intent = await rig.client.get_payment_intent(payment.payment_intent_id)
    assert intent.status.value == "Captured"
    assert intent.order_details is not None and intent.order_details.external_id == "ord_demo_01"
    assert intent.metadata == {"waiterId": "w_anna", "requestingProduct": "PayAtTable"}
    assert (intent.amount.value, intent.tips_amount and intent.tips_amount.value) == (1000, 150)
    first = await rig.client.refund_payment_intent(intent.id, 400, idempotency_key="till-1",
                                                   reason="cold food")
    again = await rig.client.refund_payment_intent(intent.id, 400, idempotency_key="till-1",
                                                   reason="cold food")
    assert again.refund_id == first.refund_id
    assert (await rig.client.get_refund(first.refund_id)).refund_reason == "cold food"
    after = await rig.client.get_payment_intent(intent.id)
    assert after.refunded_amount == 400 and after.status.value == "Captured"
    with pytest.raises(PlatformApiError) as refused:
        await rig.client.reverse_payment_intent(intent.id)
    assert refused.value.status == 409 and "refund" in str(refused.value)
    with pytest.raises(PlatformApiError) as too_much:
        await rig.client.refund_payment_intent(intent.id, 751)
    assert too_much.value.status == 400 and "750 of 1150" in str(too_much.value)
    page = await rig.client.search_payment_intents(["Captured"])
    assert [i.id for i in page.data] == [intent.id]
    assert (await stored(rig.epos, "ord_demo_01")).payments == order.payments  # the till's record
