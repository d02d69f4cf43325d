"""What the virtual terminal's screen says: order labels, amounts, splits and failure messages.

Pure functions, no I/O: the rules a Dojo card machine applies when it lists orders (domain notes
§2.1 step 1a), takes amounts typed by a waiter, splits a bill, and words a refusal for the waiter.
:mod:`.terminal` makes the calls and uses these to decide and to explain.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from dojo_epos.contract import models as m
from dojo_epos.contract.bills import BillSection
from dojo_epos.contract.errors import ErrorType
from dojo_epos.platform.outcome import Failure, InvocationResult

__all__ = [
    "LABEL_LIMIT",
    "TerminalError",
    "amount_of",
    "bill_text",
    "currency_of",
    "due_of",
    "explain_failure",
    "format_money",
    "order_labels",
    "parse_amount",
    "plan_payments",
    "split_equal",
]

#: A terminal shows at most this many characters of an order's label (domain notes §2.1 step 1a).
LABEL_LIMIT = 24

_SYMBOLS = {"GBP": "£", "EUR": "€"}


class TerminalError(Exception):
    """Something the terminal refuses before calling anything (bad amount, nothing due...)."""


def order_labels(orders: Sequence[m.Order], limit: int = LABEL_LIMIT) -> list[str]:
    """The label a terminal shows for each order, in order (domain notes §2.1 step 1a).

    The label is the first non-blank of ``displayName``, ``details.dineIn.tableId`` and ``id``.
    Labels that would show the same (after truncation) are all numbered ``" - 1"``, ``" - 2"``...
    in list order, and every label is cut to ``limit`` characters, shortening the name rather than
    the number, so two orders never look alike on the screen.
    """
    bases = [_base_label(o)[:limit] for o in orders]
    counts: dict[str, int] = {}
    for base in bases:
        counts[base] = counts.get(base, 0) + 1
    seen: dict[str, int] = {}
    labels = []
    for base in bases:
        if counts[base] == 1:
            labels.append(base)
            continue
        seen[base] = seen.get(base, 0) + 1
        suffix = f" - {seen[base]}"
        labels.append(base[: max(limit - len(suffix), 0)] + suffix)
    return labels


def _base_label(order: m.Order) -> str:
    dine_in = order.details.dine_in
    for candidate in (order.display_name, dine_in.table_id if dine_in else None, order.id):
        if candidate is not None and candidate.strip():
            return candidate.strip()
    return order.id


def parse_amount(text: str) -> int:
    """An amount typed by the waiter ("12.50", "12") in minor units; raises TerminalError."""
    cleaned = text.strip().lstrip("£€").strip()
    if not cleaned:
        return 0
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise TerminalError(f"{text!r} is not an amount") from None
    if not value.is_finite() or value < 0:
        raise TerminalError(f"{text!r} is not an amount")
    minor = value * 100
    if minor != minor.to_integral_value():
        raise TerminalError(f"{text!r} has more than two decimal places")
    if minor > 10**12:
        raise TerminalError(f"{text!r} is too large")
    return int(minor)


def format_money(minor: int, currency: str) -> str:
    """``1250, "GBP"`` -> ``£12.50``; other currencies -> ``12.50 XYZ``."""
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    symbol = _SYMBOLS.get(currency)
    if symbol:
        return f"{sign}{symbol}{whole}.{cents:02d}"
    return f"{sign}{whole}.{cents:02d} {currency}"


def split_equal(due: int, parts: int) -> list[int]:
    """``due`` in ``parts`` equal payments; the first ones take the odd pennies."""
    if parts < 1:
        raise TerminalError("split into at least 1 part")
    if parts > due:
        raise TerminalError(f"cannot split {due} pennies into {parts} parts")
    share, odd = divmod(due, parts)
    return [share + (1 if n < odd else 0) for n in range(parts)]


def plan_payments(due: int, mode: str, parts: int, custom: int) -> list[int]:
    """The payments a session takes: ``full``, ``equal`` (in ``parts``) or one ``custom`` amount."""
    if due <= 0:
        raise TerminalError("Nothing left to pay on this order")
    if mode == "full":
        return [due]
    if mode == "equal":
        return split_equal(due, parts)
    if mode == "custom":
        if custom <= 0:
            raise TerminalError("Enter the amount to pay")
        if custom > due:
            raise TerminalError("Amount is more than the balance due")
        return [custom]
    raise TerminalError(f"unknown payment mode {mode!r}")


def explain_failure(capability: str, result: InvocationResult) -> str:
    """What a terminal shows when a call fails (the EPOS's own message is shown underneath)."""
    if result.failure is Failure.EPOS_ERROR and result.error is not None:
        kind = result.error.error_type
        if kind is ErrorType.CONFLICT:
            if capability in ("CreateOrderLock", "ExtendOrderLock"):
                return "Order in use at another terminal — try again"
            if capability == "RecordOrderPayment":
                return "Payment declined by the till — the card payment will be reversed"
            return "The till refused — try again"
        if kind is ErrorType.NOT_FOUND:
            return "Order not found — it may have been closed at the till"
        if kind is ErrorType.INVALID_REQUEST:
            return "The till did not accept the request"
        return "The till reported an error — try again"
    if result.failure is Failure.TIMED_OUT:
        return "No answer from the till — try again"
    if result.failure in (Failure.NOT_CONNECTED, Failure.TRANSPORT_ERROR):
        return "Cannot reach the till — check its connection"
    if result.failure is Failure.NOT_REGISTERED:
        return "Pay at Table is not set up for this till"
    return "The till's answer was not understood"


def bill_text(section: BillSection) -> list[str]:
    """A bill header or footer as the plain lines a terminal prints (images are not drawn)."""
    lines: list[str] = []
    for line in section.lines:
        payload: Any = getattr(line, _PAYLOAD.get(line.line_type, ""), None)
        text = _describe(line.line_type, payload)
        if text is not None:
            lines.append(text)
    return lines


_PAYLOAD = {
    "Text": "text", "URL": "url", "MerchantName": "merchant_name",
    "MerchantAddress": "merchant_address", "MerchantPhoneNumber": "merchant_phone_number",
    "MerchantEmailAddress": "merchant_email_address", "TaxNumber": "tax_number",
    "HorizontalLine": "horizontal_line", "Logo": "logo", "Image": "image",
}


def _describe(kind: str, payload: Any) -> str | None:
    if payload is None:
        return None
    if kind == "Text":
        return str(payload.value)
    if kind == "URL":
        return str(payload.url)
    if kind == "MerchantName":
        return str(payload.name)
    if kind == "MerchantAddress":
        return ", ".join([*payload.address_lines, payload.postcode])
    if kind == "MerchantPhoneNumber":
        return str(payload.phone_number)
    if kind == "MerchantEmailAddress":
        return str(payload.email_address)
    if kind == "TaxNumber":
        return f"{payload.name} {payload.number}"
    if kind == "HorizontalLine":
        return "—" * 12
    return None  # logos and images: SVG is never inlined into the page


def amount_of(money: m.Money | None) -> int:
    return money.value if money is not None else 0


def due_of(order: m.Order) -> int:
    """What is left to pay: totalAmount minus paidAmount (tips are never part of either)."""
    return amount_of(order.total_amount) - amount_of(order.paid_amount)


def currency_of(order: m.Order) -> str:
    return order.total_amount.currency_code if order.total_amount is not None else "GBP"
