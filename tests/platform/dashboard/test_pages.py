"""The dashboard's pages, in process: what they show, what they escape, what they never show."""

from __future__ import annotations

import re

import httpx
from markupsafe import escape

from dojo_epos.contract.tester_models import Status
from tests.platform.conftest import SOFTWARE_HOUSE, scope_of

from .conftest import (
    EPOS_PASSWORD,
    HOSTILE_ORDER,
    HOSTILE_TABLE,
    IMG,
    ORIGIN,
    SCRIPT,
    Rig,
    add_hostile_order,
)

PAGES = ["/dashboard", "/dashboard/flows", "/dashboard/calls", "/dashboard/terminal", "/dashboard/traffic",
         "/dashboard/faults"]


def escaped(text: str) -> str:
    """The text as the templates escape it."""
    return str(escape(text))


def main_of(page: httpx.Response) -> str:
    return page.text[page.text.index("<main"):]


async def test_every_page_renders_for_a_registered_account(rig: Rig) -> None:
    await rig.register()
    for path in PAGES:
        page = await rig.page(path)
        assert page.status_code == 200, path
        assert page.headers["content-type"].startswith("text/html")
        assert '<html lang="en">' in page.text
        assert "<h1" in page.text


async def test_the_root_redirects_to_the_dashboard(rig: Rig) -> None:
    response = await rig.http.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/dashboard"


async def test_the_overview_shows_accounts_registrations_and_recent_calls(rig: Rig) -> None:
    await rig.register()
    await rig.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_demo_01"})
    await rig.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_nope"})
    page = (await rig.http.get("/dashboard")).text
    assert scope_of().key_fingerprint in page and SOFTWARE_HOUSE in page
    assert "REST" in page and "http://epos.test/" in page
    for capability in ("SearchOrders", "RecordOrderPayment", "CreateOrderLock"):
        assert capability in page
    assert "EposErrorReply" in page and ">ok<" in page
    assert "No EPOS socket is connected" in page


async def test_pages_use_the_only_account_when_none_is_named(rig: Rig) -> None:
    await rig.register()
    page = await rig.http.get("/dashboard/calls")
    assert page.status_code == 200
    assert "<h1>Calls</h1>" in page.text


async def test_an_unknown_account_gets_the_account_picker_with_404(rig: Rig) -> None:
    await rig.register()
    page = await rig.http.get("/dashboard/flows", params={"scope": "sandbox:ffff:nobody"})
    assert page.status_code == 404
    assert "No account matches" in page.text
    assert rig.token.replace(":", "%3A") in page.text


async def test_the_calls_page_filters_by_capability_and_outcome(rig: Rig) -> None:
    await rig.register()
    await rig.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_demo_01"})
    await rig.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_nope"})
    await rig.platform.invoke(scope_of(), "ListAreas", {})
    everything = main_of(await rig.page("/dashboard/calls"))
    assert everything.count('class="call ') == 3
    only_failed = main_of(await rig.page("/dashboard/calls", outcome="EposErrorReply"))
    assert only_failed.count('class="call ') == 1
    assert "ord_nope" in only_failed and "ord_demo_01" not in only_failed
    areas = main_of(await rig.page("/dashboard/calls", capability="ListAreas"))
    assert areas.count('class="call ') == 1 and "Main dining room" in areas


async def test_a_call_shows_its_request_and_reply(rig: Rig) -> None:
    await rig.register()
    await rig.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_demo_02"})
    page = main_of(await rig.page("/dashboard/calls"))
    assert "/v1/orders/ord_demo_02" in page  # the request's URL
    assert "&#34;status&#34;: 200" in page  # the reply, escaped JSON
    assert "Table 2" in page


async def test_a_flow_started_from_the_page_runs_and_its_steps_are_shown(rig: Rig) -> None:
    await rig.register()
    response = await rig.http.post(
        "/dashboard/flows", params={"scope": rig.token},
        data={"flow": "Get Order", "p.orderId": "ord_demo_01"})
    assert response.status_code == 303
    location = response.headers["location"]
    flow_id = location.split("/dashboard/flows/")[1].split("?")[0]
    result = await rig.platform.tester.wait(scope_of(), flow_id)
    assert result is not None and result.status is Status.SUCCESS
    page = await rig.http.get(location)
    assert page.status_code == 200
    assert "Get Order through EPOS Data API" in page.text
    assert 'data-status="SUCCESS"' in page.text
    assert "Call GetOrder with orderId ord_demo_01" in page.text
    assert "/v1/orders/ord_demo_01" in page.text  # the step's call, request shown on demand
    live = (await rig.http.get(f"/dashboard/api/flows/{flow_id}",
                               params={"scope": rig.token})).json()
    assert live["status"] == "SUCCESS" and live["done"] is True
    assert "Call GetOrder with orderId ord_demo_01" in live["html"]
    assert '<span class="run-transport">REST</span>' in page.text  # the run's transport and duration
    assert re.search(r'in <span class="run-duration">\d+\.\d\d s</span>', page.text)
    flows = main_of(await rig.page("/dashboard/flows"))
    assert f"/dashboard/flows/{flow_id}" in flows
    assert re.search(r'title="transport">rest</span>\s*· <span class="run-duration" '
                     r'title="duration">\d+\.\d\d s</span>', flows)


async def test_a_flow_missing_a_required_parameter_is_refused_on_the_page(rig: Rig) -> None:
    await rig.register()
    response = await rig.http.post("/dashboard/flows", params={"scope": rig.token},
                                   data={"flow": "Get Order"})
    assert response.status_code == 400
    assert "needs the parameter orderId" in response.text
    assert await rig.platform.tester.recent(scope_of()) == []


async def test_posts_from_another_origin_or_none_are_refused_and_change_nothing(rig: Rig) -> None:
    await rig.register()
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"},
                    {"Origin": "http://platform:8080"}):
        response = await rig.http.post("/dashboard/flows", params={"scope": rig.token},
                                       data={"flow": "List Areas"}, headers=headers)
        assert response.status_code == 403, headers
    bare = httpx.AsyncClient(transport=httpx.ASGITransport(app=rig.app), base_url=ORIGIN)
    async with bare:
        response = await bare.post("/dashboard/terminal/pay", params={"scope": rig.token},
                                   data={"order": "ord_demo_01", "due": "1", "nonce": "ab"})
        assert response.status_code == 403
        referer = await bare.post("/dashboard/flows", params={"scope": rig.token},
                                  data={"flow": "List Areas"},
                                  headers={"Referer": f"{ORIGIN}/dashboard/flows"})
        assert referer.status_code == 303  # a same-origin Referer stands in for Origin
    assert len(await rig.platform.tester.recent(scope_of())) == 1
    calls = await rig.calls()
    assert not [c for c in calls if c.capability == "RecordOrderPayment"]


async def test_pages_carry_a_strict_content_security_policy(rig: Rig) -> None:
    await rig.register()
    page = await rig.page("/dashboard/terminal")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["referrer-policy"] == "same-origin"
    css = await rig.http.get("/dashboard/static/dashboard.css")
    assert css.status_code == 200 and "--accent" in css.text
    assert not re.search(r"(src|href)=\"https?://", page.text)  # nothing from the internet


async def test_hostile_values_from_the_epos_render_as_text(rig: Rig) -> None:
    """Display names, notes and item names are escaped on every page they reach."""
    await rig.register()
    await add_hostile_order(rig.epos)
    await rig.platform.invoke(scope_of(), "GetOrderById", {"orderId": HOSTILE_ORDER})
    pages = [
        await rig.page("/dashboard/terminal"),
        await rig.page("/dashboard/terminal", table=HOSTILE_TABLE),
        await rig.page("/dashboard/terminal", order=HOSTILE_ORDER, table=HOSTILE_TABLE),
        await rig.page("/dashboard/calls"),
        await rig.http.get("/dashboard"),
    ]
    for page in pages:
        assert page.status_code == 200
        body = main_of(page)
        assert "<script>alert" not in body and "<img src=x" not in body, page.url
    tables, orders, bill = (main_of(p) for p in pages[:3])
    assert escaped(SCRIPT) in tables  # the table's name
    assert escaped(SCRIPT[:24]) in orders  # its order's label, cut to 24 characters
    assert escaped(IMG) in bill  # the order's note and the item's name
    assert escaped(SCRIPT) in bill  # the item's note


async def test_no_page_ever_shows_the_registration_password(rig: Rig) -> None:
    await rig.register()
    await rig.platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_demo_01"})
    response = await rig.http.post("/dashboard/flows", params={"scope": rig.token},
                                   data={"flow": "Search Orders"})
    flow_page = response.headers["location"]
    flow_id = flow_page.split("/dashboard/flows/")[1].split("?")[0]
    await rig.platform.tester.wait(scope_of(), flow_id)
    pay = await rig.http.post("/dashboard/terminal/pay", params={"scope": rig.token}, data={
        "order": "ord_demo_02", "due": "1", "nonce": "abc123", "mode": "full"})
    urls = [*PAGES, flow_page, f"/dashboard/api/flows/{flow_id}", "/dashboard/api/sockets",
            pay.headers["location"], "/dashboard/terminal?table=T1",
            "/dashboard/terminal?order=ord_demo_01"]
    for url in urls:
        page = await rig.http.get(url, params=None if "scope=" in url else {"scope": rig.token})
        assert page.status_code == 200, url
        assert EPOS_PASSWORD not in page.text, url
        assert EPOS_PASSWORD.lower() not in page.text.lower(), url
