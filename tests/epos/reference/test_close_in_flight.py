"""HandleEvent writes in flight when the socket drops or the EPOS closes (issue 21).

The defect: with HandleEvent sent during tester flows, the WebSocket Certification failed on
aiosqlite's "Connection ... was deleted before being closed". The event the flow's last payment
caused was still being written when the EPOS was closed: ``Database.dispose`` closed the pool
without waiting, the pool closes only the connections checked in, so the one the write held (and
any a call opened after the close, in the fresh pool SQLAlchemy makes) was never closed. Now
dispose waits for the writes in flight (abandoning those past a grace period) and refuses new
transactions.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, select, text

from dojo_epos.contract import models as m
from dojo_epos.epos.reference import ReferenceEpos, open_reference
from dojo_epos.epos.reference import payments as payments_module
from dojo_epos.epos.reference import schema as s
from dojo_epos.epos.reference.db import Database, DatabaseClosed, WriteAbandoned

from .conftest import ctx

#: Far under the 30 s SQLite busy time-out a stuck write lock would cost.
NORMAL_TIME = 5.0


def _event(event_id: str) -> m.HandleEventParams:
    return m.HandleEventParams(
        id=event_id, account_id="acc_1", event=m.EventType.PAYMENT_INTENT_STATUS_UPDATED,
        created_at=datetime.now(UTC),
        data=m.PaymentIntentEvent(payment_intent_id="pi_close", payment_status=m.PaymentIntentStatus.CAPTURED,
                                  capture_mode=m.CaptureMode.AUTO))


class _Checkouts:
    """Connections of ``db``'s writer pool checked out and not given back (nor closed)."""

    def __init__(self, db: Database) -> None:
        self.out: set[int] = set()
        engine = db.engine.sync_engine  # pool events on the engine follow it to a recreated pool
        event.listen(engine, "checkout", lambda _c, rec, _p: self.out.add(id(rec)))
        event.listen(engine, "checkin", lambda _c, rec: self.out.discard(id(rec)))


def _held_handle_event(monkeypatch: pytest.MonkeyPatch) -> tuple[asyncio.Event, asyncio.Event]:
    """Make the reference's HandleEvent pause inside its transaction until ``proceed`` is set."""
    inside, proceed = asyncio.Event(), asyncio.Event()
    real: Callable[..., Awaitable[bool]] = payments_module.handle_payment_event

    async def held(conn: Any, params: Any) -> bool:
        done = await real(conn, params)
        inside.set()
        await proceed.wait()
        return done

    monkeypatch.setattr(payments_module, "handle_payment_event", held)
    return inside, proceed


async def test_closing_waits_for_a_handle_event_in_flight_and_refuses_new_calls(
        epos: ReferenceEpos, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    checkouts = _Checkouts(epos.db)
    inside, proceed = _held_handle_event(monkeypatch)
    call = asyncio.create_task(epos.handle_event(_event("evt_close_1"), ctx()))
    await inside.wait()
    closing = asyncio.create_task(epos.aclose())
    await asyncio.sleep(0.05)
    assert not closing.done(), "the EPOS closed its database under a write in flight"
    with pytest.raises(DatabaseClosed):  # a call arriving meanwhile opens no new connection
        await epos.handle_event(_event("evt_close_2"), ctx())
    proceed.set()
    assert await call == m.EmptyResult()
    await asyncio.wait_for(closing, NORMAL_TIME)
    assert not checkouts.out, "a connection was left checked out at close"

    other = await open_reference(db_url)  # the write that was in flight was committed
    try:
        async with other.db.read() as conn:
            ids = set((await conn.execute(select(s.processed_events.c.id))).scalars())
        assert ids == {"evt_close_1"}
    finally:
        await other.aclose()


async def test_a_handle_event_cancelled_mid_flight_gives_its_connection_back(
        epos: ReferenceEpos, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the connector does at a socket drop: cancel the unanswered call."""
    checkouts = _Checkouts(epos.db)
    inside, proceed = _held_handle_event(monkeypatch)
    call = asyncio.create_task(epos.handle_event(_event("evt_drop"), ctx()))
    await inside.wait()
    call.cancel()
    await asyncio.sleep(0.05)
    proceed.set()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert not checkouts.out, "the cancelled HandleEvent kept its connection"
    monkeypatch.undo()
    started = time.perf_counter()
    # Rolled back, so Dojo's re-delivery of the same event is processed, in normal time.
    assert await epos.handle_event(_event("evt_drop"), ctx()) == m.EmptyResult()
    assert time.perf_counter() - started < NORMAL_TIME
    async with epos.db.read() as conn:
        ids = set((await conn.execute(select(s.processed_events.c.id))).scalars())
    assert ids == {"evt_drop"}
    assert not checkouts.out


async def test_a_write_past_the_grace_period_is_abandoned_at_close(db_url: str) -> None:
    db = Database(db_url)
    checkouts = _Checkouts(db)
    inside, proceed = asyncio.Event(), asyncio.Event()
    async with db.write() as conn:
        await conn.execute(text("CREATE TABLE IF NOT EXISTS close_probe (n INTEGER)"))
        await conn.execute(text("DELETE FROM close_probe"))

    async def work(conn: Any) -> None:
        await conn.execute(text("INSERT INTO close_probe VALUES (1)"))
        inside.set()
        await proceed.wait()
        await conn.execute(text("INSERT INTO close_probe VALUES (2)"))

    call = asyncio.create_task(db.run_write(work))
    await inside.wait()
    closing = asyncio.create_task(db.dispose(grace_period=0.05))
    await asyncio.sleep(0.2)
    assert not closing.done()  # past the grace: abandoned, and the rollback waited for
    proceed.set()
    with pytest.raises(WriteAbandoned):
        await call
    await asyncio.wait_for(closing, NORMAL_TIME)
    assert not checkouts.out
    with pytest.raises(DatabaseClosed):
        await db.run_write(work)

    again = Database(db_url)  # nothing of the abandoned write was committed
    try:
        async with again.write() as conn:
            rows = (await conn.execute(text("SELECT n FROM close_probe"))).scalars().all()
            await conn.execute(text("DROP TABLE close_probe"))
        assert rows == []
    finally:
        await again.dispose()
