"""Search filters, the paging cursor and the pages of results."""

from __future__ import annotations

from typing import Annotated, Generic, Self, TypeVar

from pydantic import Field, StrictBool, StrictInt, model_validator

from dojo_epos.contract.models.bookings import Party, Reservation, Table
from dojo_epos.contract.models.orders import Order
from dojo_epos.contract.models.scalars import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Id,
    Instant,
    Text,
)
from dojo_epos.contract.wire import WireModel

__all__ = [
    "Cursor",
    "PagedOrdersResponse",
    "PagedPartiesResponse",
    "PagedReservationsResponse",
    "PagedTablesResponse",
    "Page",
    "SearchDineInDetails",
    "SearchOrdersRequest",
    "SearchPartiesRequest",
    "SearchReservationsRequest",
    "SearchTablesRequest",
]


class Cursor(WireModel):
    """Paging: a page size and at most one of ``before``/``after`` (opaque tokens)."""

    # spec defect #18: no minimum and no default in the spec; None means DEFAULT_LIMIT.
    limit: Annotated[StrictInt, Field(ge=1, le=MAX_LIMIT)] | None = None
    before: Text | None = None
    after: Text | None = None

    @model_validator(mode="after")
    def _one_direction(self) -> Self:
        # spec defect #18: the exclusivity is stated in prose but not in the schema.
        if self.before is not None and self.after is not None:
            raise ValueError("cursor.before and cursor.after are mutually exclusive")
        return self

    @property
    def effective_limit(self) -> int:
        """The page size to use: ``limit``, or ``DEFAULT_LIMIT`` when absent."""
        return DEFAULT_LIMIT if self.limit is None else self.limit


class SearchDineInDetails(WireModel):
    """Dine-in filters for SearchOrders."""

    table_id: Id | None = None
    waiter_id: Id | None = None
    party_id: Id | None = None
    reservation_id: Id | None = None


class SearchOrdersRequest(WireModel):
    """SearchOrders filters; PAT always sends ``payableOnly: true``."""

    dine_in: SearchDineInDetails | None = None
    payable_only: StrictBool | None = None
    cursor: Cursor | None = None


class SearchTablesRequest(WireModel):
    """SearchTables filters."""

    cursor: Cursor | None = None
    area_id: Id | None = None
    waiter_id: Id | None = None


class SearchPartiesRequest(WireModel):
    """SearchParties filters; parties that have left are returned only with ``completedOnly``."""

    cursor: Cursor | None = None
    completed_only: StrictBool | None = None
    table_id: Id | None = None


class SearchReservationsRequest(WireModel):
    """SearchReservations filters."""

    cursor: Cursor | None = None
    table_id: Id | None = None
    from_time: Instant | None = None
    to_time: Instant | None = None


T = TypeVar("T", bound=WireModel)


class Page(WireModel, Generic[T]):
    """A page of ``T`` and the cursors to the neighbouring pages.

    spec defect #11: ``data`` is optional in REST and required in WS; we always send it. Each concrete
    page below is a named subclass, so the JSON schema pydantic generates for it (title, description,
    properties) is the one the four hand-written page classes had.
    """

    data: list[T] = Field(default_factory=list)
    before: Text | None = None
    after: Text | None = None


class PagedOrdersResponse(Page[Order]):
    """A page of orders and the cursors to the neighbouring pages."""


class PagedTablesResponse(Page[Table]):
    """A page of tables (one object, not an array: spec defect #5)."""


class PagedPartiesResponse(Page[Party]):
    """A page of parties."""


class PagedReservationsResponse(Page[Reservation]):
    """A page of reservations."""
