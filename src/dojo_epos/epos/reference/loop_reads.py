"""Reads on the event loop, on a SQLite file, with the stdlib ``sqlite3`` driver and no SQLAlchemy
execute machinery: what GetOrderById and SearchOrders run on.

Why. A read of one order on SQLite is two index lookups, tens of microseconds in SQLite itself.
Through :meth:`Database.run_read` it cost far more: the hop to the read thread and back (under load
the thread waits for the GIL and the loop for the thread's answer) and SQLAlchemy's per-statement
work (cache-key lookup, parameter building, result set-up), each more than the query (the REST
benchmark's profiles; benchmarks/README.md). So the reads that Dojo makes most run here, on the
loop, through one read-only connection per :class:`~.db.Database`:

- :class:`LoopReader` owns the connection (``PRAGMA query_only``, busy time-out 0) and runs a read
  function in one snapshot: ``BEGIN``, the function, ``ROLLBACK``. Under WAL a snapshot starts at
  its first statement and sees every transaction committed before it, from any connection or
  process, so a read after a payment's commit shows the payment. A read never waits: when SQLite
  would make it (``SQLITE_BUSY``, e.g. while another connection recovers the WAL), it raises
  :class:`LoopReadBusy` and the caller reads on the thread instead.
- :class:`LoopConnection` is what the read function gets: ``execute(statement, params)`` like a
  SQLAlchemy :class:`~sqlalchemy.Connection`, for statements built once (each is compiled for
  SQLite on first use and kept, with its bind defaults and result processors), answering rows with
  attribute access. An expanding ``IN`` parameter becomes ``IN (SELECT value FROM json_each(?))``
  with the list as one JSON text, so one compiled statement serves any number of ids.

The same read functions (:mod:`.order_reads`, :mod:`.search`) run on a SQLAlchemy connection
everywhere else (PostgreSQL, in-memory SQLite, the fallback), so both paths build the same models.
Writes never come here.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.selectable import CompoundSelect, Select

__all__ = ["LoopConnection", "LoopReadBusy", "LoopReader", "LoopResult"]

T = TypeVar("T")

_row_type: Callable[..., Any] = namedtuple
_DIALECT = sqlite_dialect.dialect(paramstyle="named")
_EXPANDING = re.compile(r"\(__\[POSTCOMPILE_(\w+)\]\)")
#: Compiled statements kept per statement object (the statements are module-level or cached);
#: emptied when it grows past :data:`_COMPILED_MAX` (statements built per call do not belong here).
_COMPILED: dict[int, _Compiled] = {}
_COMPILED_MAX = 1024


class LoopReadBusy(Exception):
    """SQLite would have made the read wait (``SQLITE_BUSY``/locked): read on the thread instead."""


class _Compiled:
    """One statement compiled for SQLite: SQL text, bind defaults and processors, row shape."""

    __slots__ = ("defaults", "expanding", "binders", "processors", "row", "sql", "statement")

    def __init__(self, statement: Select[Any] | CompoundSelect[Any]) -> None:
        self.statement = statement  # kept alive: the cache is keyed by its id
        compiled = statement.compile(dialect=_DIALECT)
        self.expanding = frozenset(_EXPANDING.findall(compiled.string))
        self.sql = _EXPANDING.sub(r"(SELECT value FROM json_each(:\1))", compiled.string)
        self.defaults: dict[str, Any] = {}
        self.binders: dict[str, Callable[[Any], Any]] = {}
        for bind in compiled.binds.values():
            name = compiled.bind_names[bind]
            if not bind.required and bind.callable is None and not bind.expanding:
                self.defaults[name] = bind.value
            process = bind.type.dialect_impl(_DIALECT).bind_processor(_DIALECT)
            if process is not None:
                self.binders[name] = process
        columns = list(statement.selected_columns)
        # Rows with attribute access, like SQLAlchemy's (the read functions use names).
        self.row: Any = _row_type("Row", [str(c.key) for c in columns], rename=True)
        self.processors: list[tuple[int, Callable[[Any], Any]]] = []
        for index, column in enumerate(columns):
            process = column.type.dialect_impl(_DIALECT).result_processor(_DIALECT, None)
            if process is not None:
                self.processors.append((index, process))

    def params(self, given: Mapping[str, Any]) -> dict[str, Any]:
        params = dict(self.defaults)
        for name, value in given.items():
            if name in self.expanding:
                value = json.dumps(list(value))
            elif value is not None and (process := self.binders.get(name)) is not None:
                value = process(value)
            params[name] = value
        return params

    def rows(self, raw: list[tuple[Any, ...]]) -> list[Any]:
        make = self.row._make
        if not self.processors:
            return [make(r) for r in raw]
        out = []
        for r in raw:
            values = list(r)
            for index, process in self.processors:
                values[index] = process(values[index])
            out.append(make(values))
        return out


def _compiled(statement: ClauseElement) -> _Compiled:
    found = _COMPILED.get(id(statement))
    if found is None or found.statement is not statement:
        if not isinstance(statement, Select | CompoundSelect):
            raise TypeError(f"LoopConnection runs SELECTs only, not {type(statement).__name__}")
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.clear()
        found = _COMPILED[id(statement)] = _Compiled(statement)
    return found


class LoopResult:
    """Rows of one statement, with the parts of SQLAlchemy's result the read functions use."""

    __slots__ = ("_rows",)

    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def all(self) -> Sequence[Any]:
        return self._rows

    def first(self) -> Any | None:
        return self._rows[0] if self._rows else None


class LoopConnection:
    """A read snapshot on the loop's connection, executing statements built once."""

    __slots__ = ("driver", "info", "started")

    def __init__(self, driver: sqlite3.Connection, info: dict[str, Any]) -> None:
        self.driver = driver
        #: Per-connection state, like a pooled connection's ``info`` (the order cache keeps the
        #: data_version this connection saw last here).
        self.info = info
        #: Whether a statement has run in this snapshot (the first one starts it).
        self.started = False

    def execute(self, statement: ClauseElement,
                parameters: Mapping[str, Any] | None = None) -> LoopResult:
        compiled = _compiled(statement)
        self.started = True
        try:
            raw = self.driver.execute(compiled.sql, compiled.params(parameters or {})).fetchall()
        except sqlite3.OperationalError as exc:
            raise _busy_or(exc) from exc
        return LoopResult(compiled.rows(raw))


def _busy_or(exc: sqlite3.OperationalError) -> Exception:
    text = str(exc).lower()
    return LoopReadBusy(str(exc)) if "locked" in text or "busy" in text else exc


class LoopReader:
    """The event loop's read-only connection to one SQLite file, opened on first use."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._driver: sqlite3.Connection | None = None
        self._info: dict[str, Any] = {}

    def connection(self) -> sqlite3.Connection:
        """The driver connection (opened if need be); for tests and tracing."""
        if self._driver is None:
            driver = sqlite3.connect(self.path, timeout=0, isolation_level=None,
                                     check_same_thread=False)
            driver.execute("PRAGMA query_only=ON")
            self._driver, self._info = driver, {}  # a new connection has seen nothing
        return self._driver

    def run(self, work: Callable[[LoopConnection], T]) -> T:
        """``work`` in one snapshot on this connection; raises :class:`LoopReadBusy` if SQLite
        would wait. ``work`` must not await (nothing else may use the connection meanwhile)."""
        try:
            driver = self.connection()
            driver.execute("BEGIN")
        except sqlite3.OperationalError as exc:
            raise _busy_or(exc) from exc
        try:
            return work(LoopConnection(driver, self._info))
        finally:
            if driver.in_transaction:
                driver.execute("ROLLBACK")

    def close(self) -> None:
        if self._driver is not None:
            self._driver.close()
            self._driver = None
