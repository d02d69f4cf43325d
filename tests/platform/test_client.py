"""The platform client (sync and async) against the local platform and a recording fake."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from dojo_epos.client import AsyncClient, Client, PlatformApiError
from dojo_epos.contract.capabilities import lookup
from dojo_epos.contract.platform_models import CapabilityRequest
from tests.platform.conftest import EPOS_PASSWORD, SANDBOX_KEY, SOFTWARE_HOUSE, LiveServer


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(SANDBOX_KEY, SOFTWARE_HOUSE, base_url="http://platform",
                           transport=httpx.ASGITransport(app=app)) as client:
        yield client


async def test_async_client_registers_and_reads_back(client: AsyncClient) -> None:
    """Names, pairs, catalogue rows and CapabilityRequests all register; GETs read them."""
    ws = await client.put_ws_integration(
        ["SearchOrders", ("GetOrder", "1.0.0"), lookup("ListAreas"),
         CapabilityRequest(name="UpdateParty", version="V1")])
    assert [(c.name, c.version) for c in ws[0].capabilities] == [
        ("SearchOrders", "v1"), ("GetOrder", "1.0.0"), ("ListAreas", "v1"), ("UpdateParty", "V1")]
    rest = await client.put_rest_integration("https://epos.example", ["GetOrderById"],
                                             username="u", password=EPOS_PASSWORD)
    assert rest[0].auth.basic is not None and rest[0].auth.basic.username == "u"
    everything = await client.get_integrations()
    assert everything.ws_integrations == await client.get_ws_integrations()
    assert everything.rest_integrations == await client.get_rest_integrations()
    assert await client.get_dojo_integrations() == []


async def test_async_client_sends_and_lists_events(client: AsyncClient) -> None:
    """send_event builds the paired body; list_events reads the local extension."""
    echo = await client.send_event("PartyUpdated", "party_7")
    assert echo.to_wire() == {"eventType": "PartyUpdated", "event": {"partyId": "party_7"}}
    listed = await client.list_events()
    assert listed[0]["event"] == {"partyId": "party_7"}


async def test_errors_raise_platform_api_error_with_status_and_body(app: Starlette) -> None:
    """A 4xx becomes PlatformApiError carrying the JSON error."""
    async with AsyncClient("sk_sandbox_ok", "", base_url="http://platform",
                           transport=httpx.ASGITransport(app=app)) as nameless:
        with pytest.raises(PlatformApiError) as info:
            await nameless.get_integrations()
    assert info.value.status == 400
    assert info.value.body["error"] == "missing_software_house_id"
    async with AsyncClient(SANDBOX_KEY, SOFTWARE_HOUSE, base_url="http://platform",
                           transport=httpx.ASGITransport(app=app)) as client:
        with pytest.raises(PlatformApiError) as info:
            await client.put_ws_integration(["NotACapability"])
    assert info.value.status == 400 and "NotACapability" in str(info.value)


def recording_platform(seen: list[httpx.Request]) -> httpx.MockTransport:
    """A fake of Dojo's API that records requests and answers the tester calls."""
    flow = {"flowID": "0b7e6c1e-9a7d-4a8e-8d3c-3f1f2b6a9c10", "flowName": "Get Order",
            "status": "SUCCESS", "startedAt": "2026-01-01T00:00:00Z", "steps": []}

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path
        if path == "/epos-tester-tool/flows" and request.method == "GET":
            return httpx.Response(200, json={"name": "Get Order", "params": []})
        if path == "/epos-tester-tool/flows":
            return httpx.Response(200, json=flow["flowID"])
        if path.startswith("/epos-tester-tool/flows/"):
            return httpx.Response(200, json=flow)
        return httpx.Response(401, json={"error": "invalid_api_key", "message": "no"})
    return httpx.MockTransport(answer)


def test_sync_client_sends_dojo_headers_and_reads_tester_answers() -> None:
    """Authorization is 'Basic <key>' as is, plus software-house-id, reseller-id and version."""
    seen: list[httpx.Request] = []
    with Client(SANDBOX_KEY, SOFTWARE_HOUSE, "reseller1",
                transport=recording_platform(seen)) as client:
        flows = client.list_flows()  # spec defect #39: a single object is accepted
        flow_id = client.run_flow("Get Order", {"orderId": "ord_1"})
        result = client.get_flow_result(flow_id)
        with pytest.raises(PlatformApiError) as info:
            client.get_integrations()
    assert [f.name for f in flows] == ["Get Order"]
    assert result.flow_id == flow_id and result.status.value == "SUCCESS"
    assert info.value.status == 401
    first = seen[0]
    assert str(first.url).startswith("https://api.dojo.tech/epos-tester-tool/flows")
    assert first.headers["authorization"] == f"Basic {SANDBOX_KEY}"
    assert first.headers["software-house-id"] == SOFTWARE_HOUSE
    assert first.headers["reseller-id"] == "reseller1"
    assert first.headers["version"] == "2026-02-27"
    assert json.loads(seen[1].content) == {"flow": "Get Order", "params": {"orderId": "ord_1"}}
    assert SANDBOX_KEY not in repr(client)


@pytest.mark.socket
async def test_sync_client_against_the_live_platform(live: LiveServer) -> None:
    """Over a real socket, the blocking client registers and reads back (run in a thread)."""
    def work() -> list[str]:
        with Client(SANDBOX_KEY, SOFTWARE_HOUSE, base_url=live.base_url) as client:
            client.put_ws_integration(["SearchOrders"])
            return [c.name for c in client.get_ws_integrations()[0].capabilities]

    assert await asyncio.to_thread(work) == ["SearchOrders"]
