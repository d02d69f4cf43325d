"""Areas, tables, parties (seated now) and reservations (booked ahead)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, RootModel

from dojo_epos.contract.models.orders import Money
from dojo_epos.contract.models.scalars import DojoId, Id, Instant, Int32, Name, TableIds, Text
from dojo_epos.contract.wire import WireModel

__all__ = [
    "Area",
    "AreaList",
    "CreatePartyRequest",
    "CreateReservationRequest",
    "Party",
    "PartyDeposit",
    "Reservation",
    "Table",
    "UpdatePartyRequest",
    "UpdateReservationRequest",
]


class Area(WireModel):
    """A part of the venue (e.g. downstairs), optionally limited to some waiters."""

    id: Id
    name: Name
    waiter_ids: list[Id] = Field(default_factory=list)


AreaList = RootModel[list[Area]]
"""The ListAreas result: a plain array of areas, no paging."""


class Table(WireModel):
    """A table in an area."""

    id: Id
    name: Name
    max_covers: Int32 | None = None
    area_id: Id | None = None
    waiter_ids: list[Id] = Field(default_factory=list)


class PartyDeposit(WireModel):
    """A deposit paid for a party; ``paymentIntentIds`` is owned by Dojo."""

    total_amount: Money
    description: Text | None = None
    payment_intent_ids: list[DojoId]


class Party(WireModel):
    """A group seated now, possibly across several tables; ``endTime`` set once they leave."""

    id: Id
    name: Name | None = None
    covers: Int32 | None = None
    table_ids: TableIds
    status: Annotated[Text, Field(min_length=1, max_length=50)]
    start_time: Instant
    expected_end_time: Instant | None = None
    end_time: Instant | None = None
    host_notes: Text | None = None
    guest_requests: Text | None = None
    reservation_id: Id | None = None
    deposit: PartyDeposit | None = None


class CreatePartyRequest(WireModel):
    """A party seated through Dojo Bookings; ``dojoPartyId`` is Dojo's own id for it."""

    name: Name | None = None
    covers: Int32 | None = None
    table_ids: TableIds
    status: Annotated[Text, Field(max_length=50)] | None = None
    start_time: Instant
    expected_end_time: Instant | None = None
    host_notes: Text | None = None
    guest_requests: Text | None = None
    reservation_id: Id | None = None
    deposit: PartyDeposit | None = None
    dojo_party_id: DojoId
    dojo_reservation_id: DojoId | None = None


class UpdatePartyRequest(WireModel):
    """The full new state of a party (REST body; the party id is in the path)."""

    dojo_party_id: DojoId
    name: Name | None = None
    covers: Int32 | None = None
    table_ids: TableIds
    status: Annotated[Text, Field(min_length=1, max_length=50)]
    start_time: Instant
    expected_end_time: Instant | None = None
    end_time: Instant | None = None
    host_notes: Text | None = None
    guest_requests: Text | None = None
    deposit: PartyDeposit | None = None


class Reservation(WireModel):
    """A future booking; it becomes a party when the guests are seated."""

    id: Id
    name: Name
    covers: Int32
    start_time: Instant
    end_time: Instant
    table_ids: TableIds
    host_notes: Text | None = None
    guest_requests: Text | None = None


class CreateReservationRequest(WireModel):
    """A booking made in Dojo Bookings, sent to the EPOS."""

    dojo_reservation_id: DojoId
    name: Name
    covers: Int32
    start_time: Instant
    end_time: Instant
    table_ids: TableIds
    host_notes: Text | None = None
    guest_requests: Text | None = None


class UpdateReservationRequest(CreateReservationRequest):
    """The full new state of a reservation (REST body; the id is in the path)."""
