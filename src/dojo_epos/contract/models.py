"""The EPOS Data API contract as pydantic models (pure: no I/O).

Class names follow the schema names of Dojo's published specs. Written by hand from the schemas'
facts (names, types, required fields); where the specs contradict themselves the models follow the
team's decisions in the domain reference, marked "spec defect #n".

Conventions (see :mod:`dojo_epos.contract.wire`): snake_case attributes, camelCase on the wire,
unknown input fields ignored, ``model.to_wire(transport)`` to serialize.

Parameter models (``*Params``) are the WebSocket ``params`` object of each capability: REST path
parameters + REST body + the request headers, in one model. Where a REST body model exists it is the
parent class, so a REST handler can validate ``{**body, **path_params}`` into the same model.

This module also re-exports the bill lines (:mod:`.bills`), the Dojo platform API models
(:mod:`.platform_models`) and the EPOS tester models (:mod:`.tester_models`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    AwareDatetime,
    Field,
    RootModel,
    StrictBool,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)

from dojo_epos.contract.bills import (
    Align,
    BillHorizontalLine,
    BillImage,
    BillLine,
    BillLineType,
    BillLogo,
    BillMerchantAddress,
    BillMerchantEmailAddress,
    BillMerchantName,
    BillMerchantPhoneNumber,
    BillSection,
    BillTaxNumber,
    BillText,
    BillURL,
    HorizontalLineLine,
    HorizontalLineStyle,
    ImageLine,
    LogoLine,
    MerchantAddressLine,
    MerchantEmailAddressLine,
    MerchantNameLine,
    MerchantPhoneNumberLine,
    Size,
    TaxNumberLine,
    TextLine,
    UrlLine,
)
from dojo_epos.contract.platform_models import (
    AllIntegrationsResponse,
    AuthType,
    CapabilityRequest,
    CapabilityResponse,
    DojoManagedIntegrationResponse,
    EventRequest,
    OrderEvent,
    PartyEvent,
    PosEvent,
    PosEventType,
    ReservationEvent,
    RestAuthRequest,
    RestAuthResponse,
    RestBasicAuthRequest,
    RestBasicAuthResponse,
    RestIntegrationRequest,
    RestIntegrationResponse,
    WsIntegrationRequest,
    WsIntegrationResponse,
)
from dojo_epos.contract.tester_models import (
    FlowDescription,
    FlowResult,
    Param,
    RunFlowRequest,
    Status,
    StepResult,
)
from dojo_epos.contract.wire import REST, WS, Transport, WireModel, dump, to_wire

__all__ = [
    # wire
    "REST",
    "WS",
    "Transport",
    "WireModel",
    "dump",
    "to_wire",
    # constants and scalar types
    "CurrencyCode",
    "DEFAULT_LIMIT",
    "Int64",
    "MAX_LIMIT",
    "SUPPORTED_CURRENCIES",
    "TableIds",
    # enums
    "CaptureMode",
    "EPOSErrorType",
    "EventType",
    "OrderStatus",
    "OrderType",
    "PaymentIntentStatus",
    # orders
    "CollectionDetails",
    "Customer",
    "DineInDetails",
    "Discount",
    "Modifier",
    "Money",
    "Order",
    "OrderDetails",
    "OrderItem",
    "OrderSubItem",
    "Payment",
    "PaymentWithLockId",
    "TaxLine",
    "CreateOrderRequest",
    "CreateOrderLockRequest",
    "ExtendOrderLockRequest",
    "ExtendOrderLockResponse",
    # tables, parties, reservations
    "Area",
    "AreaList",
    "Table",
    "Party",
    "PartyDeposit",
    "CreatePartyRequest",
    "UpdatePartyRequest",
    "Reservation",
    "CreateReservationRequest",
    "UpdateReservationRequest",
    # search and paging
    "Cursor",
    "SearchDineInDetails",
    "SearchOrdersRequest",
    "SearchPartiesRequest",
    "SearchReservationsRequest",
    "SearchTablesRequest",
    "PagedOrdersResponse",
    "PagedPartiesResponse",
    "PagedReservationsResponse",
    "PagedTablesResponse",
    # bills
    "Align",
    "BillHorizontalLine",
    "BillImage",
    "BillLine",
    "BillLineType",
    "BillLogo",
    "BillMerchantAddress",
    "BillMerchantEmailAddress",
    "BillMerchantName",
    "BillMerchantPhoneNumber",
    "BillSection",
    "BillTaxNumber",
    "BillText",
    "BillURL",
    "HorizontalLineLine",
    "HorizontalLineStyle",
    "ImageLine",
    "LogoLine",
    "MerchantAddressLine",
    "MerchantEmailAddressLine",
    "MerchantNameLine",
    "MerchantPhoneNumberLine",
    "OrderBill",
    "Size",
    "TaxNumberLine",
    "TextLine",
    "UrlLine",
    # errors, events, results
    "EPOSError",
    "EmptyResult",
    "Event",
    "PaymentIntentEvent",
    # request context and params
    "HTTP_HEADER_NAMES",
    "RequestHeaders",
    "WsParams",
    "CreateOrderLockParams",
    "CreateOrderParams",
    "CreatePartyParams",
    "CreateReservationParams",
    "DeleteOrderLockParams",
    "ExtendOrderLockParams",
    "HandleEventParams",
    "ListAreasParams",
    "OrderIdParams",
    "PartyIdParams",
    "RecordOrderPaymentParams",
    "ReservationIdParams",
    "SearchOrdersParams",
    "SearchPartiesParams",
    "SearchReservationsParams",
    "SearchTablesParams",
    "UpdatePartyParams",
    "UpdateReservationParams",
    # Dojo platform API
    "AllIntegrationsResponse",
    "AuthType",
    "CapabilityRequest",
    "CapabilityResponse",
    "DojoManagedIntegrationResponse",
    "EventRequest",
    "OrderEvent",
    "PartyEvent",
    "PosEvent",
    "PosEventType",
    "ReservationEvent",
    "RestAuthRequest",
    "RestAuthResponse",
    "RestBasicAuthRequest",
    "RestBasicAuthResponse",
    "RestIntegrationRequest",
    "RestIntegrationResponse",
    "WsIntegrationRequest",
    "WsIntegrationResponse",
    # EPOS tester
    "FlowDescription",
    "FlowResult",
    "Param",
    "RunFlowRequest",
    "Status",
    "StepResult",
]

# --- scalars --------------------------------------------------------------------------------------

SUPPORTED_CURRENCIES: frozenset[str] = frozenset({"GBP", "EUR"})
"""Currencies Dojo accepts today. Money itself only checks the code's shape; callers check this."""

DEFAULT_LIMIT = 50
"""Page size used when a search omits ``cursor.limit`` (no default in the spec: spec defect #18)."""

MAX_LIMIT = 100
"""Largest page size a search may ask for."""

Int64 = Annotated[StrictInt, Field(ge=-(2**63), le=2**63 - 1)]
"""A JSON integer in the int64 range; floats, numeric strings and booleans are rejected."""

# spec defect #16: the schema allows 1-10 characters; ISO 4217 alpha-3 is what is meant.
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
"""An ISO 4217 alpha-3 code: exactly three upper-case letters."""

# spec defect #14: some schemas constrain tableIds with minLength, which does nothing on arrays.
TableIds = Annotated[list[str], Field(min_length=1)]
"""At least one table id."""


# --- enums ----------------------------------------------------------------------------------------


class OrderStatus(StrEnum):
    """Lifecycle state of an order on the EPOS."""

    NEW = "New"
    SUBMITTED = "Submitted"
    CONFIRMED = "Confirmed"
    ACCEPTED = "Accepted"
    PREPARING = "Preparing"
    PREPARED = "Prepared"
    READY = "Ready"
    FINALIZED = "Finalized"
    CANCELED = "Canceled"
    FAILED = "Failed"


class OrderType(StrEnum):
    """Eat in at a table, or collect."""

    DINE_IN = "DineIn"
    COLLECTION = "Collection"


class EPOSErrorType(StrEnum):
    """The four error kinds an EPOS may answer with."""

    NOT_FOUND = "NotFound"
    UNEXPECTED_ERROR = "UnexpectedError"
    INVALID_REQUEST = "InvalidRequest"
    CONFLICT = "Conflict"


class PaymentIntentStatus(StrEnum):
    """Status of a Dojo payment intent."""

    CREATED = "Created"
    AUTHORIZED = "Authorized"
    CAPTURED = "Captured"
    REVERSED = "Reversed"
    REFUNDED = "Refunded"
    CANCELED = "Canceled"


class CaptureMode(StrEnum):
    """Whether a payment intent is captured automatically or on request."""

    AUTO = "Auto"
    MANUAL = "Manual"


class EventType(StrEnum):
    """Dojo events delivered to the EPOS through HandleEvent."""

    PAYMENT_INTENT_CREATED = "payment_intent.created"
    PAYMENT_INTENT_STATUS_UPDATED = "payment_intent.status_updated"


# --- money and order parts ------------------------------------------------------------------------


class Money(WireModel):
    """An amount in minor units (100 = 1.00) of a currency."""

    value: Int64
    currency_code: CurrencyCode


class Customer(WireModel):
    """Who the order is for; every field optional."""

    id: str | None = None
    email_address: Annotated[str, Field(max_length=254)] | None = None
    phone_number: Annotated[str, Field(max_length=50)] | None = None
    name: str | None = None


class Modifier(WireModel):
    """A change to an item (e.g. extra cheese); quantity counts per single parent item."""

    name: str
    quantity: StrictInt
    amount_per_modifier: Money
    plu: str


class OrderSubItem(WireModel):
    """An item that belongs to another item; its price excludes the parent's."""

    amount_per_item: Money
    quantity: StrictInt
    note: str | None = None
    name: str
    plu: str
    modifiers: list[Modifier] = Field(default_factory=list)


class OrderItem(WireModel):
    """A line of the order; ``amountPerItem`` is the unit price before modifiers and discounts."""

    amount_per_item: Money
    quantity: StrictInt
    note: str | None = None
    name: str
    plu: str
    sub_items: list[OrderSubItem] = Field(default_factory=list)
    modifiers: list[Modifier] = Field(default_factory=list)


class Discount(WireModel):
    """A discount; no ``affectedPlu`` means the whole order. Percentages are x100 (25% = 2500)."""

    name: str
    affected_plu: str | None = None
    discount_reference: str | None = None
    code: str | None = None
    amount_total: Money
    amount_percentage: StrictInt | None = None


class TaxLine(WireModel):
    """A tax applied to the order. Percentages are x100 (20% = 2000)."""

    id: Annotated[str, Field(max_length=60)] | None = None
    name: Annotated[str, Field(max_length=100)] | None = None
    affected_plu: str | None = None
    amount_percentage: StrictInt | None = None
    amount_total: Money


class Payment(WireModel):
    """One payment recorded against an order; the tip is separate from ``paidAmount``."""

    # spec defect #12: optional in the WS schema, required in REST; we always require it.
    payment_intent_id: str
    paid_amount: Money
    tips_amount: Money | None = None


class DineInDetails(WireModel):
    """Where and for whom a dine-in order is served."""

    table_id: str | None = None
    waiter_id: str | None = None
    party_id: str | None = None
    reservation_id: str | None = None
    ready_at: AwareDatetime | None = None


class CollectionDetails(WireModel):
    """When a collection order is picked up: as soon as possible, or at a time."""

    asap: StrictBool | None = None
    collect_at: AwareDatetime | None = None


class OrderDetails(WireModel):
    """The order type and its matching details object."""

    order_type: OrderType
    dine_in: DineInDetails | None = None
    collection: CollectionDetails | None = None

    @model_validator(mode="after")
    def _details_match_type(self) -> Self:
        # spec defect #17: the schema only asks for one of dineIn/collection, whatever the type.
        if self.order_type is OrderType.DINE_IN and self.dine_in is None:
            raise ValueError("a DineIn order needs dineIn details")
        if self.order_type is OrderType.COLLECTION and self.collection is None:
            raise ValueError("a Collection order needs collection details")
        return self


class Order(WireModel):
    """An order as the EPOS holds it.

    ``totalAmount`` is after discounts and taxes, includes the service charge and excludes tips;
    ``paidAmount`` is the sum of the payments without tips; ``tipsAmount`` the sum of the tips.
    """

    # spec defect #12: optional in the WS schema, required in REST; we always require it.
    id: str
    items: list[OrderItem] = Field(default_factory=list)
    note: str | None = None
    customer: Customer | None = None
    discounts: list[Discount] = Field(default_factory=list)
    tax_lines: list[TaxLine] = Field(default_factory=list)
    status: OrderStatus
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None
    total_amount: Money | None = None
    payments: list[Payment] = Field(default_factory=list)
    payable: StrictBool | None = None
    # spec defect #10: the REST text describes a single payment; this is the sum of payments.
    paid_amount: Money | None = None
    service_charge_amount: Money | None = None
    reference: str | None = None
    tips_amount: Money | None = None
    details: OrderDetails
    display_name: str | None = None


class CreateOrderRequest(WireModel):
    """An order placed by a Dojo product (Order & Pay), already paid or pre-authorised."""

    items: list[OrderItem]
    note: str | None = None
    customer: Customer | None = None
    discounts: list[Discount] = Field(default_factory=list)
    total_amount: Money
    tax_lines: list[TaxLine] = Field(default_factory=list)
    service_charge_amount: Money | None = None
    reference: str | None = None
    dojo_order_id: str
    payments: list[Payment]
    details: OrderDetails
    display_name: str | None = None


class CreateOrderLockRequest(WireModel, extra="forbid"):
    """REST body of CreateOrderLock: exactly ``lockId`` and ``expiry``."""

    lock_id: str
    expiry: AwareDatetime


class ExtendOrderLockRequest(WireModel, extra="forbid"):
    """REST body of ExtendOrderLock: exactly the new ``expiry``."""

    expiry: AwareDatetime


class ExtendOrderLockResponse(WireModel, extra="forbid"):
    """ExtendOrderLock's answer: always the empty object (spec defect #9)."""


class EmptyResult(WireModel, extra="forbid"):
    """The empty ``{}`` result of ExtendOrderLock, deletes and HandleEvent."""


class PaymentWithLockId(WireModel):
    """REST body of RecordOrderPayment: one payment, and the lock it is made under, if any."""

    payment_intent_id: str
    paid_amount: Money
    tips_amount: Money | None = None
    lock_id: str | None = None


class OrderBill(WireModel):
    """A printable bill: header lines, the order, footer lines."""

    header: BillSection
    order: Order
    footer: BillSection


# --- tables, parties, reservations ----------------------------------------------------------------


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


# --- search and paging ----------------------------------------------------------------------------


class Cursor(WireModel):
    """Paging: a page size and at most one of ``before``/``after`` (opaque tokens)."""

    # spec defect #18: no minimum and no default in the spec; None means DEFAULT_LIMIT.
    limit: Annotated[StrictInt, Field(ge=1, le=MAX_LIMIT)] | None = None
    before: str | None = None
    after: str | None = None

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

    table_id: str | None = None
    waiter_id: str | None = None
    party_id: str | None = None
    reservation_id: str | None = None


class SearchOrdersRequest(WireModel):
    """SearchOrders filters; PAT always sends ``payableOnly: true``."""

    dine_in: SearchDineInDetails | None = None
    payable_only: StrictBool | None = None
    cursor: Cursor | None = None


class SearchTablesRequest(WireModel):
    """SearchTables filters."""

    cursor: Cursor | None = None
    area_id: str | None = None
    waiter_id: str | None = None


class SearchPartiesRequest(WireModel):
    """SearchParties filters; parties that have left are returned only with ``completedOnly``."""

    cursor: Cursor | None = None
    completed_only: StrictBool | None = None
    table_id: str | None = None


class SearchReservationsRequest(WireModel):
    """SearchReservations filters."""

    cursor: Cursor | None = None
    table_id: str | None = None
    from_time: AwareDatetime | None = None
    to_time: AwareDatetime | None = None


# spec defect #11: ``data`` is optional in REST and required in WS; we always send it.


class PagedOrdersResponse(WireModel):
    """A page of orders and the cursors to the neighbouring pages."""

    data: list[Order] = Field(default_factory=list)
    before: str | None = None
    after: str | None = None


class PagedTablesResponse(WireModel):
    """A page of tables (one object, not an array: spec defect #5)."""

    data: list[Table] = Field(default_factory=list)
    before: str | None = None
    after: str | None = None


class PagedPartiesResponse(WireModel):
    """A page of parties."""

    data: list[Party] = Field(default_factory=list)
    before: str | None = None
    after: str | None = None


class PagedReservationsResponse(WireModel):
    """A page of reservations."""

    data: list[Reservation] = Field(default_factory=list)
    before: str | None = None
    after: str | None = None


# --- errors and events ----------------------------------------------------------------------------


class EPOSError(WireModel):
    """An error answer: REST non-2xx body, and the JSON-RPC ``error`` member (spec defect #23)."""

    error_type: EPOSErrorType
    debug_message: str | None = None
    trace_id: str | None = None


class PaymentIntentEvent(WireModel):
    """The payment intent an event is about."""

    payment_intent_id: str
    payment_status: PaymentIntentStatus
    capture_mode: CaptureMode


class Event(WireModel):
    """A Dojo event; ``id`` is the de-duplication key (delivery is at least once)."""

    id: str
    account_id: str
    event: EventType
    data: PaymentIntentEvent
    created_at: AwareDatetime


# --- request context and params -------------------------------------------------------------------


HTTP_HEADER_NAMES: Mapping[str, str] = {
    "waiter_id": "waiter-id",
    "dojo_requesting_product": "dojo-requesting-product",
    "device_id": "device-id",
    "device_type": "device-type",
}
"""RequestHeaders attribute -> the REST header carrying it."""


class RequestHeaders(WireModel):
    """Who is asking: REST sends these as HTTP headers, WS inside ``params.headers``."""

    waiter_id: str | None = None
    dojo_requesting_product: str | None = None
    device_id: str | None = None
    device_type: str | None = None

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

    order_id: str


class CreateOrderParams(CreateOrderRequest, WsParams):
    """CreateOrder params."""


class CreateOrderLockParams(WsParams):
    """CreateOrderLock params: the order, Dojo's lock id and when the lock lapses."""

    order_id: str
    lock_id: str
    expiry: AwareDatetime


class DeleteOrderLockParams(WsParams):
    """DeleteOrderLock params."""

    order_id: str
    lock_id: str


class ExtendOrderLockParams(WsParams):
    """ExtendOrderLock params: the lock and its new expiry."""

    order_id: str
    lock_id: str
    expiry: AwareDatetime


class RecordOrderPaymentParams(PaymentWithLockId, WsParams):
    """RecordOrderPayment params: the payment and the order it is for."""

    order_id: str


class ListAreasParams(WsParams):
    """ListAreas params: headers only (WS may omit params altogether: spec defect #26)."""


class SearchTablesParams(SearchTablesRequest, WsParams):
    """SearchTables params."""


class CreatePartyParams(CreatePartyRequest, WsParams):
    """CreateParty params."""


class PartyIdParams(WsParams):
    """Params naming one party: GetPartyById, DeletePartyById."""

    party_id: str


class UpdatePartyParams(UpdatePartyRequest, WsParams):
    """UpdateParty params; the party is named by ``id`` (spec defect #25)."""

    id: str


class SearchPartiesParams(SearchPartiesRequest, WsParams):
    """SearchParties params."""


class CreateReservationParams(CreateReservationRequest, WsParams):
    """CreateReservation params."""


class ReservationIdParams(WsParams):
    """Params naming one reservation: GetReservationById, DeleteReservationById."""

    reservation_id: str


class UpdateReservationParams(UpdateReservationRequest, WsParams):
    """UpdateReservation params; the reservation is named by ``id`` (spec defect #25)."""

    id: str


class SearchReservationsParams(SearchReservationsRequest, WsParams):
    """SearchReservations params."""


class HandleEventParams(Event, WsParams):
    """HandleEvent params: the event and the headers."""

