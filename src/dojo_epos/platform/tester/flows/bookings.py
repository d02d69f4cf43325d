"""The Bookings flow: reservations and parties round trip (domain notes §2.4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dojo_epos.contract import models as m
from dojo_epos.contract.errors import ErrorType

from ..engine import FlowDef, FlowRun, StepFailed
from ._common import _iso, _p, _uid

BOOKINGS_CAPABILITIES = (
    "CreateReservation", "GetReservationById", "UpdateReservationById", "SearchReservations",
    "DeleteReservationById", "CreateParty", "GetPartyById", "UpdatePartyById", "SearchParties",
    "DeletePartyById")


async def bookings(run: FlowRun) -> None:
    table_id = run.param("tableId")
    await run.require()
    if not table_id:
        async with run.step("Find a table") as step:
            if "SearchTables" not in await run.registered():
                raise StepFailed("no tableId given and SearchTables is not registered")
            tables: m.PagedTablesResponse = await run.call(step, "SearchTables", {})
            step.check(bool(tables.data), "the EPOS has no tables")
            table_id = tables.data[0].id
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    dojo_res = _uid("dojo_res")
    reservation_body = {
        "dojoReservationId": dojo_res, "name": "Tester party", "covers": 4,
        "startTime": _iso(start), "endTime": _iso(start + timedelta(hours=2)),
        "tableIds": [table_id], "guestRequests": "window seat",
    }
    async with run.step("Create a reservation") as step:
        res: m.Reservation = await run.call(step, "CreateReservation", reservation_body)
        step.check(res.covers == 4 and res.table_ids == [table_id], "the reservation differs")
    async with run.step("Create it again with the same dojoReservationId") as step:
        dup: m.Reservation = await run.call(step, "CreateReservation", reservation_body)
        step.check(dup.id == res.id, f"a duplicate reservation {dup.id} was created")
    async with run.step("Read, update and search the reservation") as step:
        got: m.Reservation = await run.call(step, "GetReservationById", {"reservationId": res.id})
        step.check(got.id == res.id, "read back another reservation")
        upd: m.Reservation = await run.call(step, "UpdateReservationById",
                                            {**reservation_body, "id": res.id, "covers": 6})
        step.check(upd.covers == 6, f"covers is {upd.covers} after the update, expected 6")
        found: m.PagedReservationsResponse = await run.call(
            step, "SearchReservations", {"tableId": table_id})
        step.check(any(r.id == res.id for r in found.data), "the reservation is not found")
    dojo_party = _uid("dojo_party")
    party_body = {"dojoPartyId": dojo_party, "name": "Tester party", "covers": 6,
                  "tableIds": [table_id], "status": "Seated", "startTime": _iso(start),
                  "reservationId": res.id}
    async with run.step("Seat a party for the reservation") as step:
        party: m.Party = await run.call(step, "CreateParty", party_body)
        dup_party: m.Party = await run.call(step, "CreateParty", party_body)
        step.check(dup_party.id == party.id, "a duplicate party was created")
    async with run.step("Read, update and search the party") as step:
        got_p: m.Party = await run.call(step, "GetPartyById", {"partyId": party.id})
        step.check(got_p.id == party.id, "read back another party")
        end = start + timedelta(hours=1)
        upd_p: m.Party = await run.call(step, "UpdatePartyById", {
            "id": party.id, "dojoPartyId": dojo_party, "tableIds": [table_id],
            "status": "Completed", "startTime": _iso(start), "endTime": _iso(end), "covers": 6})
        step.check(upd_p.end_time is not None, "endTime was not kept")
        live: m.PagedPartiesResponse = await run.call(step, "SearchParties", {"tableId": table_id})
        step.check(all(p.id != party.id for p in live.data),
                   "a completed party is listed without completedOnly")
        done: m.PagedPartiesResponse = await run.call(step, "SearchParties",
                                                      {"tableId": table_id, "completedOnly": True})
        step.check(any(p.id == party.id for p in done.data),
                   "the completed party is missing with completedOnly")
    async with run.step("Delete the party and the reservation") as step:
        await run.call(step, "DeletePartyById", {"partyId": party.id})
        await run.call(step, "GetPartyById", {"partyId": party.id},
                       expect_error=ErrorType.NOT_FOUND)
        await run.call(step, "DeleteReservationById", {"reservationId": res.id})
        await run.call(step, "GetReservationById", {"reservationId": res.id},
                       expect_error=ErrorType.NOT_FOUND)


BOOKINGS = FlowDef(
    "Bookings", (_p("tableId", "string", "Table to book (else the first table)"),),
            bookings, "Reservations and parties round trip",
            BOOKINGS_CAPABILITIES)
