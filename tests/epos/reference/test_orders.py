"""CreateOrder, CancelOrderById, GetOrderById and HandleEvent on both databases."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from dojo_epos.contract import models as m
from dojo_epos.contract.errors import EposError, ErrorType
from dojo_epos.epos.reference.totals import compute_totals
from tests.epos.reference.conftest import ctx, gbp
from tests.epos.reference.helpers import get, open_order, pay


def burger(quantity=2) -> m.OrderItem:
    return m.OrderItem(
        name="Burger", plu="B1", quantity=quantity, amount_per_item=gbp(1000),
        modifiers=[m.Modifier(name="Cheese", plu="M1", quantity=2, amount_per_modifier=gbp(100))],
        sub_items=[m.OrderSubItem(name="Fries", plu="S1", quantity=1, amount_per_item=gbp(300),
                                  modifiers=[m.Modifier(name="Salt", plu="M2", quantity=1,
                                                        amount_per_modifier=gbp(10))])],
    )


def create(total, payments=(), dojo_id="do1", **kw) -> m.CreateOrderParams:
    return m.CreateOrderParams(
        items=kw.pop("items", [burger()]), total_amount=gbp(total), dojo_order_id=dojo_id,
        payments=list(payments), details=m.OrderDetails(order_type=m.OrderType.COLLECTION,
                                                        collection=m.CollectionDetails(asap=True)),
        **kw)


def payment(intent, value, tips=None):
    return m.Payment(payment_intent_id=intent, paid_amount=gbp(value),
                     tips_amount=gbp(tips) if tips else None)


# burger(): 2 x (1000 + 2x100 + 1x(300 + 10)) = 3020
async def test_create_order_stores_lines_and_counts_payments(epos):
    """CreateOrder stores the order; its payments count toward paidAmount at once."""
    order = await epos.create_order(create(3020, [payment("pi_1", 3020, tips=100)]), ctx())
    assert order.total_amount == gbp(3020) and order.paid_amount == gbp(3020)
    assert order.tips_amount == gbp(100) and order.payable is False
    assert order.status is m.OrderStatus.CONFIRMED
    assert order.items == [burger()]
    assert await get(epos, order.id) == order


async def test_create_order_with_part_payment_stays_payable(epos):
    """A part-paid Dojo order can take the rest through RecordOrderPayment."""
    order = await epos.create_order(create(3020, [payment("pi_1", 1000)]), ctx())
    assert order.payable is True
    assert (await pay(epos, order.id, 2020)).payable is False


async def test_create_order_accepts_taxes_added_or_included(epos):
    """totalAmount may include the tax lines or not; other totals are InvalidRequest."""
    vat = [m.TaxLine(name="VAT", amount_percentage=2000, amount_total=gbp(500))]
    disc = [m.Discount(name="Happy hour", amount_total=gbp(20))]
    added = await epos.create_order(create(3500 + 300, dojo_id="a", tax_lines=vat,
                                           discounts=disc,
                                           service_charge_amount=gbp(300)), ctx())
    assert added.total_amount == gbp(3800)
    included = await epos.create_order(create(3000, dojo_id="b", tax_lines=vat, discounts=disc),
                                       ctx())
    assert included.total_amount == gbp(3000) and included.tax_lines == vat
    with pytest.raises(EposError) as err:
        await epos.create_order(create(9999, dojo_id="c", tax_lines=vat), ctx())
    assert err.value.error_type is ErrorType.INVALID_REQUEST and "9999" in err.value.debug_message


@pytest.mark.parametrize("bad", ["currency", "overpaid", "negative", "quantity", "dup_intent"])
async def test_create_order_rejects_malformed_orders(epos, bad):
    """Mixed currencies, payments over the total, negatives: InvalidRequest, nothing stored."""
    kw: dict = {}
    payments = [payment("pi_1", 100)]
    if bad == "currency":
        payments = [m.Payment(payment_intent_id="pi_1", paid_amount=m.Money(
            value=100, currency_code="EUR"))]
    elif bad == "overpaid":
        payments = [payment("pi_1", 3021)]
    elif bad == "negative":
        kw["discounts"] = [m.Discount(name="x", amount_total=gbp(-5))]
    elif bad == "quantity":
        kw["items"] = [burger(quantity=0)]
    else:
        payments = [payment("pi_1", 100), payment("pi_1", 100)]
    with pytest.raises(EposError) as err:
        await epos.create_order(create(3020, payments, **kw), ctx())
    assert err.value.error_type is ErrorType.INVALID_REQUEST
    assert (await epos.search_orders(m.SearchOrdersParams(), ctx())).data == []


async def test_create_order_repeat_returns_same_order(epos):
    """A repeated dojoOrderId returns the stored order rather than a second one."""
    first = await epos.create_order(create(3020, [payment("pi_1", 3020)]), ctx())
    again = await epos.create_order(create(3020, [payment("pi_1", 3020)]), ctx())
    assert again == first
    assert len((await epos.search_orders(m.SearchOrdersParams(), ctx())).data) == 1


async def test_create_order_with_intent_used_elsewhere_is_conflict(epos):
    """A payment intent already recorded on another order cannot pay a new one."""
    await epos.create_order(create(3020, [payment("pi_1", 3020)]), ctx())
    with pytest.raises(EposError) as err:
        await epos.create_order(create(3020, [payment("pi_1", 3020)], dojo_id="other"), ctx())
    assert err.value.error_type is ErrorType.CONFLICT


async def test_stored_totals_reconcile_for_random_orders(epos):
    """Orders built at random read back with totals equal to the documented rule."""
    rng = random.Random(7)
    for n in range(12):
        items = [m.OrderItem(
            name=f"i{k}", plu=f"P{k}", quantity=rng.randint(1, 4),
            amount_per_item=gbp(rng.randint(0, 3000)),
            modifiers=[m.Modifier(name="m", plu="M", quantity=rng.randint(0, 3),
                                  amount_per_modifier=gbp(rng.randint(0, 500)))
                       for _ in range(rng.randint(0, 2))],
            sub_items=[m.OrderSubItem(name="s", plu="S", quantity=rng.randint(1, 2),
                                      amount_per_item=gbp(rng.randint(0, 800)))
                       for _ in range(rng.randint(0, 2))],
        ) for k in range(rng.randint(1, 4))]
        service = rng.randint(0, 400)
        expected = compute_totals(items, service_charge=service).total
        order = await epos.create_order(create(expected, dojo_id=f"r{n}", items=items,
                                               service_charge_amount=gbp(service)), ctx())
        read = await get(epos, order.id)
        assert read.total_amount.value == expected
        assert compute_totals(read.items, read.discounts, read.tax_lines,
                              read.service_charge_amount.value).total == expected


async def test_cancel_unpaid_order_and_repeat(epos):
    """Cancel makes the order Canceled and not payable; cancelling again answers the same."""
    order = await open_order(epos)
    canceled = await epos.cancel_order_by_id(m.OrderIdParams(order_id=order.id), ctx())
    assert canceled.status is m.OrderStatus.CANCELED and canceled.payable is False
    again = await epos.cancel_order_by_id(m.OrderIdParams(order_id=order.id), ctx())
    assert again.status is m.OrderStatus.CANCELED


@pytest.mark.parametrize("state", ["part_paid", "finalized"])
async def test_cancel_paid_or_finalized_order_is_conflict(epos, state):
    """An order with money on it cannot be canceled."""
    order = await open_order(epos)
    await pay(epos, order.id, 100 if state == "part_paid" else order.total_amount.value)
    with pytest.raises(EposError) as err:
        await epos.cancel_order_by_id(m.OrderIdParams(order_id=order.id), ctx())
    assert err.value.error_type is ErrorType.CONFLICT


@pytest.mark.parametrize("call", ["get", "cancel", "bill"])
async def test_unknown_order_is_not_found(epos, call):
    """Reading or canceling a missing order: NotFound."""
    method = {"get": epos.get_order_by_id, "cancel": epos.cancel_order_by_id,
              "bill": epos.get_order_bill}[call]
    with pytest.raises(EposError) as err:
        await method(m.OrderIdParams(order_id="ord_missing"), ctx())
    assert err.value.error_type is ErrorType.NOT_FOUND


def event(event_id, intent, status, kind=m.EventType.PAYMENT_INTENT_STATUS_UPDATED):
    return m.HandleEventParams(
        id=event_id, account_id="acc_1", event=kind, created_at=datetime.now(UTC),
        data=m.PaymentIntentEvent(payment_intent_id=intent, payment_status=status,
                                  capture_mode=m.CaptureMode.AUTO))


async def test_reversed_payment_event_stops_it_counting_once(epos):
    """A Reversed status takes the payment out of paidAmount; the repeat delivery is ignored."""
    order = await epos.create_order(create(3020, [payment("pi_1", 1000), payment("pi_2", 500)]),
                                    ctx())
    assert await epos.handle_event(event("ev1", "pi_1", m.PaymentIntentStatus.REVERSED), ctx()) \
        == m.EmptyResult()
    after = await get(epos, order.id)
    assert after.paid_amount == gbp(500) and [p.payment_intent_id for p in after.payments] == [
        "pi_2"]
    await epos.handle_event(event("ev1", "pi_1", m.PaymentIntentStatus.REVERSED), ctx())
    assert (await get(epos, order.id)).paid_amount == gbp(500)


async def test_events_for_unknown_intents_and_late_created_are_harmless(epos):
    """An event about an intent we never saw answers {}; a late 'created' keeps Captured."""
    order = await epos.create_order(create(3020, [payment("pi_1", 3020)]), ctx())
    await epos.handle_event(event("e0", "pi_unknown", m.PaymentIntentStatus.CAPTURED), ctx())
    await epos.handle_event(event("e1", "pi_1", m.PaymentIntentStatus.CAPTURED), ctx())
    await epos.handle_event(event("e2", "pi_1", m.PaymentIntentStatus.CREATED,
                                  m.EventType.PAYMENT_INTENT_CREATED), ctx())
    from sqlalchemy import select

    from dojo_epos.epos.reference import schema as s
    async with epos.db.read() as conn:
        status = (await conn.execute(select(s.payments.c.intent_status).where(
            s.payments.c.payment_intent_id == "pi_1"))).scalar_one()
    assert status == "Captured"
    assert (await get(epos, order.id)).paid_amount == gbp(3020)
