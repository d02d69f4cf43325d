"""The tester API: Dojo's paths and shapes, with the fixes of spec defect #39."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dojo_epos.contract.tester_models import FlowResult, Status
from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
from dojo_epos.platform.bus import BusTimeout
from dojo_epos.platform.tester.flows import FLOWS
from tests.platform.conftest import OTHER_SANDBOX_KEY, auth_headers, scope_of
from tests.specs import needs_specs, tester_spec, validate

BASE = "/epos-tester-tool/flows"


@needs_specs
async def test_flows_are_listed_as_an_array_of_flow_descriptions(http: httpx.AsyncClient) -> None:
    """``GET /flows`` answers an array (spec defect #39), each item a valid FlowDescription."""
    response = await http.get(BASE, headers=auth_headers())
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert [f["name"] for f in body] == [f.name for f in FLOWS]
    for item in body:
        validate(item, tester_spec(), "FlowDescription")
    get_order = next(f for f in body if f["name"] == "Get Order")
    assert get_order["params"][0] == {"name": "orderId", "type": "string", "required": True,
                                      "description": "The EPOS order id to fetch"}
    # every flow takes the transport parameter, listed last
    assert all(f["params"][-1]["name"] == "transport" for f in body)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"flow": "Get Orders", "params": {}}, "unknown flow"),
        ({"flow": "Get Order", "params": {}}, "needs the parameter orderId"),
        ({"flow": "Get Order", "params": {"orderId": "1", "table": "2"}}, "no parameter table"),
        ({"flow": "Get Order", "params": {"orderId": {"a": 1}}}, "must be a string"),
        ({"params": {}}, "flow"),
        ([], "RunFlowRequest"),
        ({"flow": "Certification", "params": {"products": "Pay at Table,Tables"}},
         "unknown product 'Tables' in parameter products; the products are: Pay at Table, QR Pay, "
         "Order & Pay, Bookings"),
        ({"flow": "Get Order", "params": {"orderId": "1", "transport": "pigeon"}},
         "parameter transport must be rest or ws"),
    ],
)
async def test_bad_run_requests_are_400_with_a_message(
    http: httpx.AsyncClient, platform: Platform, body: Any, words: str
) -> None:
    response = await http.post(BASE, json=body, headers=auth_headers())
    assert response.status_code == 400
    error = response.json()
    assert error["error"] == "invalid_request"
    assert words in error["message"] or words.lower() in error["message"].lower()
    assert await platform.store.flow_ids(scope_of()) == []


async def test_a_run_returns_its_id_as_a_json_string_and_can_be_read_back(
    http: httpx.AsyncClient, platform: Platform
) -> None:
    """Nothing registered: the run fails at its first step, as Dojo's tool does."""
    response = await http.post(BASE, json={"flow": "Get Order", "params": {"orderId": "x"}},
                               headers=auth_headers())
    assert response.status_code == 200
    flow_id = response.json()
    assert isinstance(flow_id, str)
    await platform.tester.wait(scope_of(), flow_id)
    got = await http.get(f"{BASE}/{flow_id}", headers=auth_headers())
    assert got.status_code == 200
    result = FlowResult.model_validate(got.json())
    assert result.flow_id == flow_id
    assert result.status is Status.FAILURE
    assert result.steps[0].additional_information[0] == "GetOrder method not found"


@needs_specs
async def test_flow_results_validate_against_the_tester_spec(
    http: httpx.AsyncClient, platform: Platform
) -> None:
    flow_id = (await http.post(BASE, json={"flow": "List Areas"},
                               headers=auth_headers())).json()
    await platform.tester.wait(scope_of(), flow_id)
    body = (await http.get(f"{BASE}/{flow_id}", headers=auth_headers())).json()
    validate(body, tester_spec(), "FlowResult")
    assert body["flowID"] == flow_id


async def test_results_are_scoped_to_the_account(http: httpx.AsyncClient,
                                                 platform: Platform) -> None:
    flow_id = (await http.post(BASE, json={"flow": "List Areas"},
                               headers=auth_headers())).json()
    await platform.tester.wait(scope_of(), flow_id)
    for headers in (auth_headers(OTHER_SANDBOX_KEY), auth_headers(software_house="other-house")):
        response = await http.get(f"{BASE}/{flow_id}", headers=headers)
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"


@pytest.mark.parametrize("path", [BASE, f"{BASE}/some-id"])
@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Basic nope"}, 401),
     (auth_headers(software_house=None), 400)],
)
async def test_the_tester_api_follows_the_platforms_key_rules(
    http: httpx.AsyncClient, path: str, headers: dict[str, str], status: int
) -> None:
    response = await http.get(path, headers=headers)
    assert response.status_code == status
    assert set(response.json()) == {"error", "message"}


async def test_unknown_flow_id_is_404(http: httpx.AsyncClient) -> None:
    response = await http.get(f"{BASE}/00000000-0000-0000-0000-000000000000",
                              headers=auth_headers())
    assert response.status_code == 404


async def test_results_survive_a_platform_restart(settings: PlatformSettings) -> None:
    first = Platform(settings)
    app = build_platform_app(platform=first)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://p") as http:
        flow_id = (await http.post(BASE, json={"flow": "List Areas"},
                                   headers=auth_headers())).json()
        await first.tester.wait(scope_of(), flow_id)
    await first.close()
    second = Platform(settings)
    try:
        result = await second.tester.result(scope_of(), flow_id)
        assert result is not None and result.status is Status.FAILURE
    finally:
        await second.close()


async def test_a_run_cut_short_by_a_restart_is_reported_as_interrupted(
    settings: PlatformSettings,
) -> None:
    """A stored IN_PROGRESS result with no task behind it ends as FAILURE, saying why."""
    first = Platform(settings)
    run = first.tester.prepare(scope_of(), "List Areas", {})
    await first.store.save_flow_result(scope_of(), run.flow_id, run.result.to_wire())
    await first.close()
    second = Platform(settings)
    try:
        result = await second.tester.result(scope_of(), run.flow_id)
        assert result is not None
        assert result.status is Status.FAILURE
        assert result.steps[-1].name == "Flow interrupted"
    finally:
        await second.close()


async def test_a_run_whose_worker_answers_late_is_not_taken_as_interrupted(
    settings: PlatformSettings, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A snapshot asked of the worker running a flow that times out (a busy worker) leaves the run
    in progress: only "no responders" says no worker runs it."""
    first = Platform(settings)
    run = first.tester.prepare(scope_of(), "List Areas", {})
    await first.store.save_flow_result(scope_of(), run.flow_id, run.result.to_wire())
    await first.close()
    second = Platform(settings)

    async def late(subject: str, payload: bytes, timeout: float) -> bytes:
        raise BusTimeout(f"no reply on {subject} within {timeout:g} s")

    try:
        await second.start()
        monkeypatch.setattr(second.tester.bus, "request", late)
        result = await second.tester.result(scope_of(), run.flow_id)
        assert result is not None and result.status is Status.IN_PROGRESS
        stored = await second.store.get_flow_result(scope_of(), run.flow_id)
        assert stored is not None and stored["status"] == Status.IN_PROGRESS.value
    finally:
        await second.close()
