"""The flows the tester runs: each one exercises an EPOS the way a Dojo product would.

Names follow Dojo's tool: a flow is requested by its name (``Get Order``), its result is called
``Get Order through EPOS Data API``, and its first step checks the capabilities it needs are
registered, failing with Dojo's own two sentences when one is missing (domain notes §5).

Every step checks the contract (the invoker validates each reply against our models, so a reply that
breaks the schema fails the step naming the field) *and* the business rule (ids match, filters hold,
amounts add up, a retried payment is counted once).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from dojo_epos.contract import models as m
from dojo_epos.contract.capabilities import for_event
from dojo_epos.contract.errors import EposError, ErrorType
from dojo_epos.contract.tester_models import Param

from .engine import FlowDef, FlowRun, StepFailed

__all__ = ["FLOWS", "flow_by_name"]

MAX_PAGES = 20


def _p(name: str, type_: str, description: str, *, required: bool = False,
       default: str | None = None) -> Param:
    return Param(name=name, type=type_, required=required, description=description, default=default)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _uid(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def _money(value: int, currency: str) -> dict[str, Any]:
    return {"value": value, "currencyCode": currency}


def _amount(money: m.Money | None) -> int:
    return money.value if money is not None else 0


def _as_bool(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "y"}


def _as_int(run: FlowRun, name: str, default: int, minimum: int = 0) -> int:
    raw = run.param(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise StepFailed(f"parameter {name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise StepFailed(f"parameter {name} must be at least {minimum}")
    return value


# -- single-capability flows -----------------------------------------------------------------


async def get_order(run: FlowRun) -> None:
    order_id = str(run.param("orderId"))
    await run.require("GetOrderById", label="GetOrder")
    async with run.step(f"Call GetOrder with orderId {order_id}") as step:
        order: m.Order = await run.call(step, "GetOrderById", {"orderId": order_id})
        step.check(order.id == order_id, f"asked for order {order_id}, got order {order.id}")
    async with run.step("Check the order's amounts are consistent") as step:
        _check_order_amounts(step, order)


def _check_order_amounts(step: Any, order: m.Order) -> None:
    paid = sum(p.paid_amount.value for p in order.payments)
    tips = sum(_amount(p.tips_amount) for p in order.payments)
    if order.paid_amount is not None:
        step.check(order.paid_amount.value == paid,
                   f"paidAmount {order.paid_amount.value} is not the sum of the payments ({paid})")
    if order.tips_amount is not None and order.payments:
        step.check(order.tips_amount.value == tips,
                   f"tipsAmount {order.tips_amount.value} is not the sum of the tips ({tips})")
    if order.total_amount is not None and order.paid_amount is not None:
        step.check(order.paid_amount.value <= order.total_amount.value,
                   f"paidAmount {order.paid_amount.value} exceeds totalAmount "
                   f"{order.total_amount.value}")
        if order.paid_amount.value >= order.total_amount.value and order.total_amount.value > 0:
            step.check(order.payable is not True, "a fully paid order is still payable")
    currencies = {mo.currency_code for mo in (order.total_amount, order.paid_amount,
                                              order.tips_amount) if mo is not None}
    step.check(len(currencies) <= 1, f"the order mixes currencies {sorted(currencies)}")
    step.info(f"total {_amount(order.total_amount)}, paid {paid}, tips {tips}, "
              f"payable {order.payable}")


async def _page_through(run: FlowRun, step: Any, capability: str, body: dict[str, Any],
                        limit: int) -> list[Any]:
    """Follow ``after`` cursors to the end; every item must appear once."""
    items: list[Any] = []
    seen: set[str] = set()
    after: str | None = None
    for page_no in range(MAX_PAGES):
        cursor: dict[str, Any] = {"limit": limit}
        if after:
            cursor["after"] = after
        page = await run.call(step, capability, {**body, "cursor": cursor})
        step.check(len(page.data) <= limit,
                   f"page {page_no + 1} has {len(page.data)} items, more than limit {limit}")
        for item in page.data:
            key = getattr(item, "id", None) or repr(item)
            step.check(key not in seen, f"item {key} appears on two pages")
            seen.add(key)
            items.append(item)
        if page_no == 0:
            step.check(page.before is None, "the first page has a before cursor")
        if not page.after:
            break
        after = page.after
    else:
        step.info(f"stopped after {MAX_PAGES} pages")
    return items


async def _negative_cursor_checks(run: FlowRun, capability: str) -> None:
    async with run.step("Check malformed paging is refused with InvalidRequest") as step:
        await run.call(step, capability, {"cursor": {"limit": 101}},
                       expect_error=ErrorType.INVALID_REQUEST)
        await run.call(step, capability, {"cursor": {"limit": 5, "before": "a", "after": "b"}},
                       expect_error=ErrorType.INVALID_REQUEST)


async def search_orders(run: FlowRun) -> None:
    table_id, waiter_id = run.param("tableId"), run.param("waiterId")
    payable_only = _as_bool(run.param("payableOnly"), True)
    limit = _as_int(run, "pageSize", 10, minimum=1)
    await run.require("SearchOrders")
    body: dict[str, Any] = {"payableOnly": payable_only}
    dine_in = {k: v for k, v in (("tableId", table_id), ("waiterId", waiter_id)) if v}
    if dine_in:
        body["dineIn"] = dine_in
    async with run.step(f"Search orders {body} and page through them") as step:
        orders: list[m.Order] = await _page_through(run, step, "SearchOrders", body, limit)
        step.info(f"{len(orders)} orders found")
    async with run.step("Check every order matches the filters") as step:
        for order in orders:
            if payable_only:
                step.check(order.payable is True, f"order {order.id} is not payable")
            dine = order.details.dine_in
            if table_id:
                step.check(dine is not None and dine.table_id == table_id,
                           f"order {order.id} is not on table {table_id}")
            if waiter_id:
                step.check(dine is not None and dine.waiter_id == waiter_id,
                           f"order {order.id} is not waiter {waiter_id}'s")
    await _negative_cursor_checks(run, "SearchOrders")


async def search_tables(run: FlowRun) -> None:
    area_id = run.param("areaId")
    await run.require("SearchTables")
    body = {"areaId": area_id} if area_id else {}
    async with run.step("Search tables and page through them") as step:
        tables: list[m.Table] = await _page_through(run, step, "SearchTables", body, 10)
        step.info(f"{len(tables)} tables found")
        for table in tables:
            if area_id:
                step.check(table.area_id == area_id, f"table {table.id} is not in area {area_id}")
    await _negative_cursor_checks(run, "SearchTables")


async def list_areas(run: FlowRun) -> None:
    await run.require("ListAreas")
    async with run.step("Call ListAreas") as step:
        areas: m.AreaList = await run.call(step, "ListAreas", {})
        ids = [a.id for a in areas.root]
        step.check(len(ids) == len(set(ids)), "area ids are not unique")
        step.info(f"{len(ids)} areas")


async def get_bill(run: FlowRun) -> None:
    order_id = str(run.param("orderId"))
    await run.require("GetOrderBill")
    async with run.step(f"Call GetOrderBill with orderId {order_id}") as step:
        bill: m.OrderBill = await run.call(step, "GetOrderBill", {"orderId": order_id})
        step.check(bill.order.id == order_id, f"the bill is for order {bill.order.id}")
        step.info(f"{len(bill.header.lines)} header lines, {len(bill.footer.lines)} footer lines")
    async with run.step("Check the bill's order amounts") as step:
        _check_order_amounts(step, bill.order)


async def cancel_order(run: FlowRun) -> None:
    order_id = str(run.param("orderId"))
    await run.require("CancelOrderById")
    async with run.step(f"Cancel order {order_id}") as step:
        order = await run.call(step, "CancelOrderById", {"orderId": order_id},
                               allow_error=ErrorType.CONFLICT)
        if isinstance(order, EposError):
            step.info(f"the EPOS refused cleanly with Conflict: {order.debug_message}")
            return
        step.check(order.id == order_id, f"cancelled order {order.id}, not {order_id}")
        step.check(order.status is m.OrderStatus.CANCELED,
                   f"status is {order.status.value}, not Canceled")
        step.check(order.payable is not True, "a cancelled order is still payable")


# -- locking ------------------------------------------------------------------------------------


def _expiry(seconds: int) -> str:
    return _iso(datetime.now(UTC) + timedelta(seconds=seconds))


async def lock_order(run: FlowRun) -> None:
    order_id = str(run.param("orderId"))
    await run.require("CreateOrderLock", "DeleteOrderLock", "ExtendOrderLock")
    first, second = _uid("lock"), _uid("lock")
    async with run.step(f"Lock order {order_id}") as step:
        order: m.Order = await run.call(step, "CreateOrderLock",
                                        {"orderId": order_id, "lockId": first,
                                         "expiry": _expiry(120)})
        step.check(order.id == order_id, f"the lock returned order {order.id}")
    async with run.step("Lock it again with the same lockId (harmless)") as step:
        await run.call(step, "CreateOrderLock",
                       {"orderId": order_id, "lockId": first, "expiry": _expiry(120)})
    async with run.step("A second lockId is refused with Conflict") as step:
        await run.call(step, "CreateOrderLock",
                       {"orderId": order_id, "lockId": second, "expiry": _expiry(120)},
                       expect_error=ErrorType.CONFLICT)
    async with run.step("Read the order while it is locked") as step:
        if "GetOrderById" in await run.registered():
            await run.call(step, "GetOrderById", {"orderId": order_id})
        else:
            step.info("GetOrderById is not registered; skipped")
    async with run.step("Extend the lock") as step:
        await run.call(step, "ExtendOrderLock",
                       {"orderId": order_id, "lockId": first, "expiry": _expiry(300)})
    async with run.step("Unlock") as step:
        await run.call(step, "DeleteOrderLock", {"orderId": order_id, "lockId": first})
    async with run.step("Unlock again (idempotent)") as step:
        await run.call(step, "DeleteOrderLock", {"orderId": order_id, "lockId": first})
    async with run.step("Lock again with the second lockId, then unlock") as step:
        await run.call(step, "CreateOrderLock",
                       {"orderId": order_id, "lockId": second, "expiry": _expiry(120)})
        await run.call(step, "DeleteOrderLock", {"orderId": order_id, "lockId": second})


# -- Pay at Table ---------------------------------------------------------------------------------


def _split(amount: int, parts: int) -> list[int]:
    """Split ``amount`` into ``parts`` whole shares that add up exactly (first ones larger)."""
    base, extra = divmod(amount, parts)
    return [base + (1 if i < extra else 0) for i in range(parts) if base + (1 if i < extra else 0)]


async def pay_at_table(run: FlowRun) -> None:
    table_id, waiter_id = run.param("tableId"), run.param("waiterId")
    splits = _as_int(run, "splits", 2, minimum=1)
    tip = _as_int(run, "tip", 0)
    await run.require("SearchOrders", "GetOrderById", "RecordOrderPayment")
    registered = await run.registered()
    locking = {"CreateOrderLock", "DeleteOrderLock"} <= registered
    dine_in = {k: v for k, v in (("tableId", table_id), ("waiterId", waiter_id)) if v}

    async with run.step(f"Search payable orders {dine_in or '(all)'}") as step:
        body: dict[str, Any] = {"payableOnly": True}
        if dine_in:
            body["dineIn"] = dine_in
        page: m.PagedOrdersResponse = await run.call(step, "SearchOrders", body)
        candidates = [o for o in page.data
                      if o.payable and _amount(o.total_amount) > _amount(o.paid_amount)]
        step.check(bool(candidates), "no payable order with an amount due was found")
        order = candidates[0]
        step.info(f"paying order {order.id} ({order.display_name or ''})")

    lock_id = _uid("lock") if locking else None
    async with run.step("Lock the order" if locking else "Fetch the order") as step:
        if locking:
            order = await run.call(step, "CreateOrderLock", {
                "orderId": order.id, "lockId": lock_id, "expiry": _expiry(300)})
        else:
            order = await run.call(step, "GetOrderById", {"orderId": order.id})
        step.check(order.payable is True, f"order {order.id} is no longer payable")
    try:
        if "GetOrderBill" in registered:
            async with run.step("Fetch the bill") as step:
                bill: m.OrderBill = await run.call(step, "GetOrderBill", {"orderId": order.id})
                step.check(bill.order.id == order.id, "the bill is for another order")
        await _pay_in_parts(run, order, splits, tip, lock_id)
    finally:
        if locking:
            async with run.step("Unlock the order") as step:
                await run.call(step, "DeleteOrderLock", {"orderId": order.id, "lockId": lock_id})
    async with run.step("Check the order is settled") as step:
        final: m.Order = await run.call(step, "GetOrderById", {"orderId": order.id})
        step.check(_amount(final.paid_amount) == _amount(final.total_amount),
                   f"paidAmount {_amount(final.paid_amount)} != totalAmount "
                   f"{_amount(final.total_amount)}")
        step.check(final.payable is not True, "the fully paid order is still payable")
        _check_order_amounts(step, final)


async def _pay_in_parts(run: FlowRun, order: m.Order, splits: int, tip: int,
                        lock_id: str | None) -> None:
    assert order.total_amount is not None
    currency = order.total_amount.currency_code
    due = order.total_amount.value - _amount(order.paid_amount)
    parts = _split(due, splits)
    paid, tips = _amount(order.paid_amount), _amount(order.tips_amount)
    payments: list[dict[str, Any]] = []
    for n, part in enumerate(parts, start=1):
        async with run.step(f"Record payment {n} of {len(parts)}: {part} + tip {tip}") as step:
            params: dict[str, Any] = {
                "orderId": order.id,
                "paymentIntentId": _uid("pi"),
                "paidAmount": _money(part, currency),
            }
            if tip:
                params["tipsAmount"] = _money(tip, currency)
            if lock_id:
                params["lockId"] = lock_id
            payments.append(params)
            after: m.Order = await run.call(step, "RecordOrderPayment", params)
            paid, tips = paid + part, tips + tip
            step.check(_amount(after.paid_amount) == paid,
                       f"paidAmount is {_amount(after.paid_amount)}, expected {paid}")
            if tip:
                step.check(_amount(after.tips_amount) == tips,
                           f"tipsAmount is {_amount(after.tips_amount)}, expected {tips} "
                           "(tips must be kept out of paidAmount)")
            if n < len(parts):
                step.check(after.payable is True,
                           f"payable is {after.payable} with {due - paid} still due")
            else:
                step.check(after.payable is not True, "the fully paid order is still payable")
    if payments:
        async with run.step("Retry the last payment with the same paymentIntentId") as step:
            again: m.Order = await run.call(step, "RecordOrderPayment", payments[-1])
            step.check(_amount(again.paid_amount) == paid,
                       f"the retried payment was counted twice: paidAmount "
                       f"{_amount(again.paid_amount)}, expected {paid}")


# -- Order and Pay --------------------------------------------------------------------------------


async def order_and_pay(run: FlowRun) -> None:
    await run.require("CreateOrder", "GetOrderById")
    registered = await run.registered()
    currency = str(run.param("currency", "GBP"))
    pi = _uid("pi")
    items = [
        {"name": "Margherita", "plu": "PIZ-01", "quantity": 1,
         "amountPerItem": _money(1150, currency)},
        {"name": "Lemonade", "plu": "DRK-07", "quantity": 2,
         "amountPerItem": _money(350, currency)},
    ]
    total = 1150 + 2 * 350
    async with run.step("Create an order carrying its payment") as step:
        created: m.Order = await run.call(step, "CreateOrder", {
            "items": items,
            "totalAmount": _money(total, currency),
            "dojoOrderId": _uid("dojo_order"),
            "payments": [{"paymentIntentId": pi, "paidAmount": _money(total, currency)}],
            "details": {"orderType": "Collection", "collection": {"asap": True}},
            "displayName": "Order & Pay test",
        })
        step.check(any(p.payment_intent_id == pi for p in created.payments),
                   f"the created order does not list payment {pi}")
        step.check(_amount(created.paid_amount) == total,
                   f"paidAmount is {_amount(created.paid_amount)}, expected {total}")
    for event_type, status in (("payment_intent.created", "Authorized"),
                               ("payment_intent.status_updated", "Captured")):
        async with run.step(f"Deliver {event_type} ({status})") as step:
            handle_event = for_event(event_type).name
            if handle_event not in registered:
                step.info(f"{handle_event} is not registered; skipped")
                continue
            await run.call(step, handle_event, {
                "id": _uid("evt"), "accountId": "acc_tester", "event": event_type,
                "createdAt": _iso(datetime.now(UTC)),
                "data": {"paymentIntentId": pi, "paymentStatus": status, "captureMode": "Auto"},
            })
    async with run.step(f"Read order {created.id} back") as step:
        again: m.Order = await run.call(step, "GetOrderById", {"orderId": created.id})
        step.check(again.id == created.id, "read back another order")
        step.check(_amount(again.paid_amount) == total, "the payment was not kept")


# -- Bookings -------------------------------------------------------------------------------------


async def bookings(run: FlowRun) -> None:
    table_id = run.param("tableId")
    await run.require("CreateReservation", "GetReservationById", "UpdateReservationById",
                      "SearchReservations", "DeleteReservationById", "CreateParty",
                      "GetPartyById", "UpdatePartyById", "SearchParties", "DeletePartyById")
    if not table_id:
        async with run.step("Find a table") as step:
            if "SearchTables" not in await run.registered():
                raise StepFailed("no tableId given and SearchTables is not registered")
            tables: m.PagedTablesResponse = await run.call(step, "SearchTables", {})
            step.check(bool(tables.data), "the EPOS has no tables")
            table_id = tables.data[0].id
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    dojo_res = _uid("dojo_res")
    reservation_body = {
        "dojoReservationId": dojo_res, "name": "Tester party", "covers": 4,
        "startTime": _iso(start), "endTime": _iso(start + timedelta(hours=2)),
        "tableIds": [table_id], "guestRequests": "window seat",
    }
    async with run.step("Create a reservation") as step:
        res: m.Reservation = await run.call(step, "CreateReservation", reservation_body)
        step.check(res.covers == 4 and res.table_ids == [table_id], "the reservation differs")
    async with run.step("Create it again with the same dojoReservationId") as step:
        dup: m.Reservation = await run.call(step, "CreateReservation", reservation_body)
        step.check(dup.id == res.id, f"a duplicate reservation {dup.id} was created")
    async with run.step("Read, update and search the reservation") as step:
        got: m.Reservation = await run.call(step, "GetReservationById", {"reservationId": res.id})
        step.check(got.id == res.id, "read back another reservation")
        upd: m.Reservation = await run.call(step, "UpdateReservationById",
                                            {**reservation_body, "id": res.id, "covers": 6})
        step.check(upd.covers == 6, f"covers is {upd.covers} after the update, expected 6")
        found: m.PagedReservationsResponse = await run.call(
            step, "SearchReservations", {"tableId": table_id})
        step.check(any(r.id == res.id for r in found.data), "the reservation is not found")
    dojo_party = _uid("dojo_party")
    party_body = {"dojoPartyId": dojo_party, "name": "Tester party", "covers": 6,
                  "tableIds": [table_id], "status": "Seated", "startTime": _iso(start),
                  "reservationId": res.id}
    async with run.step("Seat a party for the reservation") as step:
        party: m.Party = await run.call(step, "CreateParty", party_body)
        dup_party: m.Party = await run.call(step, "CreateParty", party_body)
        step.check(dup_party.id == party.id, "a duplicate party was created")
    async with run.step("Read, update and search the party") as step:
        got_p: m.Party = await run.call(step, "GetPartyById", {"partyId": party.id})
        step.check(got_p.id == party.id, "read back another party")
        end = start + timedelta(hours=1)
        upd_p: m.Party = await run.call(step, "UpdatePartyById", {
            "id": party.id, "dojoPartyId": dojo_party, "tableIds": [table_id],
            "status": "Completed", "startTime": _iso(start), "endTime": _iso(end), "covers": 6})
        step.check(upd_p.end_time is not None, "endTime was not kept")
        live: m.PagedPartiesResponse = await run.call(step, "SearchParties", {"tableId": table_id})
        step.check(all(p.id != party.id for p in live.data),
                   "a completed party is listed without completedOnly")
        done: m.PagedPartiesResponse = await run.call(step, "SearchParties",
                                                      {"tableId": table_id, "completedOnly": True})
        step.check(any(p.id == party.id for p in done.data),
                   "the completed party is missing with completedOnly")
    async with run.step("Delete the party and the reservation") as step:
        await run.call(step, "DeletePartyById", {"partyId": party.id})
        await run.call(step, "GetPartyById", {"partyId": party.id},
                       expect_error=ErrorType.NOT_FOUND)
        await run.call(step, "DeleteReservationById", {"reservationId": res.id})
        await run.call(step, "GetReservationById", {"reservationId": res.id},
                       expect_error=ErrorType.NOT_FOUND)


# -- Certification --------------------------------------------------------------------------------


async def _find_payable_order(run: FlowRun) -> tuple[str | None, str | None]:
    """An order (and its table) with an amount due, for the flows that need one."""
    async with run.step("Discover a payable order") as step:
        page: m.PagedOrdersResponse = await run.call(step, "SearchOrders", {"payableOnly": True})
        for order in page.data:
            if order.payable and _amount(order.total_amount) > _amount(order.paid_amount):
                table = order.details.dine_in.table_id if order.details.dine_in else None
                step.info(f"using order {order.id} on table {table}")
                return order.id, table
        step.info("no payable order with an amount due")
        return None, None


async def certification(run: FlowRun) -> None:
    """Every flow the registration allows, mapped to the go-live checklist, plus negatives."""
    async with run.step("Registering Capabilities: get all registered capabilities") as step:
        registered = await run.registered()
        step.check(bool(registered), "nothing is registered")
        step.info(f"registered: {', '.join(sorted(registered))}")
        pat_min = {"SearchOrders", "GetOrderById", "RecordOrderPayment"}
        if not pat_min <= registered:
            step.info(f"Pay at Table needs {', '.join(sorted(pat_min - registered))}")
    failures: list[str] = []

    async def section(title: str, needs: set[str], body: Callable[[], Awaitable[None]]) -> None:
        if not needs <= registered:
            async with run.step(f"{title}: skipped") as step:
                step.info(f"not registered: {', '.join(sorted(needs - registered))}")
            return
        run.prefix = f"{title}: "
        try:
            await body()
        except StepFailed as exc:
            failures.append(f"{title}: {exc}")
        finally:
            run.prefix = ""

    order_id: str | None = None
    table_id: str | None = None
    if "SearchOrders" in registered:
        order_id, table_id = await _find_payable_order(run)

    async def negatives() -> None:
        async with run.step("Unknown order is NotFound") as step:
            await run.call(step, "GetOrderById", {"orderId": _uid("no_such_order")},
                           expect_error=ErrorType.NOT_FOUND)
        if "SearchOrders" in registered:
            async with run.step("Bad paging is InvalidRequest") as step:
                await run.call(step, "SearchOrders", {"cursor": {"limit": 0}},
                               expect_error=ErrorType.INVALID_REQUEST)
        if "RecordOrderPayment" in registered and order_id:
            async with run.step("A malformed payment is InvalidRequest") as step:
                await run.call(step, "RecordOrderPayment", {
                    "orderId": order_id, "paymentIntentId": _uid("pi"),
                    "paidAmount": {"value": "ten", "currencyCode": "GBP"}},
                    expect_error=ErrorType.INVALID_REQUEST)

    async def with_params(flow: Callable[[FlowRun], Awaitable[None]], **params: Any) -> None:
        saved = run.params
        run.params = {**saved, **{k: v for k, v in params.items() if v is not None}}
        try:
            await flow(run)
        finally:
            run.params = saved

    await section("Order detail", {"GetOrderById"}, negatives)
    if order_id:
        await section("Order detail", {"GetOrderById"}, lambda: with_params(get_order,
                                                                            orderId=order_id))
    await section("Search", {"SearchOrders"}, lambda: with_params(search_orders))
    await section("Tables", {"SearchTables"}, lambda: with_params(search_tables))
    await section("Areas", {"ListAreas"}, lambda: with_params(list_areas))
    if order_id:
        await section("Bill", {"GetOrderBill"}, lambda: with_params(get_bill, orderId=order_id))
        await section("Locking", {"CreateOrderLock", "DeleteOrderLock", "ExtendOrderLock"},
                      lambda: with_params(lock_order, orderId=order_id))
        await section("Payments", {"SearchOrders", "GetOrderById", "RecordOrderPayment"},
                      lambda: with_params(pay_at_table, tableId=table_id, splits=2, tip=100))
    await section("Order and Pay", {"CreateOrder", "GetOrderById"},
                  lambda: with_params(order_and_pay))
    await section("Bookings", {"CreateReservation", "CreateParty", "SearchParties"},
                  lambda: with_params(bookings))
    if failures:
        raise StepFailed(*failures)


FLOWS: tuple[FlowDef, ...] = (
    FlowDef("Get Order", (_p("orderId", "string", "The EPOS order id to fetch", required=True),),
            get_order, "Fetch one order and check it", ("GetOrderById",)),
    FlowDef("Search Orders", (
        _p("tableId", "string", "Only orders on this table"),
        _p("waiterId", "string", "Only this waiter's orders"),
        _p("payableOnly", "boolean", "Only payable orders (what Pay at Table asks)", default="true"),
        _p("pageSize", "integer", "Page size used to walk the cursors", default="10"),
    ), search_orders, "Page through SearchOrders and check the filters", ("SearchOrders",)),
    FlowDef("Search Tables", (_p("areaId", "string", "Only tables in this area"),),
            search_tables, "Page through SearchTables", ("SearchTables",)),
    FlowDef("List Areas", (), list_areas, "List the areas", ("ListAreas",)),
    FlowDef("Get Bill", (_p("orderId", "string", "The order to print", required=True),),
            get_bill, "Fetch a printable bill", ("GetOrderBill",)),
    FlowDef("Cancel Order", (_p("orderId", "string", "The order to cancel", required=True),),
            cancel_order, "Cancel an order", ("CancelOrderById",)),
    FlowDef("Lock Order", (_p("orderId", "string", "The order to lock", required=True),),
            lock_order, "Lock, conflict, extend, unlock, lock again",
            ("CreateOrderLock", "DeleteOrderLock", "ExtendOrderLock")),
    FlowDef("Pay at Table", (
        _p("tableId", "string", "Table whose order to pay (else any payable order)"),
        _p("waiterId", "string", "Waiter id the terminal sends"),
        _p("splits", "integer", "Number of equal parts to pay in", default="2"),
        _p("tip", "integer", "Tip per payment, in minor units", default="0"),
    ), pay_at_table, "A waiter settles a table on a card terminal",
        ("SearchOrders", "GetOrderById", "RecordOrderPayment")),
    FlowDef("Order and Pay", (_p("currency", "string", "Currency of the order", default="GBP"),),
            order_and_pay, "A customer orders and pays on their phone",
            ("CreateOrder", "GetOrderById")),
    FlowDef("Bookings", (_p("tableId", "string", "Table to book (else the first table)"),),
            bookings, "Reservations and parties round trip",
            ("CreateReservation", "CreateParty", "SearchParties")),
    FlowDef("Certification", (), certification,
            "Every flow the registration allows, mapped to the go-live checklist", ()),
)

_BY_NAME = {f.name: f for f in FLOWS}


def flow_by_name(name: str) -> FlowDef | None:
    """The flow with this request name (exact, as Dojo's tool expects), if any."""
    return _BY_NAME.get(name)


def missing_params(flow: FlowDef, params: dict[str, Any]) -> list[str]:
    """Required params that are absent or empty."""
    return [p.name for p in flow.params if p.required and params.get(p.name) in (None, "")]

