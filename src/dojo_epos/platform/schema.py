"""The platform database's tables: one declarative table per kind of record, scoped by account.

Every table carries its :class:`~dojo_epos.platform.accounts.Scope`'s three columns
(``environment``, ``key_fingerprint``, ``software_house_id``); :mod:`.store` filters every query on
them. Times are ISO 8601 UTC text, which reads back the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    inspect,
    text,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

__all__ = [
    "add_missing_columns", "calls", "faults", "flow_result_upsert", "flow_results", "metadata",
    "pos_events", "registrations", "scope_columns",
]

metadata = MetaData()


def scope_columns() -> list[Column[Any]]:
    """The account scope every per-account table starts with (fresh Column objects per table)."""
    return [
        Column("environment", String(16), nullable=False),
        Column("key_fingerprint", String(64), nullable=False),
        Column("software_house_id", String(200), nullable=False),
    ]


registrations = Table(
    "platform_registrations", metadata,
    Column("environment", String(16), primary_key=True),
    Column("key_fingerprint", String(64), primary_key=True),
    Column("software_house_id", String(200), primary_key=True),
    Column("transport", String(8), primary_key=True),
    Column("url", Text, nullable=True),
    Column("username", Text, nullable=True),
    Column("password", Text, nullable=True),
    Column("capabilities", JSON, nullable=False),
    Column("reseller_id", String(200), nullable=True),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
)

pos_events = Table(
    "platform_pos_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    *scope_columns(),
    Column("event_type", String(64), nullable=False),
    Column("event", JSON, nullable=False),
    Column("reseller_id", String(200), nullable=True),
    Column("received_at", String(40), nullable=False),
)

calls = Table(
    "platform_calls", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    *scope_columns(),
    Column("capability", String(80), nullable=False),
    Column("transport", String(8), nullable=True),
    Column("outcome", String(32), nullable=False),
    Column("detail", Text, nullable=True),
    Column("request", JSON, nullable=True),
    Column("reply", JSON, nullable=True),
    Column("duration_ms", Float, nullable=False),
    Column("started_at", String(40), nullable=False),
    # The caller expected this EPOSError (a tester flow checking a NotFound): not a failure.
    Column("expected", Boolean, nullable=True),
)

flow_results = Table(
    "platform_flow_results", metadata,
    *scope_columns(),
    Column("flow_id", String(64), primary_key=True),
    Column("result", JSON, nullable=False),
    Column("updated_at", String(40), nullable=False),
)

def flow_result_upsert(dialect: str) -> Any:
    """The upsert of a flow's result for the engine's dialect (SQLite or PostgreSQL), to run with
    the row's values as parameters: by flow id, replacing only a row of the same scope."""
    upsert = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(flow_results)
    same_scope = [flow_results.c[c.name] == upsert.excluded[c.name] for c in scope_columns()]
    return upsert.on_conflict_do_update(
        index_elements=[flow_results.c.flow_id], where=and_(*same_scope),
        set_={"result": upsert.excluded.result, "updated_at": upsert.excluded.updated_at})


#: Faults on demand (:mod:`.faultstore`): shared by every worker on the database. ``remaining`` is
#: how many times the fault still fires (NULL: every time until cleared), counted down atomically.
faults = Table(
    "platform_faults", metadata,
    Column("fault_id", String(32), primary_key=True),
    *scope_columns(),
    Column("kind", String(40), nullable=False),
    Column("capability", String(80), nullable=True),
    Column("delay", Float, nullable=False),
    Column("delay_max", Float, nullable=True),
    Column("close_code", Integer, nullable=True),
    Column("status", Integer, nullable=True),
    Column("remaining", Integer, nullable=True),
    Column("created_at", String(40), nullable=False),
)


def add_missing_columns(conn: Connection) -> None:
    """Add the columns a database created by an older version lacks (``create_all`` only adds
    whole tables): ``platform_calls.expected``, read as false on old rows."""
    have = {c["name"] for c in inspect(conn).get_columns(calls.name)}
    if "expected" not in have:
        conn.execute(text(f"ALTER TABLE {calls.name} ADD COLUMN expected BOOLEAN"))
