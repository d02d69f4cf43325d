"""The dashboard's flows and terminal payment in Debian's headless chromium (see :mod:`.browser`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from dojo_epos.epos.reference import ReferenceEpos
from dojo_epos.platform import Platform

from .browser import WAIT_MS, Site, open_site, require_browser
from .conftest import EPOS_PASSWORD, stored_order

pytestmark = pytest.mark.browser
playwright_api = require_browser()


@pytest.fixture
async def site(platform: Platform, reference: ReferenceEpos) -> AsyncIterator[Site]:
    async with open_site(platform, reference) as opened:
        yield opened


async def test_a_pay_at_table_flow_run_from_the_flows_page_reaches_success(site: Site) -> None:
    page = site.page
    await page.goto(site.url("/dashboard/flows"))
    summary = page.locator("summary", has_text="Pay at Table")
    await summary.focus()
    await page.keyboard.press("Enter")  # the flow's form opens from the keyboard
    form = page.locator("details", has=summary)
    await form.get_by_label("tableId").fill("T4")
    await site.shot("flows")
    await form.get_by_role("button", name="Run Pay at Table").click()
    await page.wait_for_url("**/dashboard/flows/*")
    status = page.locator(".flow-status")
    await playwright_api.expect(status).to_have_text("SUCCESS", timeout=WAIT_MS)
    step = page.locator("li.step", has_text="Record payment 1 of 2")
    await step.locator("summary").first.click()
    await step.locator(".call summary").first.click()  # the request and reply, on demand
    await playwright_api.expect(step.locator("pre").first).to_contain_text("record-payment")
    assert await site.too_wide() == []
    await site.shot("flow-run")
    settled = await stored_order(site.epos, "ord_demo_03")
    assert settled.paid_amount == settled.total_amount


async def test_paying_a_table_on_the_virtual_terminal_settles_the_order(site: Site) -> None:
    page = site.page
    await page.goto(site.url("/dashboard/terminal"))
    await site.shot("terminal-tables")
    await page.get_by_role("link", name="Table 1 T1", exact=True).click()
    await page.get_by_role("link", name="Table 1 ref DEMO_01").click()
    await playwright_api.expect(page.get_by_role("heading", name="Bill: Table 1")).to_be_visible()
    await page.get_by_label("Equal split").check()
    await page.get_by_label("into").fill("2")
    await page.get_by_label("Tip per payment").fill("1.25")
    assert await site.too_wide() == []
    await site.shot("terminal-bill")
    await page.get_by_role("button", name="Pay").click()
    await playwright_api.expect(page.locator("#headline")).to_have_text("Paid in full — thank you")
    await site.shot("terminal-receipt")
    order = await stored_order(site.epos, "ord_demo_01")
    assert order.total_amount is not None and order.paid_amount == order.total_amount
    assert order.payable is False
    assert len(order.payments) == 2
    assert order.tips_amount is not None and order.tips_amount.value == 250

    for name, path in (("overview", "/dashboard"), ("calls", "/dashboard/calls")):
        await page.goto(site.url(path))
        assert await site.too_wide() == [], name
        await site.shot(name)
    # The terminal's last call is listed (the HandleEvent calls each payment's intent sends the
    # EPOS, in the background, may come after it).
    await playwright_api.expect(
        page.locator(".call").filter(has_text="DeleteOrderLock").first).to_be_visible()
    assert EPOS_PASSWORD not in await page.content()
