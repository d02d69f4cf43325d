"""The Faults page in Debian's chromium (see :mod:`.browser`): add a fault by the form at a phone's
width, see it fire on a call and in the call log, clear it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from dojo_epos.epos.reference import ReferenceEpos
from dojo_epos.platform import Platform

from .browser import Site, open_site, require_browser

pytestmark = pytest.mark.browser
playwright_api = require_browser()
expect = playwright_api.expect


@pytest.fixture
async def site(platform: Platform, reference: ReferenceEpos) -> AsyncIterator[Site]:
    async with open_site(platform, reference) as opened:
        yield opened


async def test_a_fault_is_added_seen_firing_and_cleared_from_the_page(site: Site) -> None:
    page = site.page
    await page.goto(site.url("/dashboard/faults"))
    await expect(page.get_by_text("No fault is set for this account.")).to_be_visible()
    await page.get_by_label("Kind").select_option("rest-retry-after-timeout")
    await page.get_by_label("Capability").select_option("GetOrderById")
    await page.get_by_label("Times").fill("1")
    await page.get_by_role("button", name="Add fault").click()
    row = page.locator("table.faults tbody tr")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("rest-retry-after-timeout on GetOrderById")
    await expect(row.locator("td").nth(1)).to_have_text("1")
    assert await site.too_wide() == []
    await site.shot("faults")

    await site.client.call_capability("GetOrderById", {"orderId": "ord_demo_01"})
    await page.goto(site.url("/dashboard/calls"))
    await expect(page.locator("li.call").first).to_contain_text("rest-retry-after-timeout")
    await page.goto(site.url("/dashboard/faults"))
    await expect(page.get_by_text("No fault is set for this account.")).to_be_visible()  # used up

    await page.get_by_label("Kind").select_option("close")
    await page.get_by_label("Close code").fill("1000")
    await page.get_by_role("button", name="Add fault").click()
    await expect(page.get_by_role("alert")).to_contain_text("closeCode: one of [1001, 1012, 4000]")
    await page.get_by_label("Close code").fill("4000")
    await page.get_by_role("button", name="Add fault").click()
    await expect(row).to_contain_text("close code 4000")
    await page.get_by_role("button", name="Clear all faults").click()
    await expect(page.get_by_text("No fault is set for this account.")).to_be_visible()
