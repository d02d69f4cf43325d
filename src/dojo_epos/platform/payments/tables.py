"""The payment intents' and webhooks' tables, beside the platform store's (same engine).

Every row carries its :class:`~dojo_epos.platform.accounts.Scope`'s three columns and every query
filters on them, as in :mod:`dojo_epos.platform.store`, so one account never sees another's intent
or subscription. Amounts are integers in minor units; times are ISO 8601 UTC text.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
)

from dojo_epos.platform.accounts import Scope
from dojo_epos.platform.schema import scope_columns

__all__ = ["intents", "metadata", "operations", "scope_values", "scoped", "secrets", "subscriptions"]

metadata = MetaData()


intents = Table(
    "platform_payment_intents", metadata,
    Column("id", String(100), primary_key=True),
    *scope_columns(),
    Column("status", String(16), nullable=False),
    Column("capture_mode", String(8), nullable=False),
    Column("currency", String(10), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("tips", BigInteger, nullable=False),
    Column("captured", BigInteger, nullable=False),  # captured so far, tips included
    Column("refunded", BigInteger, nullable=False),
    Column("order_id", Text, nullable=True),
    Column("waiter_id", Text, nullable=True),
    Column("data", JSON, nullable=False),  # payment details, metadata, captures, history
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("captured_at", String(40), nullable=True),
    Column("version", Integer, nullable=False),
    Index("ix_platform_payment_intents_scope", "environment", "key_fingerprint",
          "software_house_id", "created_at"),
)

operations = Table(
    "platform_payment_operations", metadata,
    Column("id", String(100), primary_key=True),
    *scope_columns(),
    Column("intent_id", String(100), nullable=False),
    Column("kind", String(16), nullable=False),  # refund, reversal or capture
    Column("idempotency_key", String(100), nullable=True),
    Column("body_hash", String(64), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("response", JSON, nullable=False),
    Column("created_at", String(40), nullable=False),
    UniqueConstraint("environment", "key_fingerprint", "software_house_id", "intent_id", "kind",
                     "idempotency_key", name="uq_platform_payment_operations_key"),
)

subscriptions = Table(
    "platform_webhook_subscriptions", metadata,
    Column("id", String(64), primary_key=True),
    *scope_columns(),
    Column("url", Text, nullable=False),
    Column("events", JSON, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
)

secrets = Table(
    "platform_webhook_secrets", metadata,
    Column("id", String(64), primary_key=True),
    Column("subscription_id", String(64), nullable=False, index=True),
    Column("value", Text, nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("created_at", String(40), nullable=False),
)


def scoped(table: Table, scope: Scope) -> Any:
    """The WHERE clause limiting ``table`` to ``scope``'s rows."""
    return and_(
        table.c.environment == scope.environment.value,
        table.c.key_fingerprint == scope.key_fingerprint,
        table.c.software_house_id == scope.software_house_id,
    )


def scope_values(scope: Scope) -> dict[str, str]:
    return {
        "environment": scope.environment.value,
        "key_fingerprint": scope.key_fingerprint,
        "software_house_id": scope.software_house_id,
    }
