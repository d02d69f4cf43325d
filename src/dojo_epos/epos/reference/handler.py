"""``ReferenceEpos``: the demo restaurant's handler, every capability on a real database.

Each method opens one transaction (:meth:`Database.write` for changes, :meth:`Database.run_read`
for reads, which runs a synchronous read in one snapshot and, on SQLite, in one worker-thread hop)
and calls the module that owns the rule: :mod:`.locks`, :mod:`.payments`, :mod:`.intake`,
:mod:`.bookings`, :mod:`.search`, :mod:`.bill`. Writes that lose a race on a unique constraint (two
retries of one payment intent or one Dojo id arriving at once) or on the database's own
serialisation (PostgreSQL deadlock, SQLite busy) run again from the start; the second run finds what
the winner stored and answers as a retry.

``await open_reference(db_url)`` makes one, creating the schema if it is missing; ``await
epos.aclose()`` releases its connections.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from dojo_epos.contract import models as m
from dojo_epos.epos.handler import Channel, EposHandler, RequestContext
from dojo_epos.epos.reference import bookings, intake, locks, payments, search
from dojo_epos.epos.reference.bill import build_bill
from dojo_epos.epos.reference.db import Database
from dojo_epos.epos.reference.order_cache import OrderCache
from dojo_epos.epos.reference.order_reads import read_order
from dojo_epos.epos.reference.orders import load_order
from dojo_epos.epos.reference.schema import create_schema

__all__ = ["ReferenceEpos", "open_reference"]

log = logging.getLogger("dojo_epos.epos.reference")

T = TypeVar("T")

#: How many times a write that lost a race is run again before giving up.
WRITE_ATTEMPTS = 5
# PostgreSQL SQLSTATEs that mean "run the transaction again": serialization failure, deadlock.
_RETRY_SQLSTATES = frozenset({"40001", "40P01"})


def _retryable(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if code in _RETRY_SQLSTATES:
        return True
    return isinstance(exc, OperationalError) and "locked" in str(exc.orig).lower()


class ReferenceEpos(EposHandler):
    """The reference EPOS: a restaurant on SQLite or PostgreSQL implementing the whole contract."""

    def __init__(self, db: Database, *, order_cache: bool = True) -> None:
        self.db = db
        #: Built orders for GetOrderById and GetOrderBill, exact by SQLite's data_version (see
        #: :mod:`.order_cache`); None where there is no read-only SQLite engine (PostgreSQL) or
        #: when ``order_cache=False`` (every read then builds the order from the database).
        self.order_cache = (OrderCache(db.sync_reader)
                            if order_cache and db.sync_reader is not None else None)

    async def aclose(self) -> None:
        """Close the database connections."""
        if self.order_cache is not None:
            self.order_cache.close()
        await self.db.dispose()

    async def _write(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                return await self.db.run_write(work)
            except DBAPIError as exc:
                if attempt == WRITE_ATTEMPTS or not _retryable(exc):
                    raise
                log.info("write lost a race (%s); running it again", type(exc).__name__)
                await asyncio.sleep(0.005 * attempt)
        raise AssertionError("unreachable")

    async def _read(self, work: Callable[[Connection], T]) -> T:
        return await self.db.run_read(work)

    def encode_result(self, result: BaseModel, transport: Channel) -> str:
        # A cached order handed out shared is never changed: its JSON is written once.
        cache = self.order_cache
        if cache is not None and type(result) is m.Order:
            return cache.encoded(result, transport,
                                 lambda: super(ReferenceEpos, self).encode_result(result, transport))
        return super().encode_result(result, transport)

    # -- orders ---------------------------------------------------------------------------------
    async def search_orders(
        self, params: m.SearchOrdersParams, ctx: RequestContext
    ) -> m.PagedOrdersResponse:
        # Dojo's hottest reads run on the event loop on SQLite (Database.run_loop_read).
        return await self.db.run_loop_read(lambda c: search.read_orders_page(c, params))

    async def get_order_by_id(self, params: m.OrderIdParams, ctx: RequestContext) -> m.Order:
        cache = self.order_cache
        if cache is not None:
            # A transport serializes the answer and drops it: it may have the cached model itself.
            shared = ctx.transport != "local"
            hit = cache.try_hit(params.order_id, shared=shared)
            if hit is not None:
                return hit
            return await self.db.run_loop_read(
                lambda c: cache.read_order(c, params.order_id, shared=shared))
        return await self.db.run_loop_read(lambda c: read_order(c, params.order_id))

    async def create_order(self, params: m.CreateOrderParams, ctx: RequestContext) -> m.Order:
        return await self._write(lambda c: intake.create_order(c, params))

    async def cancel_order_by_id(self, params: m.OrderIdParams, ctx: RequestContext) -> m.Order:
        return await self._write(lambda c: intake.cancel_order(c, params.order_id))

    async def get_order_bill(self, params: m.OrderIdParams, ctx: RequestContext) -> m.OrderBill:
        read = self.order_cache.read_order if self.order_cache is not None else read_order
        return await self._read(lambda c: build_bill(c, params.order_id, read=read))

    # -- locks and payments ---------------------------------------------------------------------
    async def create_order_lock(
        self, params: m.CreateOrderLockParams, ctx: RequestContext
    ) -> m.Order:
        async def work(conn: AsyncConnection) -> m.Order:
            await locks.create_lock(conn, params.order_id, params.lock_id, params.expiry)
            return await load_order(conn, params.order_id)

        return await self._write(work)

    async def delete_order_lock(
        self, params: m.DeleteOrderLockParams, ctx: RequestContext
    ) -> m.Order:
        async def work(conn: AsyncConnection) -> m.Order:
            await locks.delete_lock(conn, params.order_id, params.lock_id)
            return await load_order(conn, params.order_id)

        return await self._write(work)

    async def extend_order_lock(
        self, params: m.ExtendOrderLockParams, ctx: RequestContext
    ) -> m.EmptyResult:
        async def work(conn: AsyncConnection) -> m.EmptyResult:
            await locks.extend_lock(conn, params.order_id, params.lock_id, params.expiry)
            return m.EmptyResult()  # spec defect #9: extend answers {}, not the order

        return await self._write(work)

    async def record_order_payment(
        self, params: m.RecordOrderPaymentParams, ctx: RequestContext
    ) -> m.Order:
        async def work(conn: AsyncConnection) -> m.Order:
            await payments.record_payment(conn, params.order_id, params)
            return await load_order(conn, params.order_id)

        return await self._write(work)

    # -- tables and areas -----------------------------------------------------------------------
    async def list_areas(self, params: m.ListAreasParams, ctx: RequestContext) -> m.AreaList:
        return await self._read(search.list_areas)

    async def search_tables(
        self, params: m.SearchTablesParams, ctx: RequestContext
    ) -> m.PagedTablesResponse:
        return await self._read(lambda c: search.search_tables(c, params))

    # -- parties --------------------------------------------------------------------------------
    async def create_party(self, params: m.CreatePartyParams, ctx: RequestContext) -> m.Party:
        return await self._write(lambda c: bookings.create_party(c, params))

    async def get_party_by_id(self, params: m.PartyIdParams, ctx: RequestContext) -> m.Party:
        return await self._read(lambda c: bookings.get_party(c, params.party_id))

    async def update_party_by_id(
        self, params: m.UpdatePartyParams, ctx: RequestContext
    ) -> m.Party:
        return await self._write(lambda c: bookings.update_party(c, params.id, params))

    async def delete_party_by_id(
        self, params: m.PartyIdParams, ctx: RequestContext
    ) -> m.EmptyResult:
        async def work(conn: AsyncConnection) -> m.EmptyResult:
            await bookings.delete_party(conn, params.party_id)
            return m.EmptyResult()

        return await self._write(work)

    async def search_parties(
        self, params: m.SearchPartiesParams, ctx: RequestContext
    ) -> m.PagedPartiesResponse:
        return await self._read(lambda c: bookings.search_parties(c, params))

    # -- reservations ---------------------------------------------------------------------------
    async def create_reservation(
        self, params: m.CreateReservationParams, ctx: RequestContext
    ) -> m.Reservation:
        return await self._write(lambda c: bookings.create_reservation(c, params))

    async def get_reservation_by_id(
        self, params: m.ReservationIdParams, ctx: RequestContext
    ) -> m.Reservation:
        return await self._read(lambda c: bookings.get_reservation(c, params.reservation_id))

    async def update_reservation_by_id(
        self, params: m.UpdateReservationParams, ctx: RequestContext
    ) -> m.Reservation:
        return await self._write(lambda c: bookings.update_reservation(c, params.id, params))

    async def delete_reservation_by_id(
        self, params: m.ReservationIdParams, ctx: RequestContext
    ) -> m.EmptyResult:
        async def work(conn: AsyncConnection) -> m.EmptyResult:
            await bookings.delete_reservation(conn, params.reservation_id)
            return m.EmptyResult()

        return await self._write(work)

    async def search_reservations(
        self, params: m.SearchReservationsParams, ctx: RequestContext
    ) -> m.PagedReservationsResponse:
        return await self._read(lambda c: bookings.search_reservations(c, params))

    # -- events ---------------------------------------------------------------------------------
    async def handle_event(self, params: m.HandleEventParams, ctx: RequestContext) -> m.EmptyResult:
        async def work(conn: AsyncConnection) -> m.EmptyResult:
            if not await payments.handle_payment_event(conn, params):
                log.info("event %s already processed; ignoring the repeat", params.id)
            return m.EmptyResult()

        return await self._write(work)


async def open_reference(db_url: str, *, order_cache: bool = True) -> ReferenceEpos:
    """A :class:`ReferenceEpos` on ``db_url`` (``sqlite:///path`` or ``postgresql://...``).

    Creates the schema if it is missing (see :mod:`.schema`); the database may be empty.
    ``order_cache=False`` turns the SQLite order cache off (:mod:`.order_cache`).
    """
    db = Database(db_url)
    try:
        await create_schema(db)
    except BaseException:
        await db.dispose()
        raise
    return ReferenceEpos(db, order_cache=order_cache)
