"""Every capability through both transports: identical results, identical errors, valid wire.

The ``call`` fixture runs each test once over REST and once over the WebSocket connector. The
expected answer is the handler's own, from a fresh twin called directly through ``call_handler``,
so both transports are held to the same reference (and so to each other). Every request and reply
is checked against Dojo's schemas by the fixture (see ``wire.py``).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from dojo_epos.contract import models as m
from dojo_epos.contract.capabilities import CATALOGUE, lookup
from dojo_epos.contract.errors import EposError, ErrorType
from dojo_epos.epos.handler import call_handler
from tests.conformance.conftest import HANDLERS, Caller
from tests.specs import needs_specs

EXPIRY = "2031-06-01T10:00:00Z"
MONEY = {"value": 1000, "currencyCode": "GBP"}
HEADERS = {"waiterId": "w7", "dojoRequestingProduct": "Pay at Table", "deviceId": "tm_1",
           "deviceType": "Dojo Terminal"}
EVENT = {"id": "evt_1", "accountId": "acc_1", "createdAt": "2025-01-01T12:00:00Z",
         "data": {"paymentIntentId": "pi_9", "paymentStatus": "Captured", "captureMode": "Auto"}}
PARTY = {"name": "Lee", "covers": 3, "tableIds": ["t2"], "status": "Seated",
         "startTime": "2025-01-01T19:00:00Z"}
RESERVATION = {"name": "Patel", "covers": 2, "startTime": "2025-01-02T19:00:00Z",
               "endTime": "2025-01-02T21:00:00Z", "tableIds": ["t1", "t2"]}
ORDER = {
    "items": [{"name": "Soup", "plu": "SOU", "quantity": 1,
               "amountPerItem": {"value": 600, "currencyCode": "GBP"}}],
    "totalAmount": {"value": 600, "currencyCode": "GBP"},
    "dojoOrderId": "do_1",
    "payments": [{"paymentIntentId": "pi_oap", "paidAmount": {"value": 600,
                                                               "currencyCode": "GBP"}}],
    "details": {"orderType": "Collection", "collection": {"asap": True}},
}

#: One successful call per catalogue row (keyed by canonical name).
SCENARIOS: dict[str, dict[str, Any]] = {
    "SearchOrders": {"payableOnly": True, "dineIn": {"waiterId": "w1"}, "cursor": {"limit": 1}},
    "GetOrderById": {"orderId": "ord_1"},
    "CreateOrder": ORDER,
    "CancelOrderById": {"orderId": "ord_2"},
    "CreateOrderLock": {"orderId": "ord_1", "lockId": "lk_1", "expiry": EXPIRY},
    "DeleteOrderLock": {"orderId": "ord_3", "lockId": "lk_seed"},
    "ExtendOrderLock": {"orderId": "ord_3", "lockId": "lk_seed", "expiry": EXPIRY},
    "RecordOrderPayment": {"orderId": "ord_1", "paymentIntentId": "pi_1", "paidAmount": MONEY,
                           "tipsAmount": {"value": 150, "currencyCode": "GBP"}},
    "GetOrderBill": {"orderId": "ord_1"},
    "ListAreas": {},
    "SearchTables": {"areaId": "a1", "cursor": {"limit": 1, "after": "1"}},
    "CreateParty": {**PARTY, "dojoPartyId": "dp_1"},
    "GetPartyById": {"partyId": "p_1"},
    "UpdatePartyById": {**PARTY, "id": "p_1", "dojoPartyId": "dp_1",
                        "endTime": "2025-01-01T21:00:00Z"},
    "DeletePartyById": {"partyId": "p_1"},
    "SearchParties": {"tableId": "t1"},
    "CreateReservation": {**RESERVATION, "dojoReservationId": "dr_1"},
    "GetReservationById": {"reservationId": "r_1"},
    "UpdateReservationById": {**RESERVATION, "id": "r_1", "dojoReservationId": "dr_1"},
    "DeleteReservationById": {"reservationId": "r_1"},
    "SearchReservations": {"fromTime": "2025-01-01T00:00:00Z", "toTime": "2025-01-03T00:00:00Z"},
    "HandleEvent:payment_intent.created": {**EVENT, "event": "payment_intent.created"},
    "HandleEvent:payment_intent.status_updated": {**EVENT,
                                                  "event": "payment_intent.status_updated"},
}


async def direct(handler_kind: str, capability: str, params: dict[str, Any]) -> Any:
    """The reference answer: a fresh twin handler called directly, no transport in between."""
    cap = lookup(capability)
    wire = await call_handler(HANDLERS[handler_kind](), cap, params, transport="local")
    return cap.result.model_validate(wire)


async def direct_error(handler_kind: str, capability: str, params: dict[str, Any]) -> EposError:
    with pytest.raises(EposError) as caught:
        await direct(handler_kind, capability, params)
    return caught.value


def same_error(got: EposError, expected: EposError) -> None:
    """Same type and message; trace ids are per call, so only their presence is compared."""
    assert got.error_type == expected.error_type
    assert got.trace_id, "errors on the wire carry a trace id"
    if got.error_type is ErrorType.UNEXPECTED_ERROR:
        assert got.debug_message == f"internal error (trace {got.trace_id})"
    else:
        assert got.debug_message == expected.debug_message


def test_scenarios_cover_the_whole_catalogue() -> None:
    assert set(SCENARIOS) == {c.name for c in CATALOGUE}


@pytest.mark.parametrize("capability", list(SCENARIOS))
async def test_capability_answers_as_the_handler_does(call: Caller, capability: str) -> None:
    """Each capability's result over the transport equals the handler's direct answer."""
    result = await call(capability, SCENARIOS[capability])
    assert result == await direct("full", capability, SCENARIOS[capability])
    assert isinstance(result, lookup(capability).result)


async def test_request_headers_reach_the_handler_context(call: Caller) -> None:
    await call("GetOrderById", {"orderId": "ord_1"}, headers=HEADERS)
    ctx = call.handler.contexts[-1]  # type: ignore[attr-defined]
    assert (ctx.waiter_id, ctx.requesting_product, ctx.device_id, ctx.device_type) == (
        "w7", "Pay at Table", "tm_1", "Dojo Terminal")
    assert ctx.transport == call.transport
    assert ctx.capability == "GetOrderById"


async def test_aliases_reach_the_same_capability(call: Caller) -> None:
    """Doc names and example names call the canonical row (spec defects #1, #2)."""
    bill = await call("GetOrderBillById", {"orderId": "ord_1"})
    assert bill == await direct("full", "GetOrderBill", {"orderId": "ord_1"})
    order = await call("GetOrder", {"orderId": "ord_1"})
    assert isinstance(order, m.Order) and order.id == "ord_1"


async def test_bill_url_flags_use_the_casing_of_the_transport(call: Caller) -> None:
    """spec defect #13: showQr/showUrl on REST, showQR/showURL on the WebSocket."""
    await call("GetOrderBill", {"orderId": "ord_1"})
    exchange = call.client.exchanges[-1]
    body = exchange.response if call.transport == "rest" else exchange.response["result"]
    url = body["footer"]["lines"][0]["url"]
    expected = {"rest": {"showQr", "showUrl"}, "ws": {"showQR", "showURL"}}[call.transport]
    assert set(url) - {"url"} == expected


async def test_payment_state_carries_across_calls(call: Caller) -> None:
    """Lock, pay in two parts (one retried), unlock: the same order on both transports."""
    await call("CreateOrderLock", {"orderId": "ord_1", "lockId": "lk_a", "expiry": EXPIRY})
    for intent in ("pi_a", "pi_b", "pi_a"):
        order = await call("RecordOrderPayment", {"orderId": "ord_1", "lockId": "lk_a",
                                                  "paymentIntentId": intent,
                                                  "paidAmount": {"value": 1250,
                                                                 "currencyCode": "GBP"}})
    assert isinstance(order, m.Order)
    assert order.paid_amount == m.Money(value=2500, currency_code="GBP")
    assert order.payable is False and len(order.payments) == 2
    await call("DeleteOrderLock", {"orderId": "ord_1", "lockId": "lk_a"})


# -- errors --------------------------------------------------------------------------------

ERRORS: dict[str, tuple[str, dict[str, Any], ErrorType]] = {
    "unknown order": ("GetOrderById", {"orderId": "nope"}, ErrorType.NOT_FOUND),
    "unknown reservation": ("DeleteReservationById", {"reservationId": "nope"},
                            ErrorType.NOT_FOUND),
    "lock held by another": ("CreateOrderLock", {"orderId": "ord_3", "lockId": "lk_other",
                                                 "expiry": EXPIRY}, ErrorType.CONFLICT),
    "payment under another lock": ("RecordOrderPayment",
                                   {"orderId": "ord_3", "paymentIntentId": "pi_x",
                                    "paidAmount": MONEY}, ErrorType.CONFLICT),
    "missing body field": ("RecordOrderPayment", {"orderId": "ord_1", "paymentIntentId": "pi"},
                           ErrorType.INVALID_REQUEST),
    "wrong type": ("RecordOrderPayment", {"orderId": "ord_1", "paymentIntentId": "pi",
                                          "paidAmount": {"value": "ten", "currencyCode": "GBP"}},
                   ErrorType.INVALID_REQUEST),
    "bad date-time": ("CreateOrderLock", {"orderId": "ord_1", "lockId": "l",
                                         "expiry": "next tuesday"}, ErrorType.INVALID_REQUEST),
    "missing path field": ("GetPartyById", {}, ErrorType.INVALID_REQUEST),
    "path field of the wrong type": ("GetOrderById", {"orderId": 42}, ErrorType.INVALID_REQUEST),
    "both cursors": ("SearchTables", {"cursor": {"before": "1", "after": "2"}},
                     ErrorType.INVALID_REQUEST),
    "handler crash": ("GetOrderById", {"orderId": "boom"}, ErrorType.UNEXPECTED_ERROR),
    "handler crash in a delete": ("DeletePartyById", {"partyId": "boom"},
                                  ErrorType.UNEXPECTED_ERROR),
}


@pytest.mark.parametrize("case", list(ERRORS))
async def test_errors_are_identical_on_both_transports(call: Caller, case: str) -> None:
    capability, params, error_type = ERRORS[case]
    with pytest.raises(EposError) as caught:
        await call(capability, params)
    assert caught.value.error_type is error_type
    same_error(caught.value, await direct_error("full", capability, params))


@pytest.mark.parametrize(("params", "field"), [
    ({"orderId": "ord_1", "paymentIntentId": "pi"}, "paidAmount"),
    ({"orderId": "ord_1", "paymentIntentId": "pi",
      "paidAmount": {"value": 5, "currencyCode": "pounds"}}, "paidAmount.currencyCode"),
    ({"orderId": "ord_1", "paidAmount": MONEY}, "paymentIntentId"),
])
async def test_invalid_request_names_the_field(call: Caller, params: dict[str, Any],
                                               field: str) -> None:
    with pytest.raises(EposError) as caught:
        await call("RecordOrderPayment", params)
    assert caught.value.error_type is ErrorType.INVALID_REQUEST
    assert re.search(rf"(^|; ){re.escape(field)}:", caught.value.debug_message or "")


async def test_unexpected_error_keeps_the_detail_out_of_the_answer(call: Caller) -> None:
    with pytest.raises(EposError) as caught:
        await call("GetOrderById", {"orderId": "boom"})
    assert "on purpose" not in (caught.value.debug_message or "")
    assert caught.value.trace_id and caught.value.trace_id in (caught.value.debug_message or "")


async def test_bad_input_changes_nothing(call: Caller) -> None:
    """A refused payment leaves the order as it was."""
    before = await call("GetOrderById", {"orderId": "ord_1"})
    with pytest.raises(EposError):
        await call("RecordOrderPayment", {"orderId": "ord_1", "paymentIntentId": "pi",
                                          "paidAmount": {"value": 10**6, "currencyCode": "GBP"}})
    assert await call("GetOrderById", {"orderId": "ord_1"}) == before


# -- capabilities not offered ---------------------------------------------------------------

NOT_OFFERED = [c.name for c in CATALOGUE
               if c.handler_method not in {"search_orders", "get_order_by_id",
                                           "record_order_payment", "handle_event"}]


@pytest.mark.parametrize("handler", ["orders-only"], indirect=True)
@pytest.mark.parametrize("capability", [*NOT_OFFERED, "HandleEvent:payment_intent.created"])
async def test_capability_not_offered_is_not_found(call: Caller, capability: str) -> None:
    """A method left alone, or an event type not subscribed, answers NotFound on both."""
    with pytest.raises(EposError) as caught:
        await call(capability, SCENARIOS[capability])
    assert caught.value.error_type is ErrorType.NOT_FOUND
    assert caught.value.debug_message == f"capability {capability} is not offered by this EPOS"
    same_error(caught.value, await direct_error("orders-only", capability, SCENARIOS[capability]))


@pytest.mark.parametrize("handler", ["orders-only"], indirect=True)
async def test_offered_event_type_is_served_by_a_partial_handler(call: Caller) -> None:
    """Both HandleEvent rows share one method and route; the event type picks the row."""
    params = SCENARIOS["HandleEvent:payment_intent.status_updated"]
    assert await call("HandleEvent:payment_intent.status_updated", params) == m.EmptyResult()


@needs_specs
async def test_wire_traffic_was_checked_against_the_schemas(call: Caller) -> None:
    """Guards the guard: the fixture really validates what it captured."""
    await call("GetOrderById", {"orderId": "ord_1"})
    with pytest.raises(EposError):
        await call("GetOrderById", {"orderId": "nope"})
    assert call.checked == 2
