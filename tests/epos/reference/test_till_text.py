"""What the till prints: which orders it lists by default."""

from __future__ import annotations

import pytest

from dojo_epos.contract import models as m
from dojo_epos.epos.reference.till_text import MenuLineError, is_open, parse_lines


def order(status: str, total: int, paid: int) -> m.Order:
    return m.Order.model_validate({
        "id": "o1", "status": status, "details": {"orderType": "DineIn", "dineIn": {"tableId": "T1"}},
        "totalAmount": {"value": total, "currencyCode": "GBP"},
        "paidAmount": {"value": paid, "currencyCode": "GBP"}})


@pytest.mark.parametrize(("status", "total", "paid", "listed"), [
    ("Confirmed", 1000, 0, True), ("Confirmed", 1000, 400, True), ("Confirmed", 0, 0, True),
    ("Confirmed", 1000, 1000, False), ("Finalized", 1000, 1000, False), ("Canceled", 1000, 0, False),
])
def test_paid_and_closed_orders_are_not_listed_by_default(status: str, total: int, paid: int,
                                                          listed: bool) -> None:
    assert is_open(order(status, total, paid)) is listed


def test_lines_parse_case_insensitively_and_unknowns_are_named() -> None:
    (burger,) = parse_lines(["mn-burg*2+mod-cheese"])
    assert burger.quantity == 2 and [mod.plu for mod in burger.modifiers] == ["MOD-CHEESE"]
    with pytest.raises(MenuLineError, match="unknown modifier 'MOD-X'"):
        parse_lines(["MN-BURG+MOD-X"])
    with pytest.raises(MenuLineError, match="at least 1"):
        parse_lines(["MN-BURG*0"])
