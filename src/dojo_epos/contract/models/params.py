"""The request headers and the WebSocket ``params`` model of every capability.

A ``*Params`` model is REST path parameters + REST body + the request headers, in one model. Where a
REST body model exists it is the parent class, so a REST handler can validate ``{**body, **path_params}``
into the same model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, field_validator

from dojo_epos.contract.models.bookings import (
    CreatePartyRequest,
    CreateReservationRequest,
    UpdatePartyRequest,
    UpdateReservationRequest,
)
from dojo_epos.contract.models.events import Event
from dojo_epos.contract.models.orders import CreateOrderRequest, PaymentWithLockId
from dojo_epos.contract.models.paging import (
    SearchOrdersRequest,
    SearchPartiesRequest,
    SearchReservationsRequest,
    SearchTablesRequest,
)
from dojo_epos.contract.models.scalars import DojoId, Id, Instant, Text
from dojo_epos.contract.wire import WireModel

__all__ = [
    "CreateOrderLockParams",
    "CreateOrderParams",
    "CreatePartyParams",
    "CreateReservationParams",
    "DeleteOrderLockParams",
    "ExtendOrderLockParams",
    "HTTP_HEADER_NAMES",
    "HandleEventParams",
    "ListAreasParams",
    "OrderIdParams",
    "PartyIdParams",
    "RecordOrderPaymentParams",
    "RequestHeaders",
    "ReservationIdParams",
    "SearchOrdersParams",
    "SearchPartiesParams",
    "SearchReservationsParams",
    "SearchTablesParams",
    "UpdatePartyParams",
    "UpdateReservationParams",
    "WsParams",
]


HTTP_HEADER_NAMES: Mapping[str, str] = {
    "waiter_id": "waiter-id",
    "dojo_requesting_product": "dojo-requesting-product",
    "device_id": "device-id",
    "device_type": "device-type",
}
"""RequestHeaders attribute -> the REST header carrying it."""


class RequestHeaders(WireModel):
    """Who is asking: REST sends these as HTTP headers, WS inside ``params.headers``."""

    waiter_id: Id | None = None
    dojo_requesting_product: Text | None = None
    device_id: Text | None = None
    device_type: Text | None = None

    @classmethod
    def from_http(cls, headers: Mapping[str, str]) -> RequestHeaders:
        """Read the four optional REST headers (names matched case-insensitively)."""
        lowered = {key.lower(): value for key, value in headers.items()}
        return cls.model_validate(
            {attr: lowered[name] for attr, name in HTTP_HEADER_NAMES.items() if name in lowered}
        )

    def to_http(self) -> dict[str, str]:
        """The REST headers for the fields that are set."""
        return {
            name: value
            for attr, name in HTTP_HEADER_NAMES.items()
            if (value := getattr(self, attr)) is not None
        }


class WsParams(WireModel):
    """Base of every ``params`` model: carries ``headers``, always serialized (``{}`` if empty)."""

    headers: RequestHeaders = Field(default_factory=RequestHeaders)

    @field_validator("headers", mode="before")
    @classmethod
    def _null_headers(cls, value: Any) -> Any:
        return {} if value is None else value


class SearchOrdersParams(SearchOrdersRequest, WsParams):
    """SearchOrders params."""


class OrderIdParams(WsParams):
    """Params naming one order: GetOrderById, CancelOrderById, GetOrderBill."""

    order_id: Id


class CreateOrderParams(CreateOrderRequest, WsParams):
    """CreateOrder params."""


class CreateOrderLockParams(WsParams):
    """CreateOrderLock params: the order, Dojo's lock id and when the lock lapses."""

    order_id: Id
    lock_id: DojoId
    expiry: Instant


class DeleteOrderLockParams(WsParams):
    """DeleteOrderLock params."""

    order_id: Id
    lock_id: DojoId


class ExtendOrderLockParams(WsParams):
    """ExtendOrderLock params: the lock and its new expiry."""

    order_id: Id
    lock_id: DojoId
    expiry: Instant


class RecordOrderPaymentParams(PaymentWithLockId, WsParams):
    """RecordOrderPayment params: the payment and the order it is for."""

    order_id: Id


class ListAreasParams(WsParams):
    """ListAreas params: headers only (WS may omit params altogether: spec defect #26)."""


class SearchTablesParams(SearchTablesRequest, WsParams):
    """SearchTables params."""


class CreatePartyParams(CreatePartyRequest, WsParams):
    """CreateParty params."""


class PartyIdParams(WsParams):
    """Params naming one party: GetPartyById, DeletePartyById."""

    party_id: Id


class UpdatePartyParams(UpdatePartyRequest, WsParams):
    """UpdateParty params; the party is named by ``id`` (spec defect #25)."""

    id: Id


class SearchPartiesParams(SearchPartiesRequest, WsParams):
    """SearchParties params."""


class CreateReservationParams(CreateReservationRequest, WsParams):
    """CreateReservation params."""


class ReservationIdParams(WsParams):
    """Params naming one reservation: GetReservationById, DeleteReservationById."""

    reservation_id: Id


class UpdateReservationParams(UpdateReservationRequest, WsParams):
    """UpdateReservation params; the reservation is named by ``id`` (spec defect #25)."""

    id: Id


class SearchReservationsParams(SearchReservationsRequest, WsParams):
    """SearchReservations params."""


class HandleEventParams(Event, WsParams):
    """HandleEvent params: the event and the headers."""
