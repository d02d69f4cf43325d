"""A read cache of built orders for SQLite, exact by ``PRAGMA data_version``.

GetOrderById is what Dojo calls most (Pay at Table polls the order while the guest pays); building
an order costs two statements and a few dozen pydantic objects. This cache keeps recently built
orders and serves one again only while the database is provably unchanged.

How "provably unchanged" works. SQLite's ``PRAGMA data_version`` is per connection: its value
changes when ANOTHER connection has committed since this connection last looked (never for the
connection's own writes; ours only read, ``PRAGMA query_only``). Run as the first statement after
``BEGIN`` it also starts the read snapshot, so the value describes exactly the data that
transaction sees. Each read connection remembers the value it saw last; a read whose connection
sees a different value (or is new) bumps one process-wide **generation**. The check and the bump
happen under one lock, so checks are totally ordered in snapshot time, and the first check after
any commit, whichever connection makes it, bumps the generation. An order built in a snapshot of
generation ``g`` is served only to a read whose own check still says ``g``: no commit can have
happened in between. Any commit anywhere (this process or another) empties the cache in effect,
which is coarse but exact, and costs nothing to track.

A hit can be served without leaving the event loop: :meth:`OrderCache.try_hit` makes the same
check on a connection of its own (one ``PRAGMA data_version``, microseconds, never waiting on a
lock: a busy database is simply a miss) and answers from the cache, or says "miss" so the caller
reads on the worker thread. A hit then costs no thread hop, which is what GetOrderById needed
(the hop, not the query, dominated: see benchmarks/README.md).

Entries are built orders, never changed once cached. A caller that only serializes the answer
(``shared=True``: the REST and WebSocket transports, whose :func:`~dojo_epos.epos.handler.call_handler_json`
writes the JSON and drops the model) gets the cached model itself; any other caller gets a copy
(:func:`~dojo_epos.contract.clone.clone`), so changing the model it got cannot change what the
next caller gets. Validating a fresh model per hit, as the cache first did, cost more than the rest
of a hit together (the REST benchmark's profile), and a copy costs about as much. A cached model's
wire JSON is kept beside it once written (:meth:`OrderCache.encoded`): the model never changes, so
neither does its JSON, and writing it again was the largest cost left in a hit. The cache holds at
most ``size`` orders (least recently used go first). It only works on connections that never
write: :meth:`Database.run_read` and :meth:`Database.run_loop_read` on a SQLite file (the handler
turns it off otherwise).
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, event

from dojo_epos.contract import models as m
from dojo_epos.contract.clone import clone
from dojo_epos.epos.reference.loop_reads import LoopConnection
from dojo_epos.epos.reference.order_reads import read_order

__all__ = ["DEFAULT_SIZE", "OrderCache"]

#: Orders kept by default (a few KB each as dicts).
DEFAULT_SIZE = 2048
# Where a pooled connection keeps the data_version it saw last, and whether its current transaction
# has run anything yet (the check must be what starts the snapshot).
_SEEN = "dojo_epos_data_version"
_STARTED = "dojo_epos_snapshot_started"


class OrderCache:
    """Built orders by id, valid while no connection has committed since they were read."""

    def __init__(self, reader: Engine, size: int = DEFAULT_SIZE) -> None:
        self.reader = reader
        self.size = size
        self.generation = 0
        self.hits = 0
        self.misses = 0
        #: order id -> (generation, the built order, its wire JSON by transport once written).
        self._entries: OrderedDict[str, tuple[int, m.Order, dict[str, str]]] = OrderedDict()
        self._lock = threading.Lock()
        self._probe: sqlite3.Connection | None = None
        self._probe_seen: int | None = None
        # Open the probe while the cache is empty, so its first value needs no bump: an entry
        # made later was built after this value, and any commit after it changes the value.
        try:
            self._probe_seen = self._probe_version()
        except sqlite3.Error:
            self.close()
        # A new (or reconnected) DBAPI connection has seen nothing: its first check must bump.
        event.listen(reader, "connect", _forget_seen)
        event.listen(reader, "begin", _note_begin)
        event.listen(reader, "before_cursor_execute", _note_statement)

    def read_order(self, conn: Connection | LoopConnection, order_id: str, *,
                   shared: bool = False) -> m.Order:
        """The order, from the cache when still exact, else from ``conn`` (then cached).

        ``shared``: the caller only serializes the order (see the module notes), so it may get
        the cached model itself rather than a copy.

        ``conn`` must be a connection of :attr:`reader`, or the event loop's read-only connection
        to the same file (:mod:`.loop_reads`), that has just begun its transaction and run
        nothing in it yet (the check below must be the statement that starts the snapshot; a
        snapshot started earlier could predate a commit that another check already counted).
        """
        if isinstance(conn, LoopConnection):
            if conn.started:
                raise RuntimeError("OrderCache.read_order must be the first read of its "
                                   "transaction")
            generation = self._check(conn.driver, conn.info)
        else:
            if conn.engine is not self.reader:
                raise ValueError("OrderCache needs a connection of its own read-only engine")
            if conn.info.get(_STARTED, True):
                raise RuntimeError("OrderCache.read_order must be the first read of its "
                                   "transaction")
            driver = conn.connection.driver_connection
            assert driver is not None
            generation = self._check(driver, conn.connection.info)
            conn.info[_STARTED] = True
        with self._lock:
            entry = self._entries.get(order_id)
            if entry is not None and entry[0] == generation:
                self._entries.move_to_end(order_id)
                self.hits += 1
                kept: m.Order | None = entry[1]
            else:
                kept = None
                self.misses += 1
        if kept is not None:
            return kept if shared else clone(kept)
        order = read_order(conn, order_id)
        kept = order if shared else clone(order)
        with self._lock:
            if self.generation == generation:  # else a commit was seen meanwhile: don't keep it
                self._entries[order_id] = (generation, kept, {})
                self._entries.move_to_end(order_id)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return order

    def try_hit(self, order_id: str, *, shared: bool = False) -> m.Order | None:
        """The cached order if it is still exact, checked without a thread hop; else None.

        ``shared`` as for :meth:`read_order`."""
        with self._lock:
            if order_id not in self._entries:
                return None
            try:
                version = self._probe_version()
            except sqlite3.Error:  # busy, or the file went away: let the full read decide
                return None
            if version != self._probe_seen:
                self._probe_seen = version
                self.generation += 1
                self._entries.clear()
                return None
            generation, kept, _json = self._entries[order_id]
            if generation != self.generation:
                return None
            self._entries.move_to_end(order_id)
            self.hits += 1
        return kept if shared else clone(kept)

    def encoded(self, order: m.Order, transport: str, encode: Callable[[], str]) -> str:
        """``order``'s wire JSON for ``transport``: kept beside it when ``order`` is a cached
        model itself (``shared`` hits), else ``encode()`` each time.

        Exact because a cached model is never changed (see the module notes): the same object
        always writes the same JSON. Identity, not the id, decides: a copy or an order read
        after a commit is another object, and is encoded afresh."""
        with self._lock:
            entry = self._entries.get(order.id)
            if entry is None or entry[1] is not order:
                known = None
            else:
                known = entry[2]
                text = known.get(transport)
                if text is not None:
                    return text
        text = encode()
        if known is not None:
            with self._lock:
                known[transport] = text
        return text

    def _probe_version(self) -> int:
        if self._probe is None:
            path = self.reader.url.database
            if not path:
                raise sqlite3.OperationalError("no database file")
            self._probe = sqlite3.connect(path, timeout=0, isolation_level=None,
                                          check_same_thread=False)
            self._probe.execute("PRAGMA query_only=1")
            # A probe opened later (after a failure) has seen nothing: its first value must count
            # as a change.
            self._probe_seen = None
        value: int = self._probe.execute("PRAGMA data_version").fetchone()[0]
        return value

    def close(self) -> None:
        with self._lock:
            if self._probe is not None:
                self._probe.close()
                self._probe = None

    def _check(self, driver: Any, info: dict[str, Any]) -> int:
        """Start the snapshot on ``driver`` (a DBAPI connection whose per-connection state is
        ``info``); the generation it belongs to."""
        with self._lock:
            # The probe first, then the snapshot: a commit landing between the two is in the
            # snapshot but not in the probe's value, so the probe's next check still sees it
            # (a needless miss at worst, never a stale hit). The other order would not be exact.
            try:
                probe_version = self._probe_version()
            except sqlite3.Error:
                probe_version = None
            if probe_version is not None and probe_version != self._probe_seen:
                self._probe_seen = probe_version
                self.generation += 1
                self._entries.clear()
            # Under the lock: the order of checks is the order of snapshots (see module notes).
            version = driver.execute("PRAGMA data_version").fetchone()[0]
            if info.get(_SEEN) != version:
                info[_SEEN] = version
                self.generation += 1
                self._entries.clear()  # nothing older can be served again; free it now
            return self.generation

    def __len__(self) -> int:
        return len(self._entries)


def _forget_seen(_dbapi_connection: Any, record: Any) -> None:
    record.info.pop(_SEEN, None)


def _note_begin(conn: Connection) -> None:
    # The read engine's BEGIN goes straight to the driver (db.py), so no statement event sees it.
    conn.info[_STARTED] = False


def _note_statement(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    # Every read transaction opens with BEGIN (db.py's begin listener); anything after it starts
    # the snapshot.
    conn.info[_STARTED] = statement != "BEGIN"
