"""How an order's lines add up to its total, read from the order alone (no I/O).

Dojo publishes no formula (domain notes §3.3); this is the rule the project uses on both sides: the
reference EPOS prices with it (:mod:`dojo_epos.epos.reference.totals`) and the virtual terminal and
the till show bills with it, so what a person adds up on a bill is what the EPOS charged.

- a modifier costs ``quantity x amountPerModifier`` per *single* parent item;
- a sub-item costs ``quantity x (amountPerItem + its modifiers)`` per single parent item;
- an item costs ``quantity x (amountPerItem + its modifiers + its sub-items)``;
- ``total = items - discounts + (taxes unless the prices include them) + serviceCharge``; tips are
  never part of it.

An order on the wire does not say whether its prices include tax; :func:`breakdown` tells from the
amounts (the total matches one reading or the other), and says when it matches neither.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dojo_epos.contract import models as m

__all__ = ["Breakdown", "breakdown", "item_amount", "modifiers_amount", "sub_item_amount"]


def modifiers_amount(modifiers: Iterable[m.Modifier]) -> int:
    """What a list of modifiers adds to one parent item."""
    return sum(mod.quantity * mod.amount_per_modifier.value for mod in modifiers)


def sub_item_amount(sub: m.OrderSubItem) -> int:
    """What a sub-item (with its modifiers) adds to one parent item."""
    return sub.quantity * (sub.amount_per_item.value + modifiers_amount(sub.modifiers))


def item_amount(item: m.OrderItem) -> int:
    """What one order line costs: quantity times (unit price + modifiers + sub-items)."""
    per_unit = (item.amount_per_item.value + modifiers_amount(item.modifiers)
                + sum(sub_item_amount(sub) for sub in item.sub_items))
    return item.quantity * per_unit


@dataclass(frozen=True, slots=True)
class Breakdown:
    """An order's amounts as a bill shows them, in minor units."""

    items: int
    discounts: int
    taxes: int
    service_charge: int
    total: int
    paid: int
    tips: int
    #: True when the prices include the taxes (UK VAT), False when taxes are added on top,
    #: None when the total matches neither reading.
    taxes_included: bool | None

    @property
    def due(self) -> int:
        return self.total - self.paid

    @property
    def computed_total(self) -> int:
        """The total the lines add up to (taxes added unless they are included)."""
        added = 0 if self.taxes_included in (True, None) else self.taxes
        return self.items - self.discounts + added + self.service_charge

    @property
    def adds_up(self) -> bool:
        return self.taxes_included is not None


def _value(money: m.Money | None) -> int:
    return money.value if money is not None else 0


def breakdown(order: m.Order) -> Breakdown:
    """The amounts of ``order``, and whether its lines add up to its total."""
    items = sum(item_amount(item) for item in order.items)
    discounts = sum(d.amount_total.value for d in order.discounts)
    taxes = sum(t.amount_total.value for t in order.tax_lines)
    service = _value(order.service_charge_amount)
    total = _value(order.total_amount)
    base = items - discounts + service
    included: bool | None
    if total == base:
        included = True
    elif total == base + taxes:
        included = False
    else:
        included = None
    return Breakdown(items, discounts, taxes, service, total, _value(order.paid_amount),
                     _value(order.tips_amount), included)
