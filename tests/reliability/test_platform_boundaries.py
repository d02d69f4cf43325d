"""Every boundary value in every field of every platform route that takes a body or a path id.

The registry (PUT rest/ws), events (POST), the tester tool (POST flows, GET a flow) and the platform
API's identity headers, in-process. Never a 5xx; NUL, lone surrogates, 64-bit overflows and
date-times past year 9999 in UTC are 400 naming the field; a refusal leaves the registry and the
event log unchanged.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
from dojo_epos.platform.store import metadata as platform_metadata
from tests.reliability.boundaries import STRINGS, Mutation, mutations
from tests.reliability.figures import FIGURES
from tests.reliability.state import fingerprint

API_KEY = "sk_sandbox_boundaryPlatform01234"
HEADERS = {"Authorization": f"Basic {API_KEY}", "software-house-id": "bounds-house"}


class _Tables:
    sorted_tables = [t for t in platform_metadata.sorted_tables
                     if t.name in ("platform_registrations", "platform_pos_events")]


ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("PUT", "/epos/integrations/rest", {
        "url": "http://127.0.0.1:9/dojo",
        "capabilities": [{"name": "GetOrderById", "version": "v1"}],
        "auth": {"authType": "basic", "basic": {"username": "dojo", "password": "pw-1"}}}),
    ("PUT", "/epos/integrations/ws", {"capabilities": [{"name": "SearchOrders", "version": "v1"}]}),
    ("POST", "/epos/events", {"eventType": "OrderUpdated", "event": {"orderId": "ord_1"}}),
    ("POST", "/epos-tester-tool/flows", {"flow": "Get Order", "params": {"orderId": "ord_1"}}),
]
ENUMS = frozenset({"authType", "eventType", "name"})


@pytest.fixture
async def platform_http(tmp_path: Path) -> AsyncIterator[tuple[Platform, httpx.AsyncClient]]:
    platform = Platform(PlatformSettings(db_url=f"sqlite:///{tmp_path / 'platform.sqlite3'}",
                                         call_timeout=0.2, ping_interval=None, flow_timeout=2.0))
    await platform.start()
    app = build_platform_app(platform=platform)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://127.0.0.1") as http:
        yield platform, http
    await platform.close()


async def _state(platform: Platform) -> str:
    async with platform.store.engine.connect() as conn:
        return await fingerprint(conn, _Tables())  # type: ignore[arg-type]


def _send(http: httpx.AsyncClient, method: str, path: str, body: Any,
          headers: dict[str, str] = HEADERS) -> Any:
    # json.dumps escapes a lone surrogate as "\ud800", as any JSON encoder may.
    return http.request(method, path, content=json.dumps(body).encode(),
                        headers={**headers, "content-type": "application/json"})


async def test_every_boundary_in_every_platform_field(
    platform_http: tuple[Platform, httpx.AsyncClient]
) -> None:
    platform, http = platform_http
    problems: list[str] = []
    tried = refused = 0
    before = await _state(platform)
    for method, path, body in ROUTES:
        for case in mutations(body, skip=ENUMS):
            tried += 1
            response = await _send(http, method, path, case.params)
            where = f"{method} {path} {'.'.join(map(str, case.path))} = {case.boundary.label}"
            if response.status_code >= 500:
                problems.append(f"{where}: {response.status_code} {response.text[:200]}")
                continue
            if response.status_code < 400:
                if case.boundary.refused:
                    problems.append(f"{where}: accepted ({response.status_code})")
                before = await _state(platform)
                continue
            refused += 1
            if case.boundary.refused and not _names(response, case):
                problems.append(f"{where}: {response.status_code} {response.text[:200]}")
            if await _state(platform) != before:
                problems.append(f"{where}: refused but the registry or event log changed")
                before = await _state(platform)
    for boundary in STRINGS:  # the path id of GET /flows/{flowId} and the identity header
        tried += 2
        flow = await http.get(f"/epos-tester-tool/flows/{quote(boundary.value, errors='surrogatepass')}",
                              headers=HEADERS)
        if flow.status_code >= 500:
            problems.append(f"GET flow id {boundary.label}: {flow.status_code}")
        raw = boundary.value.encode("utf-8", "surrogatepass")
        if b"\x00" in raw:
            continue  # not sendable as an HTTP header at all
        listed = await http.get("/epos/integrations",
                                headers={**HEADERS, "software-house-id": raw})  # type: ignore[dict-item]
        if listed.status_code >= 500:
            problems.append(f"software-house-id {boundary.label}: {listed.status_code}")
    FIGURES.requests_tried += tried
    FIGURES.bad_inputs_tried += refused
    FIGURES.boundary_cases_tried += tried
    assert not problems, f"{len(problems)} of {tried}:\n" + "\n".join(problems[:60])
    assert tried >= 50


def _names(response: httpx.Response, case: Mutation) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return response.status_code == 400 and case.field in str(body.get("message", ""))
