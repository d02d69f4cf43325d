"""The reference EPOS's database handle: one URL, SQLite (the default) or PostgreSQL.

:func:`normalise_url` turns what a user types (``sqlite:///epos.db``, ``postgresql://u@h/db``) into
the async driver URL SQLAlchemy needs (``sqlite+aiosqlite``, ``postgresql+asyncpg``).

:class:`Database` hands out two kinds of transaction:

- :meth:`Database.write` is where every change happens. On PostgreSQL the code inside takes row
  locks (``SELECT ... FOR UPDATE``); on SQLite the transaction starts with ``BEGIN IMMEDIATE``, which
  takes the database's single write lock up front. Either way two writers to the same order are
  serialised by the database, so correctness never depends on there being one process.
- :meth:`Database.read` is a consistent snapshot for reads (REPEATABLE READ on PostgreSQL, a deferred
  transaction on SQLite, which under WAL never waits for a writer). Reads are never blocked by an
  order lock: those are rows, not database locks.

SQLite in WAL mode needs the driver not to issue its own ``BEGIN``; the connect/begin listeners below
take that over (the recipe in SQLAlchemy's pysqlite/aiosqlite dialect notes).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

__all__ = ["Database", "normalise_url"]

#: Execution option that marks a write transaction (SQLite: BEGIN IMMEDIATE).
_WRITE = "dojo_epos_write"
#: Seconds a SQLite writer waits for another writer's lock before failing.
SQLITE_BUSY_TIMEOUT = 30.0


def normalise_url(db_url: str | URL) -> URL:
    """The async-driver form of ``db_url``; raises ValueError for an unsupported database."""
    url = make_url(db_url) if isinstance(db_url, str) else db_url
    backend = url.get_backend_name()
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database {backend!r}: use sqlite:///path or postgresql://...")


class Database:
    """An async engine plus the two transaction shapes the reference EPOS uses."""

    def __init__(self, db_url: str | URL, *, pool_size: int = 10) -> None:
        self.url = normalise_url(db_url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            database = self.url.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT}
        else:
            kwargs["pool_size"] = pool_size
            kwargs["max_overflow"] = pool_size
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            _install_sqlite_listeners(self.engine)
        self._writer = self.engine.execution_options(**{_WRITE: True})
        self._reader = (
            self.engine
            if self.is_sqlite
            else self.engine.execution_options(isolation_level="REPEATABLE READ")
        )

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return "sqlite" if self.is_sqlite else "postgresql"

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction: committed on normal exit, rolled back on any exception."""
        async with self._writer.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only snapshot (rolled back at the end; nothing to commit)."""
        async with self._reader.connect() as conn:
            async with conn.begin() as trans:
                yield conn
                await trans.rollback()

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def _install_sqlite_listeners(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop the driver from issuing its own BEGIN, so ours (below) decides the kind.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT * 1000)}")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A writer takes the write lock at BEGIN, so its reads see the latest committed state and
        # no other writer can slip in between its check and its write.
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
