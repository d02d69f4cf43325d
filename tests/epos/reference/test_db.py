"""Database URLs and transaction kinds."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from dojo_epos.epos.reference.db import Database, normalise_url
from dojo_epos.epos.reference.schema import SCHEMA_VERSION, SchemaTooNew, create_schema


@pytest.mark.parametrize("given,driver,database", [
    ("sqlite:///epos.db", "sqlite+aiosqlite", "epos.db"),
    ("sqlite+aiosqlite:////abs/epos.db", "sqlite+aiosqlite", "/abs/epos.db"),
    ("postgresql://u@h/db", "postgresql+asyncpg", "db"),
    ("postgresql+psycopg2://u@h/db", "postgresql+asyncpg", "db"),
    ("postgres://u@h/db", "postgresql+asyncpg", "db"),
])
def test_urls_are_normalised_to_async_drivers(given, driver, database):
    """Plain URLs get the async driver; the rest of the URL is kept."""
    url = normalise_url(given)
    assert (url.drivername, url.database) == (driver, database)


def test_unsupported_database_is_refused():
    """Only SQLite and PostgreSQL are supported."""
    with pytest.raises(ValueError, match="unsupported"):
        normalise_url("mysql://u@h/db")


async def test_schema_version_recorded_and_newer_refused(db_url):
    """The schema records its version; a database from a newer version is refused."""
    db = Database(db_url)
    try:
        await create_schema(db)
        await create_schema(db)  # idempotent
        async with db.write() as conn:
            assert (await conn.execute(text("SELECT version FROM schema_version"))).scalar_one() \
                == SCHEMA_VERSION
            await conn.execute(text("UPDATE schema_version SET version = :v"),
                               {"v": SCHEMA_VERSION + 1})
        with pytest.raises(SchemaTooNew):
            await create_schema(db)
    finally:
        await db.dispose()


async def test_sqlite_writers_are_serialised_and_readers_are_not_blocked(tmp_path):
    """A second write transaction waits for the first (BEGIN IMMEDIATE); a reader does not."""
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        async with db.write() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (0)"))
        order: list[str] = []
        first_in = asyncio.Event()
        release = asyncio.Event()

        async def writer(name: str, hold: bool) -> None:
            async with db.write() as conn:
                order.append(f"{name} begun")
                n = (await conn.execute(text("SELECT n FROM t"))).scalar_one()
                if hold:
                    first_in.set()
                    await release.wait()
                await conn.execute(text("UPDATE t SET n = :n"), {"n": n + 1})
            order.append(f"{name} done")

        one = asyncio.create_task(writer("one", True))
        await first_in.wait()
        two = asyncio.create_task(writer("two", False))
        async with db.read() as conn:  # a reader answers while "one" holds the write lock
            assert (await conn.execute(text("SELECT n FROM t"))).scalar_one() == 0
        for _ in range(20):
            await asyncio.sleep(0.01)  # give "two" every chance to (wrongly) get in
        assert "two begun" not in order
        release.set()
        await asyncio.gather(one, two)
        assert order == ["one begun", "one done", "two begun", "two done"]
        async with db.read() as conn:
            assert (await conn.execute(text("SELECT n FROM t"))).scalar_one() == 2  # no lost update
    finally:
        await db.dispose()
