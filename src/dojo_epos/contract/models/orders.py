"""Orders, their parts, payments and locks, and the printable bill."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import AwareDatetime, Field, StrictBool, StrictInt, model_validator

from dojo_epos.contract.bills import BillSection
from dojo_epos.contract.models.enums import OrderStatus, OrderType
from dojo_epos.contract.models.scalars import CurrencyCode, Int64
from dojo_epos.contract.wire import WireModel

__all__ = [
    "CollectionDetails",
    "CreateOrderLockRequest",
    "CreateOrderRequest",
    "Customer",
    "DineInDetails",
    "Discount",
    "ExtendOrderLockRequest",
    "ExtendOrderLockResponse",
    "Modifier",
    "Money",
    "Order",
    "OrderBill",
    "OrderDetails",
    "OrderItem",
    "OrderSubItem",
    "Payment",
    "PaymentWithLockId",
    "TaxLine",
]


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
