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
    TypeDecorator,
    inspect,
    text,
)
from sqlalchemy.engine import Dialect

__all__ = [
    "EncodedJSON", "LoggedJSON", "add_missing_columns", "calls", "flow_results", "metadata",
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

class EncodedJSON(str):
    """JSON text encoded already: :class:`LoggedJSON` stores it as it is, without encoding again."""

    __slots__ = ()


class LoggedJSON(TypeDecorator[Any]):
    """A JSON column that also takes :class:`EncodedJSON` text as it is.

    The call log encodes each request and reply once, to bound its size; encoding it again on
    insert (twice, with a JSON-safe copy made first) cost more than the rest of an invocation.
    Any other value is encoded as by ``JSON``, and reads give the decoded value either way.
    """

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Any:
        encode = self.impl_instance.dialect_impl(dialect).bind_processor(dialect)

        def process(value: Any) -> Any:
            if isinstance(value, EncodedJSON):
                return str(value)
            return value if encode is None else encode(value)

        return process


calls = Table(
    "platform_calls", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    *scope_columns(),
    Column("capability", String(80), nullable=False),
    Column("transport", String(8), nullable=True),
    Column("outcome", String(32), nullable=False),
    Column("detail", Text, nullable=True),
    Column("request", LoggedJSON, nullable=True),
    Column("reply", LoggedJSON, nullable=True),
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


def add_missing_columns(conn: Connection) -> None:
    """Add the columns a database created by an older version lacks (``create_all`` only adds
    whole tables): ``platform_calls.expected``, read as false on old rows."""
    have = {c["name"] for c in inspect(conn).get_columns(calls.name)}
    if "expected" not in have:
        conn.execute(text(f"ALTER TABLE {calls.name} ADD COLUMN expected BOOLEAN"))
