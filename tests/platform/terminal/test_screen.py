"""The virtual terminal's pure rules: order labels, amounts, splits and what failures say."""

from __future__ import annotations

import pytest

from dojo_epos.contract import models as m
from dojo_epos.contract.errors import EposError, ErrorType
from dojo_epos.platform.outcome import Failure, InvocationResult
from dojo_epos.platform.terminal.screen import (
    LABEL_LIMIT,
    TerminalError,
    explain_failure,
    format_money,
    order_labels,
    parse_amount,
    plan_payments,
    split_equal,
)


def order(order_id: str, display_name: str | None = None, table: str | None = None) -> m.Order:
    return m.Order(id=order_id, status=m.OrderStatus("Accepted"), display_name=display_name,
                   details=m.OrderDetails(order_type=m.OrderType("DineIn"),
                                          dine_in=m.DineInDetails(table_id=table)))


def test_label_prefers_display_name_then_table_then_id() -> None:
    """§2.1 step 1a: displayName, else dineIn.tableId, else id."""
    labels = order_labels([order("o1", "Window seat", "T1"), order("o2", None, "T2"),
                           order("o3"), order("o4", "  ", "T9")])
    assert labels == ["Window seat", "T2", "o3", "T9"]


def test_duplicate_labels_are_all_numbered_in_list_order() -> None:
    """Orders that would look alike get " - n" (e.g. "Table1 - 1"); unique ones stay plain."""
    labels = order_labels([order("a", "Table1"), order("b", "Bar"), order("c", "Table1"),
                           order("d", None, "Table1")])
    assert labels == ["Table1 - 1", "Bar", "Table1 - 2", "Table1 - 3"]


def test_long_labels_are_cut_to_24_characters() -> None:
    name = "The long table by the window on the left"
    (label,) = order_labels([order("o1", name)])
    assert label == name[:LABEL_LIMIT]
    assert len(label) == 24


def test_long_duplicates_keep_their_number_within_24_characters() -> None:
    """Truncation shortens the name, not the number, so the two still differ on screen."""
    first, second = order_labels([order("a", "A" * 30), order("b", "A" * 24 + "different")])
    assert (first, second) == ("A" * 20 + " - 1", "A" * 20 + " - 2")
    assert len(first) == len(second) == LABEL_LIMIT


@pytest.mark.parametrize(("text", "minor"), [("12.50", 1250), ("12", 1200), ("0.5", 50),
                                             ("£3.07", 307), (" ", 0), ("", 0)])
def test_amounts_typed_by_the_waiter_become_minor_units(text: str, minor: int) -> None:
    assert parse_amount(text) == minor


@pytest.mark.parametrize("text", ["abc", "-1", "1.234", "nan", "inf", "1e20"])
def test_bad_amounts_are_refused(text: str) -> None:
    with pytest.raises(TerminalError):
        parse_amount(text)


def test_money_is_formatted_with_the_currency() -> None:
    assert format_money(11306, "GBP") == "£113.06"
    assert format_money(5, "EUR") == "€0.05"
    assert format_money(1999, "USD") == "19.99 USD"


def test_equal_split_gives_the_odd_pennies_to_the_first_parts() -> None:
    assert split_equal(1001, 3) == [334, 334, 333]
    assert sum(split_equal(9306, 7)) == 9306


def test_a_split_into_more_parts_than_pennies_is_refused() -> None:
    with pytest.raises(TerminalError):
        split_equal(3, 4)


def test_payment_plans() -> None:
    """Full pays the balance, equal splits it, custom pays one amount not above the balance."""
    assert plan_payments(5000, "full", 1, 0) == [5000]
    assert plan_payments(5000, "equal", 2, 0) == [2500, 2500]
    assert plan_payments(5000, "custom", 1, 1200) == [1200]
    with pytest.raises(TerminalError, match="more than the balance"):
        plan_payments(5000, "custom", 1, 5001)
    with pytest.raises(TerminalError, match="Nothing left"):
        plan_payments(0, "full", 1, 0)


def failed(failure: Failure, error: EposError | None = None) -> InvocationResult:
    return InvocationResult(capability="x", ok=False, failure=failure, error=error)


def test_a_lock_conflict_reads_like_a_terminal() -> None:
    conflict = failed(Failure.EPOS_ERROR, EposError(ErrorType.CONFLICT, "locked by Joe"))
    assert explain_failure("CreateOrderLock", conflict) == (
        "Order in use at another terminal — try again")
    assert "reversed" in explain_failure("RecordOrderPayment", conflict)


def test_transport_failures_say_the_till_is_unreachable() -> None:
    assert "No answer" in explain_failure("SearchOrders", failed(Failure.TIMED_OUT))
    assert "Cannot reach" in explain_failure("SearchOrders", failed(Failure.NOT_CONNECTED))
    assert "not found" in explain_failure(
        "GetOrderById", failed(Failure.EPOS_ERROR, EposError(ErrorType.NOT_FOUND, "gone")))
