"""contract.amounts: how an order's lines add up, and telling included from added taxes."""

from __future__ import annotations

from dojo_epos.contract import models as m
from dojo_epos.contract.amounts import breakdown, item_amount


def gbp(value: int) -> m.Money:
    return m.Money(value=value, currency_code="GBP")


BURGER = m.OrderItem(name="Burger", plu="B", quantity=2, amount_per_item=gbp(1000), modifiers=[
    m.Modifier(name="Cheese", plu="C", quantity=2, amount_per_modifier=gbp(100))], sub_items=[
    m.OrderSubItem(name="Fries", plu="F", quantity=1, amount_per_item=gbp(300), modifiers=[
        m.Modifier(name="Salt", plu="S", quantity=1, amount_per_modifier=gbp(50))])])


def order(total: int, **extra: object) -> m.Order:
    return m.Order.model_validate({
        "id": "o1", "status": "Confirmed", "items": [BURGER.model_dump(by_alias=True)],
        "details": {"orderType": "DineIn", "dineIn": {"tableId": "T1"}},
        "totalAmount": {"value": total, "currencyCode": "GBP"}, **extra})


def test_a_line_costs_quantity_times_unit_price_modifiers_and_sub_items() -> None:
    assert item_amount(BURGER) == 2 * (1000 + 2 * 100 + (300 + 50))


def test_included_taxes_and_service_charge_add_up() -> None:
    found = breakdown(order(3100 + 400, serviceChargeAmount={"value": 400, "currencyCode": "GBP"},
                            taxLines=[{"name": "VAT", "amountTotal": {"value": 583, "currencyCode": "GBP"}}],
                            paidAmount={"value": 500, "currencyCode": "GBP"}))
    assert (found.items, found.service_charge, found.taxes, found.taxes_included) == (3100, 400, 583, True)
    assert found.adds_up and found.computed_total == found.total and found.due == 3000


def test_added_taxes_and_discounts_add_up() -> None:
    found = breakdown(order(3100 - 100 + 620, discounts=[
        {"name": "Happy hour", "amountTotal": {"value": 100, "currencyCode": "GBP"}}],
        taxLines=[{"name": "VAT", "amountTotal": {"value": 620, "currencyCode": "GBP"}}]))
    assert found.taxes_included is False and found.computed_total == found.total


def test_a_total_the_lines_do_not_reach_is_told() -> None:
    found = breakdown(order(9999))
    assert not found.adds_up and found.computed_total == 3100
