"""The reference EPOS's database handle: one URL, SQLite (the default) or PostgreSQL.

:func:`normalise_url` turns what a user types (``sqlite:///epos.db``, ``postgresql://u@h/db``) into
the async driver URL SQLAlchemy needs (``sqlite+aiosqlite``, ``postgresql+asyncpg``).

:class:`Database` hands out two kinds of transaction:

- :meth:`Database.write` is where every change happens. On PostgreSQL the code inside takes row
  locks (``SELECT ... FOR UPDATE``); on SQLite the transaction starts with ``BEGIN IMMEDIATE``, which
  takes the database's single write lock up front. Either way two writers to the same order are
  serialised by the database, so correctness never depends on there being one process.
- :meth:`Database.run_write` runs ``work(conn)`` in one :meth:`Database.write` transaction in a task
  of its own, so that cancelling the caller (a socket dropped while the call was in flight) never
  cancels a database call half-way. A cancellation inside SQLAlchemy is an "exit exception": it
  invalidates the connection and the whole pool, and on aiosqlite the forced close then races the
  graceful one, whose second ``stop()`` waits on a thread that has already ended; the cancelled task
  hung there (holding the connector's reconnect), and the transaction stayed open (holding SQLite's
  write lock) until the busy time-out. Instead the caller marks the write *abandoned*: the next
  statement raises :class:`WriteAbandoned` (an ordinary exception), the transaction rolls back at
  once, and the connection goes back to the pool healthy. A write whose work had already finished
  is rolled back too: its answer can no longer reach anyone, and Dojo re-sends it.
  :meth:`Database.dispose` waits for the write transactions still running (a call answered in the
  background, say a HandleEvent that arrived as the EPOS was closing) before it closes the pool:
  the pool closes only the connections checked in, so one a transaction still held was never
  closed (aiosqlite warned "deleted before being closed" when it was collected, long after).
- :meth:`Database.read` is a consistent snapshot for reads (REPEATABLE READ on PostgreSQL, a deferred
  transaction on SQLite, which under WAL never waits for a writer). Reads are never blocked by an
  order lock: those are rows, not database locks.
- :meth:`Database.run_read` runs a synchronous read function (over a SQLAlchemy ``Connection``) in
  one such snapshot. This is how the capabilities read: on PostgreSQL it is ``read()`` plus
  ``AsyncConnection.run_sync``; on a SQLite file it runs the whole function on a worker thread with
  the synchronous ``sqlite3`` driver. aiosqlite sends every driver call (cursor, execute, fetch,
  close) to its own thread and back, about 30 hops for one order; the worker thread makes it one.
  The reader engine is read-only (``PRAGMA query_only``), so it can never take the write lock.
- :meth:`Database.run_loop_read` runs such a function on the event loop itself, on a SQLite file:
  the stdlib driver below SQLAlchemy's execute machinery (:mod:`.loop_reads`), for the short reads
  Dojo makes most (GetOrderById, SearchOrders); elsewhere, or when SQLite would make it wait, it is
  :meth:`run_read`.

SQLite in WAL mode needs the driver not to issue its own ``BEGIN``; the connect/begin listeners below
take that over (the recipe in SQLAlchemy's pysqlite/aiosqlite dialect notes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from dojo_epos.epos.reference.loop_reads import LoopConnection, LoopReadBusy, LoopReader

log = logging.getLogger("dojo_epos.epos.reference.db")

__all__ = ["Database", "DatabaseClosed", "WriteAbandoned", "normalise_url"]

#: Execution option that marks a write transaction (SQLite: BEGIN IMMEDIATE).
_WRITE = "dojo_epos_write"
#: Key in a connection's ``info`` for the flag :meth:`Database.run_write` sets when abandoned.
_ABANDONED = "dojo_epos_abandoned"
#: Seconds a SQLite writer waits for another writer's lock before failing.
SQLITE_BUSY_TIMEOUT = 30.0
#: Seconds :meth:`Database.dispose` lets the writes in flight finish before it abandons them.
DISPOSE_GRACE = 5.0
#: Worker threads (and pooled connections) for SQLite reads. One: the reads are mostly Python (the
#: GIL), and more threads measured slower, each one convoying with the event loop for the GIL.
SQLITE_READ_THREADS = 1

T = TypeVar("T")


class WriteAbandoned(Exception):
    """The caller of :meth:`Database.run_write` was cancelled: the transaction was rolled back."""


class DatabaseClosed(RuntimeError):
    """A transaction was asked of a :class:`Database` after :meth:`Database.dispose` began."""


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
        event.listen(self.engine.sync_engine, "before_cursor_execute", _refuse_abandoned)
        self._writer = self.engine.execution_options(**{_WRITE: True})
        self._reader = (
            self.engine
            if self.is_sqlite
            else self.engine.execution_options(isolation_level="REPEATABLE READ")
        )
        #: The synchronous read-only engine on the same SQLite file (None: PostgreSQL, memory).
        self.sync_reader: Engine | None = None
        self._read_threads: ThreadPoolExecutor | None = None  # made on first use
        #: The event loop's read-only connection to the same SQLite file (None: PostgreSQL, memory).
        self.loop_reader: LoopReader | None = None
        #: The transactions of :meth:`run_write` running now, each with its abandon flag.
        self._writes: dict[asyncio.Future[Any], _Flag] = {}
        self._closed = False
        if self.is_sqlite and (self.url.database or "") not in ("", ":memory:"):
            self.sync_reader = create_engine(
                self.url.set(drivername="sqlite+pysqlite"),
                pool_size=SQLITE_READ_THREADS,
                max_overflow=0,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT, "check_same_thread": False},
            )
            _install_sqlite_listeners(self.sync_reader, read_only=True)
            self.loop_reader = LoopReader(self.url.database or "")

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return "sqlite" if self.is_sqlite else "postgresql"

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction: committed on normal exit, rolled back on any exception."""
        self._refuse_if_closed()
        async with self._writer.begin() as conn:
            yield conn

    async def run_write(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """``work(conn)`` in one write transaction, committed unless the caller is cancelled first.

        Cancelling the caller rolls the transaction back at its next statement (or, when ``work``
        has finished, instead of committing) and waits for that rollback; see the module notes.
        """
        self._refuse_if_closed()
        abandoned = _Flag()

        async def transaction() -> T:
            async with self.write() as conn:
                conn.info[_ABANDONED] = abandoned
                try:
                    result = await work(conn)
                    if abandoned:
                        raise WriteAbandoned("the caller went away before the write committed")
                    return result
                finally:
                    conn.info.pop(_ABANDONED, None)

        task = asyncio.ensure_future(transaction())
        self._writes[task] = abandoned
        task.add_done_callback(lambda done: self._writes.pop(done, None))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            abandoned.set()
            while not task.done():  # however often we are cancelled, the rollback must finish
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait({task})
            if not task.cancelled() and task.exception() is not None:
                log.debug("abandoned write ended with %r", task.exception())
            raise

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only snapshot (rolled back at the end; nothing to commit)."""
        self._refuse_if_closed()
        async with self._reader.connect() as conn:
            await conn.begin()
            yield conn
            # Closing the connection rolls the snapshot back; ending it here instead would make
            # the pool roll back a second time (it skips its reset only after an inline rollback).

    async def run_read(self, work: Callable[[Connection], T]) -> T:
        """``work(conn)`` in one read snapshot; what it returns or raises.

        ``work`` must only read. On a SQLite file it runs on a worker thread (one hop for the whole
        read); elsewhere on the event loop's connection through ``run_sync``.
        """
        self._refuse_if_closed()
        if self.sync_reader is None:
            async with self.read() as conn:
                return await conn.run_sync(work)
        if self._read_threads is None:
            self._read_threads = ThreadPoolExecutor(
                SQLITE_READ_THREADS, thread_name_prefix="dojo-epos-read")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._read_threads, self._read_in_thread, work)

    async def run_loop_read(self, work: Callable[[Connection | LoopConnection], T]) -> T:
        """:meth:`run_read`, but on a SQLite file on the event loop itself (no thread hop).

        For short reads of statements built once (see :mod:`.loop_reads`); ``work`` must only
        read. When SQLite would make the read wait, it runs through :meth:`run_read` instead.
        """
        self._refuse_if_closed()
        if self.loop_reader is not None:
            try:
                return self.loop_reader.run(work)
            except LoopReadBusy:
                log.debug("loop read would wait; reading on the read thread")
        return await self.run_read(work)

    def _refuse_if_closed(self) -> None:
        if self._closed:
            raise DatabaseClosed("the EPOS database is closed")

    def _read_in_thread(self, work: Callable[[Connection], T]) -> T:
        assert self.sync_reader is not None
        with self.sync_reader.connect() as conn:
            conn.begin()
            return work(conn)  # closing rolls the snapshot back (see read())

    async def dispose(self, grace_period: float = DISPOSE_GRACE) -> None:
        """Close every pooled connection (and the SQLite read threads).

        Writes still in flight get ``grace_period`` seconds to end; the rest are abandoned (rolled
        back at their next statement) and waited for, so that each gives its connection back to
        the pool before the pool is closed. From the start, new transactions are refused
        (:class:`DatabaseClosed`): one begun meanwhile would open a connection in a fresh pool
        that nothing closes any more.
        """
        self._closed = True
        if self._writes:
            _, late = await asyncio.wait(list(self._writes), timeout=grace_period)
            for task in late:
                log.warning("closing the database: abandoning a write still in flight")
                self._writes[task].set()
            if late:
                await asyncio.wait(late)
        await self.engine.dispose()
        if self.loop_reader is not None:
            self.loop_reader.close()
        if self._read_threads is not None:
            threads, self._read_threads = self._read_threads, None
            threads.shutdown(wait=True)  # reads are short; let any in flight finish
        if self.sync_reader is not None:
            self.sync_reader.dispose()


class _Flag:
    """A one-way flag, true once set (read by the statement listener, set by the caller)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = False

    def set(self) -> None:
        self.value = True

    def __bool__(self) -> bool:
        return self.value


def _refuse_abandoned(conn: Any, *_args: Any) -> None:
    """before_cursor_execute: an abandoned write runs no further statement."""
    if conn.info.get(_ABANDONED):
        raise WriteAbandoned("the caller went away before the write committed")


def _install_sqlite_listeners(engine: AsyncEngine | Engine, *, read_only: bool = False) -> None:
    sync_engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop the driver from issuing its own BEGIN, so ours (below) decides the kind.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if read_only:
            # WAL is a property of the file, set by the writer engine; this one only reads, and
            # query_only makes SQLite refuse anything else from it.
            cursor.execute("PRAGMA query_only=ON")
        else:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT * 1000)}")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A writer takes the write lock at BEGIN, so its reads see the latest committed state and
        # no other writer can slip in between its check and its write.
        if read_only:
            # Straight to the driver: through exec_driver_sql this one statement cost as much as
            # the order read after it (SearchOrders' REST profile). Nothing listens for it there
            # (the order cache listens for "begin" itself).
            conn.connection.driver_connection.execute("BEGIN")
            return
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
