"""The conformance suite against the reference EPOS: both transports x SQLite and PostgreSQL.

One scenario walks all 23 capabilities the way Dojo's products would (Pay at Table with a lock and a
retried payment, Order & Pay, Bookings), checking every request and reply against Dojo's schemas
(the ``call`` fixture does). Then bad input, for every capability, on both transports: each is
answered InvalidRequest or NotFound (never 5xx, never a dropped socket) and the database is
byte-for-byte unchanged.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dojo_epos.contract import models as m
from dojo_epos.contract.capabilities import CATALOGUE
from dojo_epos.contract.errors import EposError, ErrorType
from dojo_epos.epos.reference import ReferenceEpos, open_reference
from dojo_epos.epos.reference.schema import metadata
from dojo_epos.epos.reference.seed import seed_database
from dojo_epos.testing import EposTestClient
from tests.conformance.conftest import Caller
from tests.epos.reference.conftest import db_url, pg_database  # noqa: F401  (fixtures)


@pytest.fixture
async def reference(db_url: str) -> AsyncIterator[ReferenceEpos]:  # noqa: F811  (fixture use)
    epos = await open_reference(db_url)
    await seed_database(epos.db)
    yield epos
    await epos.aclose()


@pytest.fixture(params=["rest", "ws"])
async def ref_call(request: pytest.FixtureRequest,
                   reference: ReferenceEpos) -> AsyncIterator[Caller]:
    async with EposTestClient(reference, transport=request.param) as client:
        yield Caller(client)
        assert client.unmatched_frames == []


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _gbp(value: int) -> dict[str, Any]:
    return {"value": value, "currencyCode": "GBP"}


async def _fingerprint(epos: ReferenceEpos) -> str:
    digest = hashlib.sha256()
    async with epos.db.read() as conn:
        for table in metadata.sorted_tables:
            rows = (await conn.execute(select(table).order_by(*table.primary_key.columns))).all()
            digest.update(f"{table.name}:{sorted(map(repr, rows))}".encode())
    return digest.hexdigest()


async def test_every_capability_in_a_products_day(ref_call: Caller) -> None:
    call = ref_call
    used: set[str] = set()

    async def c(name: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        used.add(name)
        return await call(name, params, **kw)

    # Pay at Table: search payable orders on a table, lock, bill, pay in two parts, retry, unlock.
    areas = await c("ListAreas")
    assert {a.id for a in areas.root} >= {"area_main", "area_terrace", "area_bar"}
    tables = await c("SearchTables", {"areaId": "area_main", "cursor": {"limit": 3}})
    assert len(tables.data) == 3 and tables.after
    page = await c("SearchOrders", {"payableOnly": True, "dineIn": {"tableId": "T1"}},
                   headers={"waiterId": "w_alice", "dojoRequestingProduct": "Pay at Table"})
    order = page.data[0]
    assert order.payable and order.details.dine_in.table_id == "T1"
    lock = {"orderId": order.id, "lockId": "lock-1", "expiry": _iso(datetime.now(UTC)
                                                                    + timedelta(minutes=5))}
    locked = await c("CreateOrderLock", lock)
    assert locked.id == order.id
    with pytest.raises(EposError) as conflict:
        await c("CreateOrderLock", {**lock, "lockId": "lock-2"})
    assert conflict.value.error_type is ErrorType.CONFLICT
    assert await c("ExtendOrderLock", {**lock, "expiry": _iso(datetime.now(UTC)
                                                              + timedelta(minutes=9))}) \
        == m.EmptyResult()
    bill = await c("GetOrderBill", {"orderId": order.id})
    assert bill.order.id == order.id and bill.header.lines
    due = order.total_amount.value - (order.paid_amount.value if order.paid_amount else 0)
    first = {"orderId": order.id, "paymentIntentId": "pi_conf_1", "paidAmount": _gbp(due // 2),
             "tipsAmount": _gbp(100), "lockId": "lock-1"}
    after_first = await c("RecordOrderPayment", first)
    assert after_first.payable is True
    again = await c("RecordOrderPayment", first)
    assert again.paid_amount == after_first.paid_amount
    rest = {"orderId": order.id, "paymentIntentId": "pi_conf_2",
            "paidAmount": _gbp(due - due // 2), "lockId": "lock-1"}
    settled = await c("RecordOrderPayment", rest)
    assert settled.paid_amount == settled.total_amount and settled.payable is False
    assert (await c("DeleteOrderLock", {"orderId": order.id, "lockId": "lock-1"})).id == order.id
    assert (await c("GetOrderById", {"orderId": order.id})).payable is False

    # Order & Pay: create a paid order, events about its payment, cancel another order.
    created = await c("CreateOrder", {
        "items": [{"name": "Margherita pizza", "plu": "MN-PIZZ", "quantity": 1,
                   "amountPerItem": _gbp(1200)}],
        "totalAmount": _gbp(1200), "dojoOrderId": "dojo-conf-1",
        "payments": [{"paymentIntentId": "pi_conf_op", "paidAmount": _gbp(1200)}],
        "details": {"orderType": "Collection", "collection": {"asap": True}},
    })
    assert created.paid_amount == m.Money(value=1200, currency_code="GBP")
    for event, status in (("payment_intent.created", "Authorized"),
                          ("payment_intent.status_updated", "Captured")):
        assert await c(f"HandleEvent:{event}", {
            "id": f"evt-{event}", "accountId": "acc", "event": event,
            "createdAt": _iso(datetime.now(UTC)),
            "data": {"paymentIntentId": "pi_conf_op", "paymentStatus": status,
                     "captureMode": "Auto"}}) == m.EmptyResult()
    other = (await c("SearchOrders", {"dineIn": {"tableId": "T10"}})).data[0]
    cancelled = await c("CancelOrderById", {"orderId": other.id})
    assert cancelled.status is m.OrderStatus.CANCELED and cancelled.payable is False

    # Bookings: a reservation becomes a party; both updated, searched and deleted.
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    res_body = {"dojoReservationId": "dres-1", "name": "Okafor", "covers": 4,
                "startTime": _iso(start), "endTime": _iso(start + timedelta(hours=2)),
                "tableIds": ["T7"]}
    res = await c("CreateReservation", res_body)
    assert (await c("CreateReservation", res_body)).id == res.id
    assert (await c("GetReservationById", {"reservationId": res.id})).name == "Okafor"
    assert (await c("UpdateReservationById", {**res_body, "id": res.id, "covers": 5})).covers == 5
    window = {"fromTime": _iso(start - timedelta(hours=1)), "toTime": _iso(start + timedelta(hours=1))}
    found = await c("SearchReservations", {"tableId": "T7", **window})
    assert res.id in [r.id for r in found.data]
    assert all("T7" in r.table_ids for r in found.data)
    party_body = {"dojoPartyId": "dparty-1", "covers": 5, "tableIds": ["T7"], "status": "Seated",
                  "startTime": _iso(start), "reservationId": res.id}
    party = await c("CreateParty", party_body)
    assert (await c("GetPartyById", {"partyId": party.id})).covers == 5
    updated = await c("UpdatePartyById", {"id": party.id, "dojoPartyId": "dparty-1",
                                          "tableIds": ["T7", "T8"], "status": "Seated",
                                          "startTime": _iso(start), "covers": 6})
    assert updated.table_ids == ["T7", "T8"]
    assert party.id in [p.id for p in (await c("SearchParties", {"tableId": "T8"})).data]
    assert await c("DeletePartyById", {"partyId": party.id}) == m.EmptyResult()
    assert await c("DeleteReservationById", {"reservationId": res.id}) == m.EmptyResult()

    assert used == {cap.name for cap in CATALOGUE}
    assert call.checked > 0 or not call.client.exchanges


# Bad input for every capability: what is sent, and the error type expected.
BAD_INPUT: dict[str, list[tuple[dict[str, Any] | None, ErrorType]]] = {
    "SearchOrders": [({"cursor": {"limit": 0}}, ErrorType.INVALID_REQUEST),
                     ({"cursor": {"before": "a", "after": "b"}}, ErrorType.INVALID_REQUEST),
                     ({"cursor": {"after": "not-a-cursor"}}, ErrorType.INVALID_REQUEST),
                     ({"payableOnly": "yes"}, ErrorType.INVALID_REQUEST)],
    "GetOrderById": [({"orderId": "ord_nope"}, ErrorType.NOT_FOUND)],
    "CreateOrder": [({"items": [], "totalAmount": _gbp(-5)}, ErrorType.INVALID_REQUEST),
                    ({"items": [{"name": "x", "plu": "x", "quantity": 1,
                                 "amountPerItem": _gbp(100)}],
                      "totalAmount": _gbp(999), "dojoOrderId": "d-bad", "payments": [],
                      "details": {"orderType": "Collection", "collection": {"asap": True}}},
                     ErrorType.INVALID_REQUEST)],
    "CancelOrderById": [({"orderId": "ord_nope"}, ErrorType.NOT_FOUND)],
    "CreateOrderLock": [({"orderId": "ord_demo_01", "lockId": "l"}, ErrorType.INVALID_REQUEST),
                        ({"orderId": "ord_demo_01", "lockId": "l", "expiry": "tomorrow"},
                         ErrorType.INVALID_REQUEST)],
    "DeleteOrderLock": [({"orderId": "ord_nope", "lockId": "l"}, ErrorType.NOT_FOUND)],
    "ExtendOrderLock": [({"orderId": "ord_demo_01", "lockId": "unknown",
                          "expiry": "2030-01-01T00:00:00Z"}, ErrorType.NOT_FOUND),
                        ({"orderId": "ord_demo_01", "lockId": "l"}, ErrorType.INVALID_REQUEST)],
    "RecordOrderPayment": [
        ({"orderId": "ord_demo_01", "paymentIntentId": "pi_bad",
          "paidAmount": {"value": 1.5, "currencyCode": "GBP"}}, ErrorType.INVALID_REQUEST),
        ({"orderId": "ord_demo_01", "paymentIntentId": "pi_bad",
          "paidAmount": {"value": 100, "currencyCode": "gbp"}}, ErrorType.INVALID_REQUEST),
        ({"orderId": "ord_demo_01", "paidAmount": _gbp(100)}, ErrorType.INVALID_REQUEST),
        ({"orderId": "ord_nope", "paymentIntentId": "pi_bad", "paidAmount": _gbp(100)},
         ErrorType.NOT_FOUND),
        ({"orderId": "ord_demo_01", "paymentIntentId": "pi_bad", "paidAmount": _gbp(10**9)},
         ErrorType.CONFLICT),
        ({"orderId": "ord_demo_01", "paymentIntentId": "pi_bad",
          "paidAmount": {"value": 100, "currencyCode": "EUR"}}, ErrorType.CONFLICT),
    ],
    "GetOrderBill": [({"orderId": "ord_nope"}, ErrorType.NOT_FOUND)],
    "SearchTables": [({"cursor": {"limit": 1000}}, ErrorType.INVALID_REQUEST)],
    "CreateParty": [({"tableIds": [], "startTime": "2030-01-01T00:00:00Z", "dojoPartyId": "p"},
                     ErrorType.INVALID_REQUEST), (None, ErrorType.INVALID_REQUEST)],
    "GetPartyById": [({"partyId": "nope"}, ErrorType.NOT_FOUND)],
    "UpdatePartyById": [({"id": "nope", "dojoPartyId": "p", "tableIds": ["T1"],
                          "status": "Seated", "startTime": "2030-01-01T00:00:00Z"},
                         ErrorType.NOT_FOUND)],
    "DeletePartyById": [({"partyId": "nope"}, ErrorType.NOT_FOUND)],
    "SearchParties": [({"completedOnly": "no"}, ErrorType.INVALID_REQUEST)],
    "CreateReservation": [({"dojoReservationId": "r", "name": "n", "covers": "four",
                            "startTime": "2030-01-01T00:00:00Z",
                            "endTime": "2030-01-01T02:00:00Z", "tableIds": ["T1"]},
                           ErrorType.INVALID_REQUEST)],
    "GetReservationById": [({"reservationId": "nope"}, ErrorType.NOT_FOUND)],
    "UpdateReservationById": [({"id": "nope", "dojoReservationId": "r", "name": "n", "covers": 2,
                                "startTime": "2030-01-01T00:00:00Z",
                                "endTime": "2030-01-01T02:00:00Z", "tableIds": ["T1"]},
                               ErrorType.NOT_FOUND)],
    "DeleteReservationById": [({"reservationId": "nope"}, ErrorType.NOT_FOUND)],
    "SearchReservations": [({"fromTime": "yesterday"}, ErrorType.INVALID_REQUEST)],
    "HandleEvent:payment_intent.created": [
        ({"id": "e", "accountId": "a", "event": "payment_intent.created",
          "createdAt": "2030-01-01T00:00:00Z",
          "data": {"paymentIntentId": "p", "paymentStatus": "Sleeping", "captureMode": "Auto"}},
         ErrorType.INVALID_REQUEST)],
}


async def test_bad_input_is_refused_in_the_contracts_shape_and_changes_nothing(
    ref_call: Caller, reference: ReferenceEpos
) -> None:
    before = await _fingerprint(reference)
    tried = 0
    for capability, cases in BAD_INPUT.items():
        for params, expected in cases:
            with pytest.raises(EposError) as info:
                await ref_call(capability, params)
            assert info.value.error_type is expected, (capability, params, info.value)
            assert info.value.trace_id, "every error carries a trace id"
            tried += 1
    assert await _fingerprint(reference) == before
    assert tried >= 30
