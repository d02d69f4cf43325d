"""The reference EPOS's tables (SQLAlchemy Core), and how the schema comes to exist.

Migrations: there are none to run by hand. :func:`create_schema` runs ``metadata.create_all`` when the
EPOS starts (it only creates what is missing) and records :data:`SCHEMA_VERSION` in ``schema_version``;
a database written by a newer version is refused rather than misread. When the schema changes, bump
the version and add the upgrade step to :func:`create_schema`.

Amounts are integer minor units; each order has one currency (``orders.currency``) and every amount
on it and its children is in that currency. Times are stored as naive UTC (both databases compare
them the same way) and read back as aware UTC datetimes (:class:`UtcDateTime`).

Every child row of an order (items, sub-items, modifiers, discounts, tax lines, payments) carries
``order_id``, so a page of orders is loaded with one query per child table.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from dojo_epos.epos.reference.db import Database

__all__ = [
    "SCHEMA_VERSION",
    "UtcDateTime",
    "areas",
    "create_schema",
    "discounts",
    "items",
    "merchant",
    "metadata",
    "modifiers",
    "order_locks",
    "orders",
    "parties",
    "party_tables",
    "payments",
    "processed_events",
    "reservation_tables",
    "reservations",
    "schema_version",
    "sub_items",
    "table_waiters",
    "tables",
    "tax_lines",
    "utcnow",
    "waiters",
]

SCHEMA_VERSION = 2


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as naive UTC; comes back aware (UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the reference EPOS stores aware times only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQL on SQLite may hand back text
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


metadata = MetaData()

# BigInteger primary keys autoincrement on PostgreSQL but not on SQLite (only INTEGER PRIMARY KEY
# aliases the rowid there); this variant gives both.
_Seq = BigInteger().with_variant(Integer(), "sqlite")
_Amount = BigInteger  # minor units, int64 like the contract's Money.value

schema_version = Table(
    "schema_version", metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
)

merchant = Table(
    "merchant", metadata,
    Column("id", Integer, primary_key=True),  # always 1: one restaurant per database
    Column("name", String(200), nullable=False),
    Column("address_lines", JSON, nullable=False),
    Column("postcode", String(20), nullable=False),
    Column("phone", String(50)),
    Column("email", String(254)),
    Column("tax_name", String(50)),
    Column("tax_number", String(50)),
    Column("logo_svg", Text),
    Column("url", String(500)),
    Column("currency", String(3), nullable=False),
    Column("vat_percentage", Integer, nullable=False),  # x100: 20% = 2000
    Column("service_charge_percentage", Integer, nullable=False),  # x100
    Column("footer_text", String(500)),
)

areas = Table(
    "areas", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("position", Integer, nullable=False),
    Column("waiter_ids", JSON, nullable=False),
)

waiters = Table(
    "waiters", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
)

tables = Table(
    "tables", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("area_id", String(64), ForeignKey("areas.id")),
    Column("max_covers", Integer),
    Column("position", Integer, nullable=False),
    Index("ix_tables_area", "area_id", "position", "id"),
)

table_waiters = Table(
    "table_waiters", metadata,
    Column("table_id", String(64), ForeignKey("tables.id", ondelete="CASCADE"), primary_key=True),
    Column("waiter_id", String(64), ForeignKey("waiters.id"), primary_key=True),
    Index("ix_table_waiters_waiter", "waiter_id", "table_id"),
)

orders = Table(
    "orders", metadata,
    Column("seq", _Seq, primary_key=True, autoincrement=True),  # keyset order for searches
    Column("id", String(64), nullable=False, unique=True),
    Column("dojo_order_id", String(128), unique=True),  # CreateOrder retries find the same order
    Column("status", String(20), nullable=False),
    Column("order_type", String(20), nullable=False),
    Column("table_id", String(64)),
    Column("waiter_id", String(64)),
    Column("party_id", String(64)),
    Column("reservation_id", String(64)),
    Column("ready_at", UtcDateTime),
    Column("asap", Boolean),
    Column("collect_at", UtcDateTime),
    Column("note", Text),
    Column("customer", JSON),
    Column("reference", String(100)),
    Column("display_name", String(100)),
    Column("currency", String(3), nullable=False),
    Column("taxes_included", Boolean, nullable=False),
    # Till orders recompute these from the merchant's rates on every change; Dojo's are fixed.
    Column("vat_percentage", Integer),
    Column("service_charge_percentage", Integer),
    Column("service_charge_amount", _Amount, nullable=False),
    Column("total_amount", _Amount, nullable=False),
    Column("paid_amount", _Amount, nullable=False),
    Column("tips_amount", _Amount, nullable=False),
    Column("payable", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # Searches: every filter has an index ending in seq, so a page is a short index range scan.
    Index("ix_orders_payable", "payable", "seq"),
    Index("ix_orders_table", "table_id", "payable", "seq"),
    # A table's orders without payableOnly: without this, a page sorts every order the table ever
    # had (the index above is ordered by payable first).
    Index("ix_orders_table_seq", "table_id", "seq"),
    Index("ix_orders_waiter", "waiter_id", "payable", "seq"),
    Index("ix_orders_party", "party_id", "seq"),
    Index("ix_orders_reservation", "reservation_id", "seq"),
)


def _order_fk() -> Column[str]:
    return Column(
        "order_id", String(64), ForeignKey("orders.id", ondelete="CASCADE"), nullable=False,
        index=True,
    )


items = Table(
    "items", metadata,
    Column("id", _Seq, primary_key=True, autoincrement=True),
    _order_fk(),
    Column("position", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("plu", String(64), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("amount_per_item", _Amount, nullable=False),
    Column("note", Text),
)

sub_items = Table(
    "sub_items", metadata,
    Column("id", _Seq, primary_key=True, autoincrement=True),
    _order_fk(),
    Column("item_id", _Seq, ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("plu", String(64), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("amount_per_item", _Amount, nullable=False),
    Column("note", Text),
)

modifiers = Table(
    "modifiers", metadata,
    Column("id", _Seq, primary_key=True, autoincrement=True),
    _order_fk(),
    Column("item_id", _Seq, ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    # Set when the modifier belongs to a sub-item rather than to the item itself.
    Column("sub_item_id", _Seq, ForeignKey("sub_items.id", ondelete="CASCADE")),
    Column("position", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("plu", String(64), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("amount_per_modifier", _Amount, nullable=False),
)

discounts = Table(
    "discounts", metadata,
    Column("id", _Seq, primary_key=True, autoincrement=True),
    _order_fk(),
    Column("position", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("affected_plu", String(64)),
    Column("discount_reference", String(100)),
    Column("code", String(100)),
    Column("amount_total", _Amount, nullable=False),
    Column("amount_percentage", Integer),
)

tax_lines = Table(
    "tax_lines", metadata,
    Column("id", _Seq, primary_key=True, autoincrement=True),
    _order_fk(),
    Column("position", Integer, nullable=False),
    Column("tax_id", String(60)),
    Column("name", String(100)),
    Column("affected_plu", String(64)),
    Column("amount_percentage", Integer),
    Column("amount_total", _Amount, nullable=False),
)

payments = Table(
    "payments", metadata,
    Column("id", _Seq, primary_key=True, autoincrement=True),
    _order_fk(),
    # Globally unique: the backstop that makes a retried payment impossible to count twice.
    Column("payment_intent_id", String(128), nullable=False, unique=True),
    Column("paid_amount", _Amount, nullable=False),
    Column("tips_amount", _Amount, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("lock_id", String(128)),
    Column("source", String(20), nullable=False),  # "dojo" (RecordOrderPayment/CreateOrder), "till"
    Column("intent_status", String(20)),  # last status from HandleEvent, if any
    Column("created_at", UtcDateTime, nullable=False),
)

# One row per order at most (primary key): the current or last lock. Deleting a lock deletes the row.
order_locks = Table(
    "order_locks", metadata,
    Column("order_id", String(64), ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True),
    Column("lock_id", String(128), nullable=False),
    Column("expiry", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

parties = Table(
    "parties", metadata,
    Column("seq", _Seq, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("dojo_party_id", String(128), unique=True),
    Column("dojo_reservation_id", String(128)),
    Column("name", String(200)),
    Column("covers", Integer),
    Column("status", String(50), nullable=False),
    Column("start_time", UtcDateTime, nullable=False),
    Column("expected_end_time", UtcDateTime),
    Column("end_time", UtcDateTime),
    Column("host_notes", Text),
    Column("guest_requests", Text),
    Column("reservation_id", String(64)),
    Column("deposit", JSON),
    Index("ix_parties_open", "end_time", "seq"),
)

party_tables = Table(
    "party_tables", metadata,
    Column("party_id", String(64), ForeignKey("parties.id", ondelete="CASCADE"), primary_key=True),
    Column("table_id", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
    Index("ix_party_tables_table", "table_id", "party_id"),
)

reservations = Table(
    "reservations", metadata,
    Column("seq", _Seq, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("dojo_reservation_id", String(128), unique=True),
    Column("name", String(200), nullable=False),
    Column("covers", Integer, nullable=False),
    Column("start_time", UtcDateTime, nullable=False),
    Column("end_time", UtcDateTime, nullable=False),
    Column("host_notes", Text),
    Column("guest_requests", Text),
    Index("ix_reservations_time", "start_time", "seq"),
)

reservation_tables = Table(
    "reservation_tables", metadata,
    Column(
        "reservation_id", String(64), ForeignKey("reservations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("table_id", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
    Index("ix_reservation_tables_table", "table_id", "reservation_id"),
)

# HandleEvent de-duplication: Dojo delivers at least once (domain notes §3.7).
processed_events = Table(
    "processed_events", metadata,
    Column("id", String(128), primary_key=True),
    Column("event_type", String(64), nullable=False),
    Column("payment_intent_id", String(128)),
    Column("received_at", UtcDateTime, nullable=False),
)


class SchemaTooNew(RuntimeError):
    """The database was written by a newer dojo-epos; refusing to guess its shape."""


async def create_schema(db: Database) -> None:
    """Create any missing table and record the schema version (safe to run at every start)."""
    async with db.write() as conn:
        await conn.run_sync(metadata.create_all)
        found = (await conn.execute(select(schema_version.c.version))).scalar_one_or_none()
        if found is None:
            await conn.execute(schema_version.insert().values(id=1, version=SCHEMA_VERSION))
        elif found > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"database schema version {found} is newer than this dojo-epos ({SCHEMA_VERSION})"
            )
        elif found < SCHEMA_VERSION:
            await conn.run_sync(_upgrade, found)
            await conn.execute(schema_version.update().values(version=SCHEMA_VERSION))


def _upgrade(conn: Connection, found: int) -> None:
    """Bring a database of schema version ``found`` up to :data:`SCHEMA_VERSION`."""
    if found < 2:  # 2: ix_orders_table_seq (create_all makes new tables only, not new indexes)
        next(i for i in orders.indexes if i.name == "ix_orders_table_seq").create(
            conn, checkfirst=True)
