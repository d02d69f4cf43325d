"""The capability registry over HTTP: shapes, replace semantics, checks, isolation, persistence."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from dojo_epos.contract.capabilities import CATALOGUE
from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
from dojo_epos.platform.registry import rest_base
from tests.platform.conftest import (
    EPOS_PASSWORD,
    OTHER_SANDBOX_KEY,
    PROD_KEY,
    SANDBOX_KEY,
    auth_headers,
    scope_of,
)
from tests.specs import api_spec, needs_specs, validate

H = auth_headers()


def rest_body(names=("SearchOrders", "GetOrderById"), version="v1",
              url="https://epos.example/dojo", password=EPOS_PASSWORD) -> dict:
    return {
        "url": url,
        "capabilities": [{"name": n, "version": version} for n in names],
        "auth": {"authType": "basic", "basic": {"username": "epos-1", "password": password}},
    }


def ws_body(names=("SearchOrders", "GetOrderById"), version="v1") -> dict:
    return {"capabilities": [{"name": n, "version": version} for n in names]}


async def test_nothing_is_registered_at_first(http: httpx.AsyncClient) -> None:
    """A new account has empty lists on every GET."""
    assert (await http.get("/epos/integrations", headers=H)).json() == {
        "restIntegrations": [], "wsIntegrations": [], "dojoManagedIntegrations": []}
    assert (await http.get("/epos/integrations/rest", headers=H)).json() == []
    assert (await http.get("/epos/integrations/ws", headers=H)).json() == []
    assert (await http.get("/epos/integrations/dojo", headers=H)).json() == []


@needs_specs
async def test_every_registry_answer_validates_against_the_dojo_api_spec(
    http: httpx.AsyncClient,
) -> None:
    """PUT and GET answers of all four endpoints match the published response schemas."""
    spec = api_spec()
    put_rest = await http.put("/epos/integrations/rest", headers=H, json=rest_body())
    put_ws = await http.put("/epos/integrations/ws", headers=H, json=ws_body())
    for response in (put_rest, put_ws):
        assert response.status_code == 200, response.text
    for item in put_rest.json():
        validate(item, spec, "RestIntegrationResponse")
    for item in put_ws.json():
        validate(item, spec, "WsIntegrationResponse")
    for item in (await http.get("/epos/integrations/rest", headers=H)).json():
        validate(item, spec, "RestIntegrationResponse")
    for item in (await http.get("/epos/integrations/ws", headers=H)).json():
        validate(item, spec, "WsIntegrationResponse")
    for item in (await http.get("/epos/integrations/dojo", headers=H)).json():
        validate(item, spec, "DojoManagedIntegrationResponse")
    everything = (await http.get("/epos/integrations", headers=H)).json()
    validate(everything, spec, "AllIntegrationsResponse")
    assert len(everything["restIntegrations"]) == 1 and len(everything["wsIntegrations"]) == 1


async def test_put_rest_echoes_url_names_versions_and_username_only(
    http: httpx.AsyncClient,
) -> None:
    """The answer carries what was sent, with updatedAt/createdAt, and no password field."""
    response = await http.put("/epos/integrations/rest", headers=H, json=rest_body(
        names=("GetOrder", "RecordOrderPaymentById", "GetOrderBill"), version="1.0.0"))
    assert response.status_code == 200
    [integration] = response.json()
    assert integration["url"] == "https://epos.example/dojo"
    assert [c["name"] for c in integration["capabilities"]] == [
        "GetOrder", "RecordOrderPaymentById", "GetOrderBill"]
    assert {c["version"] for c in integration["capabilities"]} == {"1.0.0"}
    assert integration["auth"] == {"authType": "basic", "basic": {"username": "epos-1"}}
    assert "createdAt" in integration
    assert all("updatedAt" in c for c in integration["capabilities"])


async def test_a_put_replaces_that_transports_set_and_keeps_created_at(
    http: httpx.AsyncClient,
) -> None:
    """Capabilities left out of a later PUT stop being registered (spec defect #38)."""
    first = (await http.put("/epos/integrations/ws", headers=H,
                            json=ws_body(("SearchOrders", "GetOrderById")))).json()[0]
    second = (await http.put("/epos/integrations/ws", headers=H,
                             json=ws_body(("ListAreas",)))).json()[0]
    assert [c["name"] for c in second["capabilities"]] == ["ListAreas"]
    assert second["createdAt"] == first["createdAt"]
    got = (await http.get("/epos/integrations/ws", headers=H)).json()
    assert got == [second]


async def test_rest_and_ws_sets_are_independent(http: httpx.AsyncClient) -> None:
    """A WS PUT does not touch the REST registration, and vice versa."""
    await http.put("/epos/integrations/rest", headers=H, json=rest_body(("SearchOrders",)))
    await http.put("/epos/integrations/ws", headers=H, json=ws_body(("ListAreas",)))
    everything = (await http.get("/epos/integrations", headers=H)).json()
    assert [c["name"] for c in everything["restIntegrations"][0]["capabilities"]] == [
        "SearchOrders"]
    assert [c["name"] for c in everything["wsIntegrations"][0]["capabilities"]] == ["ListAreas"]


@pytest.mark.parametrize("version", ["v1", "V1", "1", "1.0", "1.0.0"])
async def test_major_one_versions_are_accepted_and_echoed_as_sent(
    http: httpx.AsyncClient, version: str
) -> None:
    """spec defect #4: v1 and 1.0.0 both mean major 1."""
    response = await http.put("/epos/integrations/ws", headers=H,
                              json=ws_body(("SearchOrders",), version=version))
    assert response.status_code == 200
    assert response.json()[0]["capabilities"][0]["version"] == version


async def test_every_catalogue_name_and_alias_is_accepted(http: httpx.AsyncClient) -> None:
    """All 23 spec names plus the doc and example aliases (spec defects #1, #2)."""
    names = [c.name for c in CATALOGUE]
    aliases = [a for c in CATALOGUE for a in c.aliases]
    response = await http.put("/epos/integrations/ws", headers=H, json=ws_body(names))
    assert response.status_code == 200, response.text
    assert len(response.json()[0]["capabilities"]) == 23
    assert {"GetOrderBillById", "RecordOrderPaymentById", "UpdateParty", "UpdateReservation",
            "GetOrder", "RecordPayment"} <= set(aliases)
    for alias in aliases:
        response = await http.put("/epos/integrations/ws", headers=H, json=ws_body((alias,)))
        assert response.status_code == 200, response.text
        assert [c["name"] for c in response.json()[0]["capabilities"]] == [alias]


async def test_example_only_aliases_are_accepted_with_a_warning(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """GetOrder and RecordPayment only appear in Dojo's examples (spec defect #2)."""
    caplog.set_level(logging.WARNING, logger="dojo_epos")
    response = await http.put("/epos/integrations/ws", headers=H,
                              json=ws_body(("GetOrder", "RecordPayment")))
    assert response.status_code == 200
    warned = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "GetOrder" in warned and "RecordPayment" in warned


BAD_PUTS = {
    "unknown capability": ("ws", ws_body(("GetOrderById", "MakeCoffee")), "unknown_capability"),
    "major version 2": ("ws", ws_body(("GetOrderById",), version="v2"), "unsupported_version"),
    "garbage version": ("ws", ws_body(("GetOrderById",), version="latest"), "invalid_version"),
    "same capability twice by alias": (
        "ws", ws_body(("GetOrderById", "GetOrder")), "duplicate_capability"),
    "capabilities missing": ("ws", {}, "invalid_request"),
    "capability without version": (
        "ws", {"capabilities": [{"name": "GetOrderById"}]}, "invalid_request"),
    "body is an array": ("ws", [{"name": "GetOrderById", "version": "v1"}], "invalid_request"),
    "rest without auth": ("rest", {k: v for k, v in rest_body().items() if k != "auth"},
                          "invalid_request"),
    "rest without password": ("rest", {**rest_body(), "auth": {"authType": "basic",
                              "basic": {"username": "u"}}}, "invalid_request"),
    "rest with another auth type": ("rest", {**rest_body(), "auth": {
        "authType": "oauth", "basic": {"username": "u", "password": "p"}}}, "invalid_request"),
    "rest ftp url": ("rest", rest_body(url="ftp://epos.example/"), "invalid_url"),
    "rest relative url": ("rest", rest_body(url="/dojo"), "invalid_url"),
    "rest url with query": ("rest", rest_body(url="https://e.example/?a=1"), "invalid_url"),
    "rest template outside v1": ("rest", rest_body(url="https://e.example/o/{id}"),
                                 "invalid_url"),
    "rest unknown capability": ("rest", rest_body(("Nope",)), "unknown_capability"),
}


@pytest.mark.parametrize("case", list(BAD_PUTS))
async def test_a_rejected_put_is_400_and_changes_nothing(
    http: httpx.AsyncClient, case: str
) -> None:
    """Bad input gets a JSON 400 naming the problem; the earlier registration stays."""
    transport, body, code = BAD_PUTS[case]
    good = rest_body() if transport == "rest" else ws_body()
    before = (await http.put(f"/epos/integrations/{transport}", headers=H, json=good)).json()
    response = await http.put(f"/epos/integrations/{transport}", headers=H, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == code
    assert (await http.get(f"/epos/integrations/{transport}", headers=H)).json() == before


async def test_a_body_that_is_not_json_is_400(http: httpx.AsyncClient) -> None:
    """Broken JSON, NaN and Infinity (not JSON) and an empty body are refused cleanly."""
    for content in (b"{not json", b"", b'{"capabilities": [], "x": NaN}',
                    b'{"capabilities": [], "x": -Infinity}'):
        response = await http.put("/epos/integrations/ws", headers=H, content=content)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"


async def test_unknown_routes_and_methods_answer_json(http: httpx.AsyncClient) -> None:
    """Even a 404/405 is the platform's JSON error shape."""
    missing = await http.get("/epos/nothing-here", headers=H)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong = await http.delete("/epos/integrations/ws", headers=H)
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"


async def test_the_password_never_appears_in_answers_or_logs(
    http: httpx.AsyncClient, all_logs: pytest.LogCaptureFixture
) -> None:
    """Registration keeps the password for calling the EPOS, and shows it to nobody."""
    answers = [
        await http.put("/epos/integrations/rest", headers=H, json=rest_body()),
        await http.get("/epos/integrations/rest", headers=H),
        await http.get("/epos/integrations", headers=H),
        # a rejected PUT must not echo it in its error either
        await http.put("/epos/integrations/rest", headers=H,
                       json=rest_body(names=("Nope",))),
        await http.put("/epos/integrations/rest", headers=H,
                       json={**rest_body(), "url": 42}),
    ]
    for response in answers:
        assert EPOS_PASSWORD not in response.text
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in all_logs.records)
    assert EPOS_PASSWORD not in logged
    assert SANDBOX_KEY not in logged
    assert all_logs.records, "expected the registry to log something"


async def test_a_url_with_a_spec_path_is_used_as_its_base_with_a_warning(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """spec defect #40: the seed example registers a per-capability URL."""
    caplog.set_level(logging.WARNING, logger="dojo_epos")
    url = "https://epos.example/some/path/v1/orders/{orderID}"
    response = await http.put("/epos/integrations/rest", headers=H, json=rest_body(url=url))
    assert response.status_code == 200
    assert response.json()[0]["url"] == url  # echoed as sent
    assert any("spec defect #40" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(("url", "base"), [
    ("https://epos.example/dojo/", "https://epos.example/dojo"),
    ("https://epos.example", "https://epos.example"),
    ("http://127.0.0.1:8080/x/v1/orders/{orderId}", "http://127.0.0.1:8080/x"),
    ("https://epos.example/v1", "https://epos.example"),
    ("https://my-epos.com/orders", "https://my-epos.com/orders"),
])
def test_rest_base_cuts_before_the_first_v1_segment(url: str, base: str) -> None:
    """The base is what the spec paths are appended to."""
    assert rest_base(url)[0] == base


async def test_environments_keys_and_software_houses_are_isolated(
    http: httpx.AsyncClient,
) -> None:
    """Registrations under one scope are invisible to every other scope."""
    await http.put("/epos/integrations/ws", headers=H, json=ws_body(("ListAreas",)))
    others = [
        auth_headers(PROD_KEY),
        auth_headers(OTHER_SANDBOX_KEY),
        auth_headers(software_house="anotherHouse"),
    ]
    for headers in others:
        assert (await http.get("/epos/integrations/ws", headers=headers)).json() == []
    # and the reseller does not split an account
    assert (await http.get("/epos/integrations/ws",
                           headers=auth_headers(reseller="r9"))).json() != []


async def test_registrations_survive_a_restart(settings: PlatformSettings) -> None:
    """A new app on the same SQLite file sees what the first one stored."""
    async def run(action):
        platform = Platform(settings)
        app = build_platform_app(platform=platform)
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url="http://p") as client:
                return await action(client)
        finally:
            await platform.close()

    async def register(client):
        await client.put("/epos/integrations/rest", headers=H, json=rest_body())
        return (await client.put("/epos/integrations/ws", headers=H, json=ws_body())).json()

    async def read(client):
        return (await client.get("/epos/integrations", headers=H)).json()

    ws = await run(register)
    after = await run(read)
    assert after["wsIntegrations"] == ws
    assert after["restIntegrations"][0]["auth"]["basic"] == {"username": "epos-1"}
    assert EPOS_PASSWORD not in json.dumps(after)


async def test_the_reseller_id_is_recorded(http: httpx.AsyncClient, platform: Platform) -> None:
    """reseller-id does not scope anything, but the registration remembers it."""
    await http.put("/epos/integrations/ws", headers=auth_headers(reseller="reseller1"),
                   json=ws_body())
    caller = platform.keys.authenticate(auth_headers())
    stored = await platform.store.registration(caller.scope, "ws")
    assert stored is not None and stored.reseller_id == "reseller1"


async def test_capability_names_are_canonical_per_transport(http: httpx.AsyncClient,
                                                            platform: Platform) -> None:
    """What the tester and the terminal ask: aliases answer as catalogue names."""
    await http.put("/epos/integrations/ws", headers=H, json=ws_body(("GetOrder", "SearchTables")))
    await http.put("/epos/integrations/rest", headers=H, json=rest_body(("RecordPayment",)))
    scope = scope_of()
    assert await platform.registry.capability_names(scope) == {
        "GetOrderById", "SearchTables", "RecordOrderPayment"}
    assert await platform.registry.capability_names(scope, "ws") == {"GetOrderById", "SearchTables"}
    assert await platform.registry.capability_names(scope, "rest") == {"RecordOrderPayment"}
    assert await platform.registry.capability_names(scope_of(software_house="other")) == set()
