"""A dashboard rig: the local platform with the seeded reference EPOS registered over REST.

In-process tests reach the platform through ``httpx.ASGITransport`` and the platform reaches the
EPOS the same way (``Invoker.set_http_transport``). The browser tests (marked ``browser``) serve
both on real loopback ports, because a browser needs a real server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import insert
from starlette.applications import Starlette

from dojo_epos.client import AsyncClient
from dojo_epos.contract import models as m
from dojo_epos.epos.reference import ReferenceEpos, open_reference, till
from dojo_epos.epos.reference import schema as s
from dojo_epos.epos.reference.orders import load_order
from dojo_epos.epos.reference.seed import seed_database
from dojo_epos.epos.rest import build_rest_app
from dojo_epos.platform import Platform, build_platform_app
from dojo_epos.platform.dashboard.web import scope_token
from dojo_epos.platform.store import CallRow
from dojo_epos.serving import start_server
from tests.platform.conftest import SANDBOX_KEY, SOFTWARE_HOUSE, scope_of

EPOS_USER = "dashboard-epos"
#: The registration password every page is scanned for.
EPOS_PASSWORD = "Pw-never-on-a-page-8d1c"
ORIGIN = "http://platform"

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
HOSTILE_TABLE = "T666"
HOSTILE_ORDER = "ord_hostile"


@dataclass
class Rig:
    """The platform, its app, a page client (same-origin by default) and the reference EPOS."""

    platform: Platform
    app: Starlette
    http: httpx.AsyncClient
    epos: ReferenceEpos
    client: AsyncClient

    @property
    def token(self) -> str:
        return scope_token(scope_of())

    async def register(self, *, without: tuple[str, ...] = ()) -> None:
        caps = [(c.name, "v1") for c in self.epos.offered_capabilities() if c.name not in without]
        await self.client.put_rest_integration("http://epos.test/", caps, username=EPOS_USER,
                                               password=EPOS_PASSWORD)

    async def calls(self, limit: int = 100) -> list[CallRow]:
        """The persisted call log, newest first, once the background writer has caught up."""
        await self.platform.invoker.flush_log()
        return await self.platform.store.calls(scope_of(), limit)

    async def page(self, path: str, **params: str) -> httpx.Response:
        response = await self.http.get(path, params={"scope": self.token, **params})
        return response


async def add_hostile_order(epos: ReferenceEpos) -> m.Order:
    """A table and an order whose names and notes are HTML an attacker would like to run."""
    async with epos.db.write() as conn:
        await conn.execute(insert(s.tables), [{"id": HOSTILE_TABLE, "name": SCRIPT,
                                               "area_id": "area_bar", "max_covers": 2,
                                               "position": 99}])
    item = m.OrderItem(name=IMG, plu="X-1", quantity=1, note=SCRIPT,
                       amount_per_item=m.Money(value=700, currency_code="GBP"))
    return await till.open_order(epos.db, HOSTILE_TABLE, None, [item], note=IMG,
                                 order_id=HOSTILE_ORDER)


async def stored_order(epos: ReferenceEpos, order_id: str) -> m.Order:
    """An order as the EPOS's database has it now."""
    async with epos.db.read() as conn:
        return await load_order(conn, order_id)


@pytest.fixture
async def reference(tmp_path: Any) -> AsyncIterator[ReferenceEpos]:
    epos = await open_reference(f"sqlite:///{tmp_path / 'epos.sqlite3'}")
    await seed_database(epos.db)
    yield epos
    await epos.aclose()


@pytest.fixture
async def rig(platform: Platform, reference: ReferenceEpos) -> AsyncIterator[Rig]:
    rest_app = build_rest_app(reference, username=EPOS_USER, password=EPOS_PASSWORD)
    platform.invoker.set_http_transport(httpx.ASGITransport(app=rest_app))
    app = build_platform_app(platform=platform)
    transport = httpx.ASGITransport(app=app)
    async with (httpx.AsyncClient(transport=transport, base_url=ORIGIN,
                                  headers={"Origin": ORIGIN}) as http,
                AsyncClient(SANDBOX_KEY, SOFTWARE_HOUSE, base_url=ORIGIN,
                            transport=transport) as client):
        yield Rig(platform, app, http, reference, client)
        # The HandleEvent calls of the last payments reach the EPOS before its database closes.
        await platform.payments.drain()


async def serve(app: Starlette) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    """Serve ``app`` on 127.0.0.1, a free port; returns the server, its task and its base URL."""
    served = await start_server(app, lifespan="off", ws_ping_interval=None)
    return served.server, served.task, served.url
