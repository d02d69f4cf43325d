"""Fixtures for the local platform: an in-process app, a real loopback server, test EPOSes.

The platform is driven through its interfaces only: HTTP in-process (``httpx.ASGITransport``), and
real sockets on 127.0.0.1 port 0 where the WebSocket gateway is the point. The EPOSes here are
written for the tests: a handler (``DemoHandler``) served over REST by a minimal Starlette app, and
plain ``websockets`` clients in the gateway tests.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from dojo_epos.contract import models as m
from dojo_epos.contract.capabilities import Capability, rest_routes
from dojo_epos.contract.errors import EposError
from dojo_epos.epos.handler import EposHandler, RequestContext, call_handler
from dojo_epos.keepalive import WS_PROTOCOL
from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
from dojo_epos.platform.accounts import Environment, Scope, fingerprint

from .buses import BUSES, bus_settings

SANDBOX_KEY = "sk_sandbox_test0123456789abcdef"
PROD_KEY = "sk_prod_test0123456789abcdef"
OTHER_SANDBOX_KEY = "sk_sandbox_other0123456789abcdef"
SOFTWARE_HOUSE = "softwareHouse1"
EPOS_USER = "epos-user"
EPOS_PASSWORD = "hunter2-Very-Secret-Pw"


def auth_headers(key: str = SANDBOX_KEY, software_house: str | None = SOFTWARE_HOUSE,
                 reseller: str | None = None) -> dict[str, str]:
    """The platform API headers for a key and software house."""
    headers = {"Authorization": f"Basic {key}", "version": "2026-02-27"}
    if software_house is not None:
        headers["software-house-id"] = software_house
    if reseller is not None:
        headers["reseller-id"] = reseller
    return headers


def scope_of(key: str = SANDBOX_KEY, software_house: str = SOFTWARE_HOUSE) -> Scope:
    environment = Environment.SANDBOX if key.startswith("sk_sandbox_") else Environment.PRODUCTION
    return Scope(environment, fingerprint(key), software_house)


def make_order(order_id: str = "ord_1", table: str = "T1") -> m.Order:
    return m.Order(
        id=order_id,
        status=m.OrderStatus("Accepted"),
        details=m.OrderDetails(order_type=m.OrderType("DineIn"),
                               dine_in=m.DineInDetails(table_id=table)),
        total_amount=m.Money(value=1250, currency_code="GBP"),
        payable=True,
    )


@dataclass
class DemoHandler(EposHandler):
    """A tiny EPOS: one order, two tables, and it remembers the events and contexts it got."""

    events: list[m.HandleEventParams] = field(default_factory=list)
    contexts: list[RequestContext] = field(default_factory=list)

    async def get_order_by_id(self, params: m.OrderIdParams, ctx: RequestContext) -> m.Order:
        self.contexts.append(ctx)
        if params.order_id != "ord_1":
            raise EposError.not_found(f"no order {params.order_id}")
        return make_order()

    async def search_tables(self, params: m.SearchTablesParams,
                            ctx: RequestContext) -> m.PagedTablesResponse:
        return m.PagedTablesResponse(data=[m.Table(id="T1", name="Table 1"),
                                           m.Table(id="T2", name="Table 2")])

    async def extend_order_lock(self, params: m.ExtendOrderLockParams,
                                ctx: RequestContext) -> m.EmptyResult:
        if params.order_id != "ord_1":
            raise EposError.not_found("no such order")
        return m.EmptyResult()

    async def handle_event(self, params: m.HandleEventParams,
                           ctx: RequestContext) -> m.EmptyResult:
        self.events.append(params)
        return m.EmptyResult()


@dataclass
class RestEpos:
    """A minimal REST EPOS over a handler, recording what reached it."""

    handler: DemoHandler
    username: str = EPOS_USER
    password: str = EPOS_PASSWORD
    seen: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> Starlette:
        """The /v1 routes at the root and under the bases the tests register (/dojo, /x)."""
        routes = [Route(c.http[1], self._endpoint(c), methods=[c.http[0]]) for c in rest_routes()]
        return Starlette(routes=[Mount("/dojo", routes=routes), Mount("/x", routes=routes),
                                 *routes])

    def _endpoint(self, capability: Capability) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            self.seen.append({"method": request.method, "path": request.url.path,
                              "headers": dict(request.headers)})
            expected = "Basic " + base64.b64encode(
                f"{self.username}:{self.password}".encode()).decode()
            if request.headers.get("authorization") != expected:
                return JSONResponse({"errorType": "InvalidRequest",
                                     "debugMessage": "bad credentials"}, status_code=401)
            raw: dict[str, Any] = dict(await request.json()) if await request.body() else {}
            for name, wire in capability.path_fields.items():
                raw[wire] = request.path_params[name]
            raw["headers"] = m.RequestHeaders.from_http(request.headers).to_wire("rest")
            try:
                result = await call_handler(self.handler, capability, raw, transport="rest")
            except EposError as exc:
                return JSONResponse(exc.to_wire(), status_code=exc.http_status)
            return JSONResponse(result)
        return endpoint


@pytest.fixture(params=BUSES)
def bus_kind(request: pytest.FixtureRequest) -> str:
    """Which bus the platform under test uses: every platform test runs on both."""
    return str(request.param)


@pytest.fixture
def settings(tmp_path: Any, bus_kind: str) -> PlatformSettings:
    return PlatformSettings(db_url=f"sqlite:///{tmp_path / 'platform.sqlite3'}",
                            call_timeout=5.0, ping_interval=None, **bus_settings(bus_kind))


@pytest.fixture
async def platform(settings: PlatformSettings) -> AsyncIterator[Platform]:
    platform = Platform(settings)
    await platform.start()
    yield platform
    await platform.close()


@pytest.fixture
def app(platform: Platform) -> Starlette:
    return build_platform_app(platform=platform)


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://platform") as client:
        yield client


@pytest.fixture
def rest_epos() -> RestEpos:
    return RestEpos(DemoHandler())


@dataclass
class LiveServer:
    """The platform served by uvicorn on a real loopback port."""

    platform: Platform
    base_url: str
    ws_url: str


@pytest.fixture
async def live(platform: Platform) -> AsyncIterator[LiveServer]:
    app = build_platform_app(platform=platform)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                            lifespan="off", ws_ping_interval=None, ws=WS_PROTOCOL)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # surface a start-up failure
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield LiveServer(platform, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/epos")
    server.should_exit = True
    await task


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture log records at DEBUG, for secret scans.

    Every logger is captured at DEBUG except ``aiosqlite``, whose DEBUG tracing prints each
    statement's bound values (the stored registration password among them); the platform never
    turns that tracing on, and SQLAlchemy's own logging is told to hide parameters.
    """
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="aiosqlite")
    return caplog


def now() -> datetime:
    return datetime.now(UTC)
