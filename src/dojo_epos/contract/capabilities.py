"""The capability catalogue: the one table every other part of dojo-epos reads.

Each row says, for one capability of Dojo's EPOS Data API: the name an EPOS registers, the JSON-RPC
method Dojo sends over the WebSocket, the REST method and path Dojo calls, the parameter model (path,
body and request headers as one object, the shape of the WebSocket ``params``), the result model, and
the Dojo products that use it. The REST app, the connector, the platform's registry and invoker, the
tester and the generated OpenAPI document are all built from this table; none of them repeats it.

Names (domain notes §1.2, spec defects #1-#4): the *canonical* name of a row is the spec name (the one
in the Dojo API's CapabilityName list). The newer doc names and the names used only in examples are
aliases; :func:`lookup` resolves any of them. The wire method is a column, never derived from the name
by appending ``V1`` (spec defect #3: that rule is false for four legacy names and for HandleEvent).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from pydantic import BaseModel

from dojo_epos.contract import models as m

__all__ = [
    "CATALOGUE",
    "EVENT_TYPES",
    "HANDLE_EVENT",
    "Capability",
    "Product",
    "UnknownCapability",
    "by_rpc_method",
    "for_event",
    "lookup",
    "parse_version",
    "rest_routes",
]


class Product(StrEnum):
    """The Dojo products that call an EPOS."""

    PAY_AT_TABLE = "Pay at Table"
    ORDER_AND_PAY = "Order & Pay"
    QR_PAY = "QR Pay"
    BOOKINGS = "Bookings"


_PAT, _OAP, _QR, _BOOK = Product.PAY_AT_TABLE, Product.ORDER_AND_PAY, Product.QR_PAY, Product.BOOKINGS


@dataclass(frozen=True, slots=True)
class Capability:
    """One row of the catalogue."""

    name: str
    """Canonical registered name (the spec name), e.g. ``"RecordOrderPayment"``."""
    rpc_method: str
    """JSON-RPC method on the WebSocket, e.g. ``"RecordOrderPaymentByIdV1"``."""
    http: tuple[str, str]
    """REST method and path template, e.g. ``("POST", "/v1/orders/{orderId}/record-payment")``."""
    params: type[BaseModel]
    """Parameters as one model: path parameters, body fields and ``headers``."""
    result: type[BaseModel]
    """The model of a successful answer."""
    products: frozenset[Product]
    handler_method: str
    """Name of the method on :class:`dojo_epos.epos.handler.EposHandler` that serves it."""
    operation_id: str
    """REST operationId (ours where the spec has none: spec defect #8)."""
    rest_body: type[BaseModel] | None = None
    """The REST request body model, when the route takes a body."""
    path_fields: Mapping[str, str] = field(default_factory=dict)
    """REST path parameter -> wire name of the params field it fills (spec defect #25)."""
    aliases: tuple[str, ...] = ()
    """Other registered names that mean this capability (doc names, example names)."""
    in_rest_spec: bool = True
    """False for HandleEvent, whose REST route is documented only in prose (spec defect #6)."""
    event_type: str | None = None
    """For the two HandleEvent rows: the event type this registration subscribes to."""
    array_of_pages: bool = False
    """The answer may come as an *array* of pages, as the REST spec types SearchTables' (spec
    defect #5); a caller accepts that shape too and joins the pages' ``data`` into one page."""

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(re.findall(r"{(\w+)}", self.http[1]))


def _cap(
    name: str,
    rpc: str,
    method: str,
    path: str,
    params: type[BaseModel],
    result: type[BaseModel],
    products: tuple[Product, ...],
    operation_id: str,
    *,
    body: type[BaseModel] | None = None,
    path_fields: dict[str, str] | None = None,
    aliases: tuple[str, ...] = (),
    in_rest_spec: bool = True,
    event_type: str | None = None,
    array_of_pages: bool = False,
) -> Capability:
    handler = "handle_event" if name.startswith("HandleEvent") else _snake(name)
    if path_fields is None:
        path_fields = {p: p for p in re.findall(r"{(\w+)}", path)}
    return Capability(
        name=name,
        rpc_method=rpc,
        http=(method, path),
        params=params,
        result=result,
        products=frozenset(products),
        handler_method=handler,
        operation_id=operation_id,
        rest_body=body,
        path_fields=MappingProxyType(path_fields),
        aliases=aliases,
        in_rest_spec=in_rest_spec,
        event_type=event_type,
        array_of_pages=array_of_pages,
    )


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


HANDLE_EVENT = "HandleEvent"

# The table. Order follows the domain notes §1.1. Products: the doc tags (domain notes §1.1).
CATALOGUE: tuple[Capability, ...] = (
    _cap("SearchOrders", "SearchOrdersV1", "POST", "/v1/orders/search",
         m.SearchOrdersParams, m.PagedOrdersResponse, (_PAT, _OAP, _QR, _BOOK),
         "v1-search-orders", body=m.SearchOrdersRequest),
    _cap("GetOrderById", "GetOrderByIdV1", "GET", "/v1/orders/{orderId}",
         m.OrderIdParams, m.Order, (_PAT, _OAP, _QR, _BOOK),
         "v1-get-orders-orderId", aliases=("GetOrder",)),
    _cap("CreateOrder", "CreateOrderV1", "POST", "/v1/orders",
         m.CreateOrderParams, m.Order, (_OAP, _BOOK),
         "v1-post-orders", body=m.CreateOrderRequest),
    _cap("CancelOrderById", "CancelOrderByIdV1", "DELETE", "/v1/orders/{orderId}",
         m.OrderIdParams, m.Order, (_OAP, _BOOK),
         "v1-delete-orders-orderId"),
    _cap("CreateOrderLock", "CreateOrderLockV1", "POST", "/v1/orders/{orderId}/lock",
         m.CreateOrderLockParams, m.Order, (_PAT, _OAP, _QR),
         "v1-post-order-lock", body=m.CreateOrderLockRequest),
    _cap("DeleteOrderLock", "DeleteOrderLockV1", "DELETE", "/v1/orders/{orderId}/locks/{lockId}",
         m.DeleteOrderLockParams, m.Order, (_PAT, _OAP, _QR),
         "v1-delete-order-lock"),
    _cap("ExtendOrderLock", "ExtendOrderLockV1", "PUT", "/v1/orders/{orderId}/locks/{lockId}",
         m.ExtendOrderLockParams, m.EmptyResult, (_PAT, _OAP, _QR),
         "v1-put-extend-order-lock", body=m.ExtendOrderLockRequest),
    _cap("RecordOrderPayment", "RecordOrderPaymentByIdV1", "POST",
         "/v1/orders/{orderId}/record-payment",
         m.RecordOrderPaymentParams, m.Order, (_PAT, _OAP, _QR),
         "v1-post-record-order-payment", body=m.PaymentWithLockId,
         aliases=("RecordOrderPaymentById", "RecordPayment")),
    _cap("GetOrderBill", "GetOrderBillByIdV1", "GET", "/v1/orders/{orderId}/bill",
         m.OrderIdParams, m.OrderBill, (_PAT,),
         "v1-get-orders-bill", aliases=("GetOrderBillById",)),
    _cap("ListAreas", "ListAreasV1", "GET", "/v1/areas",
         m.ListAreasParams, m.AreaList, (_BOOK,),
         "v1-list-areas"),
    _cap("SearchTables", "SearchTablesV1", "POST", "/v1/tables/search",
         m.SearchTablesParams, m.PagedTablesResponse, (_BOOK, _QR),
         "v1-search-tables", body=m.SearchTablesRequest, array_of_pages=True),
    _cap("CreateParty", "CreatePartyV1", "POST", "/v1/parties",
         m.CreatePartyParams, m.Party, (_BOOK,),
         "v1-post-parties", body=m.CreatePartyRequest),
    _cap("GetPartyById", "GetPartyByIdV1", "GET", "/v1/parties/{partyId}",
         m.PartyIdParams, m.Party, (_BOOK,),
         "v1-get-parties-partyId"),
    _cap("UpdatePartyById", "UpdatePartyV1", "PUT", "/v1/parties/{partyId}",
         m.UpdatePartyParams, m.Party, (_BOOK,),
         "v1-put-parties-partyId", body=m.UpdatePartyRequest,
         path_fields={"partyId": "id"}, aliases=("UpdateParty",)),
    _cap("DeletePartyById", "DeletePartyByIdV1", "DELETE", "/v1/parties/{partyId}",
         m.PartyIdParams, m.EmptyResult, (_BOOK,),
         "v1-delete-parties-partyId"),
    _cap("SearchParties", "SearchPartiesV1", "POST", "/v1/parties/search",
         m.SearchPartiesParams, m.PagedPartiesResponse, (_BOOK,),
         "v1-search-parties", body=m.SearchPartiesRequest),
    _cap("CreateReservation", "CreateReservationV1", "POST", "/v1/reservations",
         m.CreateReservationParams, m.Reservation, (_BOOK,),
         "v1-post-reservations", body=m.CreateReservationRequest),
    _cap("GetReservationById", "GetReservationByIdV1", "GET", "/v1/reservations/{reservationId}",
         m.ReservationIdParams, m.Reservation, (_BOOK,),
         "v1-get-reservations-reservationId"),
    _cap("UpdateReservationById", "UpdateReservationV1", "PUT", "/v1/reservations/{reservationId}",
         m.UpdateReservationParams, m.Reservation, (_BOOK,),
         "v1-put-reservations-reservationId", body=m.UpdateReservationRequest,
         path_fields={"reservationId": "id"}, aliases=("UpdateReservation",)),
    _cap("DeleteReservationById", "DeleteReservationByIdV1", "DELETE",
         "/v1/reservations/{reservationId}",
         m.ReservationIdParams, m.EmptyResult, (_BOOK,),
         "v1-delete-reservations-reservationId"),
    _cap("SearchReservations", "SearchReservationsV1", "POST", "/v1/reservations/search",
         m.SearchReservationsParams, m.PagedReservationsResponse, (_BOOK,),
         "v1-search-reservations", body=m.SearchReservationsRequest),
    _cap("HandleEvent:payment_intent.created", "HandleEventV1", "POST", "/v1/events",
         m.HandleEventParams, m.EmptyResult, (_OAP,),
         "v1-post-events", body=m.Event, in_rest_spec=False,
         event_type="payment_intent.created"),
    _cap("HandleEvent:payment_intent.status_updated", "HandleEventV1", "POST", "/v1/events",
         m.HandleEventParams, m.EmptyResult, (_PAT, _OAP, _QR, _BOOK),
         "v1-post-events", body=m.Event, in_rest_spec=False,
         event_type="payment_intent.status_updated"),
)

_BY_NAME: dict[str, Capability] = {}
for _c in CATALOGUE:
    for _n in (_c.name, *_c.aliases):
        _BY_NAME[_n] = _c

#: Example-only names (spec defect #2): accepted, but worth a warning where they are registered.
EXAMPLE_ONLY_ALIASES = frozenset({"GetOrder", "RecordPayment"})

_BY_RPC: dict[str, Capability] = {}
for _c in CATALOGUE:
    _BY_RPC.setdefault(_c.rpc_method, _c)  # HandleEventV1 -> the first HandleEvent row


_BY_EVENT: dict[str, Capability] = {c.event_type: c for c in CATALOGUE if c.event_type is not None}

#: The Dojo event types an EPOS can subscribe to (one HandleEvent row each).
EVENT_TYPES: tuple[str, ...] = tuple(_BY_EVENT)


class UnknownCapability(KeyError):
    """A name or method that is not in the catalogue."""


def lookup(name: str) -> Capability:
    """The catalogue row for a registered name or any alias of it."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownCapability(name) from None


def by_rpc_method(method: str) -> Capability:
    """The row that serves a JSON-RPC method (for ``HandleEventV1``, the first HandleEvent row;
    both rows share their params, result and handler method)."""
    try:
        return _BY_RPC[method]
    except KeyError:
        raise UnknownCapability(method) from None


def for_event(event_type: str) -> Capability:
    """The HandleEvent row that subscribes to ``event_type`` (e.g. ``payment_intent.created``)."""
    try:
        return _BY_EVENT[event_type]
    except KeyError:
        raise UnknownCapability(f"HandleEvent:{event_type}") from None


def rest_routes() -> tuple[Capability, ...]:
    """One row per distinct REST method + path (the two HandleEvent rows share ``POST /v1/events``)."""
    seen: set[tuple[str, str]] = set()
    rows = []
    for c in CATALOGUE:
        if c.http not in seen:
            seen.add(c.http)
            rows.append(c)
    return tuple(rows)


_VERSION = re.compile(r"^[vV]?(\d+)(?:\.\d+){0,2}$")


def parse_version(version: str) -> int:
    """The major version a capability version string means (spec defect #4).

    ``v1``, ``V1``, ``1``, ``1.0`` and ``1.0.0`` all mean 1. Raises ValueError on anything else.
    """
    match = _VERSION.match(version.strip()) if isinstance(version, str) else None
    if not match:
        raise ValueError(f"not a capability version: {version!r} (expected e.g. 'v1' or '1.0.0')")
    return int(match.group(1))
