"""Invocation over REST, against an in-process EPOS (httpx.ASGITransport) and odd fakes."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dojo_epos.contract.models import RequestHeaders
from dojo_epos.platform import Failure, Platform
from tests.platform.conftest import (
    EPOS_PASSWORD,
    EPOS_USER,
    SANDBOX_KEY,
    RestEpos,
    auth_headers,
    scope_of,
)
from tests.specs import needs_specs, rest_spec, validate

H = auth_headers()


async def register_rest(http: httpx.AsyncClient, names: list[str],
                        url: str = "http://epos.test/dojo") -> None:
    response = await http.put("/epos/integrations/rest", headers=H, json={
        "url": url,
        "capabilities": [{"name": n, "version": "v1"} for n in names],
        "auth": {"authType": "basic", "basic": {"username": EPOS_USER,
                                                "password": EPOS_PASSWORD}},
    })
    assert response.status_code == 200, response.text


@pytest.fixture
def wired(platform: Platform, rest_epos: RestEpos) -> RestEpos:
    """The platform's REST calls go to the in-process EPOS."""
    platform.invoker.set_http_transport(httpx.ASGITransport(app=rest_epos.app()))
    return rest_epos


@needs_specs
async def test_rest_call_uses_base_path_basic_auth_and_dojo_headers(
    http: httpx.AsyncClient, platform: Platform, wired: RestEpos
) -> None:
    """GET <base>/v1/orders/ord_1 with the registered credentials and the four headers."""
    await register_rest(http, ["GetOrder"])
    headers = RequestHeaders(waiter_id="42", dojo_requesting_product="Order&Pay",
                             device_id="tm_1", device_type="Dojo Terminal")
    outcome = await platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"}, headers)
    assert outcome.ok, outcome.detail
    assert outcome.transport == "rest"
    [seen] = wired.seen
    assert (seen["method"], seen["path"]) == ("GET", "/dojo/v1/orders/ord_1")
    assert seen["headers"]["authorization"] == "Basic " + base64.b64encode(
        f"{EPOS_USER}:{EPOS_PASSWORD}".encode()).decode()
    assert seen["headers"]["waiter-id"] == "42"
    assert seen["headers"]["dojo-requesting-product"] == "Order&Pay"
    assert seen["headers"]["device-type"] == "Dojo Terminal"
    ctx = wired.handler.contexts[0]
    assert ctx.waiter_id == "42" and ctx.device_id == "tm_1"
    validate(outcome.reply["body"], rest_spec(), "Order")


async def test_a_registered_url_with_a_spec_path_is_cut_to_its_base(
    http: httpx.AsyncClient, platform: Platform, wired: RestEpos
) -> None:
    """spec defect #40: .../x/v1/orders/{orderID} calls .../x/v1/orders/ord_1."""
    await register_rest(http, ["GetOrderById"], url="http://epos.test/x/v1/orders/{orderID}")
    outcome = await platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
    assert outcome.ok, outcome.detail
    assert wired.seen[0]["path"] == "/x/v1/orders/ord_1"


async def test_body_is_the_params_minus_path_fields_and_headers(
    http: httpx.AsyncClient, platform: Platform, wired: RestEpos
) -> None:
    """ExtendOrderLock: PUT /v1/orders/{orderId}/locks/{lockId} with body {expiry} only."""
    await register_rest(http, ["ExtendOrderLock"])
    outcome = await platform.invoke(scope_of(), "ExtendOrderLock", {
        "orderId": "ord_1", "lockId": "lock 1", "expiry": "2030-01-01T00:00:00Z",
        "headers": {"waiterId": "7"}})
    assert outcome.ok, outcome.detail
    assert outcome.request["body"] == {"expiry": "2030-01-01T00:00:00Z"}
    assert outcome.request["url"] == "http://epos.test/dojo/v1/orders/ord_1/locks/lock%201"
    assert wired.seen[0]["path"] == "/dojo/v1/orders/ord_1/locks/lock 1"
    assert wired.seen[0]["headers"]["waiter-id"] == "7"
    assert outcome.result is not None and outcome.result.model_dump() == {}


async def test_an_epos_error_over_rest_is_a_typed_failure(
    http: httpx.AsyncClient, platform: Platform, wired: RestEpos
) -> None:
    """A 404 EPOSError body becomes EposErrorReply with the EPOS's error."""
    await register_rest(http, ["GetOrderById"])
    outcome = await platform.invoke(scope_of(), "GetOrderById", {"orderId": "missing"})
    assert outcome.failure is Failure.EPOS_ERROR
    assert outcome.error is not None and outcome.error.error_type.value == "NotFound"
    assert outcome.reply["status"] == 404


async def test_wrong_credentials_are_an_epos_error_not_a_crash(
    http: httpx.AsyncClient, platform: Platform, rest_epos: RestEpos
) -> None:
    """The EPOS refusing our basic auth is reported as its (401) error."""
    rest_epos.password = "something else"
    platform.invoker.set_http_transport(httpx.ASGITransport(app=rest_epos.app()))
    await register_rest(http, ["GetOrderById"])
    outcome = await platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
    assert outcome.failure is Failure.EPOS_ERROR
    assert outcome.reply["status"] == 401


async def test_invalid_params_are_refused_before_anything_is_sent(
    http: httpx.AsyncClient, platform: Platform, wired: RestEpos
) -> None:
    """A missing path field names itself; validate=False sends bad input on purpose."""
    await register_rest(http, ["GetOrderById", "ExtendOrderLock"])
    outcome = await platform.invoke(scope_of(), "GetOrderById", {})
    assert outcome.failure is Failure.INVALID_PARAMS and "orderId" in (outcome.detail or "")
    assert wired.seen == []
    # The REST spec types every path parameter as a string: an integer id is not made into one,
    # even when validation is off (what restmap and dojo_epos.testing do too).
    for bad in (7, ""):
        outcome = await platform.invoke(scope_of(), "GetOrderById", {"orderId": bad},
                                        validate=False)
        assert outcome.failure is Failure.INVALID_PARAMS, outcome
        assert "orderId" in (outcome.detail or "")
    assert wired.seen == []
    outcome = await platform.invoke(scope_of(), "ExtendOrderLock",
                                    {"orderId": "ord_1", "lockId": "l", "expiry": "soon"},
                                    validate=False)
    assert outcome.failure is Failure.EPOS_ERROR
    assert outcome.error is not None and outcome.error.error_type.value == "InvalidRequest"


def fake_epos(reply: Callable[[httpx.Request], httpx.Response]) -> httpx.MockTransport:
    return httpx.MockTransport(reply)


@pytest.mark.parametrize(("body", "rows"), [
    ([{"data": [{"id": "T1", "name": "One"}]}, {"data": [{"id": "T2", "name": "Two"}]}], 2),
    ({"data": [{"id": "T1", "name": "One"}]}, 1),
    ([], 0),
])
async def test_search_tables_accepts_an_array_of_pages(
    http: httpx.AsyncClient, platform: Platform, body: Any, rows: int
) -> None:
    """spec defect #5: the REST spec types the answer as an array; it is flattened."""
    platform.invoker.set_http_transport(fake_epos(lambda r: httpx.Response(200, json=body)))
    await register_rest(http, ["SearchTables"])
    outcome = await platform.invoke(scope_of(), "SearchTables", {})
    assert outcome.ok, outcome.detail
    assert outcome.result is not None and len(outcome.result.model_dump()["data"]) == rows


@pytest.mark.parametrize(("response", "failure", "field"), [
    (httpx.Response(200, json={"id": "ord_1"}), Failure.SCHEMA_VIOLATION, "status"),
    (httpx.Response(200, text="<html>oops</html>"), Failure.SCHEMA_VIOLATION, "body"),
    (httpx.Response(500, text="Internal Server Error"), Failure.EPOS_ERROR, None),
    (httpx.Response(409, json={"errorType": "Conflict", "debugMessage": "locked"}),
     Failure.EPOS_ERROR, None),
])
async def test_odd_rest_answers_become_typed_failures(
    http: httpx.AsyncClient, platform: Platform, response: httpx.Response,
    failure: Failure, field: str | None,
) -> None:
    """Whatever the EPOS answers, the invoker classifies it; it never raises."""
    platform.invoker.set_http_transport(fake_epos(lambda r: response))
    await register_rest(http, ["GetOrderById"])
    outcome = await platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
    assert outcome.failure is failure
    assert outcome.field == field


async def test_an_unreachable_epos_is_a_transport_error(
    http: httpx.AsyncClient, platform: Platform
) -> None:
    """Connection refused is TransportError; a read time-out is TimedOut."""
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    await register_rest(http, ["GetOrderById"])
    platform.invoker.set_http_transport(fake_epos(refuse))
    refused = await platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
    platform.invoker.set_http_transport(fake_epos(slow))
    timed_out = await platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
    assert refused.failure is Failure.TRANSPORT_ERROR
    assert timed_out.failure is Failure.TIMED_OUT


async def test_every_call_is_logged_in_memory_and_in_the_database_without_secrets(
    http: httpx.AsyncClient, platform: Platform, wired: RestEpos,
    all_logs: pytest.LogCaptureFixture,
) -> None:
    """The call log has request, reply, duration and outcome; no password or API key."""
    await register_rest(http, ["GetOrderById"])
    await platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
    await platform.invoke(scope_of(), "GetOrderById", {"orderId": "nope"})
    await platform.invoke(scope_of(), "ListAreas")
    recent = platform.invoker.recent(scope_of())
    assert [r.outcome for r in recent] == ["NotRegistered", "EposErrorReply", "ok"]
    await platform.invoker.flush_log()  # the database copy is written in the background
    stored = await platform.store.calls(scope_of())
    assert [c.outcome for c in stored] == ["NotRegistered", "EposErrorReply", "ok"]
    assert stored[2].request["url"] == "http://epos.test/dojo/v1/orders/ord_1"
    assert stored[2].reply["status"] == 200 and stored[2].duration_ms >= 0
    dumped = json.dumps([r.summary() for r in recent]) + json.dumps(
        [(c.request, c.reply) for c in stored])
    assert EPOS_PASSWORD not in dumped and SANDBOX_KEY not in dumped
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in all_logs.records)
    assert "GetOrderById" in logged
    assert EPOS_PASSWORD not in logged and SANDBOX_KEY not in logged
    assert platform.invoker.recent(scope_of(software_house="other")) == []


async def test_handle_event_is_delivered_over_rest_as_post_v1_events(
    http: httpx.AsyncClient, platform: Platform, wired: RestEpos
) -> None:
    """spec defect #6: the docs-only route POST /v1/events, body = the Event."""
    await register_rest(http, ["HandleEvent:payment_intent.created"])
    outcome = await platform.deliver_payment_intent_event(
        scope_of(), "payment_intent.created",
        {"paymentIntentId": "pi_9", "paymentStatus": "Created", "captureMode": "Manual"},
        event_id="evt_fixed")
    assert outcome.ok, outcome.detail
    assert wired.seen[0]["path"] == "/dojo/v1/events"
    [event] = wired.handler.events
    assert event.id == "evt_fixed" and event.data.payment_intent_id == "pi_9"
    bad = await platform.deliver_payment_intent_event(scope_of(), "payment_intent.refunded", {})
    assert bad.failure is Failure.INVALID_PARAMS


async def test_ws_is_preferred_only_while_connected(
    http: httpx.AsyncClient, platform: Platform, wired: RestEpos
) -> None:
    """Registered on both transports and no socket: REST is used."""
    await register_rest(http, ["GetOrderById"])
    await http.put("/epos/integrations/ws", headers=H,
                   json={"capabilities": [{"name": "GetOrderById", "version": "v1"}]})
    outcome = await platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"})
    assert outcome.ok and outcome.transport == "rest"
    forced = await platform.invoke(scope_of(), "GetOrderById", {"orderId": "ord_1"},
                                   transport="ws")
    assert forced.failure is Failure.NOT_CONNECTED
