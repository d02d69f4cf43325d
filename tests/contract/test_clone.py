"""Cloning contract models."""

from __future__ import annotations

from datetime import UTC, datetime

from dojo_epos.contract import models as m
from dojo_epos.contract.clone import clone


def _order() -> m.Order:
    return m.Order.model_validate({
        "id": "o1", "status": "Accepted", "details": {"orderType": "DineIn", "dineIn": {"tableId": "T1"}},
        "items": [{"name": "Burger", "plu": "B1", "quantity": 2,
                   "amountPerItem": {"value": 1000, "currencyCode": "GBP"},
                   "modifiers": [{"name": "Cheese", "plu": "C1", "quantity": 1,
                                  "amountPerModifier": {"value": 100, "currencyCode": "GBP"}}]}],
        "customer": {"name": "Ann"}, "createdAt": "2026-01-01T10:00:00Z",
    })


def test_clone_is_equal_and_shares_nothing_mutable():
    order = _order()
    copy = clone(order)
    assert copy == order and copy.model_dump_json() == order.model_dump_json()
    copy.items[0].modifiers[0].amount_per_modifier.value = 1
    copy.items.append(copy.items[0])
    copy.details.dine_in.table_id = "T9"  # type: ignore[union-attr]
    copy.customer.name = "Bob"  # type: ignore[union-attr]
    assert order == _order()
    assert copy.created_at == datetime(2026, 1, 1, 10, tzinfo=UTC)
