"""Parties and reservations: CRUD, idempotent create, search filters, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dojo_epos.contract import models as m
from dojo_epos.contract.errors import EposError, ErrorType
from tests.epos.reference.conftest import ctx, gbp

T0 = datetime(2030, 5, 1, 18, 0, tzinfo=UTC)


def party(dojo_id="dp1", tables=("T1",), **kw):
    return m.CreatePartyParams(dojo_party_id=dojo_id, table_ids=list(tables), start_time=T0,
                               name="Smith", covers=2, **kw)


def reservation(dojo_id="dr1", tables=("T1",), start=T0, hours=2):
    return m.CreateReservationParams(dojo_reservation_id=dojo_id, name="Jones", covers=4,
                                     start_time=start, end_time=start + timedelta(hours=hours),
                                     table_ids=list(tables))


async def test_party_create_get_update_delete(epos):
    """A party round-trips, updates to the new state, and is gone after delete."""
    deposit = m.PartyDeposit(total_amount=gbp(2000), payment_intent_ids=["pi_dep"])
    created = await epos.create_party(party(tables=("T1", "T2"), deposit=deposit), ctx())
    assert created.table_ids == ["T1", "T2"] and created.deposit == deposit
    got = await epos.get_party_by_id(m.PartyIdParams(party_id=created.id), ctx())
    assert got == created
    updated = await epos.update_party_by_id(m.UpdatePartyParams(
        id=created.id, dojo_party_id="dp1", table_ids=["T3"], status="Left", start_time=T0,
        end_time=T0 + timedelta(hours=2), covers=3), ctx())
    assert (updated.table_ids, updated.status, updated.covers) == (["T3"], "Left", 3)
    assert updated.end_time == T0 + timedelta(hours=2)
    assert await epos.delete_party_by_id(m.PartyIdParams(party_id=created.id), ctx()) == \
        m.EmptyResult()
    for call in (epos.get_party_by_id, epos.delete_party_by_id):
        with pytest.raises(EposError) as err:
            await call(m.PartyIdParams(party_id=created.id), ctx())
        assert err.value.error_type is ErrorType.NOT_FOUND


async def test_party_create_with_seen_dojo_id_returns_existing(epos):
    """A repeated CreateParty (same dojoPartyId) returns the stored party, no duplicate."""
    first = await epos.create_party(party(), ctx())
    again = await epos.create_party(party(tables=("T9",)), ctx())
    assert again == first
    page = await epos.search_parties(m.SearchPartiesParams(), ctx())
    assert [p.id for p in page.data] == [first.id]


async def test_search_parties_completed_only_and_table(epos):
    """Current parties by default; completedOnly returns only those that left; tableId filters."""
    here = await epos.create_party(party("a", ("T1",)), ctx())
    other = await epos.create_party(party("b", ("T2", "T3")), ctx())
    gone = await epos.create_party(party("c", ("T3",)), ctx())
    await epos.update_party_by_id(m.UpdatePartyParams(
        id=gone.id, dojo_party_id="c", table_ids=["T3"], status="Left", start_time=T0,
        end_time=T0 + timedelta(hours=1)), ctx())

    async def ids(**kw):
        return [p.id for p in (await epos.search_parties(m.SearchPartiesParams(**kw), ctx())).data]

    assert await ids() == [here.id, other.id]
    assert await ids(completed_only=True) == [gone.id]
    assert await ids(table_id="T3") == [other.id]
    assert await ids(table_id="T3", completed_only=True) == [gone.id]


async def test_reservation_crud_and_idempotent_create(epos):
    """Reservations round-trip; a seen dojoReservationId returns the stored one."""
    created = await epos.create_reservation(reservation(), ctx())
    assert await epos.create_reservation(reservation(hours=3), ctx()) == created
    got = await epos.get_reservation_by_id(m.ReservationIdParams(reservation_id=created.id), ctx())
    assert got == created
    updated = await epos.update_reservation_by_id(m.UpdateReservationParams(
        id=created.id, dojo_reservation_id="dr1", name="Jones", covers=6, start_time=T0,
        end_time=T0 + timedelta(hours=3), table_ids=["T7", "T8"], guest_requests="window"), ctx())
    assert (updated.covers, updated.table_ids, updated.guest_requests) == (6, ["T7", "T8"],
                                                                          "window")
    await epos.delete_reservation_by_id(m.ReservationIdParams(reservation_id=created.id), ctx())
    with pytest.raises(EposError) as err:
        await epos.get_reservation_by_id(m.ReservationIdParams(reservation_id=created.id), ctx())
    assert err.value.error_type is ErrorType.NOT_FOUND


async def test_reservation_end_before_start_is_invalid(epos):
    """endTime must follow startTime."""
    with pytest.raises(EposError) as err:
        await epos.create_reservation(reservation(hours=-1), ctx())
    assert err.value.error_type is ErrorType.INVALID_REQUEST


async def test_search_reservations_time_window_table_and_paging(epos):
    """fromTime/toTime keep overlapping reservations; tableId filters; pages cover all once."""
    made = [await epos.create_reservation(
        reservation(f"r{n}", (f"T{1 + n % 3}",), start=T0 + timedelta(hours=3 * n)), ctx())
        for n in range(7)]

    async def ids(**kw):
        page = await epos.search_reservations(m.SearchReservationsParams(**kw), ctx())
        return [r.id for r in page.data]

    window = await ids(from_time=T0 + timedelta(hours=4), to_time=T0 + timedelta(hours=9))
    assert window == [made[1].id, made[2].id, made[3].id]  # 3-5h, 6-8h, 9-11h overlap 4-9h
    assert await ids(table_id="T1") == [made[0].id, made[3].id, made[6].id]
    first = await epos.search_reservations(
        m.SearchReservationsParams(cursor=m.Cursor(limit=4)), ctx())
    rest = await epos.search_reservations(
        m.SearchReservationsParams(cursor=m.Cursor(limit=4, after=first.after)), ctx())
    assert [r.id for r in first.data + rest.data] == [r.id for r in made]
    assert rest.after is None
