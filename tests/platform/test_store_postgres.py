"""The platform store on PostgreSQL: the same registry behaviour, on a throw-away database."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
from tests.platform.conftest import auth_headers, scope_of

pytestmark = pytest.mark.postgres

PG_URL = os.environ.get("DOJO_EPOS_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


@contextlib.asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """A fresh database named dojo_epos_<random>, dropped afterwards (skips when PostgreSQL is
    not reachable)."""
    asyncpg = pytest.importorskip("asyncpg")
    admin_dsn = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    try:
        admin = await asyncpg.connect(admin_dsn, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc}")
    name = f"dojo_epos_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    async with fresh_database() as url:
        yield url


async def test_registrations_events_and_flows_persist_on_postgres(pg_url: str) -> None:
    """PUT, restart, GET: the same answers as on SQLite; flow results round-trip."""
    headers = auth_headers()
    body = {"capabilities": [{"name": "GetOrder", "version": "1.0.0"}]}
    for step in ("write", "read"):
        platform = Platform(PlatformSettings(db_url=pg_url))
        app = build_platform_app(platform=platform)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://p") as client:
            if step == "write":
                written = (await client.put("/epos/integrations/ws", headers=headers,
                                            json=body)).json()
                await client.post("/epos/events", headers=headers,
                                  json={"eventType": "OrderUpdated", "event": {"orderId": "o"}})
                await platform.store.save_flow_result(scope_of(), "f1", {"status": "SUCCESS"})
                await platform.store.save_flow_result(scope_of(), "f1", {"status": "FAILURE"})
            else:
                read = (await client.get("/epos/integrations/ws", headers=headers)).json()
                events = (await client.get("/epos/events", headers=headers)).json()["events"]
                flow = await platform.store.get_flow_result(scope_of(), "f1")
                other = await platform.store.get_flow_result(scope_of(software_house="x"), "f1")
        await platform.close()
    assert read == written
    assert [e["event"] for e in events] == [{"orderId": "o"}]
    assert flow == {"status": "FAILURE"} and other is None


async def test_call_log_rows_take_encoded_json_on_postgres(pg_url: str) -> None:
    """The call log's pre-encoded JSON reads back as the value on PostgreSQL too."""
    from dojo_epos.platform.store import Store
    from tests.platform.test_store import _call_log_round_trip

    store = Store(pg_url)
    try:
        await _call_log_round_trip(store)
    finally:
        await store.close()


async def test_workers_starting_at_once_on_an_empty_database_all_start(pg_url: str) -> None:
    """Four workers' stores (platform and payments tables) created at the same moment on an empty
    database: each takes the schema lock, so none fails on a table another is creating."""
    import asyncio

    from dojo_epos.platform.payments.store import PaymentStore
    from dojo_epos.platform.store import Store

    stores = [Store(pg_url) for _ in range(4)]
    try:
        await asyncio.gather(*(PaymentStore(s).start() for s in stores))
        await asyncio.gather(*(s.start() for s in stores))
    finally:
        for store in stores:
            await store.close()
