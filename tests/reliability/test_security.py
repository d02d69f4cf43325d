"""Security: auth on every endpoint of every server, secrets kept out of answers and logs, limits
on bodies, frames, concurrency and handshakes, and registration URLs that cannot aim the platform at
what it must not call."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.routing import Route
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from dojo_epos.client import AsyncClient
from dojo_epos.contract.capabilities import rest_routes
from dojo_epos.epos.connector import Connector, ConnectorState
from dojo_epos.epos.reference import open_reference
from dojo_epos.epos.reference.seed import seed_database
from dojo_epos.epos.rest import build_rest_app
from dojo_epos.jsonbody import MAX_BODY_BYTES
from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
from dojo_epos.platform.gateway import CLOSE_REPLACED
from dojo_epos.platform.registry import rest_base
from dojo_epos.platform.schema import metadata as platform_metadata
from dojo_epos.testing import memory_socket_pair
from tests.reliability.figures import FIGURES
from tests.reliability.rigs import API_KEY, platform_rig, scope_for
from tests.reliability.state import fingerprint
from tests.reliability.test_faults import GatedHandler

USER, PASSWORD = "dojo", "Rest-Pw-never-shown-5e2a"
SAMPLE = {"orderId": "ord_demo_01", "partyId": "p1", "reservationId": "r1", "lockId": "l1"}


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


EPOS_CASES: dict[str, str | None] = {
    "missing": None,
    "empty": "",
    "malformed base64": "Basic !!!not-base64!!!",
    "no colon": "Basic " + base64.b64encode(b"dojo").decode(),
    "wrong scheme": "Bearer " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),
    "wrong password": _basic(USER, PASSWORD + "x"),
    "wrong user": _basic("root", PASSWORD),
    "empty password": _basic(USER, ""),
    "api key as is": f"Basic {API_KEY}",
}


async def test_every_epos_rest_route_refuses_every_bad_credential(tmp_path: Path) -> None:
    """Route x credential: 401, an EPOSError with a trace id, WWW-Authenticate, nothing changed."""
    epos = await open_reference(f"sqlite:///{tmp_path / 'auth.sqlite3'}")
    await seed_database(epos.db)
    # The failed-auth throttle would answer 429 past its burst (tests/epos/test_auth_throttle.py);
    # this table is about each route refusing each credential, so it is off here.
    app = build_rest_app(epos, username=USER, password=PASSWORD, auth_throttle=False)
    routes = {(c.http[0], c.http[1]) for c in rest_routes()} | {("POST", "/v1/events")}
    table: dict[tuple[str, str, str], int] = {}
    try:
        async with epos.db.engine.connect() as conn:
            before = await fingerprint(conn)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://epos") as http:
            for method, template in sorted(routes):
                path = template.format(**SAMPLE)
                for case, header in EPOS_CASES.items():
                    headers = {} if header is None else {"Authorization": header}
                    body: Any = {"paidAmount": {"value": 1, "currencyCode": "GBP"}} \
                        if method in ("POST", "PUT") else None
                    response = await http.request(method, path, headers=headers, json=body)
                    table[(method, template, case)] = response.status_code
                    error = response.json()
                    assert response.status_code == 401, (method, path, case)
                    assert error["errorType"] == "InvalidRequest" and error["traceId"]
                    assert response.headers["www-authenticate"].startswith("Basic")
                    assert PASSWORD not in response.text
        async with epos.db.engine.connect() as conn:
            assert await fingerprint(conn) == before
    finally:
        await epos.aclose()
    FIGURES.requests_tried += len(table)
    FIGURES.bad_inputs_tried += len(table)
    assert len(table) == len(routes) * len(EPOS_CASES)


PLATFORM_CASES: dict[str, tuple[dict[str, str], int, str]] = {
    "missing": ({"software-house-id": "h"}, 401, "missing_api_key"),
    "malformed": ({"Authorization": "Basic", "software-house-id": "h"}, 401,
                  "invalid_authorization"),
    "wrong scheme": ({"Authorization": f"Bearer {API_KEY}", "software-house-id": "h"}, 401,
                     "invalid_authorization"),
    "wrong prefix": ({"Authorization": "Basic pk_sandbox_abcdef0123", "software-house-id": "h"},
                     401, "invalid_api_key"),
    "base64'd key": ({"Authorization": "Basic " + base64.b64encode(API_KEY.encode()).decode(),
                      "software-house-id": "h"}, 401, "invalid_api_key"),
    "base64'd user:key": ({"Authorization": _basic(API_KEY, ""), "software-house-id": "h"}, 401,
                          "invalid_api_key"),
    "key not allowed": ({"Authorization": "Basic sk_sandbox_someoneElse0123456",
                         "software-house-id": "h"}, 401, "invalid_api_key"),
    "missing software-house-id": ({"Authorization": f"Basic {API_KEY}"}, 400,
                                  "missing_software_house_id"),
}


def _platform_api_routes(app: Any) -> list[tuple[str, str]]:
    """Every (method, path) of the platform API (registry, events, tester), from the app itself."""
    found = []
    for route in app.routes:
        if isinstance(route, Route) and route.path.startswith(("/epos/", "/epos-tester-tool")):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                found.append((method, route.path.replace("{flowId}", "f1")))
    return found


@pytest.mark.socket
async def test_every_platform_endpoint_refuses_every_bad_credential(tmp_path: Path) -> None:
    """Route x credential on a platform with an allow-list, and the WebSocket handshake too."""
    platform = Platform(PlatformSettings(db_url=f"sqlite:///{tmp_path / 'p.sqlite3'}",
                                         allowed_keys=[API_KEY], ping_interval=None))
    await platform.start()
    app = build_platform_app(platform=platform)
    routes = _platform_api_routes(app)
    assert len(routes) >= 9  # the registry (6), events, and the tester (3) at least
    count = 0
    try:
        async with platform.store.engine.connect() as conn:
            before = await fingerprint(conn, platform_metadata)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://platform") as http:
            for method, path in routes:
                for case, (headers, status, code) in PLATFORM_CASES.items():
                    body: Any = {"capabilities": []} if method in ("POST", "PUT") else None
                    response = await http.request(method, path, headers=headers, json=body)
                    count += 1
                    assert response.status_code == status, (method, path, case, response.text)
                    assert response.json() == {"error": code, "message": response.json()["message"]}
                    assert API_KEY not in response.text
        async with platform.store.engine.connect() as conn:
            assert await fingerprint(conn, platform_metadata) == before
        server = await _serve(app)
        try:
            for case, (headers, status, _code) in PLATFORM_CASES.items():
                with pytest.raises(InvalidStatus) as refused:
                    await ws_connect(server.ws_url, additional_headers=headers)
                count += 1
                assert refused.value.response.status_code == status, case
            assert platform.gateway.connections() == []
        finally:
            await server.stop()
    finally:
        await platform.close()
    FIGURES.requests_tried += count
    FIGURES.bad_inputs_tried += count


async def _serve(app: Any) -> Any:
    from tests.reliability.conftest import LoopServer

    return await LoopServer(app).start()


# -- secrets ---------------------------------------------------------------------------------------


@pytest.mark.socket
async def test_no_secret_reaches_a_response_or_a_log_line(tmp_path: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    """Register, invoke over REST and WS, run flows, fail auth: scan every answer and log record
    (DEBUG, all loggers but aiosqlite's statement tracing) for the key and the password."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="aiosqlite")  # it traces bound values; never enabled
    epos = await open_reference(f"sqlite:///{tmp_path / 'secret.sqlite3'}")
    await seed_database(epos.db)
    rest_app = build_rest_app(epos, username=USER, password=PASSWORD)
    rig = await platform_rig(tmp_path, http_transport=httpx.ASGITransport(app=rest_app))
    answers: list[str] = []
    try:
        platform_app = rig.server.app
        client = AsyncClient(API_KEY, "secret-house", base_url="http://platform",
                             transport=httpx.ASGITransport(app=platform_app))
        caps = [(c.name, "v1") for c in epos.offered_capabilities()]
        answers.append(repr(await client.put_rest_integration(
            "http://epos.test/", caps, username=USER, password=PASSWORD)))
        answers.append(repr(await client.get_integrations()))
        answers.append(repr(client))
        scope = scope_for("secret-house")
        calls: list[tuple[str, dict[str, Any]]] = [
            ("GetOrderById", {"orderId": "ord_demo_01"}),
            ("GetOrderById", {"orderId": "ord_nope"}),
            ("ListAreas", {}), ("SearchOrders", {"payableOnly": True})]
        for name, params in calls:
            outcome = await rig.platform.invoke(scope, name, {**params, "headers": {}})
            answers.append(json.dumps(outcome.summary(), default=str))
        flow = await client.run_flow("Pay at Table", {})
        await rig.platform.tester.wait(scope, flow)
        answers.append(repr(await client.get_flow_result(flow)))
        # The same EPOS over the WebSocket, then the platform's own pages of what happened.
        await rig.attach(epos, "secret-ws-house")
        outcome = await rig.platform.invoke(rig.scopes[0], "ListAreas", {"headers": {}})
        answers.append(json.dumps(outcome.summary(), default=str))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=platform_app),
                                     base_url="http://platform") as http:
            for path in ("/epos/integrations", "/epos/integrations/rest", "/dashboard",
                         "/dashboard/calls", "/dashboard/api/sockets"):
                response = await http.get(path, headers={"Authorization": f"Basic {API_KEY}",
                                                         "software-house-id": "secret-house"})
                answers.append(response.text)
            bad = await http.get("/epos/integrations", headers={
                "Authorization": f"Basic {API_KEY}x!", "software-house-id": "h"})
            answers.append(bad.text)
        await client.aclose()
    finally:
        await rig.aclose()
        await epos.aclose()
    logs = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    secrets = {"API key": API_KEY, "password": PASSWORD,
               "basic token": base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),
               "key body": API_KEY.removeprefix("sk_sandbox_")}
    for what, secret in secrets.items():
        assert secret not in logs, f"the {what} is in the logs"
        for answer in answers:
            assert secret not in answer, f"the {what} is in an answer: {answer[:200]}"
    assert len(caplog.records) > 20 and len(answers) > 10  # the scan saw a real scenario
    FIGURES.requests_tried += len(answers)


# -- limits ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("chunked", [False, True])
async def test_the_epos_rest_app_refuses_a_body_over_its_limit(tmp_path: Path,
                                                               chunked: bool) -> None:
    """413 with an EPOSError, with or without a Content-Length."""
    epos = await open_reference(f"sqlite:///{tmp_path / 'big.sqlite3'}")
    app = build_rest_app(epos, username=USER, password=PASSWORD)
    body = b'{"pad":"' + b"x" * MAX_BODY_BYTES + b'"}'
    content: Any = body

    async def stream() -> Any:
        for start in range(0, len(body), 65536):
            yield body[start:start + 65536]

    if chunked:
        content = stream()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://epos", auth=(USER, PASSWORD)) as http:
            response = await http.post("/v1/orders", content=content,
                                        headers={"content-type": "application/json"})
    finally:
        await epos.aclose()
    FIGURES.bad_inputs_tried += 1
    FIGURES.requests_tried += 1
    assert response.status_code == 413
    assert response.json()["errorType"] == "InvalidRequest"


@pytest.mark.parametrize("chunked", [False, True])
async def test_the_platform_api_refuses_a_body_over_its_limit(tmp_path: Path,
                                                              chunked: bool) -> None:
    """Regression: the platform read any body whole; now 413 body_too_large, nothing stored."""
    platform = Platform(PlatformSettings(db_url=f"sqlite:///{tmp_path / 'p.sqlite3'}"))
    app = build_platform_app(platform=platform)
    body = b'{"capabilities":[],"pad":"' + b"x" * MAX_BODY_BYTES + b'"}'

    async def stream() -> Any:
        for start in range(0, len(body), 65536):
            yield body[start:start + 65536]

    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://platform") as http:
            for path in ("/epos/integrations/ws", "/epos/events", "/epos-tester-tool/flows"):
                method = "PUT" if path.endswith("/ws") else "POST"
                response = await http.request(
                    method, path, content=stream() if chunked else body,
                    headers={"Authorization": f"Basic {API_KEY}", "software-house-id": "h",
                             "content-type": "application/json"})
                assert response.status_code == 413, (path, response.text)
                assert response.json()["error"] == "body_too_large"
                FIGURES.bad_inputs_tried += 1
                FIGURES.requests_tried += 1
            # Nothing of the refused bodies was kept: no registration, no event, no flow run.
            everything = await platform.registry.all(scope_for("h"))
            assert everything.rest_integrations == [] and everything.ws_integrations == []
            assert await platform.events.recent(scope_for("h")) == []
            assert await platform.tester.recent(scope_for("h")) == []
    finally:
        await platform.close()


async def test_the_connector_drops_an_oversized_frame_and_keeps_serving() -> None:
    """Past max_frame_bytes: logged and dropped (no id can be read from an unread frame, spec
    defect #23), the socket stays and the next request is answered."""
    handler = GatedHandler()
    handler.release.set()
    epos_end, platform_end = memory_socket_pair()

    async def connect() -> Any:
        return epos_end

    connector = Connector(handler, "memory://limits", API_KEY, "h", connect=connect,
                          max_frame_bytes=1024)
    runner = asyncio.create_task(connector.run())
    try:
        big = json.dumps({"jsonrpc": "2.0", "id": "big", "method": "ListAreasV1",
                          "params": {"headers": {}, "pad": "x" * 2048}})
        await platform_end.send(big)
        await platform_end.send(json.dumps({"jsonrpc": "2.0", "id": "small",
                                            "method": "ListAreasV1", "params": {"headers": {}}}))
        reply = json.loads(await asyncio.wait_for(platform_end.recv(), 5))
        assert reply["id"] == "small" and "result" in reply
        assert connector.stats.invalid_frames == 1 and connector.stats.reconnects == 0
    finally:
        await connector.stop()
        await runner
    FIGURES.bad_inputs_tried += 1


@pytest.mark.socket
async def test_the_gateway_drops_an_oversized_frame_and_closes_on_a_giant_one(
        tmp_path: Path) -> None:
    """Over the peer's 1 MiB: dropped, socket kept. Over the server's 16 MiB: closed with 1009."""
    rig = await platform_rig(tmp_path)
    try:
        headers = {"Authorization": f"Basic {API_KEY}", "software-house-id": "big-house"}
        async with ws_connect(rig.server.ws_url, additional_headers=headers,
                              max_size=None) as sock:
            await sock.send(json.dumps({"jsonrpc": "2.0", "id": "a", "method": "X",
                                        "pad": "x" * (MAX_BODY_BYTES + 10)}))
            await sock.send(json.dumps({"jsonrpc": "2.0", "id": "b", "method": "X"}))
            reply = json.loads(await asyncio.wait_for(sock.recv(), 5))
            assert reply["id"] == "b" and reply["error"]["errorType"] == "NotFound"
            gateway_counters = rig.platform.gateway.totals
            assert gateway_counters.malformed_frames == 1
            await sock.send("x" * (16 * 1024 * 1024 + 1))
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(sock.recv(), 5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    finally:
        await rig.aclose()
    FIGURES.bad_inputs_tried += 2


async def test_requests_past_max_concurrency_queue_and_are_all_answered(tmp_path: Path) -> None:
    """Past max_concurrency the connector stops reading (backpressure): later requests wait,
    none is refused or lost; the caller's own time-out is the bound."""
    handler = GatedHandler()
    epos_end, platform_end = memory_socket_pair()

    async def connect() -> Any:
        return epos_end

    connector = Connector(handler, "memory://limits", API_KEY, "h", connect=connect,
                          max_concurrency=2)
    runner = asyncio.create_task(connector.run())
    try:
        for n in range(5):
            await platform_end.send(json.dumps({
                "jsonrpc": "2.0", "id": f"slow{n}", "method": "GetOrderByIdV1",
                "params": {"headers": {}, "orderId": f"o{n}"}}))
        await platform_end.send(json.dumps({"jsonrpc": "2.0", "id": "fast",
                                            "method": "ListAreasV1", "params": {"headers": {}}}))
        await handler.entered.wait()
        await asyncio.sleep(0.2)  # give a wrongly unbounded connector the chance to read more
        assert connector.stats.requests == 3  # two running, the third read and waiting
        handler.release.set()
        ids = {json.loads(await asyncio.wait_for(platform_end.recv(), 5))["id"]
               for _ in range(6)}
        assert ids == {"slow0", "slow1", "slow2", "slow3", "slow4", "fast"}
    finally:
        handler.release.set()
        await connector.stop()
        await runner
    FIGURES.notes["past max_concurrency"] = "queued (the connector stops reading; none refused)"


@pytest.mark.socket
async def test_one_socket_per_scope_newer_replaces_older(tmp_path: Path) -> None:
    """A second socket for the same key and software house closes the first with 4000."""
    rig = await platform_rig(tmp_path)
    headers = {"Authorization": f"Basic {API_KEY}", "software-house-id": "dup-house"}
    try:
        first = await ws_connect(rig.server.ws_url, additional_headers=headers)
        second = await ws_connect(rig.server.ws_url, additional_headers=headers)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(first.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_REPLACED
        assert len(rig.platform.gateway.connections()) == 1
        await second.close()
    finally:
        await rig.aclose()


@pytest.mark.socket
async def test_handshakes_past_the_per_key_rate_get_429(tmp_path: Path) -> None:
    """Regression: nothing bounded handshakes per key; now a burst past it is refused with 429,
    and a connector told so backs off and gets in once the bucket refills."""
    rig = await platform_rig(tmp_path)
    rig.platform.gateway.handshake_burst = 3
    rig.platform.gateway.handshakes_per_second = 2.0
    headers = {"Authorization": f"Basic {API_KEY}", "software-house-id": "rate-house"}
    statuses = []
    try:
        for _ in range(5):
            try:
                sock = await ws_connect(rig.server.ws_url, additional_headers=headers)
                statuses.append(101)
                await sock.close()
            except InvalidStatus as exc:
                statuses.append(exc.response.status_code)
                assert json.loads(exc.response.body)["error"] == "too_many_handshakes"
        assert statuses[:3] == [101, 101, 101] and 429 in statuses[3:]
        connector = Connector(GatedHandler(), rig.server.ws_url, API_KEY, "rate-house",
                              backoff_initial=0.2, ping_interval=None)
        runner = asyncio.create_task(connector.run())
        try:
            await rig.wait_connected(connector, scope_for("rate-house"))
            assert connector.state is ConnectorState.CONNECTED
        finally:
            await connector.stop()
            await runner
    finally:
        await rig.aclose()
    FIGURES.bad_inputs_tried += statuses.count(429)


# -- registration URLs -----------------------------------------------------------------------------

REFUSED_URLS = {
    "ftp scheme": "ftp://epos.example/",
    "no scheme": "epos.example/dojo",
    "credentials": "https://user:pw@epos.example/",
    "user only": "https://user@epos.example/",
    "fragment": "https://epos.example/dojo#x",
    "empty fragment": "https://epos.example/dojo#",
    "query": "https://epos.example/dojo?a=1",
    "metadata ip": "http://169.254.169.254/latest/meta-data",
    "link-local": "http://169.254.10.1:8080/",
    "mapped metadata": "http://[::ffff:169.254.169.254]/",
    "ipv6 link-local": "http://[fe80::1]/",
    "metadata name": "http://metadata.google.internal/",
    "unspecified": "http://0.0.0.0:8080/",
    # issue 18 item 3: the metadata address spelled as the resolver reads it
    "decimal": "http://2852039166/latest/meta-data",
    "hexadecimal": "http://0xa9fea9fe/",
    "hexadecimal parts": "http://0xA9.0xFE.0xA9.0xFE/",
    "octal": "http://0251.0376.0251.0376/",
    "short dotted (2 parts)": "http://169.16689662/",
    "short dotted (3 parts)": "http://169.254.43518/",
    "trailing dot": "http://169.254.169.254./",
    "unspecified, short": "http://0/",
    "bad port": "http://epos.example:99999/",
}


@pytest.mark.parametrize("url", REFUSED_URLS.values(), ids=list(REFUSED_URLS))
async def test_registration_refuses_urls_the_platform_must_not_call(tmp_path: Path,
                                                                    url: str) -> None:
    """Regression (credentials, empty fragment, link-local/metadata, bad port were accepted):
    400 invalid_url, nothing stored, and the URL's credentials never echoed."""
    platform = Platform(PlatformSettings(db_url=f"sqlite:///{tmp_path / 'p.sqlite3'}"))
    app = build_platform_app(platform=platform)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://platform") as http:
            response = await http.put("/epos/integrations/rest", headers={
                "Authorization": f"Basic {API_KEY}", "software-house-id": "h"}, json={
                "url": url, "capabilities": [{"name": "GetOrderById", "version": "v1"}],
                "auth": {"basic": {"username": "u", "password": "secret-pw"}}})
        assert response.status_code == 400, response.text
        assert response.json()["error"] in ("invalid_url", "invalid_request")
        assert "pw@" not in response.text and "secret-pw" not in response.text
        assert await platform.registry.rest(scope_for("h")) == []
    finally:
        await platform.close()
    FIGURES.bad_inputs_tried += 1
    FIGURES.requests_tried += 1


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/", "http://localhost/dojo",
                                 "http://192.168.1.20/pos", "https://[::1]:8443/",
                                 "https://epos.example/base/v1/orders/{orderId}"])
def test_loopback_private_and_public_urls_stay_allowed(url: str) -> None:
    """An EPOS in development runs here or on the LAN: those addresses are fine."""
    base, _cut = rest_base(url)
    assert base.startswith(("http://", "https://"))
