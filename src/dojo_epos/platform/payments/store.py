"""Payment intents and their operations in the platform's database (SQLite or PostgreSQL).

A change to an intent is an optimistic write: the caller read the row at ``version`` v, decided
with :mod:`.rules` what to do, and :meth:`PaymentStore.apply` updates the row only if it is still at
v, inserting the operation (refund, reversal, capture) in the same transaction. When two requests
race, one of them finds the row moved on and reads it again, so two refunds can never together pass
what was captured. The operation's ``IdempotencyKey`` is unique per intent and kind: a second insert
under the same key fails and its transaction (the intent's update too) is rolled back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, desc, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from dojo_epos.platform.accounts import Scope
from dojo_epos.platform.store import Store, lock_schema

from .tables import intents, metadata, operations, scope_values, scoped

__all__ = ["DuplicateKey", "OperationRow", "PaymentStore", "StaleIntent"]


class StaleIntent(Exception):
    """The intent changed since it was read (another request won the race)."""


class DuplicateKey(Exception):
    """Another operation of this kind already used this idempotency key on this intent."""


@dataclass(frozen=True, slots=True)
class OperationRow:
    id: str
    intent_id: str
    kind: str
    idempotency_key: str | None
    body_hash: str
    amount: int
    response: dict[str, Any]


class PaymentStore:
    """The payment tables on the platform store's engine; :meth:`start` creates them."""

    def __init__(self, store: Store) -> None:
        self.engine = store.engine
        self._started = False
        self._lock = asyncio.Lock()
        self._insert_intent: tuple[Any, Any] | None = None

    async def start(self) -> None:
        if self._started:
            return
        async with self._lock:
            if not self._started:
                async with self.engine.begin() as conn:
                    await lock_schema(conn)  # several workers may start at once
                    await conn.run_sync(metadata.create_all)
                self._started = True

    # -- intents -----------------------------------------------------------------------------

    async def insert_intent(self, scope: Scope, row: Mapping[str, Any]
                            ) -> tuple[bool, dict[str, Any] | None]:
        """Insert an intent: ``(True, None)``; when its id exists already nothing changes and the
        answer is ``(False, the stored row)`` (None when the id is another scope's).

        One transaction either way, with statements built once: ``ON CONFLICT DO NOTHING``, and
        on a conflict the stored row read on the same connection (a failed insert and a read after
        it cost two transactions, and building the statements from the row's values cost more
        than running them; benchmarks/bench_flows.py).
        """
        await self.start()
        insert_new, read_back = self._intent_statements()
        where = {f"scope_{k}": v for k, v in scope_values(scope).items()}
        async with self.engine.begin() as conn:
            if (await conn.execute(insert_new, {**scope_values(scope), **row, "version": 1})
                ).rowcount:
                return True, None
            found = (await conn.execute(read_back, {**where, "intent_id": row["id"]})
                     ).mappings().first()
        return False, None if found is None else dict(found)

    def _intent_statements(self) -> tuple[Any, Any]:
        if self._insert_intent is None:
            make = postgresql_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
            self._insert_intent = (
                make(intents).on_conflict_do_nothing(index_elements=[intents.c.id]),
                select(intents).where(
                    intents.c.environment == bindparam("scope_environment"),
                    intents.c.key_fingerprint == bindparam("scope_key_fingerprint"),
                    intents.c.software_house_id == bindparam("scope_software_house_id"),
                    intents.c.id == bindparam("intent_id")))
        return self._insert_intent

    async def intent(self, scope: Scope, intent_id: str) -> dict[str, Any] | None:
        await self.start()
        async with self.engine.connect() as conn:
            found = (await conn.execute(select(intents).where(
                scoped(intents, scope), intents.c.id == intent_id))).mappings().first()
        return None if found is None else dict(found)

    async def search(self, scope: Scope, *, statuses: Sequence[str] = (), start: str | None = None,
                     end: str | None = None, after: tuple[str, str] | None = None,
                     before: tuple[str, str] | None = None, limit: int = 50
                     ) -> tuple[list[dict[str, Any]], bool]:
        """A page of intents, newest first, and whether there are more beyond it.

        ``after`` continues past an item (older ones), ``before`` goes back (newer ones); both are
        ``(created_at, id)`` of the item they start from.
        """
        await self.start()
        query = select(intents).where(scoped(intents, scope))
        if statuses:
            query = query.where(intents.c.status.in_(list(statuses)))
        if start:
            query = query.where(intents.c.created_at >= start)
        if end:
            query = query.where(intents.c.created_at <= end)
        key = (intents.c.created_at, intents.c.id)
        if after is not None:
            query = query.where(or_(key[0] < after[0], and_(key[0] == after[0], key[1] < after[1])))
            query = query.order_by(desc(key[0]), desc(key[1]))
        elif before is not None:
            query = query.where(or_(key[0] > before[0], and_(key[0] == before[0], key[1] > before[1])))
            query = query.order_by(key[0], key[1])
        else:
            query = query.order_by(desc(key[0]), desc(key[1]))
        async with self.engine.connect() as conn:
            rows = [dict(r) for r in (await conn.execute(query.limit(limit + 1))).mappings().all()]
        more = len(rows) > limit
        rows = rows[:limit]
        if before is not None:
            rows.reverse()
        return rows, more

    # -- operations ---------------------------------------------------------------------------

    async def apply(self, scope: Scope, intent_id: str, version: int, changes: Mapping[str, Any],
                    operation: OperationRow | None, created_at: str) -> None:
        """Update the intent from ``version`` and record ``operation``, in one transaction.

        Raises :class:`StaleIntent` when the intent is no longer at ``version`` and
        :class:`DuplicateKey` when the operation's idempotency key is taken; nothing is written then.
        """
        await self.start()
        try:
            async with self.engine.begin() as conn:
                changed = await conn.execute(
                    update(intents)
                    .where(scoped(intents, scope), intents.c.id == intent_id,
                           intents.c.version == version)
                    .values(**changes, version=version + 1))
                if changed.rowcount != 1:
                    raise StaleIntent(intent_id)
                if operation is not None:
                    await conn.execute(insert(operations).values(
                        **scope_values(scope), id=operation.id, intent_id=intent_id,
                        kind=operation.kind, idempotency_key=operation.idempotency_key,
                        body_hash=operation.body_hash, amount=operation.amount,
                        response=operation.response, created_at=created_at))
        except IntegrityError:
            raise DuplicateKey(intent_id) from None

    async def operation(self, scope: Scope, intent_id: str, kind: str,
                        key: str) -> OperationRow | None:
        """The operation recorded under ``key``, if any."""
        await self.start()
        query = select(operations).where(
            scoped(operations, scope), operations.c.intent_id == intent_id,
            operations.c.kind == kind, operations.c.idempotency_key == key)
        async with self.engine.connect() as conn:
            found = (await conn.execute(query)).mappings().first()
        return None if found is None else _operation(found)

    async def operation_by_id(self, scope: Scope, operation_id: str, kind: str) -> OperationRow | None:
        await self.start()
        query = select(operations).where(scoped(operations, scope), operations.c.id == operation_id,
                                         operations.c.kind == kind)
        async with self.engine.connect() as conn:
            found = (await conn.execute(query)).mappings().first()
        return None if found is None else _operation(found)


def _operation(row: Any) -> OperationRow:
    return OperationRow(row["id"], row["intent_id"], row["kind"], row["idempotency_key"],
                        row["body_hash"], int(row["amount"]), dict(row["response"]))
