"""Bills that add up, read off the virtual terminal's page in Debian's chromium (see :mod:`.browser`).

The test reads the page as a person would, from the text it shows: each line's quantity, unit price,
modifier and sub-item prices and line amount; then the items' sum, discounts, added taxes, service
charge, total, paid and due. It adds them up and compares the result with the order's total as the
EPOS's database holds it, for every seeded order and for orders rung up at the till with modifiers.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from dojo_epos.epos.reference import ReferenceEpos, till
from dojo_epos.epos.reference.menu import line
from dojo_epos.epos.reference.seed import OPEN_ORDERS
from dojo_epos.platform import Platform

from .browser import Site, open_site, require_browser
from .conftest import stored_order

pytestmark = pytest.mark.browser
playwright_api = require_browser()

#: What the bill screen shows, as text, for the test to add up.
_READ_BILL = """() => {
  const text = (el) => el ? el.textContent.trim() : null;
  const lines = Array.from(document.querySelectorAll("table.items tr.line")).map(tr => ({
    name: text(tr.querySelector(".item-name")),
    qty: text(tr.querySelector(".qty")),
    each: text(tr.querySelector(".each")),
    extras: Array.from(tr.querySelectorAll(".extra-amount")).map(text),
    amount: text(tr.querySelector(".line-amount")),
  }));
  const all = (sel) => Array.from(document.querySelectorAll(sel)).map(text);
  return {lines, items: text(document.querySelector("#items-sum")),
          discounts: all("dd.discount"), taxesAdded: all("dd.tax-added"),
          service: text(document.querySelector("#service")), total: text(document.querySelector("#total")),
          paid: text(document.querySelector("#paid")), due: text(document.querySelector("#due")),
          totalsShown: all("main dt.total").length,
          mismatch: text(document.querySelector(".bill .alert"))};
}"""


def pence(shown: str | None) -> int:
    """``£12.50`` / ``-£1.00`` / ``included`` as shown, in pence (``None`` counts as nothing)."""
    if shown is None or shown == "included":
        return 0
    found = re.fullmatch(r"(-?)£(\d+)\.(\d\d)(?: each)?", shown.strip())
    assert found, f"not an amount: {shown!r}"
    value = int(found[2]) * 100 + int(found[3])
    return -value if found[1] else value


def add_up(bill: dict[str, Any]) -> int:
    """Check every line, then the amounts below them; returns the total the page adds up to."""
    for ln in bill["lines"]:
        per_dish = pence(ln["each"]) + sum(pence(x) for x in ln["extras"])
        assert pence(ln["amount"]) == int(ln["qty"]) * per_dish, ln
    items = sum(pence(ln["amount"]) for ln in bill["lines"])
    assert pence(bill["items"]) == items
    total = (items + sum(pence(d) for d in bill["discounts"]) + sum(pence(t) for t in bill["taxesAdded"])
             + pence(bill["service"]))
    assert pence(bill["total"]) == total
    assert pence(bill["due"]) == total - pence(bill["paid"])
    assert bill["totalsShown"] == 1 and bill["mismatch"] is None
    return total


@pytest.fixture
async def site(platform: Platform, reference: ReferenceEpos) -> AsyncIterator[Site]:
    async with open_site(platform, reference) as opened:
        yield opened


async def read_bill(site: Site, order_id: str) -> dict[str, Any]:
    await site.page.goto(site.url("/dashboard/terminal", order=order_id))
    await playwright_api.expect(site.page.locator("#total")).to_be_visible()
    return dict(await site.page.evaluate(_READ_BILL))


async def test_every_seeded_bill_adds_up_to_the_orders_total(site: Site) -> None:
    for order_id, *_rest in OPEN_ORDERS:
        bill = await read_bill(site, order_id)
        stored = await stored_order(site.epos, order_id)
        assert stored.total_amount is not None and stored.paid_amount is not None
        assert add_up(bill) == stored.total_amount.value, order_id
        assert pence(bill["paid"]) == stored.paid_amount.value
        assert len(bill["lines"]) == len(stored.items)
    await site.shot("terminal-bill-seeded")  # the last one: lager and fries on table 10


async def test_till_orders_with_modifiers_and_sub_items_add_up(site: Site) -> None:
    order = await till.open_order(site.epos.db, "T3", "w_alice", [
        line("MN-BURG", 2, ["MOD-CHEESE", "MOD-BACON"]), line("SH-PLAT"),
        line("DS-STP", 1, ["MOD-ICECR"]), line("MN-PIZZ", 3, ["MOD-GF", "MOD-CHEESE", "MOD-CHEESE"]),
    ], order_id="ord_till_mods")
    bill = await read_bill(site, order.id)
    assert order.total_amount is not None
    assert add_up(bill) == order.total_amount.value
    burger = bill["lines"][0]
    assert burger["amount"] == "£40.00" and sorted(burger["extras"]) == ["£1.50", "£2.00"]
    assert bill["lines"][1]["extras"] == ["included", "included", "£1.50"]  # the platter's parts
    assert "£3.00" in bill["lines"][3]["extras"]  # two extra cheeses on each pizza
    page = site.page
    await playwright_api.expect(page.locator(".bill")).to_contain_text("Vanilla ice cream")
    assert await site.too_wide() == []
    await site.shot("terminal-bill-modifiers")

    await page.goto(site.url("/dashboard/terminal", table="T3"))
    assert order.reference and order.created_at
    opened = order.created_at.strftime("%H:%M")
    label = page.get_by_role("link", name=f"Table 3 ref {order.reference} · opened {opened}")
    await playwright_api.expect(label).to_be_visible()
    await site.shot("terminal-orders-labelled")


async def test_a_till_without_search_tables_gets_a_reason(site: Site) -> None:
    await site.register(without=("SearchTables",))
    page = site.page
    await page.goto(site.url("/dashboard/terminal"))
    await playwright_api.expect(page.locator("#tables-source")).to_contain_text(
        "SearchTables is not registered")
    await playwright_api.expect(page.get_by_role("link", name="T4", exact=True)).to_be_visible()
    await site.shot("terminal-tables-without-search")
