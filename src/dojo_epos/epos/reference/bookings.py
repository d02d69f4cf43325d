"""Parties (guests seated now) and reservations (future bookings), for Dojo Bookings (§2.4).

A create carrying a Dojo id already seen (``dojoPartyId``/``dojoReservationId``, unique columns)
returns the stored record instead of making a duplicate: Dojo may retry a create it got no answer to.
Our own ids are separate (``pty_...``/``res_...``), as the docs advise against reusing Dojo's.

Updates replace the record's state with the request's (they carry the full state), except what the
EPOS must not edit: ``guestRequests`` and ``deposit.paymentIntentIds`` belong to Dojo, and Dojo is
the one sending them here, so taking them from Dojo's request is correct.

SearchParties leaves out parties that have left (``endTime`` set) unless ``completedOnly``, which
returns only those. SearchReservations returns reservations overlapping ``[fromTime, toTime]``.

Reads (get, search) are synchronous functions over a ``Connection`` so the handler runs each in one
hop (:meth:`Database.run_read`); writes answer with them through ``run_sync``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, Table, delete, exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from dojo_epos.contract import models as m
from dojo_epos.contract.errors import EposError
from dojo_epos.epos.reference import schema as s
from dojo_epos.epos.reference.cursors import fetch_page

__all__ = [
    "create_party", "create_reservation", "delete_party", "delete_reservation", "get_party",
    "get_reservation", "search_parties", "search_reservations", "update_party",
    "update_reservation",
]


def _table_ids(
    conn: Connection, link: Table, owner_col: str, owner_ids: Sequence[str]
) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {i: [] for i in owner_ids}
    if owner_ids:
        rows = conn.execute(
            select(link).where(link.c[owner_col].in_(owner_ids)).order_by(link.c.position)
        ).all()
        for row in rows:
            out[row._mapping[owner_col]].append(row.table_id)
    return out


async def _set_table_ids(
    conn: AsyncConnection, link: Table, owner_col: str, owner_id: str, table_ids: Sequence[str]
) -> None:
    await conn.execute(delete(link).where(link.c[owner_col] == owner_id))
    unique = list(dict.fromkeys(table_ids))
    await conn.execute(insert(link), [
        {owner_col: owner_id, "table_id": t, "position": pos} for pos, t in enumerate(unique)
    ])


# --- parties -------------------------------------------------------------------------------------


def _party(row: Row[Any], table_ids: list[str]) -> m.Party:
    return m.Party(
        id=row.id, name=row.name, covers=row.covers, table_ids=table_ids, status=row.status,
        start_time=row.start_time, expected_end_time=row.expected_end_time,
        end_time=row.end_time, host_notes=row.host_notes, guest_requests=row.guest_requests,
        reservation_id=row.reservation_id,
        deposit=m.PartyDeposit.model_validate(row.deposit) if row.deposit else None,
    )


def _parties(conn: Connection, rows: Sequence[Row[Any]]) -> list[m.Party]:
    tables = _table_ids(conn, s.party_tables, "party_id", [r.id for r in rows])
    return [_party(r, tables[r.id]) for r in rows]


def get_party(conn: Connection, party_id: str) -> m.Party:
    """The party; NotFound when there is none."""
    row = conn.execute(select(s.parties).where(s.parties.c.id == party_id)).first()
    if row is None:
        raise EposError.not_found(f"no party {party_id!r}")
    return _parties(conn, [row])[0]


def _party_values(req: m.CreatePartyRequest | m.UpdatePartyRequest) -> dict[str, Any]:
    return {
        "name": req.name, "covers": req.covers, "start_time": req.start_time,
        "expected_end_time": req.expected_end_time, "host_notes": req.host_notes,
        "guest_requests": req.guest_requests,
        "deposit": req.deposit.to_wire() if req.deposit is not None else None,
    }


async def create_party(conn: AsyncConnection, req: m.CreatePartyRequest) -> m.Party:
    """Store a new party, or return the one already created for this ``dojoPartyId``."""
    existing = (await conn.execute(
        select(s.parties.c.id).where(s.parties.c.dojo_party_id == req.dojo_party_id)
    )).scalar_one_or_none()
    if existing is not None:
        return await conn.run_sync(get_party, existing)
    party_id = f"pty_{uuid.uuid4().hex[:16]}"
    await conn.execute(insert(s.parties).values(
        id=party_id, dojo_party_id=req.dojo_party_id,
        dojo_reservation_id=req.dojo_reservation_id, status=req.status or "Seated",
        reservation_id=req.reservation_id, **_party_values(req),
    ))
    await _set_table_ids(conn, s.party_tables, "party_id", party_id, req.table_ids)
    return await conn.run_sync(get_party, party_id)


async def update_party(conn: AsyncConnection, party_id: str, req: m.UpdatePartyRequest) -> m.Party:
    """Replace the party's state with ``req``; NotFound when there is no such party."""
    result = await conn.execute(update(s.parties).where(s.parties.c.id == party_id).values(
        status=req.status, end_time=req.end_time, **_party_values(req)))
    if result.rowcount == 0:
        raise EposError.not_found(f"no party {party_id!r}")
    await _set_table_ids(conn, s.party_tables, "party_id", party_id, req.table_ids)
    return await conn.run_sync(get_party, party_id)


async def delete_party(conn: AsyncConnection, party_id: str) -> None:
    """Delete the party; NotFound when there is none (so Dojo knows it is gone either way)."""
    result = await conn.execute(delete(s.parties).where(s.parties.c.id == party_id))
    if result.rowcount == 0:
        raise EposError.not_found(f"no party {party_id!r}")
    # Foreign keys cascade on PostgreSQL; SQLite only if the pragma was on, so delete explicitly.
    await conn.execute(delete(s.party_tables).where(s.party_tables.c.party_id == party_id))


def search_parties(conn: Connection, req: m.SearchPartiesRequest) -> m.PagedPartiesResponse:
    """A page of parties: current ones, or with ``completedOnly`` only those that have left."""
    query = select(s.parties)
    if req.completed_only:
        query = query.where(s.parties.c.end_time.is_not(None))
    else:
        query = query.where(s.parties.c.end_time.is_(None))
    if req.table_id is not None:
        query = query.where(exists().where(
            (s.party_tables.c.party_id == s.parties.c.id)
            & (s.party_tables.c.table_id == req.table_id)))
    page = fetch_page(conn, query, [s.parties.c.seq], "parties", req.cursor)
    return m.PagedPartiesResponse(data=_parties(conn, page.rows), before=page.before,
                                  after=page.after)


# --- reservations --------------------------------------------------------------------------------


def _reservations(conn: Connection, rows: Sequence[Row[Any]]) -> list[m.Reservation]:
    tables = _table_ids(conn, s.reservation_tables, "reservation_id", [r.id for r in rows])
    return [
        m.Reservation(id=r.id, name=r.name, covers=r.covers, start_time=r.start_time,
                      end_time=r.end_time, table_ids=tables[r.id], host_notes=r.host_notes,
                      guest_requests=r.guest_requests)
        for r in rows
    ]


def get_reservation(conn: Connection, reservation_id: str) -> m.Reservation:
    """The reservation; NotFound when there is none."""
    row = conn.execute(
        select(s.reservations).where(s.reservations.c.id == reservation_id)).first()
    if row is None:
        raise EposError.not_found(f"no reservation {reservation_id!r}")
    return _reservations(conn, [row])[0]


def _check_times(req: m.CreateReservationRequest) -> None:
    if req.end_time <= req.start_time:
        raise EposError.invalid_request("endTime must be after startTime")


def _reservation_values(req: m.CreateReservationRequest) -> dict[str, Any]:
    return {"name": req.name, "covers": req.covers, "start_time": req.start_time,
            "end_time": req.end_time, "host_notes": req.host_notes,
            "guest_requests": req.guest_requests}


async def create_reservation(
    conn: AsyncConnection, req: m.CreateReservationRequest
) -> m.Reservation:
    """Store a new reservation, or return the one already created for this Dojo id."""
    _check_times(req)
    existing = (await conn.execute(select(s.reservations.c.id).where(
        s.reservations.c.dojo_reservation_id == req.dojo_reservation_id))).scalar_one_or_none()
    if existing is not None:
        return await conn.run_sync(get_reservation, existing)
    reservation_id = f"res_{uuid.uuid4().hex[:16]}"
    await conn.execute(insert(s.reservations).values(
        id=reservation_id, dojo_reservation_id=req.dojo_reservation_id,
        **_reservation_values(req)))
    await _set_table_ids(conn, s.reservation_tables, "reservation_id", reservation_id,
                         req.table_ids)
    return await conn.run_sync(get_reservation, reservation_id)


async def update_reservation(
    conn: AsyncConnection, reservation_id: str, req: m.UpdateReservationRequest
) -> m.Reservation:
    """Replace the reservation's state with ``req``; NotFound when there is none."""
    _check_times(req)
    result = await conn.execute(update(s.reservations)
                                .where(s.reservations.c.id == reservation_id)
                                .values(**_reservation_values(req)))
    if result.rowcount == 0:
        raise EposError.not_found(f"no reservation {reservation_id!r}")
    await _set_table_ids(conn, s.reservation_tables, "reservation_id", reservation_id,
                         req.table_ids)
    return await conn.run_sync(get_reservation, reservation_id)


async def delete_reservation(conn: AsyncConnection, reservation_id: str) -> None:
    """Delete the reservation; NotFound when there is none."""
    result = await conn.execute(delete(s.reservations)
                                .where(s.reservations.c.id == reservation_id))
    if result.rowcount == 0:
        raise EposError.not_found(f"no reservation {reservation_id!r}")
    await conn.execute(delete(s.reservation_tables)
                       .where(s.reservation_tables.c.reservation_id == reservation_id))


def search_reservations(
    conn: Connection, req: m.SearchReservationsRequest
) -> m.PagedReservationsResponse:
    """A page of reservations on a table and/or overlapping a time window."""
    if req.from_time and req.to_time and req.to_time < req.from_time:
        raise EposError.invalid_request("toTime must not be before fromTime")
    query = select(s.reservations)
    if req.from_time is not None:
        query = query.where(s.reservations.c.end_time >= req.from_time)
    if req.to_time is not None:
        query = query.where(s.reservations.c.start_time <= req.to_time)
    if req.table_id is not None:
        query = query.where(exists().where(
            (s.reservation_tables.c.reservation_id == s.reservations.c.id)
            & (s.reservation_tables.c.table_id == req.table_id)))
    page = fetch_page(conn, query, [s.reservations.c.seq], "reservations", req.cursor)
    return m.PagedReservationsResponse(
        data=_reservations(conn, page.rows), before=page.before, after=page.after)
