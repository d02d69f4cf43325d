"""The local platform as one ASGI app, and the function the CLI runs to serve it.

:class:`Platform` holds the parts (store, key policy, registry, gateway, invoker); other components
(the tester tool, the dashboard) receive it and add their routes through ``extra_routes``::

    platform = Platform(PlatformSettings(db_url="sqlite:///platform.db"))
    app = build_platform_app(platform=platform, extra_routes=tester_routes(platform))

Routes: ``GET /healthz`` (no auth), the registry under ``/epos/integrations``, ``POST /epos/events``
(and the local ``GET /epos/events``), and the WebSocket gateway at ``/epos``. Platform API errors
are ``{"error": <code>, "message": <text>}`` (see :mod:`dojo_epos.platform._http`); a request that
matches no route or method gets the same shape, never an HTML page.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from dojo_epos import __version__
from dojo_epos.contract.models import RequestHeaders
from dojo_epos.platform._http import ApiError, error_response
from dojo_epos.platform.accounts import KeyPolicy, Scope
from dojo_epos.platform.dashboard import dashboard_routes
from dojo_epos.platform.events import deliver_payment_intent_event, events_routes
from dojo_epos.platform.gateway import Gateway
from dojo_epos.platform.invoke import InvocationResult, Invoker
from dojo_epos.platform.registry import Registry, registry_routes
from dojo_epos.platform.store import Store
from dojo_epos.platform.tester.api import tester_routes
from dojo_epos.platform.tester.service import TesterService
from dojo_epos.settings import default_platform_db

__all__ = ["Platform", "PlatformSettings", "build_platform_app", "serve_platform"]

log = logging.getLogger("dojo_epos.platform")


@dataclass
class PlatformSettings:
    """How the local platform runs; every field has a usable default."""

    db_url: str = field(default_factory=default_platform_db)
    """SQLite (``sqlite:///file``) or PostgreSQL (``postgresql://...``); the async driver is
    picked automatically."""
    allowed_keys: Sequence[str] = ()
    """When empty, any well-formed key is accepted as its own account; otherwise only these."""
    call_timeout: float = 10.0
    """Seconds the platform waits for an EPOS's answer, on either transport."""
    ping_interval: float | None = 20.0
    """Seconds between WebSocket keepalive pings (sent by uvicorn); None disables them."""
    ping_timeout: float | None = 20.0
    """Seconds without a pong before a socket is considered dead."""
    call_log_size: int = 500
    """How many recent calls the in-memory call log keeps (the database keeps them all)."""
    http_transport: httpx.AsyncBaseTransport | None = None
    """httpx transport for REST calls to EPOSes (tests: ``httpx.ASGITransport(app)``)."""
    flow_timeout: float = 300.0
    """Seconds a tester flow may run in all; past it the flow is TIMED_OUT."""


class Platform:
    """The platform's parts, shared by every route and by the tester and dashboard."""

    def __init__(self, settings: PlatformSettings | None = None) -> None:
        self.settings = settings or PlatformSettings()
        self.keys = KeyPolicy(self.settings.allowed_keys)
        self.store = Store(self.settings.db_url)
        self.registry = Registry(self.store)
        self.gateway = Gateway(self.keys, call_timeout=self.settings.call_timeout)
        self.invoker = Invoker(self.registry, self.gateway, self.store,
                               call_timeout=self.settings.call_timeout,
                               http_transport=self.settings.http_transport,
                               ring_size=self.settings.call_log_size)
        self.tester = TesterService(self, flow_timeout=self.settings.flow_timeout)

    async def start(self) -> None:
        """Create missing tables (also done lazily on first use)."""
        await self.store.start()

    async def close(self) -> None:
        await self.tester.close()
        await self.gateway.close_all()
        await self.invoker.aclose()
        await self.store.close()

    async def invoke(
        self,
        scope: Scope,
        capability_name: str,
        params: dict[str, Any] | BaseModel | None = None,
        headers: RequestHeaders | None = None,
        **options: Any,
    ) -> InvocationResult:
        """Call a capability on the scope's EPOS (see :meth:`Invoker.invoke`)."""
        return await self.invoker.invoke(scope, capability_name, params, headers, **options)

    async def deliver_payment_intent_event(
        self, scope: Scope, event_type: str, data: Any, **options: Any
    ) -> InvocationResult:
        """Send HandleEvent to the scope's EPOS (see :func:`.events.deliver_payment_intent_event`)."""
        return await deliver_payment_intent_event(self.invoker, scope, event_type, data, **options)


async def _healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok", "service": "dojo-epos platform", "version": __version__})


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "the platform failed; see its log")


def build_platform_app(
    settings: PlatformSettings | None = None,
    *,
    platform: Platform | None = None,
    extra_routes: Iterable[BaseRoute] = (),
) -> Starlette:
    """The ASGI app; ``app.state.platform`` is the :class:`Platform` it serves."""
    platform = platform or Platform(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await platform.start()
        try:
            yield
        finally:
            await platform.close()

    routes: list[BaseRoute] = [
        Route("/healthz", _healthz, methods=["GET"]),
        *registry_routes(),
        *events_routes(),
        WebSocketRoute("/epos", platform.gateway.endpoint),
        *tester_routes(platform, platform.tester),
        *dashboard_routes(platform),
        *extra_routes,
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={ApiError: _api_error, HTTPException: _http_error,
                            Exception: _unexpected},
    )
    app.state.platform = platform
    return app


def uvicorn_config(app: Starlette, host: str, port: int, settings: PlatformSettings,
                   **options: Any) -> uvicorn.Config:
    """A uvicorn config for the platform app, with the keepalive ping settings applied."""
    return uvicorn.Config(
        app, host=host, port=port, ws_ping_interval=settings.ping_interval,
        ws_ping_timeout=settings.ping_timeout, **options)


async def serve_platform(
    host: str = "127.0.0.1",
    port: int = 8000,
    db_url: str | None = None,
    api_keys: Sequence[str] = (),
    *,
    call_timeout: float = 10.0,
    ping_interval: float | None = 20.0,
    log_level: str = "info",
    extra_routes: Iterable[BaseRoute] = (),
) -> None:
    """Serve the local platform until interrupted (what ``dojo-epos platform serve`` runs)."""
    settings = PlatformSettings(
        db_url=db_url or default_platform_db(), allowed_keys=tuple(api_keys),
        call_timeout=call_timeout, ping_interval=ping_interval, ping_timeout=ping_interval)
    app = build_platform_app(settings, extra_routes=extra_routes)
    server = uvicorn.Server(uvicorn_config(app, host, port, settings, log_level=log_level))
    await server.serve()
