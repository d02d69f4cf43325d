"""The dashboard in a real headless browser: Debian's chromium, driven by Playwright.

Both servers are real (uvicorn on 127.0.0.1, free ports): the platform with its dashboard, and the
seeded reference EPOS over REST, registered through the platform API like any EPOS. Pages are
viewed at a phone's size; a screenshot of each main page is kept in ``test-artifacts/screenshots``.
Playwright never downloads a browser here: it drives ``/usr/bin/chromium``.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dojo_epos.client import AsyncClient
from dojo_epos.epos.reference import ReferenceEpos
from dojo_epos.epos.rest import build_rest_app
from dojo_epos.platform import Platform, build_platform_app
from dojo_epos.platform.dashboard.web import scope_token
from tests.platform.conftest import SANDBOX_KEY, SOFTWARE_HOUSE, scope_of

from .conftest import EPOS_PASSWORD, EPOS_USER, serve, stored_order

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}
SHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
WAIT_MS = 20_000

playwright_api = pytest.importorskip("playwright.async_api",
                                     reason="the playwright package is not installed")
if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
    pytest.skip("Debian's chromium is not installed at /usr/bin/chromium "
                "(apt-get install -y chromium)", allow_module_level=True)

_TOO_WIDE = """() => Array.from(document.querySelectorAll("main *"))
  .filter(e => !e.closest("pre, .scroll, .visually-hidden"))
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
               || (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1))
  .map(e => e.tagName.toLowerCase() + "." + e.className + " " + e.textContent.slice(0, 40))"""


@dataclass
class Site:
    base_url: str
    epos: ReferenceEpos
    page: Any

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}?scope={scope_token(scope_of())}"

    async def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    async def too_wide(self) -> list[str]:
        """What sticks out sideways at a phone's width (empty when the page fits)."""
        return list(await self.page.evaluate(_TOO_WIDE))


@pytest.fixture
async def site(platform: Platform, reference: ReferenceEpos) -> AsyncIterator[Site]:
    epos_server, epos_task, epos_url = await serve(
        build_rest_app(reference, username=EPOS_USER, password=EPOS_PASSWORD))
    server, task, base_url = await serve(build_platform_app(platform=platform))
    async with AsyncClient(SANDBOX_KEY, SOFTWARE_HOUSE, base_url=base_url) as client:
        caps = [(c.name, "v1") for c in reference.offered_capabilities()]
        await client.put_rest_integration(f"{epos_url}/", caps, username=EPOS_USER,
                                          password=EPOS_PASSWORD)
    async with playwright_api.async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = await browser.new_context(viewport=PHONE)
        context.set_default_timeout(WAIT_MS)
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            yield Site(base_url, reference, page)
        finally:
            await context.close()
            await browser.close()
    for srv in (server, epos_server):
        srv.should_exit = True
    await task
    await epos_task
    assert errors == [], f"script errors on the page: {errors}"


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
    await page.get_by_role("link", name="Table 1 £").click()
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
    await playwright_api.expect(page.locator(".call").first).to_contain_text("DeleteOrderLock")
    assert EPOS_PASSWORD not in await page.content()
