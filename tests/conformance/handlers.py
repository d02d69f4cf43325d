"""Deterministic in-memory handlers for the conformance suite.

:class:`ConformanceHandler` implements every capability over plain dicts, seeded the same way each
time and with no clock or randomness, so two fresh instances answer the same call identically. That
is what lets the suite compare a transport's answer with the handler's own direct answer.
Magic ids: an order or party called ``boom`` raises an ordinary exception (UnexpectedError path).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeVar

from dojo_epos.contract import models as m
from dojo_epos.contract.errors import EposError
from dojo_epos.epos.handler import EposHandler, RequestContext

T = TypeVar("T")

SEEDED_AT = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
LOCK_EXPIRY = datetime(2030, 1, 1, tzinfo=UTC)
BOOM = "boom"


def gbp(value: int) -> m.Money:
    return m.Money(value=value, currency_code="GBP")


def _page(items: list[T], cursor: m.Cursor | None) -> tuple[list[T], str | None, str | None]:
    """Offset paging: tokens are stringified offsets."""
    cursor = cursor or m.Cursor()
    limit = cursor.effective_limit
    start = 0
    token = cursor.after or cursor.before
    if token is not None:
        if not token.isdigit() or int(token) > len(items):
            raise EposError.invalid_request(f"cursor: unknown token {token!r}")
        start = int(token) if cursor.after is not None else max(0, int(token) - limit)
    end = min(len(items), start + limit)
    before = str(start) if start > 0 else None
    after = str(end) if end < len(items) else None
    return items[start:end], before, after


class ConformanceHandler(EposHandler):
    """Every capability, in memory, deterministic."""

    def __init__(self) -> None:
        self.contexts: list[RequestContext] = []
        self.events: dict[str, m.Event] = {}
        self.orders: dict[str, m.Order] = {}
        self.locks: dict[str, tuple[str, datetime]] = {"ord_3": ("lk_seed", LOCK_EXPIRY)}
        self.areas = [
            m.Area(id="a1", name="Downstairs", waiter_ids=["w1"]),
            m.Area(id="a2", name="Terrace"),
        ]
        self.tables = [
            m.Table(id="t1", name="Table 1", max_covers=4, area_id="a1", waiter_ids=["w1"]),
            m.Table(id="t2", name="Table 2", max_covers=2, area_id="a1"),
            m.Table(id="t3", name="Table 3", max_covers=6, area_id="a2"),
        ]
        self.parties: dict[str, m.Party] = {
            "p_1": m.Party(id="p_1", name="Smith", covers=2, table_ids=["t1"], status="Seated",
                           start_time=SEEDED_AT),
        }
        self.reservations: dict[str, m.Reservation] = {
            "r_1": m.Reservation(id="r_1", name="Jones", covers=4, start_time=SEEDED_AT,
                                 end_time=SEEDED_AT.replace(hour=14), table_ids=["t3"]),
        }
        self.counter = 0
        burger = m.OrderItem(
            name="Burger", plu="BUR", quantity=2, amount_per_item=gbp(1150),
            modifiers=[m.Modifier(name="Cheese", plu="CHE", quantity=1,
                                  amount_per_modifier=gbp(100))])
        for order_id, table, total, status in (
            ("ord_1", "t1", 2500, m.OrderStatus.CONFIRMED),
            ("ord_3", "t2", 1000, m.OrderStatus.CONFIRMED),
        ):
            self.orders[order_id] = m.Order(
                id=order_id, status=status, items=[burger], total_amount=gbp(total),
                paid_amount=gbp(0), payable=True, created_at=SEEDED_AT, updated_at=SEEDED_AT,
                details=m.OrderDetails(order_type=m.OrderType.DINE_IN,
                                       dine_in=m.DineInDetails(table_id=table, waiter_id="w1")),
                display_name=f"Table {table[1:]}")
        self.orders["ord_2"] = m.Order(
            id="ord_2", status=m.OrderStatus.NEW, total_amount=gbp(1000), payable=True,
            created_at=SEEDED_AT,
            details=m.OrderDetails(order_type=m.OrderType.COLLECTION,
                                   collection=m.CollectionDetails(asap=True)))

    def _next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}_{self.counter}"

    def _order(self, order_id: str, ctx: RequestContext) -> m.Order:
        self.contexts.append(ctx)
        if order_id == BOOM:
            raise RuntimeError("the conformance handler failed on purpose")
        try:
            return self.orders[order_id]
        except KeyError:
            raise EposError.not_found(f"no order {order_id}") from None

    # -- orders -----------------------------------------------------------------------------
    async def search_orders(
        self, params: m.SearchOrdersParams, ctx: RequestContext
    ) -> m.PagedOrdersResponse:
        self.contexts.append(ctx)
        found = list(self.orders.values())
        if params.payable_only:
            found = [o for o in found if o.payable]
        if params.dine_in is not None:
            for attr in ("table_id", "waiter_id", "party_id", "reservation_id"):
                wanted = getattr(params.dine_in, attr)
                if wanted is not None:
                    found = [o for o in found
                             if o.details.dine_in and getattr(o.details.dine_in, attr) == wanted]
        data, before, after = _page(found, params.cursor)
        return m.PagedOrdersResponse(data=data, before=before, after=after)

    async def get_order_by_id(self, params: m.OrderIdParams, ctx: RequestContext) -> m.Order:
        return self._order(params.order_id, ctx)

    async def create_order(self, params: m.CreateOrderParams, ctx: RequestContext) -> m.Order:
        self.contexts.append(ctx)
        paid = sum(p.paid_amount.value for p in params.payments)
        order = m.Order(
            id=self._next_id("ord"), status=m.OrderStatus.CONFIRMED, items=params.items,
            note=params.note, customer=params.customer, discounts=params.discounts,
            tax_lines=params.tax_lines, total_amount=params.total_amount,
            payments=params.payments, paid_amount=gbp(paid),
            payable=paid < params.total_amount.value, created_at=SEEDED_AT,
            details=params.details, display_name=params.display_name,
            reference=params.dojo_order_id)
        self.orders[order.id] = order
        return order

    async def cancel_order_by_id(self, params: m.OrderIdParams, ctx: RequestContext) -> m.Order:
        order = self._order(params.order_id, ctx)
        if order.payments:
            raise EposError.conflict(f"order {order.id} has payments and cannot be cancelled")
        order = order.model_copy(update={"status": m.OrderStatus.CANCELED, "payable": False})
        self.orders[order.id] = order
        return order

    async def get_order_bill(self, params: m.OrderIdParams, ctx: RequestContext) -> m.OrderBill:
        order = self._order(params.order_id, ctx)
        header = m.BillSection(lines=[
            m.MerchantNameLine(merchant_name=m.BillMerchantName(name="The Test Kitchen")),
            m.TextLine(text=m.BillText(value="Thank you", size=m.Size.HEADER1, bold=True)),
        ])
        footer = m.BillSection(lines=[
            # Both URL flags set: their casing differs by transport (spec defect #13).
            m.UrlLine(url=m.BillURL(url="https://example.test/r", show_qr=True, show_url=False)),
            m.HorizontalLineLine(horizontal_line=m.BillHorizontalLine(
                line=m.HorizontalLineStyle.DOUBLE)),
            m.TaxNumberLine(tax_number=m.BillTaxNumber(name="VAT", number="GB123")),
        ])
        return m.OrderBill(header=header, order=order, footer=footer)

    # -- locks and payments -----------------------------------------------------------------
    async def create_order_lock(
        self, params: m.CreateOrderLockParams, ctx: RequestContext
    ) -> m.Order:
        order = self._order(params.order_id, ctx)
        held = self.locks.get(order.id)
        if held is not None and held[0] != params.lock_id:
            raise EposError.conflict(f"order {order.id} is locked by {held[0]}")
        self.locks[order.id] = (params.lock_id, params.expiry)
        return order

    async def delete_order_lock(
        self, params: m.DeleteOrderLockParams, ctx: RequestContext
    ) -> m.Order:
        order = self._order(params.order_id, ctx)
        if self.locks.get(order.id, ("",))[0] == params.lock_id:
            del self.locks[order.id]
        return order

    async def extend_order_lock(
        self, params: m.ExtendOrderLockParams, ctx: RequestContext
    ) -> m.EmptyResult:
        order = self._order(params.order_id, ctx)
        held = self.locks.get(order.id)
        if held is None:
            raise EposError.not_found(f"no lock {params.lock_id} on order {order.id}")
        if held[0] != params.lock_id:
            raise EposError.conflict(f"order {order.id} is locked by {held[0]}")
        self.locks[order.id] = (params.lock_id, params.expiry)
        return m.EmptyResult()

    async def record_order_payment(
        self, params: m.RecordOrderPaymentParams, ctx: RequestContext
    ) -> m.Order:
        order = self._order(params.order_id, ctx)
        held = self.locks.get(order.id)
        if held is not None and held[0] != params.lock_id:
            raise EposError.conflict(f"order {order.id} is locked by {held[0]}")
        if any(p.payment_intent_id == params.payment_intent_id for p in order.payments):
            return order  # a retry: counted once
        payment = m.Payment(payment_intent_id=params.payment_intent_id,
                            paid_amount=params.paid_amount, tips_amount=params.tips_amount)
        paid = (order.paid_amount.value if order.paid_amount else 0) + params.paid_amount.value
        total = order.total_amount.value if order.total_amount else 0
        if paid > total:
            raise EposError.conflict(f"payment exceeds the {total - paid + params.paid_amount.value}"
                                     " still due")
        tips = (order.tips_amount.value if order.tips_amount else 0) + (
            params.tips_amount.value if params.tips_amount else 0)
        order = order.model_copy(update={
            "payments": [*order.payments, payment], "paid_amount": gbp(paid),
            "tips_amount": gbp(tips), "payable": paid < total})
        self.orders[order.id] = order
        return order

    # -- tables and areas -------------------------------------------------------------------
    async def list_areas(self, params: m.ListAreasParams, ctx: RequestContext) -> m.AreaList:
        self.contexts.append(ctx)
        return m.AreaList(self.areas)

    async def search_tables(
        self, params: m.SearchTablesParams, ctx: RequestContext
    ) -> m.PagedTablesResponse:
        self.contexts.append(ctx)
        found = [t for t in self.tables
                 if (params.area_id is None or t.area_id == params.area_id)
                 and (params.waiter_id is None or params.waiter_id in t.waiter_ids)]
        data, before, after = _page(found, params.cursor)
        return m.PagedTablesResponse(data=data, before=before, after=after)

    # -- parties ----------------------------------------------------------------------------
    def _party(self, party_id: str, ctx: RequestContext) -> m.Party:
        self.contexts.append(ctx)
        if party_id == BOOM:
            raise RuntimeError("the conformance handler failed on purpose")
        try:
            return self.parties[party_id]
        except KeyError:
            raise EposError.not_found(f"no party {party_id}") from None

    async def create_party(self, params: m.CreatePartyParams, ctx: RequestContext) -> m.Party:
        self.contexts.append(ctx)
        fields = params.model_dump(exclude={"headers", "dojo_party_id", "dojo_reservation_id"})
        party = m.Party(id=self._next_id("party"), **{**fields, "status": params.status or "Seated"})
        self.parties[party.id] = party
        return party

    async def get_party_by_id(self, params: m.PartyIdParams, ctx: RequestContext) -> m.Party:
        return self._party(params.party_id, ctx)

    async def update_party_by_id(
        self, params: m.UpdatePartyParams, ctx: RequestContext
    ) -> m.Party:
        old = self._party(params.id, ctx)
        fields = params.model_dump(exclude={"headers", "dojo_party_id"})
        party = m.Party(**{**fields, "reservation_id": old.reservation_id})
        self.parties[party.id] = party
        return party

    async def delete_party_by_id(
        self, params: m.PartyIdParams, ctx: RequestContext
    ) -> m.EmptyResult:
        self._party(params.party_id, ctx)
        del self.parties[params.party_id]
        return m.EmptyResult()

    async def search_parties(
        self, params: m.SearchPartiesParams, ctx: RequestContext
    ) -> m.PagedPartiesResponse:
        self.contexts.append(ctx)
        found = [p for p in self.parties.values()
                 if (p.end_time is not None) == bool(params.completed_only)
                 and (params.table_id is None or params.table_id in p.table_ids)]
        data, before, after = _page(found, params.cursor)
        return m.PagedPartiesResponse(data=data, before=before, after=after)

    # -- reservations -----------------------------------------------------------------------
    def _reservation(self, reservation_id: str, ctx: RequestContext) -> m.Reservation:
        self.contexts.append(ctx)
        try:
            return self.reservations[reservation_id]
        except KeyError:
            raise EposError.not_found(f"no reservation {reservation_id}") from None

    async def create_reservation(
        self, params: m.CreateReservationParams, ctx: RequestContext
    ) -> m.Reservation:
        self.contexts.append(ctx)
        fields = params.model_dump(exclude={"headers", "dojo_reservation_id"})
        reservation = m.Reservation(id=self._next_id("res"), **fields)
        self.reservations[reservation.id] = reservation
        return reservation

    async def get_reservation_by_id(
        self, params: m.ReservationIdParams, ctx: RequestContext
    ) -> m.Reservation:
        return self._reservation(params.reservation_id, ctx)

    async def update_reservation_by_id(
        self, params: m.UpdateReservationParams, ctx: RequestContext
    ) -> m.Reservation:
        self._reservation(params.id, ctx)
        fields = params.model_dump(exclude={"headers", "dojo_reservation_id"})
        reservation = m.Reservation(**fields)
        self.reservations[reservation.id] = reservation
        return reservation

    async def delete_reservation_by_id(
        self, params: m.ReservationIdParams, ctx: RequestContext
    ) -> m.EmptyResult:
        self._reservation(params.reservation_id, ctx)
        del self.reservations[params.reservation_id]
        return m.EmptyResult()

    async def search_reservations(
        self, params: m.SearchReservationsParams, ctx: RequestContext
    ) -> m.PagedReservationsResponse:
        self.contexts.append(ctx)
        found = [r for r in self.reservations.values()
                 if (params.table_id is None or params.table_id in r.table_ids)
                 and (params.from_time is None or r.end_time >= params.from_time)
                 and (params.to_time is None or r.start_time <= params.to_time)]
        data, before, after = _page(found, params.cursor)
        return m.PagedReservationsResponse(data=data, before=before, after=after)

    # -- events -----------------------------------------------------------------------------
    async def handle_event(self, params: m.HandleEventParams, ctx: RequestContext) -> m.EmptyResult:
        self.contexts.append(ctx)
        self.events.setdefault(params.id, m.Event.model_validate(params.model_dump()))
        return m.EmptyResult()


class OrdersOnlyHandler(EposHandler):
    """The minimal Pay at Table set plus one event type; every other capability is not offered."""

    handled_events = frozenset({"payment_intent.status_updated"})

    def __init__(self) -> None:
        self.inner = ConformanceHandler()

    async def search_orders(
        self, params: m.SearchOrdersParams, ctx: RequestContext
    ) -> m.PagedOrdersResponse:
        return await self.inner.search_orders(params, ctx)

    async def get_order_by_id(self, params: m.OrderIdParams, ctx: RequestContext) -> m.Order:
        return await self.inner.get_order_by_id(params, ctx)

    async def record_order_payment(
        self, params: m.RecordOrderPaymentParams, ctx: RequestContext
    ) -> m.Order:
        return await self.inner.record_order_payment(params, ctx)

    async def handle_event(self, params: m.HandleEventParams, ctx: RequestContext) -> m.EmptyResult:
        return await self.inner.handle_event(params, ctx)
