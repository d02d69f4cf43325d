"""POST /epos/events (and the local GET listing): pairing, storage, echo, isolation."""

from __future__ import annotations

import httpx
import pytest

from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
from tests.platform.conftest import PROD_KEY, auth_headers
from tests.specs import api_spec, needs_specs, validate

H = auth_headers()

GOOD = [
    {"eventType": "OrderUpdated", "event": {"orderId": "ord_1"}},
    {"eventType": "PartyUpdated", "event": {"partyId": "party_1"}},
    {"eventType": "ReservationUpdated", "event": {"reservationId": "res_1"}},
]


@needs_specs
@pytest.mark.parametrize("body", GOOD, ids=lambda b: b["eventType"])
async def test_each_event_type_is_accepted_and_echoed(
    http: httpx.AsyncClient, body: dict[str, object]
) -> None:
    """200 echoes the EventRequest, which validates against the published schema."""
    response = await http.post("/epos/events", headers=H, json=body)
    assert response.status_code == 200, response.text
    assert response.json() == body
    validate(response.json(), api_spec(), "EventRequest")


BAD = {
    "order type with a party id": {"eventType": "OrderUpdated", "event": {"partyId": "p"}},
    "party type with an order id": {"eventType": "PartyUpdated", "event": {"orderId": "o"}},
    "unknown type": {"eventType": "OrderCreated", "event": {"orderId": "o"}},
    "no event": {"eventType": "OrderUpdated"},
    "no type": {"event": {"orderId": "o"}},
    "id not a string": {"eventType": "OrderUpdated", "event": {"orderId": 5}},
    "event is a string": {"eventType": "OrderUpdated", "event": "ord_1"},
    "body is an array": [{"eventType": "OrderUpdated", "event": {"orderId": "o"}}],
}


@pytest.mark.parametrize("case", list(BAD))
async def test_a_bad_event_is_400_and_not_stored(http: httpx.AsyncClient, case: str) -> None:
    """spec defect #37: the type and the id must pair up; anything else is refused."""
    response = await http.post("/epos/events", headers=H, json=BAD[case])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert (await http.get("/epos/events", headers=H)).json() == {"events": []}


async def test_events_are_listed_newest_first_per_scope(http: httpx.AsyncClient) -> None:
    """GET /epos/events (a local extension) shows what this scope sent, and nothing else."""
    for body in GOOD:
        await http.post("/epos/events", headers=auth_headers(reseller="r1"), json=body)
    await http.post("/epos/events", headers=auth_headers(PROD_KEY), json=GOOD[0])
    listed = (await http.get("/epos/events", headers=H)).json()["events"]
    assert [e["eventType"] for e in listed] == [
        "ReservationUpdated", "PartyUpdated", "OrderUpdated"]
    assert listed[0]["event"] == {"reservationId": "res_1"}
    assert all(e["resellerId"] == "r1" and "receivedAt" in e for e in listed)
    limited = (await http.get("/epos/events?limit=1", headers=H)).json()["events"]
    assert len(limited) == 1
    assert len((await http.get("/epos/events", headers=auth_headers(PROD_KEY))).json()[
        "events"]) == 1
    for bad in ("0", "x", "100000"):
        assert (await http.get(f"/epos/events?limit={bad}", headers=H)).status_code == 400


async def test_events_survive_a_restart(settings: PlatformSettings) -> None:
    """Stored in the platform database, so a new app on the same file lists them."""
    for step in ("write", "read"):
        platform = Platform(settings)
        app = build_platform_app(platform=platform)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://p") as client:
            if step == "write":
                assert (await client.post("/epos/events", headers=H,
                                          json=GOOD[0])).status_code == 200
            else:
                events = (await client.get("/epos/events", headers=H)).json()["events"]
        await platform.close()
    assert [e["event"] for e in events] == [{"orderId": "ord_1"}]
