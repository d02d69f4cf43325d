"""Order locks (domain notes §3.1): Dojo's promise that nobody else changes an order meanwhile.

The table ``order_locks`` has at most one row per order (its primary key), so "at most one lock per
order" is the database's rule, not ours. The row is the current lock or the last one:

- it is *live* while ``expiry`` is in the future;
- an expired row blocks nobody, and a new lockId simply replaces it;
- extending an expired row that nobody replaced revives it (Dojo lost track of time, not the lock);
- deleting removes the row; deleting again, or deleting an unknown lock, is fine (Dojo's clean-up
  must never fail), and a delete naming someone else's lock leaves that lock alone.

All functions run inside a write transaction, with the order row locked first, so two terminals
locking the same order at once are serialised.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from dojo_epos.contract.errors import EposError
from dojo_epos.epos.reference import schema as s
from dojo_epos.epos.reference.orders import lock_order_row

__all__ = ["create_lock", "delete_lock", "describe", "extend_lock", "live_lock"]


def describe(lock: Row[Any]) -> str:
    """Who holds the lock and until when, for a Conflict message."""
    return f"lock {lock.lock_id!r} until {lock.expiry.isoformat()}"


async def live_lock(
    conn: AsyncConnection, order_id: str, now: datetime | None = None
) -> Row[Any] | None:
    """The order's live lock, or None when it has none or its lock has expired."""
    now = now or s.utcnow()
    row = (await conn.execute(
        select(s.order_locks).where(s.order_locks.c.order_id == order_id)
    )).first()
    return row if row is not None and row.expiry > now else None


async def _current(conn: AsyncConnection, order_id: str) -> Row[Any] | None:
    return (await conn.execute(
        select(s.order_locks).where(s.order_locks.c.order_id == order_id)
    )).first()


async def _require_order(conn: AsyncConnection, order_id: str) -> Row[Any]:
    row = await lock_order_row(conn, order_id)
    if row is None:
        raise EposError.not_found(f"no order {order_id!r}")
    return row


async def create_lock(
    conn: AsyncConnection, order_id: str, lock_id: str, expiry: datetime
) -> None:
    """Take (or re-take) the order's lock; Conflict while another lockId's lock is live."""
    await _require_order(conn, order_id)
    now = s.utcnow()
    current = await _current(conn, order_id)
    if current is None:
        await conn.execute(insert(s.order_locks).values(
            order_id=order_id, lock_id=lock_id, expiry=expiry, created_at=now))
        return
    if current.lock_id == lock_id:
        # Same holder asking again (a retry): harmless; take the newer expiry it sends.
        await conn.execute(update(s.order_locks).where(s.order_locks.c.order_id == order_id)
                           .values(expiry=expiry))
        return
    if current.expiry > now:
        raise EposError.conflict(
            f"order {order_id!r} is locked by another holder ({describe(current)})"
        )
    await conn.execute(update(s.order_locks).where(s.order_locks.c.order_id == order_id)
                       .values(lock_id=lock_id, expiry=expiry, created_at=now))


async def extend_lock(
    conn: AsyncConnection, order_id: str, lock_id: str, expiry: datetime
) -> None:
    """Move the lock's expiry; NotFound for an unknown or deleted lock, Conflict under another."""
    await _require_order(conn, order_id)
    current = await _current(conn, order_id)
    if current is not None and current.lock_id == lock_id:
        await conn.execute(update(s.order_locks).where(s.order_locks.c.order_id == order_id)
                           .values(expiry=expiry))
        return
    if current is not None and current.expiry > s.utcnow():
        raise EposError.conflict(
            f"order {order_id!r} is locked by another holder ({describe(current)}); "
            f"lock {lock_id!r} cannot be extended"
        )
    raise EposError.not_found(f"order {order_id!r} has no lock {lock_id!r} (deleted or unknown)")


async def delete_lock(conn: AsyncConnection, order_id: str, lock_id: str) -> None:
    """Release ``lock_id`` if it is the order's lock; otherwise do nothing (idempotent)."""
    await _require_order(conn, order_id)
    await conn.execute(delete(s.order_locks).where(s.order_locks.c.order_id == order_id)
                       .where(s.order_locks.c.lock_id == lock_id))
