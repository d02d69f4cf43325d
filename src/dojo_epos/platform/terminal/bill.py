"""What the terminal's bill screen lists, so that a person adding it up reaches the total.

Every line shows its unit price, each modifier and sub-item at its price, and the line's amount;
below them the items' sum, each discount, the taxes (added, or noted as included in the prices),
the service charge, the total, what is paid, the tips (never part of the total) and what is due:
each once. The arithmetic is :mod:`dojo_epos.contract.amounts`'s, the rule the reference EPOS
prices with; when an EPOS's total does not match its lines the screen says by how much instead of
pretending. Pure, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from dojo_epos.contract import models as m
from dojo_epos.contract.amounts import Breakdown, breakdown, item_amount

__all__ = ["BillLine", "BillScreen", "Extra", "bill_screen"]


@dataclass(frozen=True, slots=True)
class Extra:
    """A modifier or sub-item under a line: its name, count per dish and price per dish."""

    name: str
    quantity: int
    amount: int
    kind: str  # "modifier" | "sub-item"


@dataclass(frozen=True, slots=True)
class BillLine:
    name: str
    quantity: int
    unit: int
    extras: tuple[Extra, ...]
    amount: int
    note: str | None


@dataclass(frozen=True, slots=True)
class BillScreen:
    """The bill as the screen lists it; ``amounts`` says whether the lines reach the total."""

    lines: tuple[BillLine, ...]
    discounts: tuple[tuple[str, int], ...]
    taxes: tuple[tuple[str, int], ...]
    amounts: Breakdown

    @property
    def taxes_added(self) -> bool:
        return self.amounts.taxes_included is False and bool(self.taxes)

    @property
    def mismatch(self) -> int:
        """How far the EPOS's total is from what the lines add up to (0 when they match)."""
        return 0 if self.amounts.adds_up else self.amounts.total - self.amounts.computed_total


def _extras(item: m.OrderItem) -> tuple[Extra, ...]:
    extras = [Extra(mod.name, mod.quantity, mod.quantity * mod.amount_per_modifier.value, "modifier")
              for mod in item.modifiers]
    for sub in item.sub_items:
        extras.append(Extra(sub.name, sub.quantity, sub.quantity * sub.amount_per_item.value,
                            "sub-item"))
        extras += [Extra(f"{sub.name}: {mod.name}", mod.quantity * sub.quantity,
                         sub.quantity * mod.quantity * mod.amount_per_modifier.value, "modifier")
                   for mod in sub.modifiers]
    return tuple(extras)


def bill_screen(order: m.Order) -> BillScreen:
    """The lines and amounts of ``order`` as the bill screen shows them."""
    lines = tuple(BillLine(item.name, item.quantity, item.amount_per_item.value, _extras(item),
                           item_amount(item), item.note) for item in order.items)
    return BillScreen(
        lines=lines,
        discounts=tuple((d.name, d.amount_total.value) for d in order.discounts),
        taxes=tuple((t.name or "Tax", t.amount_total.value) for t in order.tax_lines),
        amounts=breakdown(order),
    )
