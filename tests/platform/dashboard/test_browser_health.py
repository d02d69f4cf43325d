"""'Is my integration healthy?' in Debian's chromium (see :mod:`.browser`): the overview's health per
account, expected errors, key labels, the Traffic pictures, call search and a run's JUnit file.

The state is what a clean demo leaves: the seeded reference EPOS registered over REST and a
Certification run, whose negative checks (an unknown order answered NotFound...) must read as
expected, not as breakage.
"""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator

import pytest

from dojo_epos.client import AsyncClient
from dojo_epos.contract.tester_models import FlowResult, Status
from dojo_epos.epos.reference import ReferenceEpos
from dojo_epos.platform import Platform
from tests.platform.conftest import SANDBOX_KEY, SOFTWARE_HOUSE, scope_of

from .browser import Site, open_site, require_browser

pytestmark = pytest.mark.browser
playwright_api = require_browser()
expect = playwright_api.expect

LABEL = f"sk_sandbox_…{SANDBOX_KEY[-4:]}"
MISTYPED_KEY = "sk_sandbox_test0123456789abcdeg"


@pytest.fixture
async def site(platform: Platform, reference: ReferenceEpos) -> AsyncIterator[Site]:
    async with open_site(platform, reference) as opened:
        yield opened


async def certify(site: Site) -> FlowResult:
    flow_id = await site.client.run_flow("Certification")
    for _ in range(600):
        result = await site.client.get_flow_result(flow_id)
        if result.status is not Status.IN_PROGRESS:
            return result
        await asyncio.sleep(0.1)
    raise AssertionError("Certification did not finish")


async def test_the_overview_says_at_a_glance_whether_the_integration_is_healthy(site: Site) -> None:
    result = await certify(site)
    assert result.status is Status.SUCCESS, result
    async with AsyncClient(MISTYPED_KEY, SOFTWARE_HOUSE, base_url=site.base_url) as typo:
        await typo.run_flow("Search Orders")  # a mistyped key: an account of its own, never registered
    page = site.page
    await page.goto(f"{site.base_url}/dashboard")
    account = page.locator("article.account", has_text=LABEL)
    await expect(account.locator("h3")).to_contain_text(SOFTWARE_HOUSE)
    for product in ("Pay at Table", "QR Pay", "Order & Pay", "Bookings"):
        row = account.locator(".verdicts tr", has_text=product)
        await expect(row.locator(".badge")).to_have_text("PASS")
    await expect(account.locator(".connector")).to_contain_text("REST only since")
    await expect(account.locator(".error-count")).to_contain_text("0 in the last")
    await expect(account.locator(".error-count .badge.expected")).to_contain_text("expected")
    await expect(account.locator(".last-error")).to_have_text("none")
    await expect(account.locator(".badge.bad")).to_have_count(0)  # nothing reads as breakage
    typo_account = page.locator("article.account", has_text=f"sk_sandbox_…{MISTYPED_KEY[-4:]}")
    await expect(typo_account.locator(".badge.unregistered")).to_have_text("never registered")
    await expect(typo_account.locator(".connector")).to_contain_text("check the key you typed")
    content = await page.content()
    assert SANDBOX_KEY not in content and MISTYPED_KEY not in content
    assert scope_of().key_fingerprint not in await page.locator("main h3").all_inner_texts()
    await site.shot("overview-health")

    await page.goto(f"{site.base_url}/dashboard/calls")  # two accounts: the picker
    await expect(page.get_by_role("link", name=re.compile("never registered"))).to_have_count(1)
    await site.shot("accounts-picker")


async def test_expected_errors_show_as_expected_and_calls_are_searchable(site: Site) -> None:
    await certify(site)
    await site.register(without=("ListAreas", "SearchParties"))
    page = site.page
    await page.goto(site.url("/dashboard/calls"))
    expected = page.locator(".call .badge.expected")
    await expect(expected.first).to_contain_text("EposErrorReply · expected")
    await expect(page.locator(".call .badge.bad")).to_have_count(0)
    assert re.search(r"\d\d:\d\d:\d\d\.\d{3}", await page.locator(".call time").first.inner_text())
    options = await page.locator("#f-cap option").all_inner_texts()
    assert "ListAreas (not registered)" in options and "SearchOrders" in options
    assert not any(o.startswith("ExtendOrderLock") and "not" in o for o in options)

    await page.get_by_label("Order id").fill("ord_demo_01")
    await page.get_by_role("button", name="Filter").click()
    rows = page.locator("li.call")
    assert await rows.count() >= 1
    bodies = await page.evaluate(
        "() => Array.from(document.querySelectorAll('li.call')).map("
        "li => Array.from(li.querySelectorAll('pre')).map(p => p.textContent).join())")
    assert all("ord_demo_01" in b for b in bodies)
    await site.shot("calls-by-order")

    await page.goto(site.url("/dashboard/calls", outcome="expected"))
    first = page.locator("li.call").first
    await first.locator("summary").click()
    reply = await first.locator("pre").nth(1).inner_text()
    trace = re.search(r'"traceId": "([^"]+)"', reply)
    assert trace, reply
    await page.goto(site.url("/dashboard/calls"))
    await page.get_by_label("Trace id").fill(trace[1])
    await page.get_by_role("button", name="Filter").click()
    await expect(page.locator("li.call")).to_have_count(1)
    await expect(page.locator("li.call .badge")).to_contain_text("expected")
    await site.shot("calls-by-trace")


async def test_traffic_pictures_render_on_the_server_and_refresh_live(site: Site) -> None:
    await certify(site)
    page = site.page
    await page.goto(site.url("/dashboard/traffic"))
    charts = page.locator("figure.chart")
    await expect(charts).to_have_count(3)
    assert await charts.nth(0).locator("rect.bar").count() >= 1  # calls per minute
    await expect(charts.nth(1).locator("polyline[data-series=p99]")).to_have_count(1)
    await expect(charts.nth(2).locator(".chart-summary")).to_contain_text("expected refusals")
    calls_before = await page.locator(".traffic-span").inner_text()
    shown = int(calls_before.split()[0])
    row = page.locator(".per-capability tr", has_text="GetOrderById")
    await expect(row).to_have_count(1)
    assert not await page.evaluate("() => Array.from(document.querySelectorAll('[src],[href]'))"
                                   ".some(e => /^https?:/.test(e.getAttribute('src') || "
                                   "e.getAttribute('href')))")  # nothing fetched from elsewhere
    await site.shot("traffic")
    for _ in range(3):  # new traffic: the page follows without a reload
        await site.client.run_flow("Search Orders")
    await expect(page.locator(".traffic-span")).not_to_have_text(calls_before, timeout=15_000)
    assert int((await page.locator(".traffic-span").inner_text()).split()[0]) > shown

    await page.goto(site.url("/dashboard/traffic", capability="SearchOrders"))
    await expect(page.locator(".traffic-span")).to_contain_text("to SearchOrders")
    await site.shot("traffic-one-capability")


async def test_a_run_shows_transport_durations_and_its_junit_downloads(site: Site) -> None:
    result = await certify(site)
    page = site.page
    await page.goto(site.url(f"/dashboard/flows/{result.flow_id}"))
    await expect(page.locator(".run-transport")).to_have_text("REST")
    await expect(page.locator(".run-duration")).to_contain_text(" s")
    durations = await page.locator(".step-duration").all_inner_texts()
    assert len(durations) == len(result.steps) and all(re.fullmatch(r"\d+ ms", d) for d in durations)
    await site.shot("flow-run-certification")
    async with page.expect_download() as info:
        await page.locator("a.junit").click()
    download = await info.value
    suite = ET.parse(await download.path()).getroot()
    assert suite.tag == "testsuite" and suite.get("name") == result.flow_name
    # one test case a step, and one <skipped/> for each flow left out (the resilience flows a REST
    # run cannot run, the sections of products not targeted)
    skipped = len(suite.findall("testcase/skipped"))
    assert int(suite.get("skipped", "0")) == skipped
    assert int(suite.get("tests", "0")) == len(result.steps) + skipped and suite.get("failures") == "0"
