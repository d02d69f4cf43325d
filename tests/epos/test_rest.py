"""The REST app: auth, routing, bad input and failures, all answered in the contract's shape."""

from __future__ import annotations

import base64
import logging

import httpx
import pytest

from dojo_epos.contract.capabilities import CATALOGUE, rest_routes
from dojo_epos.epos.rest import build_rest_app, route_order
from dojo_epos.testing import DEFAULT_PASSWORD, DEFAULT_USERNAME, EposTestClient
from tests.conformance.handlers import ConformanceHandler

PAYMENT = {"paymentIntentId": "pi_1", "paidAmount": {"value": 100, "currencyCode": "GBP"}}


def assert_eposerror(response: httpx.Response, status: int, error_type: str) -> str:
    """The answer is ``status`` with an EPOSError body of ``error_type``; returns its message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["errorType"] == error_type
    assert body["traceId"]
    assert set(body) <= {"errorType", "debugMessage", "traceId"}
    return str(body.get("debugMessage", ""))


# -- auth -----------------------------------------------------------------------------------

@pytest.mark.parametrize("auth", [None, ("dojo", "wrong"), ("wrong", DEFAULT_PASSWORD),
                                  ("", ""), (DEFAULT_USERNAME, DEFAULT_PASSWORD + "x")])
async def test_wrong_or_missing_credentials_get_401(rest_client: EposTestClient,
                                                    auth: tuple[str, str] | None) -> None:
    """spec defect #7: basic auth on every /v1 route, 401 with an EPOSError body."""
    response = await rest_client.raw_rest("GET", "/v1/orders/ord_1", auth=auth)
    assert_eposerror(response, 401, "InvalidRequest")
    assert response.headers["www-authenticate"].startswith("Basic")


@pytest.mark.parametrize("header", ["Bearer abc", "Basic", "Basic !!!notbase64",
                                    "Basic " + base64.b64encode(b"no-colon").decode()])
async def test_malformed_authorization_headers_get_401(rest_client: EposTestClient,
                                                       header: str) -> None:
    response = await rest_client.raw_rest("GET", "/v1/areas", headers={"authorization": header},
                                          auth=None)
    assert_eposerror(response, 401, "InvalidRequest")


@pytest.mark.parametrize("spelling", ["Basic {}", "basic {}", "BASIC  {} "])
async def test_right_credentials_pass_however_the_scheme_is_spelt(
    rest_client: EposTestClient, conformance_handler: ConformanceHandler, spelling: str
) -> None:
    """The exact header Dojo sends is checked with one comparison; other spellings of the same
    credentials take the full check, and both reach the handler with Dojo's headers."""
    token = base64.b64encode(f"{DEFAULT_USERNAME}:{DEFAULT_PASSWORD}".encode()).decode()
    response = await rest_client.raw_rest(
        "GET", "/v1/orders/ord_1", auth=None,
        headers={"authorization": spelling.format(token), "Waiter-Id": "w_1",
                 "device-type": "Terminal"})
    assert response.status_code == 200, response.text
    ctx = conformance_handler.contexts[-1]
    assert (ctx.waiter_id, ctx.device_type, ctx.device_id) == ("w_1", "Terminal", None)


async def test_refused_credentials_change_nothing(
    rest_client: EposTestClient, conformance_handler: ConformanceHandler
) -> None:
    before = conformance_handler.orders["ord_1"]
    response = await rest_client.raw_rest("POST", "/v1/orders/ord_1/record-payment",
                                          json=PAYMENT, auth=("dojo", "guess"))
    assert response.status_code == 401
    assert conformance_handler.orders["ord_1"] == before
    assert conformance_handler.contexts == []


async def test_credentials_never_appear_in_answers(rest_client: EposTestClient) -> None:
    response = await rest_client.raw_rest("GET", "/v1/orders/ord_1",
                                          auth=(DEFAULT_USERNAME, "guess"))
    assert DEFAULT_PASSWORD not in response.text and "guess" not in response.text


async def test_healthz_and_openapi_need_no_auth(rest_client: EposTestClient) -> None:
    health = await rest_client.raw_rest("GET", "/healthz", auth=None)
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    openapi = await rest_client.raw_rest("GET", "/openapi.json", auth=None)
    assert openapi.status_code == 200


# -- routing --------------------------------------------------------------------------------

async def test_every_catalogue_route_is_served(rest_client: EposTestClient) -> None:
    """No route answers 404/405 for lack of a route (bodies may still be refused)."""
    for capability in rest_routes():
        method, path = capability.http
        path = path.replace("{", "").replace("}", "")
        response = await rest_client.raw_rest(method, path, json={} if method != "GET" else None)
        assert response.status_code not in (405,), (capability.name, response.text)
        body = response.json()
        if response.status_code == 404:
            assert "no route" not in body["debugMessage"], capability.name


async def test_unknown_path_is_404_eposerror(rest_client: EposTestClient) -> None:
    message = assert_eposerror(await rest_client.raw_rest("GET", "/v1/nothing-here"), 404,
                               "NotFound")
    assert "/v1/nothing-here" in message


async def test_wrong_method_on_a_known_path_is_405_with_allow(
    rest_client: EposTestClient,
) -> None:
    response = await rest_client.raw_rest("PATCH", "/v1/orders/ord_1")
    assert_eposerror(response, 405, "InvalidRequest")
    assert response.headers["allow"] == "DELETE, GET"


async def test_search_route_is_not_taken_for_an_order_id(rest_client: EposTestClient) -> None:
    """/v1/orders/search is SearchOrders; GET on it is a wrong method, not GetOrderById."""
    assert (await rest_client.raw_rest("POST", "/v1/orders/search", json={})).status_code == 200
    assert (await rest_client.raw_rest("GET", "/v1/orders/search")).status_code == 405


def test_routes_are_tried_orders_first_and_never_a_template_before_a_path_it_matches() -> None:
    from starlette.routing import Route

    order = route_order({c.http[1] for c in rest_routes()})
    assert order.index("/v1/orders/{orderId}") <= 2  # the hottest call tries few regexes
    for i, path in enumerate(order):
        pattern = Route(path, lambda request: None).path_regex
        assert not [later for later in order[i + 1:] if pattern.match(later)], path
    served = [r.path for r in build_rest_app(ConformanceHandler(), username="u",
                                             password="p").routes]
    assert served[:len(order)] == order


async def test_the_first_of_a_repeated_header_is_the_one_read() -> None:
    handler = ConformanceHandler()
    app = build_rest_app(handler, username="u", password="p")
    token = base64.b64encode(b"u:p").decode()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://epos") as client:
        response = await client.get("/v1/orders/ord_1", headers=[
            ("Authorization", f"Basic {token}"), ("Waiter-Id", "w_first"),
            ("waiter-id", "w_second"), ("Authorization", "Basic d3Jvbmc6d3Jvbmc=")])
    assert response.status_code == 200, response.text
    assert handler.contexts[-1].waiter_id == "w_first"


async def test_path_parameters_are_url_decoded(
    rest_client: EposTestClient, conformance_handler: ConformanceHandler
) -> None:
    response = await rest_client.raw_rest("GET", "/v1/orders/no%20such%20order")
    assert assert_eposerror(response, 404, "NotFound") == "no order no such order"


async def test_deletes_answer_an_empty_object(rest_client: EposTestClient) -> None:
    for path in ("/v1/parties/p_1", "/v1/reservations/r_1"):
        response = await rest_client.raw_rest("DELETE", path)
        assert response.status_code == 200 and response.json() == {}


async def test_events_route_takes_the_event_as_body(
    rest_client: EposTestClient, conformance_handler: ConformanceHandler
) -> None:
    """spec defect #6: POST /v1/events, body = Event, answer 200 {}."""
    event = {"id": "evt_1", "accountId": "acc", "event": "payment_intent.status_updated",
             "createdAt": "2025-01-01T00:00:00Z",
             "data": {"paymentIntentId": "pi", "paymentStatus": "Captured", "captureMode": "Auto"}}
    response = await rest_client.raw_rest("POST", "/v1/events", json=event,
                                          headers={"dojo-requesting-product": "QR Pay"})
    assert response.status_code == 200 and response.json() == {}
    assert "evt_1" in conformance_handler.events
    assert conformance_handler.contexts[-1].requesting_product == "QR Pay"


# -- bad bodies -----------------------------------------------------------------------------

@pytest.mark.parametrize(("content", "words"), [
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "JSON object, not an array"),
    (b'"text"', "JSON object, not a string"),
    (b"null", "JSON object, not null"),
    (b'{"paidAmount": NaN}', "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
])
async def test_bodies_that_are_not_json_objects_get_400(
    rest_client: EposTestClient, conformance_handler: ConformanceHandler,
    content: bytes, words: str,
) -> None:
    before = conformance_handler.orders["ord_1"]
    response = await rest_client.raw_rest("POST", "/v1/orders/ord_1/record-payment",
                                          content=content,
                                          headers={"content-type": "application/json"})
    assert words in assert_eposerror(response, 400, "InvalidRequest")
    assert conformance_handler.orders["ord_1"] == before


async def test_wrong_content_type_gets_400(rest_client: EposTestClient) -> None:
    response = await rest_client.raw_rest("POST", "/v1/orders/search", content=b"{}",
                                          headers={"content-type": "text/plain"})
    assert "application/json" in assert_eposerror(response, 400, "InvalidRequest")


async def test_lock_body_allows_no_extra_fields(rest_client: EposTestClient) -> None:
    """REST's CreateOrderLockRequest has additionalProperties: false; the field is named."""
    response = await rest_client.raw_rest(
        "POST", "/v1/orders/ord_1/lock",
        json={"lockId": "lk", "expiry": "2031-01-01T00:00:00Z", "orderId": "ord_1"})
    assert "orderId" in assert_eposerror(response, 400, "InvalidRequest")


async def test_missing_and_mistyped_fields_are_named(rest_client: EposTestClient) -> None:
    response = await rest_client.raw_rest("POST", "/v1/orders/ord_1/record-payment",
                                          json={"paymentIntentId": 5})
    message = assert_eposerror(response, 400, "InvalidRequest")
    assert "paymentIntentId" in message and "paidAmount" in message


async def test_oversized_body_is_refused_with_413() -> None:
    handler = ConformanceHandler()
    app = build_rest_app(handler, username="u", password="p", max_body_bytes=64)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://epos.test", auth=("u", "p")) as client:
        response = await client.post("/v1/orders/ord_1/record-payment",
                                     json={**PAYMENT, "padding": "x" * 100})
    assert "64 bytes" in assert_eposerror(response, 413, "InvalidRequest")
    assert handler.contexts == []


async def test_body_of_a_capability_not_offered_is_not_validated() -> None:
    """NotFound first, as on the WebSocket, whatever the body says."""
    from tests.conformance.handlers import OrdersOnlyHandler

    async with EposTestClient(OrdersOnlyHandler(), transport="rest") as client:
        response = await client.raw_rest("POST", "/v1/parties", json={"bad": True})
    assert "not offered" in assert_eposerror(response, 404, "NotFound")


# -- failures -------------------------------------------------------------------------------

async def test_handler_exception_is_500_with_trace_id_and_detail_only_in_log(
    rest_client: EposTestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="dojo_epos.epos"):
        response = await rest_client.raw_rest("GET", "/v1/orders/boom")
    message = assert_eposerror(response, 500, "UnexpectedError")
    trace_id = response.json()["traceId"]
    assert trace_id in message and "on purpose" not in response.text
    logged = [r for r in caplog.records if trace_id in r.getMessage()]
    assert logged and "on purpose" in str(logged[0].exc_info[1] if logged[0].exc_info else "")


async def test_openapi_document_lists_every_route_with_basic_auth(
    rest_client: EposTestClient,
) -> None:
    doc = (await rest_client.raw_rest("GET", "/openapi.json")).json()
    assert doc["openapi"] == "3.1.0"
    ops = {(method.upper(), path): op for path, item in doc["paths"].items()
           for method, op in item.items()}
    assert set(ops) == {c.http for c in CATALOGUE}
    for c in rest_routes():
        assert ops[c.http]["operationId"] == c.operation_id
    assert doc["components"]["securitySchemes"]["basicAuth"]["scheme"] == "basic"
