"""Typed calls for :class:`~dojo_epos.testing.EposTestClient`: one method per capability.

Generated from the capability catalogue by ``python -m dojo_epos.codegen``; do not edit by hand (a
test fails when this file differs from what the catalogue renders). Each method takes the
capability's params model, or its fields as keyword arguments (Python names), plus Dojo's request
``headers``, and returns the capability's result model.
"""

# ruff: noqa: E501

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from dojo_epos.contract import models as m

__all__ = ["CapabilityCalls"]

R = TypeVar("R", bound=BaseModel)
Headers = m.RequestHeaders | Mapping[str, Any] | None


class CapabilityCalls(ABC):
    """The typed face of a test client; :meth:`_typed_call` does the work."""

    @abstractmethod
    async def _typed_call(self, capability: str, result: type[R], params: BaseModel | None,
                          headers: Headers, fields: dict[str, Any]) -> R:
        """Call ``capability`` with ``params`` (or ``fields``), return it as ``result``."""

    async def search_orders(self, params: m.SearchOrdersParams | None = None, /, *, headers: Headers = None, **fields: Any) -> m.PagedOrdersResponse:
        """SearchOrders: POST /v1/orders/search or SearchOrdersV1."""
        return await self._typed_call("SearchOrders", m.PagedOrdersResponse, params, headers, fields)

    async def get_order_by_id(self, params: m.OrderIdParams | None = None, /, *, headers: Headers = None, **fields: Any) -> m.Order:
        """GetOrderById: GET /v1/orders/{orderId} or GetOrderByIdV1."""
        return await self._typed_call("GetOrderById", m.Order, params, headers, fields)

    async def create_order(self, params: m.CreateOrderParams | None = None, /, *, headers: Headers = None, **fields: Any) -> m.Order:
        """CreateOrder: POST /v1/orders or CreateOrderV1."""
        return await self._typed_call("CreateOrder", m.Order, params, headers, fields)

    async def cancel_order_by_id(self, params: m.OrderIdParams | None = None, /, *, headers: Headers = None, **fields: Any) -> m.Order:
        """CancelOrderById: DELETE /v1/orders/{orderId} or CancelOrderByIdV1."""
        return await self._typed_call("CancelOrderById", m.Order, params, headers, fields)

    async def create_order_lock(self, params: m.CreateOrderLockParams | None = None, /, *, headers: Headers = None, **fields: Any) -> m.Order:
        """CreateOrderLock: POST /v1/orders/{orderId}/lock or CreateOrderLockV1."""
        return await self._typed_call("CreateOrderLock", m.Order, params, headers, fields)

    async def delete_order_lock(self, params: m.DeleteOrderLockParams | None = None, /, *, headers: Headers = None, **fields: Any) -> m.Order:
        """DeleteOrderLock: DELETE /v1/orders/{orderId}/locks/{lockId} or DeleteOrderLockV1."""
        return await self._typed_call("DeleteOrderLock", m.Order, params, headers, fields)

    async def extend_order_lock(self, params: m.ExtendOrderLockParams | None = None, /, *, headers: Headers = None, **fields: Any) -> m.EmptyResult:
        """ExtendOrderLock: PUT /v1/orders/{orderId}/locks/{lockId} or ExtendOrderLockV1."""
        return await self._typed_call("ExtendOrderLock", m.EmptyResult, params, headers, fields)

    async def record_order_payment(self, params: m.RecordOrderPaymentParams | None = None, /, *, headers: Headers = None, **fields: Any) -> m.Order:
        """RecordOrderPayment: POST /v1/orders/{orderId}/record-payment or RecordOrderPaymentByIdV1."""
        return await self._typed_call("RecordOrderPayment", m.Order, params, headers, fields)

    async def get_order_bill(self, params: m.OrderIdParams | None = None, /, *, headers: Headers = None, **fields: Any) -> m.OrderBill:
        """GetOrderBill: GET /v1/orders/{orderId}/bill or GetOrderBillByIdV1."""
        return await self._typed_call("GetOrderBill", m.OrderBill, params, headers, fields)

    async def list_areas(self, params: m.ListAreasParams | None = None, /, *, headers: Headers = None, **fields: Any) -> m.AreaList:
        """ListAreas: GET /v1/areas or ListAreasV1."""
        return await self._typed_call("ListAreas", m.AreaList, params, headers, fields)

    async def search_tables(self, params: m.SearchTablesParams | None = None, /, *, headers: Headers = None, **fields: Any) -> m.PagedTablesResponse:
        """SearchTables: POST /v1/tables/search or SearchTablesV1."""
        return await self._typed_call("SearchTables", m.PagedTablesResponse, params, headers, fields)

    async def create_party(self, params: m.CreatePartyParams | None = None, /, *, headers: Headers = None, **fields: Any) -> m.Party:
        """CreateParty: POST /v1/parties or CreatePartyV1."""
        return await self._typed_call("CreateParty", m.Party, params, headers, fields)

    async def get_party_by_id(self, params: m.PartyIdParams | None = None, /, *, headers: Headers = None, **fields: Any) -> m.Party:
        """GetPartyById: GET /v1/parties/{partyId} or GetPartyByIdV1."""
        return await self._typed_call("GetPartyById", m.Party, params, headers, fields)

    async def update_party_by_id(self, params: m.UpdatePartyParams | None = None, /, *, headers: Headers = None, **fields: Any) -> m.Party:
        """UpdatePartyById: PUT /v1/parties/{partyId} or UpdatePartyV1."""
        return await self._typed_call("UpdatePartyById", m.Party, params, headers, fields)

    async def delete_party_by_id(self, params: m.PartyIdParams | None = None, /, *, headers: Headers = None, **fields: Any) -> m.EmptyResult:
        """DeletePartyById: DELETE /v1/parties/{partyId} or DeletePartyByIdV1."""
        return await self._typed_call("DeletePartyById", m.EmptyResult, params, headers, fields)

    async def search_parties(self, params: m.SearchPartiesParams | None = None, /, *, headers: Headers = None, **fields: Any) -> m.PagedPartiesResponse:
        """SearchParties: POST /v1/parties/search or SearchPartiesV1."""
        return await self._typed_call("SearchParties", m.PagedPartiesResponse, params, headers, fields)

    async def create_reservation(self, params: m.CreateReservationParams | None = None, /, *, headers: Headers = None, **fields: Any) -> m.Reservation:
        """CreateReservation: POST /v1/reservations or CreateReservationV1."""
        return await self._typed_call("CreateReservation", m.Reservation, params, headers, fields)

    async def get_reservation_by_id(self, params: m.ReservationIdParams | None = None, /, *, headers: Headers = None, **fields: Any) -> m.Reservation:
        """GetReservationById: GET /v1/reservations/{reservationId} or GetReservationByIdV1."""
        return await self._typed_call("GetReservationById", m.Reservation, params, headers, fields)

    async def update_reservation_by_id(self, params: m.UpdateReservationParams | None = None, /, *, headers: Headers = None, **fields: Any) -> m.Reservation:
        """UpdateReservationById: PUT /v1/reservations/{reservationId} or UpdateReservationV1."""
        return await self._typed_call("UpdateReservationById", m.Reservation, params, headers, fields)

    async def delete_reservation_by_id(self, params: m.ReservationIdParams | None = None, /, *, headers: Headers = None, **fields: Any) -> m.EmptyResult:
        """DeleteReservationById: DELETE /v1/reservations/{reservationId} or DeleteReservationByIdV1."""
        return await self._typed_call("DeleteReservationById", m.EmptyResult, params, headers, fields)

    async def search_reservations(self, params: m.SearchReservationsParams | None = None, /, *, headers: Headers = None, **fields: Any) -> m.PagedReservationsResponse:
        """SearchReservations: POST /v1/reservations/search or SearchReservationsV1."""
        return await self._typed_call("SearchReservations", m.PagedReservationsResponse, params, headers, fields)

    async def handle_event(self, params: m.HandleEventParams | None = None, /, *, headers: Headers = None, **fields: Any) -> m.EmptyResult:
        """HandleEvent:payment_intent.created: POST /v1/events or HandleEventV1."""
        return await self._typed_call("HandleEvent:payment_intent.created", m.EmptyResult, params, headers, fields)
