"""The virtual card terminal: what a waiter's Dojo card machine does for Pay at Table.

The terminal follows the Pay at Table steps of the domain notes (§2.1): it lists tables (from
SearchTables when registered, otherwise from the tables of payable orders), lists a table's payable
orders (SearchOrders with ``payableOnly`` and ``dineIn.tableId``) under the labels a terminal shows,
prints the bill (GetOrderBill when registered, otherwise the order itself), and takes payments: it
locks the order (when CreateOrderLock is registered), records each part with RecordOrderPayment
and unlocks (DeleteOrderLock). Every call goes through :meth:`Invoker.invoke`, the path Dojo's
products take, so the calls show in the call log like any others.

What goes wrong is told the way a terminal tells it: a short headline for the waiter ("Order in
use at another terminal — try again") and the EPOS's own message underneath.

The pure rules (labels, money, splitting, messages) live in :mod:`.screen`, unit-tested alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dojo_epos.contract import models as m
from dojo_epos.platform.accounts import Scope
from dojo_epos.platform.invoke import Invoker
from dojo_epos.platform.outcome import InvocationResult
from dojo_epos.platform.registry import Registry

from .screen import (
    LABEL_LIMIT,
    TerminalError,
    bill_text,
    currency_of,
    due_of,
    explain_failure,
    format_money,
    order_labels,
    parse_amount,
    plan_payments,
)

__all__ = [
    "LABEL_LIMIT",
    "OrderChoice",
    "PartResult",
    "PayRequest",
    "Receipt",
    "TableChoice",
    "TerminalError",
    "VirtualTerminal",
    "bill_text",
    "currency_of",
    "due_of",
    "explain_failure",
    "format_money",
    "order_labels",
    "parse_amount",
]

#: Pages followed when listing tables or orders (a terminal screen holds far fewer rows).
MAX_PAGES = 5
#: The lock's lifetime: "long", as Dojo uses when ExtendOrderLock is not relied on (§3.1).
LOCK_SECONDS = 300

HEADERS = m.RequestHeaders(dojo_requesting_product="PayAtTable",
                           device_id="tm_virtual_terminal", device_type="Dojo Terminal")


# -- the terminal ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableChoice:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class OrderChoice:
    label: str
    order: m.Order

    @property
    def due(self) -> int:
        return due_of(self.order)


@dataclass
class PartResult:
    """One card payment of the session."""

    number: int
    amount: int
    tip: int
    payment_intent_id: str
    ok: bool = False
    message: str = ""


@dataclass
class Receipt:
    """The end of a payment session, as the terminal's last screen shows it."""

    order_id: str
    currency: str
    ok: bool
    headline: str
    detail: str = ""
    parts: list[PartResult] = field(default_factory=list)
    remaining: int | None = None
    locked: bool = False
    unlocked: bool = False

    @property
    def paid_now(self) -> int:
        return sum(p.amount for p in self.parts if p.ok)

    @property
    def tips_now(self) -> int:
        return sum(p.tip for p in self.parts if p.ok)


@dataclass(frozen=True, slots=True)
class PayRequest:
    """What the waiter chose on the payment screen."""

    order_id: str
    seen_due: int
    mode: str
    parts: int
    custom: int
    tip: int
    nonce: str
    waiter_id: str | None = None


class VirtualTerminal:
    """One card machine, paired with one scope's EPOS."""

    def __init__(self, invoker: Invoker, registry: Registry, scope: Scope) -> None:
        self.invoker = invoker
        self.registry = registry
        self.scope = scope

    async def registered(self) -> set[str]:
        return await self.registry.capability_names(self.scope)

    async def _call(self, capability: str, params: dict[str, Any],
                    waiter_id: str | None = None) -> InvocationResult:
        headers = HEADERS.model_copy(update={"waiter_id": waiter_id}) if waiter_id else HEADERS
        return await self.invoker.invoke(self.scope, capability, params, headers)

    async def tables(self) -> tuple[list[TableChoice], InvocationResult | None]:
        """The tables to choose from, and the failed call if the list could not be fetched."""
        if "SearchTables" in await self.registered():
            found: list[TableChoice] = []
            cursor: dict[str, Any] = {}
            for _ in range(MAX_PAGES):
                result = await self._call("SearchTables", {"cursor": cursor} if cursor else {})
                if not result.ok or not isinstance(result.result, m.PagedTablesResponse):
                    return found, result
                found += [TableChoice(t.id, t.name) for t in result.result.data]
                if not result.result.after:
                    break
                cursor = {"after": result.result.after}
            return found, None
        orders, failed = await self.orders(None)
        ids = sorted({o.order.details.dine_in.table_id for o in orders
                      if o.order.details.dine_in and o.order.details.dine_in.table_id})
        return [TableChoice(i, i) for i in ids], failed

    async def orders(self, table_id: str | None, waiter_id: str | None = None
                     ) -> tuple[list[OrderChoice], InvocationResult | None]:
        """Payable orders (of one table, or all), labelled as the terminal labels them."""
        body: dict[str, Any] = {"payableOnly": True}
        if table_id:
            body["dineIn"] = {"tableId": table_id}
        found: list[m.Order] = []
        failed = None
        for _ in range(MAX_PAGES):
            result = await self._call("SearchOrders", body, waiter_id)
            if not result.ok or not isinstance(result.result, m.PagedOrdersResponse):
                failed = result
                break
            found += [o for o in result.result.data if o.payable is not False]
            if not result.result.after:
                break
            body["cursor"] = {"after": result.result.after}
        labels = order_labels(found)
        choices = [OrderChoice(label, order) for label, order in zip(labels, found, strict=True)]
        return choices, failed

    async def bill(self, order_id: str) -> tuple[m.Order | None, m.OrderBill | None,
                                                InvocationResult | None]:
        """The order and its printable bill (GetOrderBill if registered, else the order)."""
        if "GetOrderBill" in await self.registered():
            result = await self._call("GetOrderBill", {"orderId": order_id})
            if result.ok and isinstance(result.result, m.OrderBill):
                return result.result.order, result.result, None
            return None, None, result
        result = await self._call("GetOrderById", {"orderId": order_id})
        if result.ok and isinstance(result.result, m.Order):
            return result.result, None, None
        return None, None, result

    async def pay(self, request: PayRequest) -> Receipt:
        """Lock, record each part, unlock; stops at the first refusal and says why."""
        registered = await self.registered()
        locking = {"CreateOrderLock", "DeleteOrderLock"} <= registered
        lock_id = f"lock_vt_{request.nonce}"
        receipt = Receipt(request.order_id, "GBP", ok=False, headline="")
        if locking:
            expiry = (datetime.now(UTC) + timedelta(seconds=LOCK_SECONDS)).isoformat()
            fetched = await self._call("CreateOrderLock", {
                "orderId": request.order_id, "lockId": lock_id, "expiry": expiry},
                request.waiter_id)
            receipt.locked = fetched.ok
        else:
            fetched = await self._call("GetOrderById", {"orderId": request.order_id},
                                       request.waiter_id)
        try:
            if not fetched.ok or not isinstance(fetched.result, m.Order):
                return _refused(receipt, fetched.capability, fetched)
            await self._pay_parts(receipt, fetched.result, request, lock_id if locking else None)
            return receipt
        finally:
            if receipt.locked:
                unlocked = await self._call("DeleteOrderLock", {
                    "orderId": request.order_id, "lockId": lock_id}, request.waiter_id)
                receipt.unlocked = unlocked.ok

    async def _pay_parts(self, receipt: Receipt, order: m.Order, request: PayRequest,
                         lock_id: str | None) -> None:
        currency = receipt.currency = currency_of(order)
        due = due_of(order)
        receipt.remaining = due
        if order.payable is False:
            receipt.headline = "Order cannot be paid now — ask staff"
            return
        if due != request.seen_due:
            receipt.headline = "Order changed at the till — check the bill and try again"
            receipt.detail = (f"the bill showed {format_money(request.seen_due, currency)} due, "
                              f"the till now says {format_money(due, currency)}")
            return
        try:
            amounts = plan_payments(due, request.mode, request.parts, request.custom)
        except TerminalError as exc:
            receipt.headline = str(exc)
            return
        for number, amount in enumerate(amounts, start=1):
            intent = _intent_id(request.nonce, number, len(amounts), amount, request.tip)
            part = PartResult(number, amount, request.tip, intent)
            receipt.parts.append(part)
            params: dict[str, Any] = {
                "orderId": order.id, "paymentIntentId": intent,
                "paidAmount": {"value": amount, "currencyCode": currency},
            }
            if request.tip:
                params["tipsAmount"] = {"value": request.tip, "currencyCode": currency}
            if lock_id:
                params["lockId"] = lock_id
            result = await self._call("RecordOrderPayment", params, request.waiter_id)
            if not result.ok or not isinstance(result.result, m.Order):
                part.message = explain_failure("RecordOrderPayment", result)
                _refused(receipt, "RecordOrderPayment", result)
                # Show the balance as the till has it now, not as it was before the refusal.
                latest = await self._call("GetOrderById", {"orderId": order.id},
                                          request.waiter_id)
                if latest.ok and isinstance(latest.result, m.Order):
                    receipt.remaining = due_of(latest.result)
                return
            part.ok, part.message = True, "Approved"
            receipt.remaining = due_of(result.result)
        receipt.ok = True
        receipt.headline = ("Paid in full — thank you" if receipt.remaining == 0 else
                            f"Payment approved — {format_money(receipt.remaining or 0, currency)} "
                            "left to pay")


def _refused(receipt: Receipt, capability: str, result: InvocationResult) -> Receipt:
    receipt.ok = False
    receipt.headline = explain_failure(capability, result)
    if result.error is not None:
        receipt.detail = result.error.debug_message or result.error.error_type.value
    else:
        receipt.detail = result.detail or ""
    return receipt


def _intent_id(nonce: str, number: int, count: int, amount: int, tip: int) -> str:
    """A payment intent id per part: a new one for every new payment, the same one when the same
    screen is submitted twice, so a double tap is counted once by the EPOS (§3.2)."""
    digest = hashlib.sha256(f"{nonce}|{number}|{count}|{amount}|{tip}".encode()).hexdigest()
    return f"pi_vt_{digest[:24]}"
