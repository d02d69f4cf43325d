"""Orders, their parts, payments and locks, and the printable bill."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, StrictBool, model_validator

from dojo_epos.contract.bills import BillSection
from dojo_epos.contract.models.enums import OrderStatus, OrderType
from dojo_epos.contract.models.scalars import (
    INT64_MAX,
    CurrencyCode,
    DojoId,
    Id,
    Instant,
    Int32,
    Int64,
    Label,
    Name,
    Text,
)
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
    "order_magnitude",
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

    id: Text | None = None
    email_address: Annotated[Text, Field(max_length=254)] | None = None
    phone_number: Annotated[Text, Field(max_length=50)] | None = None
    name: Name | None = None


class Modifier(WireModel):
    """A change to an item (e.g. extra cheese); quantity counts per single parent item."""

    name: Name
    quantity: Int32
    amount_per_modifier: Money
    plu: Id


class OrderSubItem(WireModel):
    """An item that belongs to another item; its price excludes the parent's."""

    amount_per_item: Money
    quantity: Int32
    note: Text | None = None
    name: Name
    plu: Id
    modifiers: list[Modifier] = Field(default_factory=list)


class OrderItem(WireModel):
    """A line of the order; ``amountPerItem`` is the unit price before modifiers and discounts."""

    amount_per_item: Money
    quantity: Int32
    note: Text | None = None
    name: Name
    plu: Id
    sub_items: list[OrderSubItem] = Field(default_factory=list)
    modifiers: list[Modifier] = Field(default_factory=list)


class Discount(WireModel):
    """A discount; no ``affectedPlu`` means the whole order. Percentages are x100 (25% = 2500)."""

    name: Name
    affected_plu: Id | None = None
    discount_reference: Label | None = None
    code: Label | None = None
    amount_total: Money
    amount_percentage: Int32 | None = None


class TaxLine(WireModel):
    """A tax applied to the order. Percentages are x100 (20% = 2000)."""

    id: Annotated[Text, Field(max_length=60)] | None = None
    name: Annotated[Text, Field(max_length=100)] | None = None
    affected_plu: Id | None = None
    amount_percentage: Int32 | None = None
    amount_total: Money


class Payment(WireModel):
    """One payment recorded against an order; the tip is separate from ``paidAmount``."""

    # spec defect #12: optional in the WS schema, required in REST; we always require it.
    payment_intent_id: DojoId
    paid_amount: Money
    tips_amount: Money | None = None


class DineInDetails(WireModel):
    """Where and for whom a dine-in order is served."""

    table_id: Id | None = None
    waiter_id: Id | None = None
    party_id: Id | None = None
    reservation_id: Id | None = None
    ready_at: Instant | None = None


class CollectionDetails(WireModel):
    """When a collection order is picked up: as soon as possible, or at a time."""

    asap: StrictBool | None = None
    collect_at: Instant | None = None


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
    id: Id
    items: list[OrderItem] = Field(default_factory=list)
    note: Text | None = None
    customer: Customer | None = None
    discounts: list[Discount] = Field(default_factory=list)
    tax_lines: list[TaxLine] = Field(default_factory=list)
    status: OrderStatus
    created_at: Instant | None = None
    updated_at: Instant | None = None
    total_amount: Money | None = None
    payments: list[Payment] = Field(default_factory=list)
    payable: StrictBool | None = None
    # spec defect #10: the REST text describes a single payment; this is the sum of payments.
    paid_amount: Money | None = None
    service_charge_amount: Money | None = None
    reference: Label | None = None
    tips_amount: Money | None = None
    details: OrderDetails
    display_name: Label | None = None


class CreateOrderRequest(WireModel):
    """An order placed by a Dojo product (Order & Pay), already paid or pre-authorised."""

    items: list[OrderItem]
    note: Text | None = None
    customer: Customer | None = None
    discounts: list[Discount] = Field(default_factory=list)
    total_amount: Money
    tax_lines: list[TaxLine] = Field(default_factory=list)
    service_charge_amount: Money | None = None
    reference: Label | None = None
    dojo_order_id: DojoId
    payments: list[Payment]
    details: OrderDetails
    display_name: Label | None = None

    @model_validator(mode="after")
    def _sums_fit_64_bits(self) -> Self:
        # Each amount is int64, but their sums are stored and shown too (subtotal, paid, tips).
        if order_magnitude(self.items, self.discounts, self.tax_lines, self.service_charge_amount) \
                > INT64_MAX:
            raise ValueError("items: quantities times amounts, summed with discounts, taxes and the "
                             "service charge, exceed a 64-bit integer")
        for name, total in (("paidAmount", sum(p.paid_amount.value for p in self.payments)),
                            ("tipsAmount", sum(p.tips_amount.value for p in self.payments
                                               if p.tips_amount is not None))):
            if abs(total) > INT64_MAX:
                raise ValueError(f"payments: the {name}s add up to more than a 64-bit integer")
        return self


def _per_item(item: OrderItem | OrderSubItem) -> int:
    mods = sum(abs(mod.quantity) * abs(mod.amount_per_modifier.value) for mod in item.modifiers)
    subs = sum(abs(sub.quantity) * _per_item(sub) for sub in item.sub_items) \
        if isinstance(item, OrderItem) else 0
    return abs(item.amount_per_item.value) + mods + subs


def order_magnitude(items: list[OrderItem], discounts: list[Discount], tax_lines: list[TaxLine],
                    service_charge: Money | None = None) -> int:
    """An upper bound of every partial sum of the order's amounts (all taken as positive).

    When it fits 64 bits so does every subtotal, total and bill line an EPOS computes from them,
    however it combines them.
    """
    lines = sum(abs(item.quantity) * _per_item(item) for item in items)
    return (lines + sum(abs(d.amount_total.value) for d in discounts)
            + sum(abs(t.amount_total.value) for t in tax_lines)
            + (abs(service_charge.value) if service_charge is not None else 0))


class CreateOrderLockRequest(WireModel, extra="forbid"):
    """REST body of CreateOrderLock: exactly ``lockId`` and ``expiry``."""

    lock_id: DojoId
    expiry: Instant


class ExtendOrderLockRequest(WireModel, extra="forbid"):
    """REST body of ExtendOrderLock: exactly the new ``expiry``."""

    expiry: Instant


class ExtendOrderLockResponse(WireModel, extra="forbid"):
    """ExtendOrderLock's answer: always the empty object (spec defect #9)."""


class PaymentWithLockId(WireModel):
    """REST body of RecordOrderPayment: one payment, and the lock it is made under, if any."""

    payment_intent_id: DojoId
    paid_amount: Money
    tips_amount: Money | None = None
    lock_id: DojoId | None = None


class OrderBill(WireModel):
    """A printable bill: header lines, the order, footer lines."""

    header: BillSection
    order: Order
    footer: BillSection
