"""RecordOrderPayment (domain notes §3.2) on both databases."""

from __future__ import annotations

import pytest

from dojo_epos.contract import models as m
from dojo_epos.contract.errors import EposError, ErrorType
from tests.epos.reference.conftest import ctx, soon
from tests.epos.reference.helpers import get, lock, open_order, pay


async def conflict(coro) -> EposError:
    with pytest.raises(EposError) as err:
        await coro
    assert err.value.error_type is ErrorType.CONFLICT, err.value
    return err.value


async def test_partial_payments_add_up_and_tips_stay_apart(epos):
    """paidAmount sums the payments without tips; tipsAmount sums the tips."""
    order = await open_order(epos)
    total = order.total_amount.value
    after = await pay(epos, order.id, 1000, tips=150)
    after = await pay(epos, order.id, 500, tips=50)
    assert after.paid_amount.value == 1500 and after.tips_amount.value == 200
    assert after.payable is True and after.total_amount.value == total
    assert [p.paid_amount.value for p in after.payments] == [1000, 500]


async def test_full_payment_makes_order_not_payable_and_finalized(epos):
    """Paying what is due settles the order: payable false, status Finalized (our choice)."""
    order = await open_order(epos)
    await pay(epos, order.id, 100)
    done = await pay(epos, order.id, order.total_amount.value - 100, tips=200)
    assert done.payable is False and done.status is m.OrderStatus.FINALIZED
    assert done.paid_amount == done.total_amount


async def test_same_intent_same_amounts_is_counted_once(epos):
    """A retried payment returns the order without counting it again."""
    order = await open_order(epos)
    first = await pay(epos, order.id, 700, intent="pi_a", tips=100)
    again = await pay(epos, order.id, 700, intent="pi_a", tips=100)
    assert again.paid_amount.value == first.paid_amount.value == 700
    assert again.tips_amount.value == 100 and len(again.payments) == 1


async def test_retry_of_the_settling_payment_still_answers_the_order(epos):
    """Retrying the payment that finalized the order is not refused as 'not payable'."""
    order = await open_order(epos)
    await pay(epos, order.id, order.total_amount.value, intent="pi_all")
    again = await pay(epos, order.id, order.total_amount.value, intent="pi_all")
    assert again.paid_amount == again.total_amount and len(again.payments) == 1


@pytest.mark.parametrize("paid,tips", [(701, 100), (700, 0), (700, None)])
async def test_same_intent_different_amounts_is_conflict(epos, paid, tips):
    """The same paymentIntentId with other amounts is Conflict, and nothing changes."""
    order = await open_order(epos)
    await pay(epos, order.id, 700, intent="pi_a", tips=100)
    await conflict(pay(epos, order.id, paid, intent="pi_a", tips=tips))
    assert (await get(epos, order.id)).paid_amount.value == 700


async def test_same_intent_on_another_order_is_conflict(epos):
    """A payment intent belongs to one order."""
    one, two = await open_order(epos, "T1"), await open_order(epos, "T2")
    await pay(epos, one.id, 300, intent="pi_a")
    await conflict(pay(epos, two.id, 300, intent="pi_a"))
    assert (await get(epos, two.id)).paid_amount.value == 0


async def test_payment_under_the_live_lock_is_accepted(epos):
    """The holder's payment goes through."""
    order = await open_order(epos)
    await lock(epos, order.id, "L1", soon())
    assert (await pay(epos, order.id, 400, lock_id="L1")).paid_amount.value == 400


@pytest.mark.parametrize("lock_id", ["L2", None])
async def test_payment_not_under_the_live_lock_is_conflict(epos, lock_id):
    """Another lockId, or none, while a lock is live: Conflict naming the holder."""
    order = await open_order(epos)
    await lock(epos, order.id, "L1", soon())
    err = await conflict(pay(epos, order.id, 400, lock_id=lock_id))
    assert "L1" in err.debug_message
    assert (await get(epos, order.id)).paid_amount.value == 0


async def test_stale_lock_id_with_no_live_lock_is_accepted(epos):
    """The card is already charged: a stale lockId with nobody else holding is accepted."""
    order = await open_order(epos)
    await lock(epos, order.id, "L1", soon(-1))
    assert (await pay(epos, order.id, 400, lock_id="L1")).paid_amount.value == 400
    assert (await pay(epos, order.id, 400, lock_id="gone")).paid_amount.value == 800


async def test_more_than_due_is_conflict(epos):
    """Overpayment is refused so Dojo reverses it."""
    order = await open_order(epos)
    await pay(epos, order.id, 100)
    err = await conflict(pay(epos, order.id, order.total_amount.value))
    assert "due" in err.debug_message
    assert (await get(epos, order.id)).paid_amount.value == 100


async def test_wrong_currency_is_conflict(epos):
    """A payment in a currency other than the order's is refused."""
    order = await open_order(epos)
    await conflict(pay(epos, order.id, 100, currency="EUR"))


@pytest.mark.parametrize("state", ["paid", "canceled"])
async def test_non_payable_order_is_conflict(epos, state):
    """A settled or canceled order takes no payment."""
    order = await open_order(epos)
    if state == "paid":
        await pay(epos, order.id, order.total_amount.value)
    else:
        await epos.cancel_order_by_id(m.OrderIdParams(order_id=order.id), ctx())
    await conflict(pay(epos, order.id, 1))


async def test_unknown_order_is_not_found(epos):
    """No order: NotFound."""
    with pytest.raises(EposError) as err:
        await pay(epos, "ord_missing", 100)
    assert err.value.error_type is ErrorType.NOT_FOUND


@pytest.mark.parametrize("paid,tips", [(-1, None), (0, None), (0, 0), (100, -5)])
async def test_malformed_amounts_are_invalid_request(epos, paid, tips):
    """Negative amounts, or a payment of nothing, are InvalidRequest and change nothing."""
    order = await open_order(epos)
    with pytest.raises(EposError) as err:
        await pay(epos, order.id, paid, tips=tips)
    assert err.value.error_type is ErrorType.INVALID_REQUEST
    assert (await get(epos, order.id)).payments == []

