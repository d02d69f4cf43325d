"""Batched inserts through one connection held for them, driven through its driver directly.

The call log writes a batch of rows every few milliseconds while calls are made
(:mod:`.calllog`). Through SQLAlchemy's engine each batch paid a pool check-out, a ``BEGIN``, the
driver call, a ``COMMIT`` and the rollback with which the pool resets a returned connection: about
1.5 ms of the event loop's CPU per batch on SQLite, as much as the rows themselves at 60 rows a
batch, and a quarter of a whole invocation's cost (``benchmarks/bench_ws.py``, measured with the
database write switched off). :class:`HeldInserter` checks one connection out once and keeps it,
and hands each batch to the driver: asyncpg's ``executemany`` runs it as one atomic pipeline; on
SQLite it goes as multi-row ``INSERT ... VALUES (...), (...)`` statements of up to
:func:`rows_per_statement` rows, then a commit, in aiosqlite's thread. Not ``executemany`` there:
sqlite3 gives up the GIL for every row it steps and must take it back from the event loop, which
holds it while calls are made (a waiting thread gets it at the loop's next system call, or after
the 5 ms switch interval). At 32 calls in flight the writer fell 250 ms behind in 3 s and, in one
run of two, dropped entries; with multi-row statements it is a few ms behind and drops none
(``benchmarks/bench_ws.py``, ``log_catch_up_ms``). A statement of many rows gives up the GIL once.
Rows are given in the driver's own types (text, numbers, booleans); nothing is converted.

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

__all__ = ["HeldInserter", "insert_sql", "rows_per_statement"]

#: The fewest bound parameters a statement may have on any SQLite (before 3.32: 999).
_SQLITE_MAX_PARAMETERS = 999


def insert_sql(table: str, columns: Sequence[str], paramstyle: str | None, rows: int = 1) -> str:
    """An INSERT of ``rows`` rows of ``columns`` in the driver's own parameter style (SQLite
    ``?``, asyncpg ``$n``)."""
    if paramstyle == "qmark":
        one = f"({', '.join(['?'] * len(columns))})"
        values = ", ".join([one] * rows)
    elif paramstyle == "numeric_dollar" and rows == 1:
        values = f"({', '.join(f'${n}' for n in range(1, len(columns) + 1))})"
    else:  # pragma: no cover - the two engines the store supports use the styles above
        raise RuntimeError(f"unsupported DB-API parameter style {paramstyle!r} for {rows} rows")
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}"


def rows_per_statement(columns: int) -> int:
    """Rows of ``columns`` columns one SQLite statement may insert (its parameter limit)."""
    return max(1, _SQLITE_MAX_PARAMETERS // columns)


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
        #: SQLite: the multi-row statements made so far, by their number of rows (None elsewhere).
        self._multirow: dict[int, str] | None = None
        self._chunk = rows_per_statement(len(self.columns))

    async def insert(self, rows: Sequence[Sequence[Any]]) -> None:
        """Insert ``rows`` (tuples in column order) in one transaction: all of them or none."""
        if not rows:
            return
        async with self._lock:
            if self._conn is None:
                await self._check_out()
            try:
                if self._multirow is None:
                    await self._driver.executemany(self._sql, rows)
                else:
                    await self._insert_multirow(self._multirow, rows)
            except BaseException:
                await self._discard()
                raise

    async def _insert_multirow(self, statements: dict[int, str], rows: Sequence[Sequence[Any]]
                               ) -> None:
        for start in range(0, len(rows), self._chunk):
            part = rows[start:start + self._chunk]
            sql = statements.get(len(part))
            if sql is None:
                sql = statements[len(part)] = insert_sql(self.table, self.columns, "qmark", len(part))
            await self._driver.execute(sql, [value for row in part for value in row])
        # sqlite3 opened a transaction before the first INSERT and keeps it until this commit.
        await self._driver.commit()

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
        if dialect.paramstyle == "qmark":
            self._multirow = {}
        else:  # asyncpg's executemany is atomic by itself (outside a transaction it opens its own)
            self._sql = insert_sql(self.table, self.columns, dialect.paramstyle)

    async def _discard(self) -> None:
        conn, self._conn, self._driver = self._conn, None, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()
            with contextlib.suppress(Exception):
                await conn.close()

    async def close(self) -> None:
        """Give the connection back, if one is held (call before the engine is disposed); a later
        :meth:`insert` checks one out again."""
        async with self._lock:
            conn, self._conn, self._driver = self._conn, None, None
            if conn is not None:
                await conn.close()
