"""Areas, tables, parties (seated now) and reservations (booked ahead)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, Field, RootModel, StrictInt

from dojo_epos.contract.models.orders import Money
from dojo_epos.contract.models.scalars import TableIds
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

    id: str
    name: str
    waiter_ids: list[str] = Field(default_factory=list)


AreaList = RootModel[list[Area]]
"""The ListAreas result: a plain array of areas, no paging."""


class Table(WireModel):
    """A table in an area."""

    id: str
    name: str
    max_covers: Annotated[StrictInt, Field(ge=-(2**31), le=2**31 - 1)] | None = None
    area_id: str | None = None
    waiter_ids: list[str] = Field(default_factory=list)


class PartyDeposit(WireModel):
    """A deposit paid for a party; ``paymentIntentIds`` is owned by Dojo."""

    total_amount: Money
    description: str | None = None
    payment_intent_ids: list[str]


class Party(WireModel):
    """A group seated now, possibly across several tables; ``endTime`` set once they leave."""

    id: str
    name: str | None = None
    covers: StrictInt | None = None
    table_ids: TableIds
    status: Annotated[str, Field(min_length=1)]
    start_time: AwareDatetime
    expected_end_time: AwareDatetime | None = None
    end_time: AwareDatetime | None = None
    host_notes: str | None = None
    guest_requests: str | None = None
    reservation_id: str | None = None
    deposit: PartyDeposit | None = None


class CreatePartyRequest(WireModel):
    """A party seated through Dojo Bookings; ``dojoPartyId`` is Dojo's own id for it."""

    name: str | None = None
    covers: StrictInt | None = None
    table_ids: TableIds
    status: str | None = None
    start_time: AwareDatetime
    expected_end_time: AwareDatetime | None = None
    host_notes: str | None = None
    guest_requests: str | None = None
    reservation_id: str | None = None
    deposit: PartyDeposit | None = None
    dojo_party_id: str
    dojo_reservation_id: str | None = None


class UpdatePartyRequest(WireModel):
    """The full new state of a party (REST body; the party id is in the path)."""

    dojo_party_id: str
    name: str | None = None
    covers: StrictInt | None = None
    table_ids: TableIds
    status: Annotated[str, Field(min_length=1)]
    start_time: AwareDatetime
    expected_end_time: AwareDatetime | None = None
    end_time: AwareDatetime | None = None
    host_notes: str | None = None
    guest_requests: str | None = None
    deposit: PartyDeposit | None = None


class Reservation(WireModel):
    """A future booking; it becomes a party when the guests are seated."""

    id: str
    name: str
    covers: StrictInt
    start_time: AwareDatetime
    end_time: AwareDatetime
    table_ids: TableIds
    host_notes: str | None = None
    guest_requests: str | None = None


class CreateReservationRequest(WireModel):
    """A booking made in Dojo Bookings, sent to the EPOS."""

    dojo_reservation_id: str
    name: str
    covers: StrictInt
    start_time: AwareDatetime
    end_time: AwareDatetime
    table_ids: TableIds
    host_notes: str | None = None
    guest_requests: str | None = None


class UpdateReservationRequest(CreateReservationRequest):
    """The full new state of a reservation (REST body; the id is in the path)."""
