"""Every boundary value in every field of every capability, against the reference EPOS.

Both transports x SQLite and PostgreSQL. For each capability a valid request is taken apart leaf by
leaf and each leaf replaced by each boundary value of its type (:mod:`tests.reliability.boundaries`):
64-bit limits and one past them, years 1 and 9999 with offsets, NUL, lone surrogates, very long
strings. The answer is never UnexpectedError (a 500 on REST, which would make Dojo reverse a card
payment); a value past what the storage can hold is InvalidRequest naming the field; and every
refusal leaves the database exactly as it was.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from dojo_epos.contract import models as m
from dojo_epos.contract.errors import EposError, ErrorType
from dojo_epos.epos.reference import ReferenceEpos, open_reference
from dojo_epos.epos.reference.schema import metadata
from dojo_epos.epos.reference.seed import seed_database
from dojo_epos.epos.reference.totals import compute_totals
from dojo_epos.testing import EposTestClient
from tests.epos.reference.conftest import db_url, pg_database  # noqa: F401  (fixtures)
from tests.reliability.boundaries import Mutation, mutations
from tests.reliability.figures import FIGURES

FUTURE = "2031-06-01T12:00:00Z"
LATER = "2031-06-01T14:00:00Z"


def _gbp(value: int) -> dict[str, Any]:
    return {"value": value, "currencyCode": "GBP"}


def _create_order() -> dict[str, Any]:
    items = [{
        "name": "Burger", "plu": "MN-BURG", "quantity": 2, "note": "well done",
        "amountPerItem": _gbp(1090),
        "modifiers": [{"name": "Cheese", "plu": "MOD-CHEESE", "quantity": 1,
                       "amountPerModifier": _gbp(100)}],
        "subItems": [{"name": "Fries", "plu": "SD-FRIES", "quantity": 1, "note": "salted",
                      "amountPerItem": _gbp(300),
                      "modifiers": [{"name": "Dip", "plu": "MOD-DIP", "quantity": 1,
                                     "amountPerModifier": _gbp(50)}]}],
    }]
    discounts = [{"name": "Spring", "affectedPlu": "MN-BURG", "discountReference": "ref",
                  "code": "SPRING", "amountTotal": _gbp(100), "amountPercentage": 500}]
    tax_lines = [{"id": "VAT", "name": "VAT", "affectedPlu": "MN-BURG", "amountPercentage": 2000,
                  "amountTotal": _gbp(200)}]
    total = compute_totals(
        [m.OrderItem.model_validate(i) for i in items], [m.Discount.model_validate(d) for d in discounts],
        [m.TaxLine.model_validate(t) for t in tax_lines], 150).total
    return {
        "items": items, "note": "birthday", "discounts": discounts, "taxLines": tax_lines,
        "customer": {"id": "c1", "emailAddress": "a@b.test", "phoneNumber": "+44", "name": "Ann"},
        "serviceChargeAmount": _gbp(150), "totalAmount": _gbp(total), "reference": "Web 7",
        "displayName": "Ann", "dojoOrderId": "dojo-bound-1",
        "payments": [{"paymentIntentId": "pi_bound_op", "paidAmount": _gbp(500),
                      "tipsAmount": _gbp(50)}],
        "details": {"orderType": "Collection", "collection": {"asap": False, "collectAt": FUTURE}},
    }


def _dine_in_order() -> dict[str, Any]:
    body = _create_order()
    return {**body, "dojoOrderId": "dojo-bound-2", "payments": [],
            "details": {"orderType": "DineIn", "dineIn": {
                "tableId": "T4", "waiterId": "w_ben", "partyId": "p1", "reservationId": "r1",
                "readyAt": FUTURE}}}


_PARTY = {"dojoPartyId": "dparty-b", "name": "Okafor", "covers": 4, "tableIds": ["T7"],
          "status": "Seated", "startTime": FUTURE, "expectedEndTime": LATER,
          "hostNotes": "window", "guestRequests": "quiet", "reservationId": "res_x",
          "dojoReservationId": "dres-x",
          "deposit": {"totalAmount": _gbp(1000), "description": "deposit",
                      "paymentIntentIds": ["pi_dep"]}}
_RESERVATION = {"dojoReservationId": "dres-b", "name": "Okafor", "covers": 4,
                "startTime": FUTURE, "endTime": LATER, "tableIds": ["T7"],
                "hostNotes": "window", "guestRequests": "quiet"}
_EVENT_DATA = {"paymentIntentId": "pi_bound_op", "paymentStatus": "Captured", "captureMode": "Auto"}

#: A valid request per capability. Ids are those of the seed, or of what the setup creates.
BASELINES: dict[str, dict[str, Any]] = {
    "SearchOrders": {"payableOnly": True, "cursor": {"limit": 3},
                     "dineIn": {"tableId": "T1", "waiterId": "w_alice", "partyId": "p",
                                "reservationId": "r"}},
    "GetOrderById": {"orderId": "ord_demo_01"},
    "GetOrderBill": {"orderId": "ord_demo_01"},
    "CreateOrder": _create_order(),
    "CreateOrder#dine-in": _dine_in_order(),
    "CancelOrderById": {"orderId": "ord_demo_02"},
    "CreateOrderLock": {"orderId": "ord_demo_01", "lockId": "lock-b", "expiry": FUTURE},
    "ExtendOrderLock": {"orderId": "ord_demo_01", "lockId": "lock-b", "expiry": LATER},
    "RecordOrderPayment": {"orderId": "ord_demo_01", "paymentIntentId": "pi_bound_1",
                           "paidAmount": _gbp(100), "tipsAmount": _gbp(10), "lockId": "lock-b"},
    "DeleteOrderLock": {"orderId": "ord_demo_01", "lockId": "lock-b"},
    "ListAreas": {},
    "SearchTables": {"areaId": "area_main", "waiterId": "w_alice", "cursor": {"limit": 3}},
    "CreateParty": _PARTY,
    "GetPartyById": {"partyId": "ord_demo_01"},
    "UpdatePartyById": {**{k: v for k, v in _PARTY.items() if k not in ("reservationId",
                                                                       "dojoReservationId")},
                        "id": "party_x", "endTime": LATER},
    "SearchParties": {"tableId": "T7", "completedOnly": False, "cursor": {"limit": 3}},
    "DeletePartyById": {"partyId": "party_x"},
    "CreateReservation": _RESERVATION,
    "GetReservationById": {"reservationId": "res_x"},
    "UpdateReservationById": {**_RESERVATION, "id": "res_x"},
    "SearchReservations": {"tableId": "T7", "fromTime": FUTURE, "toTime": LATER,
                           "cursor": {"limit": 3}},
    "DeleteReservationById": {"reservationId": "res_x"},
    "HandleEvent:payment_intent.created": {
        "id": "evt-b1", "accountId": "acc", "event": "payment_intent.created", "createdAt": FUTURE,
        "data": _EVENT_DATA},
    "HandleEvent:payment_intent.status_updated": {
        "id": "evt-b2", "accountId": "acc", "event": "payment_intent.status_updated",
        "createdAt": FUTURE, "data": _EVENT_DATA},
}
READS = ("Search", "Get", "List")
#: Enum-valued keys: a boundary string there is just an unknown member (refused by the enum).
ENUM_KEYS = frozenset({"event", "paymentStatus", "captureMode", "currencyCode", "orderType"})


@pytest.fixture
async def reference(db_url: str) -> AsyncIterator[ReferenceEpos]:  # noqa: F811  (fixture use)
    epos = await open_reference(db_url)
    await seed_database(epos.db)
    yield epos
    await epos.aclose()


async def _fingerprint(epos: ReferenceEpos) -> str:
    digest = hashlib.sha256()
    async with epos.db.read() as conn:
        for table in metadata.sorted_tables:
            rows = (await conn.execute(select(table).order_by(*table.primary_key.columns))).all()
            digest.update(f"{table.name}:{sorted(map(repr, rows))}".encode())
    return digest.hexdigest()


def _capability(key: str) -> str:
    return key.split("#", 1)[0]


#: Keys the EPOS de-duplicates on: made unique per case (unless the case is about them), so that a
#: case is not answered as a retry of an earlier one without being looked at.
KEYS = ("dojoOrderId", "dojoPartyId", "dojoReservationId", "paymentIntentId", "id")


def _fresh_keys(case: Mutation, n: int) -> dict[str, Any]:
    params = dict(case.params)
    for key in KEYS:
        if key in params and isinstance(params[key], str) and case.path[:1] != (key,):
            params[key] = f"{params[key]}-{n}"
    payments = params.get("payments")
    if isinstance(payments, list) and case.path[:1] != ("payments",):
        params["payments"] = [{**p, "paymentIntentId": f"{p['paymentIntentId']}-{n}"}
                              for p in payments]
    return params


async def _try(client: EposTestClient, key: str, case: Mutation, n: int) -> EposError | None:
    params = _fresh_keys(case, n) if not key.startswith(("Update", "Get", "Delete")) else case.params
    try:
        await client.call(_capability(key), params)
    except EposError as exc:
        return exc
    return None


def _cases(params: dict[str, Any], everything: bool) -> list[Mutation]:
    """Every mutation, or (the default run) the first of each boundary value per capability."""
    cases = list(mutations(params, skip=ENUM_KEYS))
    if everything:
        return cases
    first: dict[str, Mutation] = {}
    for case in cases:
        first.setdefault(case.boundary.label, case)
    return list(first.values())


@pytest.mark.parametrize("transport", ["rest", "ws"])
@pytest.mark.parametrize("everything", [
    pytest.param(False, id="each-boundary-per-capability"),
    pytest.param(True, id="every-field", marks=pytest.mark.slow),
])
async def test_every_boundary_in_every_field_is_served_or_refused_and_never_a_500(
    reference: ReferenceEpos, transport: str, everything: bool
) -> None:
    problems: list[str] = []
    tried = refused = 0
    async with EposTestClient(reference, transport=transport) as client:  # type: ignore[arg-type]
        # what the baselines name: a party and a reservation with known ids
        party = await client.call("CreateParty", {**_PARTY, "dojoPartyId": "dparty-setup"})
        res = await client.call("CreateReservation", {**_RESERVATION, "dojoReservationId": "dres-s"})
        assert isinstance(party, m.Party) and isinstance(res, m.Reservation)
        baselines = {key: _rename(params, party.id, res.id) for key, params in BASELINES.items()}
        before = await _fingerprint(reference)
        for key, params in baselines.items():
            # reads change nothing whatever they answer: one fingerprint after all of their cases
            writes = not key.startswith(READS)
            for case in _cases(params, everything):
                tried += 1
                error = await _try(client, key, case, tried)
                where = f"{key} {'.'.join(map(str, case.path))} = {case.boundary.label}"
                if error is None:
                    if case.boundary.refused:
                        problems.append(f"{where}: accepted")
                    if writes:
                        before = await _fingerprint(reference)
                    continue
                refused += 1
                if error.error_type is ErrorType.UNEXPECTED_ERROR:
                    problems.append(f"{where}: UnexpectedError {error.debug_message}")
                elif case.boundary.refused and (
                        error.error_type is not ErrorType.INVALID_REQUEST
                        or case.field not in (error.debug_message or "")):
                    problems.append(f"{where}: {error.error_type.value} {error.debug_message!r:.200}")
                if writes and await _fingerprint(reference) != before:
                    problems.append(f"{where}: refused but the database changed")
                    before = await _fingerprint(reference)
            if not writes and await _fingerprint(reference) != before:
                problems.append(f"{key}: a read changed the database")
                before = await _fingerprint(reference)
        assert client.unmatched_frames == []
    FIGURES.requests_tried += tried
    FIGURES.bad_inputs_tried += refused
    FIGURES.boundary_cases_tried += tried
    assert not problems, f"{len(problems)} of {tried}:\n" + "\n".join(problems[:60])
    assert tried > (1000 if everything else 200)


def _rename(params: dict[str, Any], party_id: str, reservation_id: str) -> dict[str, Any]:
    renamed = {"party_x": party_id, "res_x": reservation_id}
    return {k: (renamed.get(v, v) if isinstance(v, str) else v) for k, v in params.items()}


@pytest.mark.parametrize("path", [
    "/v1/orders/%00", "/v1/orders/ord%00x", "/v1/orders/%ED%A0%80", "/v1/orders/%FF",
    "/v1/orders/" + "x" * 5000, "/v1/parties/%00", "/v1/reservations/%ED%B0%80",
])
async def test_hostile_path_ids_are_refused_before_the_database(
    reference: ReferenceEpos, path: str
) -> None:
    """NUL and bytes that are not UTF-8 in a REST path id: InvalidRequest or NotFound, never a 500."""
    before = await _fingerprint(reference)
    async with EposTestClient(reference, transport="rest") as client:
        response = await client.raw_rest("GET", path)
    assert response.status_code in (400, 404), (path, response.status_code, response.text)
    assert response.json()["errorType"] in ("InvalidRequest", "NotFound")
    assert await _fingerprint(reference) == before


@pytest.mark.parametrize("transport", ["rest", "ws"])
async def test_meaningless_keys_and_types_are_refused(reference: ReferenceEpos, transport: str) -> None:
    """issue 18 item 6: a blank paymentIntentId (it would collide across orders) and a lock expiry
    given as a number (it would be a 1970 time) are InvalidRequest naming the field; nothing changes."""
    before = await _fingerprint(reference)
    cases = [
        ("RecordOrderPayment", {"orderId": "ord_demo_01", "paymentIntentId": " ",
                                "paidAmount": _gbp(100)}, "paymentIntentId"),
        ("RecordOrderPayment", {"orderId": "ord_demo_02", "paymentIntentId": "",
                                "paidAmount": _gbp(100)}, "paymentIntentId"),
        ("CreateOrder", {**_create_order(), "payments": [
            {"paymentIntentId": "\t", "paidAmount": _gbp(100)}]}, "paymentIntentId"),
        ("CreateOrderLock", {"orderId": "ord_demo_01", "lockId": "l", "expiry": 1_900_000_000},
         "expiry"),
        ("ExtendOrderLock", {"orderId": "ord_demo_01", "lockId": "l", "expiry": 0}, "expiry"),
        ("CreateOrderLock", {"orderId": "ord_demo_01", "lockId": "l",
                             "expiry": "9999-12-31T23:59:59-05:00"}, "expiry"),
    ]
    async with EposTestClient(reference, transport=transport) as client:  # type: ignore[arg-type]
        for capability, params, field in cases:
            with pytest.raises(EposError) as info:
                await client.call(capability, params)
            assert info.value.error_type is ErrorType.INVALID_REQUEST, (capability, info.value)
            assert field in (info.value.debug_message or ""), info.value.debug_message
    assert await _fingerprint(reference) == before
