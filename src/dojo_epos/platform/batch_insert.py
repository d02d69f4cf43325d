"""Batched inserts through one connection held for them, driven through its driver directly.

The call log writes a batch of rows every few milliseconds while calls are made
(:mod:`.calllog`). Through SQLAlchemy's engine each batch paid a pool check-out, a ``BEGIN``, the
driver call, a ``COMMIT`` and the rollback with which the pool resets a returned connection: about
1.5 ms of the event loop's CPU per batch on SQLite, as much as the rows themselves at 60 rows a
batch, and a quarter of a whole invocation's cost (``benchmarks/bench_ws.py``, measured with the
database write switched off). :class:`HeldInserter` checks one connection out once and keeps it,
and hands each batch to the driver's own ``executemany``: aiosqlite runs it and its commit in its
thread, asyncpg runs it as one atomic pipeline. Rows are given in the driver's own types (text,
numbers, booleans); nothing is converted on the way.

A failed batch throws the connection away (it may hold half a transaction, or be broken); the next
batch checks out a fresh one. Not for a database that lives in one shared connection (SQLite in
memory): holding it, this writer's commits would commit other callers' open transactions.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

__all__ = ["HeldInserter", "insert_sql"]


def insert_sql(table: str, columns: Sequence[str], paramstyle: str | None) -> str:
    """An INSERT of ``columns`` in the driver's own parameter style (SQLite ``?``, asyncpg ``$n``)."""
    if paramstyle == "qmark":
        marks = ["?"] * len(columns)
    elif paramstyle == "numeric_dollar":
        marks = [f"${n}" for n in range(1, len(columns) + 1)]
    else:  # pragma: no cover - the two engines the store supports use the styles above
        raise RuntimeError(f"unsupported DB-API parameter style {paramstyle!r}")
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(marks)})"


class HeldInserter:
    """Inserts batches of rows into ``table`` through one connection of ``engine``, held."""

    def __init__(self, engine: AsyncEngine, table: str, columns: Sequence[str]) -> None:
        self.engine = engine
        self.table = table
        self.columns = tuple(columns)
        self._lock = asyncio.Lock()
        self._conn: AsyncConnection | None = None
        self._driver: Any = None
        self._sql = ""
        self._commits = False

    async def insert(self, rows: Sequence[Sequence[Any]]) -> None:
        """Insert ``rows`` (tuples in column order) in one transaction: all of them or none."""
        if not rows:
            return
        async with self._lock:
            if self._conn is None:
                await self._check_out()
            try:
                await self._driver.executemany(self._sql, rows)
                if self._commits:
                    await self._driver.commit()
            except BaseException:
                await self._discard()
                raise

    async def _check_out(self) -> None:
        conn = await self.engine.connect()
        try:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            dialect = conn.dialect
        except BaseException:
            await conn.close()
            raise
        self._conn, self._driver = conn, driver
        self._sql = insert_sql(self.table, self.columns, dialect.paramstyle)
        # asyncpg's executemany is atomic by itself (outside a transaction it opens its own);
        # sqlite3 opens a transaction before the first INSERT and keeps it until commit.
        self._commits = dialect.driver != "asyncpg"

    async def _discard(self) -> None:
        conn, self._conn, self._driver = self._conn, None, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()
            with contextlib.suppress(Exception):
                await conn.close()

    async def close(self) -> None:
        """Give the connection back (call before the engine is disposed)."""
        async with self._lock:
            conn, self._conn, self._driver = self._conn, None, None
            if conn is not None:
                await conn.close()
