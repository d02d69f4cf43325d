"""The demo restaurant's menu: real dishes with PLUs, prices (GBP pence, VAT included) and options.

The till and the seed build order lines from it, so orders look like a restaurant's, not like test
data: a burger with extra cheese, a sharing platter whose parts are sub-items, drinks by the glass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dojo_epos.contract import models as m

__all__ = ["MENU", "MODIFIERS", "MenuEntry", "line"]


@dataclass(frozen=True, slots=True)
class MenuEntry:
    """A dish or drink: PLU, name, price in minor units, and parts served with it (sub-items)."""

    plu: str
    name: str
    price: int
    parts: tuple[tuple[str, str, int], ...] = ()  # (plu, name, extra price) sub-items


MENU: dict[str, MenuEntry] = {e.plu: e for e in (
    MenuEntry("STR-SOUP", "Soup of the day", 650),
    MenuEntry("STR-CALA", "Salt & pepper calamari", 850),
    MenuEntry("MN-BURG", "Dry-aged beef burger", 1650),
    MenuEntry("MN-FISH", "Beer-battered fish & chips", 1750),
    MenuEntry("MN-PIZZ", "Margherita pizza", 1200),
    MenuEntry("MN-RISO", "Wild mushroom risotto", 1450),
    MenuEntry("MN-STEAK", "8oz sirloin steak", 2600),
    MenuEntry("SH-PLAT", "Sharing platter", 1900, (
        ("SH-WING", "Chicken wings", 0), ("SH-NACH", "Nachos", 0), ("SH-HALL", "Halloumi fries", 150),
    )),
    MenuEntry("SD-FRIES", "Skin-on fries", 400),
    MenuEntry("SD-SLAW", "House slaw", 350),
    MenuEntry("DS-STP", "Sticky toffee pudding", 750),
    MenuEntry("DS-BROW", "Chocolate brownie", 700),
    MenuEntry("DR-LAGR", "Pint of lager", 595),
    MenuEntry("DR-IPA", "Pint of IPA", 650),
    MenuEntry("DR-RED", "Glass of house red (175ml)", 725),
    MenuEntry("DR-WATR", "Sparkling water", 300),
    MenuEntry("DR-COKE", "Cola", 350),
    MenuEntry("DR-FLAT", "Flat white", 340),
)}

#: Options that change a dish, with their price per single dish.
MODIFIERS: dict[str, tuple[str, int]] = {
    "MOD-CHEESE": ("Extra cheese", 150),
    "MOD-BACON": ("Smoked bacon", 200),
    "MOD-GF": ("Gluten-free base", 200),
    "MOD-PEPPER": ("Peppercorn sauce", 300),
    "MOD-ICECR": ("Vanilla ice cream", 150),
    "MOD-NOONION": ("No onions", 0),
}


def line(
    plu: str, quantity: int = 1, modifiers: Sequence[str] = (), currency: str = "GBP",
    note: str | None = None,
) -> m.OrderItem:
    """An order line for a menu PLU; KeyError names an unknown PLU or modifier."""
    entry = MENU[plu]

    def money(value: int) -> m.Money:
        return m.Money(value=value, currency_code=currency)

    mods = []
    for mod_plu in dict.fromkeys(modifiers):
        name, price = MODIFIERS[mod_plu]
        mods.append(m.Modifier(name=name, plu=mod_plu, quantity=list(modifiers).count(mod_plu),
                               amount_per_modifier=money(price)))
    subs = [m.OrderSubItem(name=name, plu=sub_plu, quantity=1, amount_per_item=money(price))
            for sub_plu, name, price in entry.parts]
    return m.OrderItem(name=entry.name, plu=entry.plu, quantity=quantity, note=note,
                       amount_per_item=money(entry.price), modifiers=mods, sub_items=subs)
