"""The local platform's database: registrations, POS events, the call log and flow results.

SQLAlchemy 2 Core over an async engine. One URL picks the engine: a SQLite file (the default,
in WAL mode) or PostgreSQL through asyncpg. Every row carries its :class:`Scope`'s three columns,
and every query filters on them, so no reader can see another account's data.

Times are stored as ISO 8601 UTC text, which reads back the same on both engines. Registration
passwords are stored (the platform must present them to the EPOS) but no method of this module
puts them in a log line, and :class:`Registration` keeps them out of its ``repr``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, and_, event, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from dojo_epos.platform.accounts import Environment, Scope
from dojo_epos.platform.batch_insert import HeldInserter, insert_sql
from dojo_epos.platform.schema import (
    add_missing_columns,
    calls,
    flow_result_upsert,
    flow_results,
    metadata,
    pos_events,
    registrations,
)

#: The PostgreSQL advisory lock held while the schema is created (an arbitrary constant).
_SCHEMA_LOCK = 0x646F6A6F

__all__ = [
    "CallRow",
    "EncodedJSON",
    "RegisteredCapability",
    "Registration",
    "Store",
    "StoredEvent",
    "async_url",
    "lock_schema",
    "utc_now",
]

def utc_now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def async_url(url: str) -> str:
    """The async-driver form of a database URL (``sqlite://`` -> aiosqlite, ``postgresql://`` ->
    asyncpg); URLs that already name a driver are kept."""
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url[len("sqlite:"):]
    for plain in ("postgresql:", "postgres:"):
        if url.startswith(plain):
            return "postgresql+asyncpg:" + url[len(plain):]
    return url



async def lock_schema(conn: AsyncConnection) -> None:
    """On PostgreSQL, hold the schema lock until ``conn``'s transaction ends.

    Several workers starting at once on an empty database would all CREATE the same tables (and
    all but one fail on the catalogue's unique index); one at a time, the later ones find them
    made. Every part of the platform that creates tables takes it first.
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})

class EncodedJSON(str):
    """JSON text encoded already (the call log encodes each request and reply once, to bound its
    size): :meth:`Store.add_calls` stores it as it is."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class RegisteredCapability:
    """One registered capability, with its name and version exactly as the EPOS sent them."""

    name: str
    version: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Registration:
    """One transport's integration for a scope (there is at most one per transport)."""

    transport: str
    capabilities: tuple[RegisteredCapability, ...]
    created_at: datetime
    updated_at: datetime
    url: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    reseller_id: str | None = None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """A POS event received on ``POST /epos/events``."""

    id: int
    event_type: str
    event: dict[str, Any]
    received_at: datetime
    reseller_id: str | None


@dataclass(frozen=True, slots=True)
class CallRow:
    """A persisted invocation (the in-memory ring in :mod:`.invoke` holds the recent ones)."""

    id: int
    capability: str
    transport: str | None
    outcome: str
    detail: str | None
    request: Any
    reply: Any
    duration_ms: float
    started_at: datetime
    #: The caller expected this failure (a flow checking that an EPOS refuses): not a fault.
    expected: bool = False


def _where(table: Table, scope: Scope) -> Any:
    return and_(
        table.c.environment == scope.environment.value,
        table.c.key_fingerprint == scope.key_fingerprint,
        table.c.software_house_id == scope.software_house_id,
    )


def _scope_values(scope: Scope) -> dict[str, str]:
    return {
        "environment": scope.environment.value,
        "key_fingerprint": scope.key_fingerprint,
        "software_house_id": scope.software_house_id,
    }


class Store:
    """The platform's tables behind one async engine; call :meth:`start` (idempotent) first."""

    def __init__(self, url: str) -> None:
        self.url = async_url(url)
        parsed = make_url(self.url)
        # hide_parameters: SQL errors and echo logs would otherwise print bound values, and a
        # registration's password is one of them.
        kwargs: dict[str, Any] = {"hide_parameters": True}
        self._sqlite = parsed.get_backend_name() == "sqlite"
        database = parsed.database or ""
        # SQLite in memory lives in one shared connection (or every connection would see its own
        # empty database), so none can be held for the call log.
        shared = self._sqlite and database in ("", ":memory:")
        if shared:
            kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        elif self._sqlite:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        else:
            # Enough kept open for what a busy worker has in flight: with the default (5, more
            # closed on return) it opened a connection for most writes (2.5 a flow at 16 flows).
            kwargs.update(pool_size=20, max_overflow=20)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self._sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._started = False
        self._start_lock = asyncio.Lock()
        self._save_flow: Any = None
        self._calls_inserter = None if shared else HeldInserter(self.engine, calls.name,
                                                                _CALL_COLUMNS)

    async def start(self) -> None:
        """Create the tables that are missing (safe to call any number of times)."""
        if self._started:
            return
        async with self._start_lock:
            if not self._started:
                async with self.engine.begin() as conn:
                    await lock_schema(conn)
                    await conn.run_sync(metadata.create_all)
                    await conn.run_sync(add_missing_columns)
                self._started = True

    async def close(self) -> None:
        await self.release_calls_connection()
        await self.engine.dispose()

    async def release_calls_connection(self) -> None:
        """Give back the connection held for the call log's batches, if one is held (the next
        batch checks one out again); the call log does when it has been idle a while."""
        if self._calls_inserter is not None:
            await self._calls_inserter.close()

    # -- accounts -----------------------------------------------------------------------------

    async def scopes(self) -> list[Scope]:
        """Every scope the platform has seen (registered, called, sent events or ran flows),
        sorted; read-only, for the dashboard's list of accounts."""
        await self.start()
        found: set[Scope] = set()
        async with self.engine.connect() as conn:
            for table in (registrations, calls, pos_events, flow_results):
                rows = (await conn.execute(
                    select(table.c.environment, table.c.key_fingerprint,
                           table.c.software_house_id).distinct())).all()
                for env, key, house in rows:
                    try:
                        found.add(Scope(Environment(env), key, house))
                    except ValueError:  # a row from an unknown environment: not an account
                        continue
        return sorted(found, key=str)

    # -- registrations ------------------------------------------------------------------------

    async def registrations(self, scope: Scope) -> list[Registration]:
        """Both transports' integrations of a scope (REST first)."""
        await self.start()
        async with self.engine.connect() as conn:
            rows = (await conn.execute(
                select(registrations).where(_where(registrations, scope))
                .order_by(registrations.c.transport)
            )).mappings().all()
        return [_registration(row) for row in rows]

    async def registration(self, scope: Scope, transport: str) -> Registration | None:
        for found in await self.registrations(scope):
            if found.transport == transport:
                return found
        return None

    async def replace_registration(
        self,
        scope: Scope,
        transport: str,
        capabilities: Sequence[tuple[str, str]],
        *,
        url: str | None = None,
        username: str | None = None,
        password: str | None = None,
        reseller_id: str | None = None,
        now: datetime | None = None,
    ) -> Registration:
        """Replace a transport's integration in one transaction; ``createdAt`` survives a PUT."""
        await self.start()
        now = now or utc_now()
        caps = [{"name": n, "version": v, "updatedAt": _iso(now)} for n, v in capabilities]
        values = {
            "url": url, "username": username, "password": password, "capabilities": caps,
            "reseller_id": reseller_id, "updated_at": _iso(now),
        }
        key = and_(_where(registrations, scope), registrations.c.transport == transport)
        for attempt in range(2):
            try:
                async with self.engine.begin() as conn:
                    changed = await conn.execute(update(registrations).where(key).values(**values))
                    if changed.rowcount == 0:
                        await conn.execute(insert(registrations).values(
                            **_scope_values(scope), transport=transport,
                            created_at=_iso(now), **values))
                    row = (await conn.execute(select(registrations).where(key))).mappings().one()
                return _registration(row)
            except IntegrityError:
                # Two first PUTs raced to insert; the loser retries as an update.
                if attempt:
                    raise
        raise AssertionError("unreachable")

    # -- POS events ---------------------------------------------------------------------------

    async def add_event(
        self, scope: Scope, event_type: str, body: dict[str, Any], reseller_id: str | None
    ) -> StoredEvent:
        await self.start()
        now = utc_now()
        async with self.engine.begin() as conn:
            result = await conn.execute(insert(pos_events).values(
                **_scope_values(scope), event_type=event_type, event=body,
                reseller_id=reseller_id, received_at=_iso(now)))
            new_id = int(result.inserted_primary_key[0])  # type: ignore[index]  # one-column key
        return StoredEvent(new_id, event_type, body, now, reseller_id)

    async def events(self, scope: Scope, limit: int = 100) -> list[StoredEvent]:
        """The newest events of a scope first."""
        await self.start()
        async with self.engine.connect() as conn:
            rows = (await conn.execute(
                select(pos_events).where(_where(pos_events, scope))
                .order_by(pos_events.c.id.desc()).limit(limit)
            )).mappings().all()
        return [StoredEvent(r["id"], r["event_type"], r["event"], _parse(r["received_at"]),
                            r["reseller_id"]) for r in rows]

    # -- call log -----------------------------------------------------------------------------

    async def add_call(
        self,
        scope: Scope,
        *,
        capability: str,
        transport: str | None,
        outcome: str,
        detail: str | None,
        request: Any,
        reply: Any,
        duration_ms: float,
        started_at: datetime,
    ) -> int:
        await self.start()
        async with self.engine.begin() as conn:
            result = await conn.execute(insert(calls).values(
                **_scope_values(scope), capability=capability, transport=transport,
                outcome=outcome, detail=detail, request=_jsonable(request),
                reply=_jsonable(reply), duration_ms=duration_ms, started_at=_iso(started_at)))
            return int(result.inserted_primary_key[0])  # type: ignore[index]  # one-column key

    async def add_calls(self, entries: list[tuple[Scope, dict[str, Any]]]) -> None:
        """Insert many call-log rows in one transaction (each dict has add_call's keywords; a
        request or reply given as :class:`EncodedJSON` is stored as that text).

        The rows go to the driver's ``executemany`` as they are: SQLAlchemy's per-row parameter
        processing cost as much as the rest of an invocation (the call log writes every call).
        On a file or a server they go through a connection held for them (:mod:`.batch_insert`):
        a check-out, ``BEGIN`` and reset per batch cost as much again.
        """
        if not entries:
            return
        await self.start()
        rows = [(scope.environment.value, scope.key_fingerprint, scope.software_house_id,
                 e["capability"], e["transport"], e["outcome"], e["detail"],
                 _json_text(e["request"]), _json_text(e["reply"]), float(e["duration_ms"]),
                 _iso(e["started_at"]), bool(e.get("expected")))
                for scope, e in entries]
        if self._calls_inserter is not None:
            await self._calls_inserter.insert(rows)
            return
        async with self.engine.begin() as conn:
            await conn.exec_driver_sql(
                insert_sql(calls.name, _CALL_COLUMNS, conn.dialect.paramstyle), rows)

    async def calls(self, scope: Scope, limit: int = 100) -> list[CallRow]:
        """The newest calls of a scope first."""
        await self.start()
        async with self.engine.connect() as conn:
            rows = (await conn.execute(
                select(calls).where(_where(calls, scope)).order_by(calls.c.id.desc()).limit(limit)
            )).mappings().all()
        return [CallRow(r["id"], r["capability"], r["transport"], r["outcome"], r["detail"],
                        r["request"], r["reply"], r["duration_ms"], _parse(r["started_at"]),
                        bool(r["expected"])) for r in rows]

    # -- flow results (written by the tester) -------------------------------------------------

    async def save_flow_result(self, scope: Scope, flow_id: str, result: Any) -> None:
        """Insert or replace a flow's JSON result (any JSON value): one upsert built once (a delete
        and an insert built each time cost twice that at every run's end; bench_flows.py)."""
        await self.start()
        if self._save_flow is None:
            self._save_flow = flow_result_upsert(self.engine.dialect.name)
        async with self.engine.begin() as conn:
            await conn.execute(self._save_flow, {
                **_scope_values(scope), "flow_id": flow_id, "result": _jsonable(result),
                "updated_at": _iso(utc_now())})

    async def get_flow_result(self, scope: Scope, flow_id: str) -> Any | None:
        """A flow's stored JSON, or None when this scope has no flow of that id."""
        await self.start()
        key = and_(_where(flow_results, scope), flow_results.c.flow_id == flow_id)
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(flow_results.c.result).where(key))).first()
        return None if row is None else row[0]

    async def flow_ids(self, scope: Scope, limit: int = 100) -> list[str]:
        """The scope's flow ids, most recently updated first."""
        await self.start()
        async with self.engine.connect() as conn:
            rows = (await conn.execute(
                select(flow_results.c.flow_id).where(_where(flow_results, scope))
                .order_by(flow_results.c.updated_at.desc()).limit(limit))).all()
        return [r[0] for r in rows]


def _registration(row: Any) -> Registration:
    return Registration(
        transport=row["transport"],
        capabilities=tuple(
            RegisteredCapability(c["name"], c["version"], _parse(c["updatedAt"]))
            for c in row["capabilities"]
        ),
        created_at=_parse(row["created_at"]),
        updated_at=_parse(row["updated_at"]),
        url=row["url"],
        username=row["username"],
        password=row["password"],
        reseller_id=row["reseller_id"],
    )


_CALL_COLUMNS = ("environment", "key_fingerprint", "software_house_id", "capability", "transport",
                 "outcome", "detail", "request", "reply", "duration_ms", "started_at", "expected")


def _json_text(value: Any) -> str | None:
    """A call's request or reply as the JSON text its column stores (None stays SQL NULL)."""
    if value is None:
        return None
    if isinstance(value, EncodedJSON):
        return str(value)
    return json.dumps(value, default=str)


def _jsonable(value: Any) -> Any:
    """A JSON-safe copy (anything odd becomes its string form), so logging a call never fails."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL is still crash-safe in WAL mode (only a power cut can lose the last commits) and
    # spares an fsync per commit: the call log is written on every invocation (benchmarks/).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
