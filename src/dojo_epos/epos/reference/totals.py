"""How the reference EPOS computes an order's totals: one rule, pure integer arithmetic.

Dojo publishes no formula (domain notes §3.3), so this module is the rule, and everything that shows
an amount (the order, the bill, search results, payment checks) goes through it. The line rule
(:func:`item_amount`) is :mod:`dojo_epos.contract.amounts`'s, shared with the terminal's bills:

- a modifier costs ``quantity x amountPerModifier`` per *single* parent item;
- a sub-item costs ``quantity x (amountPerItem + its modifiers)`` per single parent item
  (quantities of sub-items, like those of modifiers, count per one parent);
- an item costs ``quantity x (amountPerItem + its modifiers + its sub-items)``;
- ``subtotal`` is the sum of the items;
- ``discounts`` is the sum of the discounts' ``amountTotal`` (an ``amountPercentage`` is
  descriptive; the amount is what counts, whatever ``affectedPlu`` it names);
- ``taxes`` is the sum of the tax lines' ``amountTotal``; when the order's prices include tax
  (``taxes_included``, as UK menu prices include VAT) the tax lines only report the tax inside the
  prices, otherwise they are added on top;
- ``total = subtotal - discounts + (taxes unless included) + serviceCharge``. Tips are never part of
  it, and ``paidAmount`` counts against it.

Percentages are x100 like the contract's (12.5% = 1250); rounding is half up, to the minor unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dojo_epos.contract import models as m
from dojo_epos.contract.amounts import item_amount

__all__ = [
    "Totals",
    "compute_totals",
    "included_tax",
    "item_amount",
    "percentage_of",
]


@dataclass(frozen=True, slots=True)
class Totals:
    """The amounts of one order, in minor units of its currency."""

    subtotal: int
    discounts: int
    taxes: int
    service_charge: int
    taxes_included: bool
    total: int


def compute_totals(
    items: Sequence[m.OrderItem],
    discounts: Sequence[m.Discount] = (),
    tax_lines: Sequence[m.TaxLine] = (),
    service_charge: int = 0,
    *,
    taxes_included: bool = False,
) -> Totals:
    """The order's totals by the module's rule."""
    subtotal = sum(item_amount(item) for item in items)
    discount_total = sum(d.amount_total.value for d in discounts)
    tax_total = sum(t.amount_total.value for t in tax_lines)
    total = subtotal - discount_total + (0 if taxes_included else tax_total) + service_charge
    return Totals(subtotal, discount_total, tax_total, service_charge, taxes_included, total)


def percentage_of(amount: int, percentage_x100: int) -> int:
    """``amount x percentage``, half up: ``percentage_of(1000, 1250) == 125``."""
    return (amount * percentage_x100 + 5000) // 10000


def included_tax(gross: int, percentage_x100: int) -> int:
    """The tax contained in a tax-inclusive ``gross`` amount, half up (VAT fraction)."""
    return (2 * gross * percentage_x100 + 10000 + percentage_x100) // (2 * (10000 + percentage_x100))
