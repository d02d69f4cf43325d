"""The fault book's table: faults on demand kept in the platform's database, for every worker.

:class:`FaultStore` is the :class:`~.faults.FaultBackend` of a shared
:class:`~.fault_book.FaultBook`. It only reads and writes rows; deciding which faults fire is the
book's part. A fault with ``times`` is counted down by one ``UPDATE ... WHERE remaining > 0``, which
both SQLite (one writer at a time) and PostgreSQL (the row's lock) run atomically, so two workers
never fire the last time of a fault both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, insert, select, update

from dojo_epos.platform.accounts import Environment, Scope
from dojo_epos.platform.faults import Fault, FaultKind
from dojo_epos.platform.schema import faults as table
from dojo_epos.platform.store import Store

__all__ = ["FaultStore"]


def _where(scope: Scope) -> Any:
    return and_(table.c.environment == scope.environment.value,
                table.c.key_fingerprint == scope.key_fingerprint,
                table.c.software_house_id == scope.software_house_id)


class FaultStore:
    """Faults of every scope in ``store``'s database."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def insert(self, scope: Scope, fault: Fault) -> None:
        await self.store.start()
        # Microseconds keep the order faults were set in, which is the order they act in.
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        async with self.store.engine.begin() as conn:
            await conn.execute(insert(table).values(
                fault_id=fault.id, environment=scope.environment.value,
                key_fingerprint=scope.key_fingerprint, software_house_id=scope.software_house_id,
                kind=fault.kind.value, capability=fault.capability, delay=fault.delay,
                delay_max=fault.delay_max, close_code=fault.close_code, status=fault.status,
                remaining=fault.times, created_at=now))

    async def delete(self, scope: Scope, fault_id: str | None) -> int:
        await self.store.start()
        where = _where(scope) if fault_id is None else and_(_where(scope),
                                                           table.c.fault_id == fault_id)
        async with self.store.engine.begin() as conn:
            return int((await conn.execute(delete(table).where(where))).rowcount)

    async def claim(self, scope: Scope, fault_id: str) -> bool:
        await self.store.start()
        key = and_(_where(scope), table.c.fault_id == fault_id)
        async with self.store.engine.begin() as conn:
            taken = await conn.execute(update(table).where(key, table.c.remaining > 0)
                                       .values(remaining=table.c.remaining - 1))
            await conn.execute(delete(table).where(key, table.c.remaining <= 0))
        return int(taken.rowcount) == 1

    async def load(self) -> dict[Scope, list[Fault]]:
        await self.store.start()
        async with self.store.engine.connect() as conn:
            rows = (await conn.execute(
                select(table).order_by(table.c.created_at, table.c.fault_id))).mappings().all()
        found: dict[Scope, list[Fault]] = {}
        for row in rows:
            try:
                scope = Scope(Environment(row["environment"]), row["key_fingerprint"],
                              row["software_house_id"])
                kind = FaultKind(row["kind"])
            except ValueError:  # a row written by a newer version: not ours to act on
                continue
            found.setdefault(scope, []).append(Fault(
                kind=kind, capability=row["capability"], delay=row["delay"],
                delay_max=row["delay_max"], close_code=row["close_code"], status=row["status"],
                times=row["remaining"], id=row["fault_id"]))
        return found
