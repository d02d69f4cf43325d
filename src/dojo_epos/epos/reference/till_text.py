"""What the till reads and prints for a person: menu lines typed at it, orders and the menu shown.

Staff type lines as ``PLU``, ``PLU*QTY`` or ``PLU*QTY+MODIFIER+MODIFIER``; an unknown PLU or modifier
is refused by name, with the closest menu entries (:mod:`difflib`), so a typo is easy to fix. Orders
print in pounds with every modifier and sub-item at its price, the discounts, the tax included, the
service charge, the total, what is paid and what is due, so the lines visibly add up to the total
(the arithmetic is :mod:`.totals`'s). Pure functions, no I/O; the ``dojo-epos epos till`` commands
print what they return.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence

from dojo_epos.contract import models as m
from dojo_epos.contract.amounts import breakdown, item_amount
from dojo_epos.epos.reference.bill import format_money
from dojo_epos.epos.reference.menu import MENU, MODIFIERS, line

__all__ = ["MenuLineError", "is_open", "menu_text", "order_text", "parse_lines"]

#: How many close matches an error names.
SUGGESTIONS = 3


class MenuLineError(ValueError):
    """A line typed at the till that does not name the menu; the message says what to type."""


def _closest(word: str, names: Mapping[str, str]) -> str:
    """``"MN-BURG (Dry-aged beef burger), ..."``: the entries closest to ``word`` by PLU or name."""
    by_name = {name.lower(): plu for plu, name in names.items()}
    found = [plu for plu, name in names.items() if word and word.lower() in name.lower()]
    found += difflib.get_close_matches(word.upper(), list(names), n=SUGGESTIONS, cutoff=0.4)
    found += [by_name[n] for n in difflib.get_close_matches(word.lower(), list(by_name),
                                                             n=SUGGESTIONS, cutoff=0.5)]
    unique = list(dict.fromkeys(found))[:SUGGESTIONS]
    if not unique:
        return "see `dojo-epos epos till menu`"
    return "closest: " + ", ".join(f"{plu} ({names[plu]})" for plu in unique)


def parse_lines(specs: Iterable[str], currency: str = "GBP") -> list[m.OrderItem]:
    """Order lines from ``PLU[*QTY][+MOD...]`` specs; raises :class:`MenuLineError` naming the
    first unknown PLU or modifier, or the malformed quantity."""
    items = []
    dishes = {plu: entry.name for plu, entry in MENU.items()}
    options = {plu: name for plu, (name, _price) in MODIFIERS.items()}
    for spec in specs:
        head, *mods = spec.strip().split("+")
        plu, star, qty_text = head.partition("*")
        plu = plu.strip().upper()
        if plu not in MENU:
            raise MenuLineError(f"unknown PLU {plu!r} in {spec!r}; {_closest(plu, dishes)}")
        for mod in mods:
            if mod.strip().upper() not in MODIFIERS:
                raise MenuLineError(f"unknown modifier {mod.strip()!r} in {spec!r}; "
                                    f"{_closest(mod.strip(), options)}")
        try:
            qty = int(qty_text) if star else 1
        except ValueError:
            qty = 0
        if qty < 1:
            raise MenuLineError(f"the quantity in {spec!r} must be a whole number of at least 1 "
                                "(PLU*QTY, e.g. MN-BURG*2)")
        items.append(line(plu, qty, [mod.strip().upper() for mod in mods], currency))
    return items


def _money(value: int, currency: str) -> str:
    return format_money(m.Money(value=value, currency_code=currency))


def menu_text(currency: str = "GBP") -> list[str]:
    """The menu as the till shows it: dishes with their parts, then the modifiers."""
    lines = ["Dishes and drinks (PLU, name, price):"]
    for entry in MENU.values():
        lines.append(f"  {entry.plu:<10} {entry.name:<32} {_money(entry.price, currency):>8}")
        for sub_plu, name, price in entry.parts:
            extra = f"+{_money(price, currency)}" if price else "included"
            lines.append(f"  {'':<10}   with {name} ({sub_plu}) {extra}")
    lines.append("Modifiers (add as PLU+MODIFIER, price per dish):")
    for plu, (name, price) in MODIFIERS.items():
        lines.append(f"  {plu:<12} {name:<30} {_money(price, currency):>8}")
    lines.append("Order lines: PLU, PLU*QTY or PLU*QTY+MODIFIER (e.g. MN-BURG*2+MOD-CHEESE)")
    return lines


def is_open(order: m.Order) -> bool:
    """Whether the till lists the order by default: not closed, and not fully paid."""
    amounts = breakdown(order)
    closed = order.status in (m.OrderStatus.FINALIZED, m.OrderStatus.CANCELED, m.OrderStatus.FAILED)
    return not closed and not (amounts.total > 0 and amounts.due <= 0)


def _currency(order: m.Order) -> str:
    return order.total_amount.currency_code if order.total_amount else "GBP"


def _item_lines(index: int, item: m.OrderItem, currency: str) -> list[str]:
    each = item.amount_per_item.value
    lines = [f"  [{index}] {item.quantity} x {item.name} ({item.plu}) {_money(each, currency)} each"
             f"  = {_money(item_amount(item), currency)}"]
    for mod in item.modifiers:
        count = f" x{mod.quantity}" if mod.quantity > 1 else ""
        lines.append(f"        + {mod.name}{count} ({mod.plu}) "
                     f"{_money(mod.quantity * mod.amount_per_modifier.value, currency)} per dish")
    for sub in item.sub_items:
        price = _money(sub.quantity * sub.amount_per_item.value, currency)
        lines.append(f"        · {sub.name} ({sub.plu}) {price if sub.amount_per_item.value else 'included'}")
    if item.note:
        lines.append(f"        note: {item.note}")
    return lines


def order_text(order: m.Order) -> list[str]:
    """One order as the till prints it: heading, lines at their prices, then the amounts."""
    currency = _currency(order)
    dine_in = order.details.dine_in
    table = dine_in.table_id if dine_in and dine_in.table_id else "-"
    opened = order.created_at.strftime("%Y-%m-%d %H:%M") if order.created_at else ""
    heading = [order.id]
    if order.reference:
        heading.append(f"ref {order.reference}")
    heading += [f"table {table}", order.status.value]
    if opened:
        heading.append(f"opened {opened}")
    lines = ["  ".join(heading)]
    for index, item in enumerate(order.items):
        lines += _item_lines(index, item, currency)
    lines.append("      " + " · ".join(_amounts(order, currency)))
    return lines


def _amounts(order: m.Order, currency: str) -> Sequence[str]:
    amounts = breakdown(order)
    parts = [f"items {_money(amounts.items, currency)}"]
    parts += [f"{d.name} -{_money(d.amount_total.value, currency)}" for d in order.discounts]
    taxes = [f"{t.name or 'tax'} {_money(t.amount_total.value, currency)}" for t in order.tax_lines]
    if taxes and amounts.taxes_included is False:
        parts += [f"+ {tax}" for tax in taxes]
    if amounts.service_charge:
        parts.append(f"service charge {_money(amounts.service_charge, currency)}")
    parts.append(f"total {_money(amounts.total, currency)}")
    if taxes and amounts.taxes_included is not False:
        parts.append("(includes " + ", ".join(taxes) + ")")
    if not amounts.adds_up:
        parts.append(f"(the lines add up to {_money(amounts.computed_total, currency)}, not the total)")
    parts += [f"paid {_money(amounts.paid, currency)}", f"due {_money(amounts.due, currency)}"]
    if amounts.tips:
        parts.append(f"tips {_money(amounts.tips, currency)} (not part of the total)")
    return parts
