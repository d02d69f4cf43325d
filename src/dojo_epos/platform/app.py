"""The local platform as one ASGI app, and the function the CLI runs to serve it.

This is the top of the platform: it takes the parts (:class:`~.container.Platform`) and puts the HTTP
layer (:mod:`.http`, :mod:`.dashboard`) on them, handing each route the services it needs::

    platform = Platform(PlatformSettings(db_url="sqlite:///platform.db"))
    app = build_platform_app(platform=platform)

Routes: ``GET /healthz`` (no auth), the registry under ``/epos/integrations``, ``POST /epos/events``
(and the local ``GET /epos/events``), the Dojo API an EPOS calls (``/payment-intents...``,
``/webhooks...``: :mod:`.http.payments`), the WebSocket gateway at ``/epos``, the tester tool under
``/epos-tester-tool`` (faults on demand at ``/epos-tester-tool/faults``: :mod:`.http.faults`),
the dashboard under ``/dashboard`` and this API's OpenAPI document at ``GET /openapi.json``
(:mod:`.http.openapi`). Platform API errors are
``{"error": <code>, "message": <text>}`` (see :mod:`dojo_epos.platform.errors`); a request that
matches no route or method gets the same shape, never an HTML page.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from dojo_epos import __version__
from dojo_epos.keepalive import WS_PROTOCOL
from dojo_epos.platform.container import Platform, PlatformSettings
from dojo_epos.platform.dashboard import dashboard_routes
from dojo_epos.platform.http.common import EXCEPTION_HANDLERS
from dojo_epos.platform.http.events import events_routes
from dojo_epos.platform.http.faults import faults_routes
from dojo_epos.platform.http.hosts import HostGuard, allowed_hosts_for
from dojo_epos.platform.http.openapi import openapi_route
from dojo_epos.platform.http.payments import payments_routes
from dojo_epos.platform.http.registry import registry_routes
from dojo_epos.platform.http.socket import socket_route
from dojo_epos.platform.http.tester import tester_routes
from dojo_epos.platform.socket_faults import SocketFaults
from dojo_epos.serving import HTTP_PROTOCOL
from dojo_epos.settings import default_platform_db

__all__ = ["Platform", "PlatformSettings", "build_platform_app", "serve_platform"]


def _healthz(platform: Platform) -> Route:
    async def healthz(request: Request) -> Response:
        health = platform.health()
        body = {"status": "ok" if health["ok"] else "unavailable", "service": "dojo-epos platform",
                "version": __version__, "bus": health["bus"], "worker": health["worker"]}
        if not health["ok"]:
            body["message"] = f"the message bus ({health['bus']}) is unavailable"
        return JSONResponse(body, status_code=200 if health["ok"] else 503)

    return Route("/healthz", healthz, methods=["GET"])


def platform_routes(platform: Platform) -> list[BaseRoute]:
    """Every route of the platform, each given the services it uses, and ``GET /openapi.json``
    documenting them."""
    routes: list[BaseRoute] = [
        _healthz(platform),
        *registry_routes(platform.registry, platform.keys),
        *events_routes(platform.events, platform.keys),
        *payments_routes(platform.payments, platform.keys),
        socket_route(platform.gateway, platform.keys, faults=SocketFaults(platform.invoker)),
        *tester_routes(platform.tester, platform.keys),
        *faults_routes(platform.faults, platform.keys),
        *dashboard_routes(store=platform.store, invoker=platform.invoker,
                          registry=platform.registry, gateway=platform.gateway,
                          router=platform.router,
                          tester=platform.tester, keys=platform.keys),
    ]
    return [*routes, openapi_route(routes)]


def build_platform_app(
    settings: PlatformSettings | None = None,
    *,
    platform: Platform | None = None,
    extra_routes: Iterable[BaseRoute] = (),
) -> Starlette:
    """The ASGI app serving ``platform`` (built from ``settings`` when not given).

    ``app.state.platform`` is the :class:`Platform` served, for callers holding only the app
    (tests, the demo); no route reads it.
    """
    platform = platform or Platform(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await platform.start()
        try:
            yield
        finally:
            await platform.close()

    app = Starlette(routes=[*platform_routes(platform), *extra_routes], lifespan=lifespan,
                    exception_handlers=EXCEPTION_HANDLERS)
    app.state.platform = platform
    return app


def uvicorn_config(app: Any, host: str, port: int, settings: PlatformSettings,
                   **options: Any) -> uvicorn.Config:
    """A uvicorn config for the platform app, with the keepalive ping settings applied."""
    options.setdefault("http", HTTP_PROTOCOL)  # a WebSocket upgrade with too many headers: 431
    options.setdefault("ws", WS_PROTOCOL)  # pings the gateway can time and withhold
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
    allowed_hosts: Sequence[str] = (),
    bus_url: str | None = None,
    bus_namespace: str = "dojo-epos",
    worker_id: str | None = None,
    sockets: Sequence[socket.socket] | None = None,
) -> None:
    """Serve the local platform until interrupted (what ``dojo-epos platform serve`` runs).

    Requests naming a Host other than ``host``, a loopback name or one of ``allowed_hosts`` are
    refused (DNS rebinding: :mod:`.http.hosts`). ``sockets``: already listening sockets to serve
    on instead of binding ``host:port`` (the workers of :func:`~.workers.serve_workers` share one).
    """
    settings = PlatformSettings(
        db_url=db_url or default_platform_db(), allowed_keys=tuple(api_keys),
        call_timeout=call_timeout, ping_interval=ping_interval, ping_timeout=ping_interval,
        bus_url=bus_url, bus_namespace=bus_namespace, worker_id=worker_id)
    app = HostGuard(build_platform_app(settings, extra_routes=extra_routes),
                    allowed_hosts_for(host, allowed_hosts))
    server = uvicorn.Server(uvicorn_config(app, host, port, settings, log_level=log_level))
    await server.serve(sockets=list(sockets) if sockets is not None else None)
