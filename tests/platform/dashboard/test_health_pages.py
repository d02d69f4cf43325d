"""Health, expected errors, key labels, call search, traffic and JUnit, in process (no browser)."""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET

import httpx

from dojo_epos.client import AsyncClient
from dojo_epos.contract.tester_models import Status
from dojo_epos.flowreport import junit_bytes
from tests.platform.conftest import SANDBOX_KEY, SOFTWARE_HOUSE, scope_of

from .conftest import ORIGIN, Rig


async def certify(rig: Rig, products: str = "") -> str:
    params = {"products": products} if products else {}
    flow_id = await rig.platform.tester.start(scope_of(), "Certification", params)
    result = await rig.platform.tester.wait(scope_of(), flow_id)
    assert result is not None and result.status is Status.SUCCESS, result
    return flow_id


async def test_a_flows_expected_refusals_are_logged_as_expected_not_as_errors(rig: Rig) -> None:
    await rig.register()
    await certify(rig)
    calls = await rig.calls(500)
    refused = [c for c in calls if c.outcome != "ok"]
    assert refused and all(c.expected for c in refused)  # a clean run: every refusal was expected
    await rig.platform.payments.drain()  # the run's HandleEvent notifications go out after it ends
    not_found = await rig.platform.invoke(scope_of(), "GetOrderById", {"orderId": "nope"})
    assert not not_found.ok and not not_found.expected  # the same refusal outside a flow counts
    (latest, *_rest) = await rig.calls(1)
    assert latest.outcome == "EposErrorReply" and not latest.expected
    overview = (await rig.http.get("/dashboard")).text
    assert re.search(r'class="error-count">1 in the last \d+ calls', overview)
    assert "GetOrderById</strong> <span class=\"badge bad\">EposErrorReply" in overview


async def test_the_overview_gives_verdicts_per_product_and_labels_keys(rig: Rig) -> None:
    await rig.register(without=("CreateReservation", "CreateParty", "SearchParties"))
    flow_id = await rig.platform.tester.start(scope_of(), "Certification", {})
    result = await rig.platform.tester.wait(scope_of(), flow_id)
    assert result is not None and result.status is Status.FAILURE  # Bookings cannot be certified
    page = (await rig.http.get("/dashboard")).text
    verdicts = dict(re.findall(r'<th scope="row">([^<]+)</th>\s*<td><span class="badge verdict-[^"]+">'
                               r'([^<]+)</span>', page))
    assert verdicts == {"Pay at Table": "PASS", "Order &amp; Pay": "PASS", "QR Pay": "PASS",
                        "Bookings": "FAIL"}
    assert "Bookings: not certified (missing" in page
    await certify(rig, "Pay at Table")
    page = (await rig.http.get("/dashboard")).text
    verdicts = dict(re.findall(r'<th scope="row">([^<]+)</th>\s*<td><span class="badge verdict-[^"]+">'
                               r'([^<]+)</span>', page))
    assert verdicts == {"Pay at Table": "PASS", "Order &amp; Pay": "NOT TARGETED",
                        "QR Pay": "NOT TARGETED", "Bookings": "NOT TARGETED"}
    assert f"sk_sandbox_…{SANDBOX_KEY[-4:]}" in page and SANDBOX_KEY not in page
    assert "REST only</strong> since" in page


async def test_an_account_never_registered_is_marked_in_the_picker(rig: Rig) -> None:
    await rig.register()
    typo_key = "sk_sandbox_typo0123456789abcxyz"
    async with AsyncClient(typo_key, SOFTWARE_HOUSE, base_url=ORIGIN,
                           transport=httpx.ASGITransport(app=rig.app)) as typo:
        await typo.run_flow("List Areas")
    picker = (await rig.http.get("/dashboard/calls")).text
    listed = picker[picker.index('<ul class="accounts">'):]
    entries = re.findall(r"<li><a href=[^>]*>(.*?)</a></li>", listed, re.S)
    assert len(entries) == 2
    (marked,) = [e for e in entries if "never registered" in e]
    assert "sk_sandbox_…cxyz" in marked and typo_key not in picker


async def test_calls_are_found_by_order_id_and_by_trace_id(rig: Rig) -> None:
    await rig.register()
    for order in ("ord_demo_01", "ord_demo_010", "ord_demo_02"):
        await rig.platform.invoke(scope_of(), "GetOrderById", {"orderId": order})
    by_order = (await rig.page("/dashboard/calls", order="ord_demo_01")).text
    assert by_order.count('<li class="call') == 1 and "ord_demo_02" not in by_order
    missing = await rig.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_missing"})
    assert missing.error is not None and missing.error.trace_id
    by_trace = (await rig.page("/dashboard/calls", trace=missing.error.trace_id)).text
    assert by_trace.count('<li class="call') == 1 and "ord_missing" in by_trace
    assert re.search(r"\d\d:\d\d:\d\d\.\d{3}</time>", by_trace)  # milliseconds


async def test_the_capability_filters_offer_what_the_account_registered(rig: Rig) -> None:
    await rig.register(without=("ListAreas",))
    for path in ("/dashboard/calls", "/dashboard/traffic"):
        page = (await rig.page(path)).text
        options = re.findall(r"<option(?: value=\"[^\"]*\")?(?: selected)?>([^<]+)</option>", page)
        assert "ListAreas" not in options and "SearchOrders" in options, path


async def test_traffic_fragment_draws_svg_from_the_last_hour(rig: Rig) -> None:
    await rig.register()
    await asyncio.gather(*(rig.platform.invoke(scope_of(), "SearchOrders", {}) for _ in range(5)))
    live = (await rig.page("/dashboard/api/traffic", capability="SearchOrders")).json()
    assert live["done"] is False
    html = live["html"]
    assert html.count("<svg viewBox") == 3 and 'class="bar"' in html and "<script" not in html
    assert "5 calls to SearchOrders" in html
    assert re.search(r"<title>\d\d:\d\d: 5 calls</title>", html)


async def test_a_runs_junit_file_is_the_clis(rig: Rig) -> None:
    await rig.register()
    flow_id = await certify(rig)
    page = (await rig.page(f"/dashboard/flows/{flow_id}")).text
    assert "junit.xml" in page and 'class="run-transport">REST<' in page
    junit = await rig.page(f"/dashboard/flows/{flow_id}/junit.xml")
    assert junit.status_code == 200 and "attachment" in junit.headers["content-disposition"]
    suite = ET.fromstring(junit.content)
    result = await rig.platform.tester.result(scope_of(), flow_id)
    assert result is not None
    # one test case per step, and one per resilience flow a REST run leaves out (<skipped/>)
    assert suite.get("skipped") == "4"  # Keepalive, Reconnect, Duplicate delivery, Replaced socket
    assert suite.get("tests") == str(len(result.steps) + 4)
    assert junit.content == junit_bytes(result)
    assert (await rig.page("/dashboard/flows/nope/junit.xml")).status_code == 404
