"""The faults API: ``/epos-tester-tool/faults``, scoped, validated field by field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dojo_epos.platform import Platform
from dojo_epos.platform.faults import NOT_ACTED_ON, FaultKind
from tests.platform.conftest import OTHER_SANDBOX_KEY, auth_headers, scope_of

BASE = "/epos-tester-tool/faults"

#: The least each kind needs to be valid.
NEEDS: dict[FaultKind, dict[str, Any]] = {
    FaultKind.DELAY: {"delay": 0.5}, FaultKind.REST_DELAY: {"delay": 0.5},
    FaultKind.WEBHOOK_DELAY: {"delay": 0.5}, FaultKind.CLOSE: {"closeCode": 4000},
    FaultKind.REFUSE_HANDSHAKE: {"status": 503},
}


async def test_a_fault_is_set_listed_and_acted_on_by_the_platforms_book(
        http: httpx.AsyncClient, platform: Platform) -> None:
    """POST answers 201 with the stored fault; GET lists it; the invoker's book has it."""
    body = {"kind": "delay", "capability": "GetOrderById", "delay": 0.2, "delayMax": 0.4,
            "times": 2}
    response = await http.post(BASE, json=body, headers=auth_headers())
    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["id"] and stored["kind"] == "delay" and stored["capability"] == "GetOrderById"
    assert (stored["delay"], stored["delayMax"], stored["times"]) == (0.2, 0.4, 2)
    assert stored["description"] == f"fault {stored['id']} (delay 0.2-0.4 s on GetOrderById)"
    listed = (await http.get(BASE, headers=auth_headers())).json()
    assert listed == {"faults": [stored]}
    assert [f.id for f in platform.invoker.faults.of(scope_of())] == [stored["id"]]


@pytest.mark.parametrize("kind", [k for k in FaultKind if k not in NOT_ACTED_ON])
async def test_every_kind_the_book_takes_is_taken_by_the_api(http: httpx.AsyncClient,
                                                             kind: FaultKind) -> None:
    response = await http.post(BASE, json={"kind": kind.value, **NEEDS.get(kind, {})},
                               headers=auth_headers())
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == kind.value


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "delay"}, "delay:"),
        ({"kind": "earthquake"}, "kind:"),
        ({}, "kind:"),
        ([], "body:"),
        ({"kind": "close", "closeCode": 1000}, "closeCode:"),
        ({"kind": "close", "closeCode": "4000"}, "closeCode:"),
        ({"kind": "delay", "delay": "soon"}, "delay:"),
        ({"kind": "delay", "delay": 1, "delayMax": 0.5}, "delayMax:"),
        ({"kind": "delay", "delay": 500}, "delay:"),
        ({"kind": "rest-reset", "times": 0}, "times:"),
        ({"kind": "rest-reset", "times": 1.5}, "times:"),
        ({"kind": "rest-reset", "times": 10**30}, "times:"),
        ({"kind": "rest-reset", "capability": "NoSuchThing"}, "capability:"),
        ({"kind": "webhook-drop", "capability": "GetOrderById"}, "capability:"),
        ({"kind": "rest-reset", "status": 503}, "status:"),
        ({"kind": "rest-reset", "colour": "red"}, "colour:"),
    ],
)
async def test_bad_faults_are_400_naming_the_field_and_change_nothing(
        http: httpx.AsyncClient, platform: Platform, body: Any, field: str) -> None:
    response = await http.post(BASE, json=body, headers=auth_headers())
    assert response.status_code == 400
    error = response.json()
    assert error["error"] == "invalid_fault" and error["message"].startswith(field), error
    assert (await http.get(BASE, headers=auth_headers())).json() == {"faults": []}
    assert platform.invoker.faults.of(scope_of()) == []


async def test_a_body_that_is_not_json_is_400(http: httpx.AsyncClient) -> None:
    for body in (b"{nope", b'{"kind": "delay", "delay": 1e400}', b'{"kind": "delay", "delay": NaN}'):
        response = await http.post(BASE, content=body, headers=auth_headers())
        assert response.status_code == 400, body
        assert response.json()["error"] in ("invalid_request", "invalid_fault"), response.json()


async def test_faults_never_leak_between_scopes_and_clear_one_or_all(
        http: httpx.AsyncClient) -> None:
    """Another key sees none and cannot clear ours; clear one, then all."""
    ids = []
    for body in ({"kind": "rest-reset"}, {"kind": "never-answer"}, {"kind": "drop-after-send"}):
        ids.append((await http.post(BASE, json=body, headers=auth_headers())).json()["id"])
    other = auth_headers(OTHER_SANDBOX_KEY)
    assert (await http.get(BASE, headers=other)).json() == {"faults": []}
    refused = await http.delete(f"{BASE}/{ids[0]}", headers=other)
    assert refused.status_code == 404 and refused.json()["error"] == "not_found"
    assert (await http.delete(BASE, headers=other)).json() == {"cleared": 0}

    assert (await http.delete(f"{BASE}/{ids[0]}", headers=auth_headers())).json() == {"cleared": 1}
    left = (await http.get(BASE, headers=auth_headers())).json()["faults"]
    assert [f["id"] for f in left] == ids[1:]
    assert (await http.delete(BASE, headers=auth_headers())).json() == {"cleared": 2}
    assert (await http.get(BASE, headers=auth_headers())).json() == {"faults": []}


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
async def test_the_routes_authenticate_like_the_others(http: httpx.AsyncClient,
                                                       method: str) -> None:
    no_key = await http.request(method, BASE, json={"kind": "rest-reset"},
                                headers={"software-house-id": "softwareHouse1"})
    assert no_key.status_code == 401 and "error" in no_key.json()
    no_house = await http.request(method, BASE, json={"kind": "rest-reset"},
                                  headers=auth_headers(software_house=None))
    assert no_house.status_code == 400 and no_house.json()["error"] == "missing_software_house_id"
