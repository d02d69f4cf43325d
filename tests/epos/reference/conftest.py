"""Fixtures for the reference EPOS: every test runs on SQLite and on PostgreSQL.

``db_url`` is parametrized: a fresh SQLite file per test, and a PostgreSQL database created once per
session (``dojo_epos_ref_<random>``, dropped at the end) and emptied before each test. PostgreSQL
cases are marked ``postgres`` and skip with the reason when the server is unreachable.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import make_url

from dojo_epos.contract import models as m
from dojo_epos.epos.handler import RequestContext
from dojo_epos.epos.reference import ReferenceEpos, open_reference
from dojo_epos.epos.reference.schema import metadata
from dojo_epos.epos.reference.seed import seed_premises

PG_URL = os.environ.get(
    "DOJO_EPOS_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_dsn(PG_URL), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session; its URL."""
    name = f"dojo_epos_ref_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc}")
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _empty(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_dsn(url))
    try:
        present = {r["tablename"] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        names = [t.name for t in metadata.sorted_tables if t.name in present]
        if names:
            await conn.execute(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A database URL with nothing in it, once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'epos.sqlite3'}"
    url: str = request.getfixturevalue("pg_database")
    asyncio.run(_empty(url))
    return url


@pytest.fixture
async def epos(db_url: str) -> AsyncIterator[ReferenceEpos]:
    """The reference EPOS on an empty database, with the premises (tables, merchant) seeded."""
    handler = await open_reference(db_url)
    try:
        await seed_premises(handler.db)
        yield handler
    finally:
        await handler.aclose()


def ctx(capability: str = "test") -> RequestContext:
    return RequestContext(capability=capability, transport="local")


def gbp(value: int) -> m.Money:
    return m.Money(value=value, currency_code="GBP")


def soon(minutes: float = 5) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=minutes)
