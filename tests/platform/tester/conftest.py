"""A tester rig: the local platform, the reference EPOS (seeded SQLite) and a way to run flows.

``rig`` is parametrized over the EPOS's transport: ``rest`` (the platform calls the EPOS's REST app
in-process through httpx's ASGI transport) and ``ws`` (the platform is served on a real loopback
port and the EPOS's connector holds a real socket to its gateway).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import connect as ws_connect

from dojo_epos.client import AsyncClient
from dojo_epos.contract.tester_models import FlowResult
from dojo_epos.epos.connector import Connector, ConnectorGaveUp, ConnectorState
from dojo_epos.epos.handler import EposHandler
from dojo_epos.epos.reference import ReferenceEpos, open_reference
from dojo_epos.epos.reference.seed import seed_database
from dojo_epos.epos.rest import build_rest_app
from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
from dojo_epos.serving import start_server
from tests.platform.buses import bus_settings
from tests.platform.conftest import SANDBOX_KEY, SOFTWARE_HOUSE, scope_of

EPOS_USER, EPOS_PASSWORD = "dojo", "rig-password-123"


@dataclass
class Rig:
    """Everything a tester test needs; ``run`` runs a flow through the tester API and waits."""

    platform: Platform
    client: AsyncClient
    epos: EposHandler
    transport: str

    async def register(self, handler: EposHandler | None = None) -> None:
        caps = [(c.name, "v1") for c in (handler or self.epos).offered_capabilities()]
        if self.transport == "rest":
            await self.client.put_rest_integration("http://epos.test/", caps,
                                                   username=EPOS_USER, password=EPOS_PASSWORD)
        else:
            await self.client.put_ws_integration(caps)

    async def run(self, flow: str, **params: Any) -> FlowResult:
        flow_id = await self.client.run_flow(flow, params)
        result = await self.platform.tester.wait(scope_of(), flow_id)
        assert result is not None
        # What the API answers is what the test checks (it is what a CI job would read).
        api_result = await self.client.get_flow_result(flow_id)
        assert api_result.status == result.status
        return api_result


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``@pytest.mark.rig_variants(drop=("ws-nats",))``: leave those transport-bus variants of a
    ``make_rig`` test out (deselected, as ``-m`` would), where another test covers that path."""
    kept, dropped = [], []
    for item in items:
        marker = item.get_closest_marker("rig_variants")
        params = getattr(getattr(item, "callspec", None), "params", {})
        variant = f"{params.get('make_rig')}-{params.get('bus_kind')}"
        (dropped if marker is not None and variant in marker.kwargs["drop"] else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture
async def reference(tmp_path: Any) -> AsyncIterator[ReferenceEpos]:
    epos = await open_reference(f"sqlite:///{tmp_path / 'epos.sqlite3'}")
    await seed_database(epos.db)
    yield epos
    await epos.aclose()


async def _serve(app: Starlette) -> tuple[uvicorn.Server, asyncio.Task[None], int]:
    served = await start_server(app, lifespan="off", ws_ping_interval=None)
    return served.server, served.task, served.port


RigFactory = Callable[..., Any]


class _CorruptingApp:
    """Wraps an EPOS's ASGI app and rewrites each JSON response body with ``corrupt``."""

    def __init__(self, app: Any, corrupt: Callable[[Any], Any]) -> None:
        self.app, self.corrupt = app, corrupt

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = json.dumps(self.corrupt(json.loads(b"".join(chunks) or b"null"))).encode()
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)


class _CorruptingSocket:
    """Wraps a client socket and rewrites each JSON-RPC ``result`` it sends with ``corrupt``."""

    def __init__(self, sock: Any, corrupt: Callable[[Any], Any]) -> None:
        self.sock, self.corrupt = sock, corrupt

    async def send(self, text: str) -> None:
        message = json.loads(text)
        if "result" in message:
            message["result"] = self.corrupt(message["result"])
        await self.sock.send(json.dumps(message))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


@pytest.fixture(params=["rest", "ws"])
async def make_rig(request: pytest.FixtureRequest, tmp_path: Any,
                   bus_kind: str) -> AsyncIterator[RigFactory]:
    """A factory: ``await make_rig(handler, call_timeout=...)`` -> a registered :class:`Rig`."""
    transport: str = request.param
    cleanups: list[Callable[[], Any]] = []

    async def factory(handler: EposHandler, *, call_timeout: float = 5.0,
                      corrupt: Callable[[Any], Any] | None = None) -> Rig:
        app: Any = build_rest_app(handler, username=EPOS_USER, password=EPOS_PASSWORD)
        if corrupt is not None:
            app = _CorruptingApp(app, corrupt)
        settings = PlatformSettings(
            db_url=f"sqlite:///{tmp_path / 'platform.sqlite3'}", call_timeout=call_timeout,
            ping_interval=None, flow_timeout=60.0,
            http_transport=httpx.ASGITransport(app=app), **bus_settings(bus_kind))
        platform = Platform(settings)
        await platform.start()
        platform_app = build_platform_app(platform=platform)
        client = AsyncClient(SANDBOX_KEY, SOFTWARE_HOUSE, base_url="http://platform",
                             transport=httpx.ASGITransport(app=platform_app))
        rig = Rig(platform, client, handler, transport)
        cleanups.append(platform.close)
        cleanups.append(client.aclose)
        if transport == "ws":
            server, task, port = await _serve(platform_app)
            url = f"ws://127.0.0.1:{port}/epos"
            connect = None
            if corrupt is not None:
                async def connect() -> Any:
                    sock = await ws_connect(url, additional_headers={
                        "Authorization": f"Basic {SANDBOX_KEY}",
                        "software-house-id": SOFTWARE_HOUSE})
                    return _CorruptingSocket(sock, corrupt)
            connector = Connector(handler, url, SANDBOX_KEY, SOFTWARE_HOUSE,
                                  backoff_initial=0.05, ping_interval=None, connect=connect,
                                  grace_period=0.2)
            runner = asyncio.create_task(connector.run())

            async def stop() -> None:
                await connector.stop()
                with contextlib.suppress(ConnectorGaveUp):  # it stops on 4000 (Replaced socket)
                    await runner
                server.should_exit = True
                await task

            cleanups.append(stop)
            for _ in range(500):
                if connector.state is ConnectorState.CONNECTED and \
                        platform.gateway.connection(scope_of()) is not None:
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError(f"connector did not connect: {connector.last_error}")
        await rig.register(handler)
        # First at the end: the HandleEvent calls of the run's last payments reach the EPOS
        # before it stops (one arriving as the EPOS's database closes would leak a connection).
        # Not the webhook deliveries: a test's receiver may be gone already, and waiting on their
        # retries (1 + 4 + 16 + 60 s) held one teardown for 81 s; platform.close cancels them.
        async def settle() -> None:
            await platform.payments.intents.drain()
            await platform.handle_events.drain()

        cleanups.append(settle)
        return rig

    factory.transport = transport  # type: ignore[attr-defined]
    yield factory
    for cleanup in reversed(cleanups):
        await cleanup()
